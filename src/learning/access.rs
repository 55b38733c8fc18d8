//! Access: the one answer to "may this learner study this, and until when?".
//!
//! Every paid order grants each product it bought for a period of calendar
//! months (a row in `enrolments`); a learner's access to a product is the
//! union of the live grants. A renewal chains after the current access, a
//! refund ends exactly the grants of its order. Commerce calls [`grant`] and
//! [`end_order`] inside its own transaction; the catalogue, the player,
//! missions and certificates ask [`course_access`] / [`topic_access`].

use std::{
    sync::{Arc, LazyLock},
    time::Duration,
};

use sqlx::PgConnection;
use time::{Date, Month, OffsetDateTime};

use crate::{
    catalog::{self, model::Product},
    ids::{CourseId, EnrolmentId, OrderId, TopicId, UserId},
    infra::cache::Cache,
    learning::repo,
    web::dates::KST,
};

/// Where a learner stands with something they might study.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// May study now, until then.
    Active(OffsetDateTime),
    /// Had access (or has some only later); not now.
    Lapsed,
    /// Never had access.
    None,
}

impl Access {
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Active(_))
    }

    pub fn until(&self) -> Option<OffsetDateTime> {
        match self {
            Self::Active(until) => Some(*until),
            _ => None,
        }
    }
}

/// One grant, as stored.
#[derive(Clone, Debug)]
pub struct Grant {
    pub id: EnrolmentId,
    pub product: Product,
    pub order: Option<OrderId>,
    pub starts_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Set when a refund ended it.
    pub ended_at: Option<OffsetDateTime>,
}

impl Grant {
    fn live(&self) -> bool {
        self.ended_at.is_none()
    }
}

/// A learner's grants, kept a few seconds in this process: a signed-in page
/// asks "may I see this?" without a database round trip. Grants and refunds
/// in this process forget the learner's entry ([`forget`], called again by
/// the writer after its commit); other instances see a change within the TTL.
static GRANTS: LazyLock<Cache<Vec<Grant>>> = LazyLock::new(|| Cache::new(Duration::from_secs(5)));

/// Drops what this process remembers of `user`'s access. [`grant`] and
/// [`end_order`] do it themselves; a caller does it again after committing,
/// so no read that raced the transaction keeps the old answer.
pub fn forget(user: UserId) {
    forget_here(&user.to_string());
    crate::infra::changes::announce_about(GRANTS_CHANGED, &user.to_string());
}

/// What other instances hear when a learner's grants changed here.
pub const GRANTS_CHANGED: &str = "learning.grants";

/// Drops this instance's kept grants of one learner (`None`: of everyone),
/// changed on another instance.
pub fn forget_grants(user: Option<&str>) {
    match user {
        Some(user) => forget_here(user),
        None => GRANTS.invalidate(),
    }
}

fn forget_here(user: &str) {
    GRANTS.forget(user);
}

/// Every grant `user` has had, from the cache or the database.
async fn grants_of(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Arc<Vec<Grant>>> {
    GRANTS
        .get_or_load(&user.to_string(), repo::grants_of(conn, user))
        .await
}

/// `start` plus `months` calendar months, counted on Seoul's calendar: bought
/// on 2026-11-26, access runs through 2028-11-26; a day the target month does
/// not have becomes its last day (2028-02-29 + 12 months = 2029-02-28).
pub fn add_months(start: OffsetDateTime, months: u32) -> OffsetDateTime {
    let local = start.to_offset(KST);
    let index = local.year() * 12 + i32::from(u8::from(local.month())) - 1 + months as i32;
    let (year, month0) = (index.div_euclid(12), index.rem_euclid(12));
    let Ok(month) = Month::try_from(month0 as u8 + 1) else {
        return start;
    };
    let day = local.day().min(month.length(year));
    match Date::from_calendar_date(year, month, day) {
        Ok(date) => local.replace_date(date).to_offset(time::UtcOffset::UTC),
        Err(_) => start,
    }
}

/// The access that `grants` give at `now`: the union of the live grants,
/// followed from `now` for as long as they join up.
pub fn coverage(grants: &[Grant], now: OffsetDateTime) -> Access {
    let mut point = now;
    let mut covered = false;
    loop {
        let next = grants
            .iter()
            .filter(|g| g.live() && g.starts_at <= point && g.expires_at > point)
            .map(|g| g.expires_at)
            .max();
        match next {
            Some(end) => {
                covered = true;
                point = end;
            }
            None => break,
        }
    }
    if covered {
        Access::Active(point)
    } else if grants.is_empty() {
        Access::None
    } else {
        Access::Lapsed
    }
}

/// Grants `product` to `user` for `months` as paid by `order`: from the end
/// of the access they already have to it, or from now. Serialised per
/// learner (a transaction-scoped lock), so two orders paid at once chain one
/// after the other and never overlap. A second grant for the same order and
/// product is a no-op.
pub async fn grant(
    conn: &mut PgConnection,
    user: UserId,
    order: OrderId,
    product: Product,
    months: u32,
) -> sqlx::Result<()> {
    repo::lock_learner(conn, user).await?;
    forget(user);
    let now = OffsetDateTime::now_utc();
    let existing = repo::grants(conn, user, &[product]).await?;
    let starts_at = coverage(&existing, now).until().unwrap_or(now);
    let expires_at = add_months(starts_at, months);
    repo::insert_grant(conn, user, order, product, starts_at, expires_at).await
}

/// Ends every grant `order` paid for, at once (a refund). Grants of later
/// orders that were chained after it move up to start where the access left
/// now ends (or now), keeping their length: each order keeps exactly the
/// time it paid for.
pub async fn end_order(conn: &mut PgConnection, order: OrderId) -> sqlx::Result<u64> {
    let ended = repo::end_order(conn, order).await?;
    for (user, product) in ended.iter().copied() {
        repo::lock_learner(conn, user).await?;
        forget(user);
        let now = OffsetDateTime::now_utc();
        let grants = repo::grants(conn, user, &[product]).await?;
        let (current, mut later): (Vec<Grant>, Vec<Grant>) = grants
            .into_iter()
            .filter(|g| g.live() && g.expires_at > now)
            .partition(|g| g.starts_at <= now);
        later.sort_by_key(|g| g.starts_at);
        let mut cursor = coverage(&current, now).until().unwrap_or(now);
        for g in later {
            let length = g.expires_at - g.starts_at;
            if g.starts_at != cursor {
                repo::move_grant(conn, g.id, cursor, cursor + length).await?;
            }
            cursor += length;
        }
    }
    Ok(ended.len() as u64)
}

/// Access to any of `products` (a course and the curricula that hold it).
pub async fn access_to_any(
    conn: &mut PgConnection,
    user: UserId,
    products: &[Product],
) -> sqlx::Result<Access> {
    if products.is_empty() {
        return Ok(Access::None);
    }
    let all = grants_of(conn, user).await?;
    let grants: Vec<Grant> = all
        .iter()
        .filter(|g| products.contains(&g.product))
        .cloned()
        .collect();
    Ok(coverage(&grants, OffsetDateTime::now_utc()))
}

/// Access to one product as sold (for renewal: "owned until when?").
pub async fn product_access(
    conn: &mut PgConnection,
    user: UserId,
    product: Product,
) -> sqlx::Result<Access> {
    access_to_any(conn, user, &[product]).await
}

/// May `user` study `course`, directly or through a curriculum holding it?
pub async fn course_access(
    conn: &mut PgConnection,
    user: UserId,
    course: CourseId,
) -> sqlx::Result<Access> {
    let sellers = catalog::products_granting(conn, course).await?;
    access_to_any(conn, user, &sellers).await
}

/// What a learner may do with a topic (a video, a reading or a mission).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicAccess {
    /// Bought: until then.
    Enrolled(OffsetDateTime),
    /// A free preview: anyone may watch it.
    Preview,
    /// The course's author or an admin: sees everything, buys nothing.
    Authoring,
    /// Bought once, not now: offer renewal.
    Lapsed,
    /// Not bought.
    Locked,
}

impl TopicAccess {
    pub fn may_study(&self) -> bool {
        matches!(self, Self::Enrolled(_) | Self::Preview | Self::Authoring)
    }
}

/// May `user` (or a visitor) watch topic `topic` or take its mission, and
/// until when? `None` when the topic does not exist (or is deleted).
pub async fn topic_access(
    conn: &mut PgConnection,
    user: Option<UserId>,
    topic: TopicId,
) -> sqlx::Result<Option<TopicAccess>> {
    let Some(place) = catalog::topic_place(conn, topic)
        .await?
        .filter(|p| p.published)
    else {
        return Ok(None);
    };
    Ok(Some(learner_access(conn, user, &place).await?))
}

async fn learner_access(
    conn: &mut PgConnection,
    user: Option<UserId>,
    place: &catalog::TopicPlace,
) -> sqlx::Result<TopicAccess> {
    let access = match user {
        Some(user) => course_access(conn, user, place.course).await?,
        None => Access::None,
    };
    Ok(TopicAccess::of(access, place))
}

impl TopicAccess {
    /// What `access` to a topic's course allows with the topic at `place`.
    fn of(access: Access, place: &catalog::TopicPlace) -> Self {
        match access {
            Access::Active(until) => Self::Enrolled(until),
            _ if place.is_preview => Self::Preview,
            Access::Lapsed => Self::Lapsed,
            _ => Self::Locked,
        }
    }
}

/// [`viewer_access`] for a topic whose place and sellers (the products
/// granting its course) the caller holds already, from the catalogue's
/// cache: only the learner's grants are read, from theirs.
pub async fn viewer_access_at(
    conn: &mut PgConnection,
    viewer: Option<&crate::accounts::CurrentUser>,
    place: &catalog::TopicPlace,
    sellers: &[Product],
) -> sqlx::Result<Option<TopicAccess>> {
    if place.authored_by(viewer) {
        return Ok(Some(TopicAccess::Authoring));
    }
    if !place.published {
        return Ok(None);
    }
    let access = match viewer {
        Some(viewer) => access_to_any(conn, viewer.id, sellers).await?,
        None => Access::None,
    };
    Ok(Some(TopicAccess::of(access, place)))
}

/// [`topic_access`] for a viewer who may also be the course's tutor or an
/// admin, with where the topic sits. `None` when the topic is gone.
pub async fn viewer_access(
    conn: &mut PgConnection,
    viewer: Option<&crate::accounts::CurrentUser>,
    topic: TopicId,
) -> sqlx::Result<Option<(catalog::TopicPlace, TopicAccess)>> {
    let Some(place) = catalog::topic_place(conn, topic).await? else {
        return Ok(None);
    };
    // Only a signed-in learner's grants are asked about the sellers.
    let sellers = match viewer {
        Some(_) => catalog::products_granting(conn, place.course).await?,
        None => Vec::new(),
    };
    let access = viewer_access_at(conn, viewer, &place, &sellers).await?;
    Ok(access.map(|access| (place, access)))
}

/// What a learner holds for one product, all grants together.
#[derive(Clone, Debug)]
pub struct Holding {
    pub product: Product,
    /// When the first grant began.
    pub since: OffsetDateTime,
    /// Until when it runs now, or when it last ran.
    pub until: OffsetDateTime,
    pub active: bool,
}

/// Everything `user` has held, one entry per product, latest first (from
/// the learner's cached grants).
pub async fn holdings(conn: &mut PgConnection, user: UserId) -> sqlx::Result<Vec<Holding>> {
    let grants = grants_of(conn, user).await?;
    let now = OffsetDateTime::now_utc();
    let mut products: Vec<Product> = Vec::new();
    for g in grants.iter() {
        if !products.contains(&g.product) {
            products.push(g.product);
        }
    }
    let mut out: Vec<Holding> = products
        .into_iter()
        .filter_map(|product| {
            let mine: Vec<Grant> = grants
                .iter()
                .filter(|g| g.product == product)
                .cloned()
                .collect();
            let since = mine.iter().map(|g| g.starts_at).min()?;
            let last = mine
                .iter()
                .map(|g| g.ended_at.unwrap_or(g.expires_at).min(g.expires_at))
                .max()?;
            let access = coverage(&mine, now);
            Some(Holding {
                product,
                since,
                until: access.until().unwrap_or(last),
                active: access.is_active(),
            })
        })
        .collect();
    out.sort_by_key(|h| std::cmp::Reverse(h.until));
    Ok(out)
}

/// Until when each of `user`'s orders gives access (live grants only, from
/// the learner's cached grants).
pub async fn until_by_order(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<(OrderId, OffsetDateTime)>> {
    let now = OffsetDateTime::now_utc();
    let mut out: Vec<(OrderId, OffsetDateTime)> = Vec::new();
    for g in grants_of(conn, user).await?.iter() {
        let Some(order) = g.order else { continue };
        if !g.live() || g.expires_at <= now {
            continue;
        }
        match out.iter_mut().find(|(o, _)| *o == order) {
            Some((_, until)) => *until = (*until).max(g.expires_at),
            None => out.push((order, g.expires_at)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::ids::CurriculumId;

    fn kst_date(t: OffsetDateTime) -> Date {
        t.to_offset(KST).date()
    }

    #[test]
    fn twenty_four_months_are_calendar_months_in_seoul() {
        let bought = datetime!(2026-11-26 10:00 +9);
        assert_eq!(
            kst_date(add_months(bought, 24)),
            time::macros::date!(2028 - 11 - 26)
        );
        let bought = datetime!(2027-02-28 10:00 +9);
        assert_eq!(
            kst_date(add_months(bought, 24)),
            time::macros::date!(2029 - 02 - 28)
        );
        // A leap day lands on the last day of February.
        let bought = datetime!(2028-02-29 10:00 +9);
        assert_eq!(
            kst_date(add_months(bought, 12)),
            time::macros::date!(2029 - 02 - 28)
        );
        // Just after midnight in Seoul is still the previous day in UTC.
        let bought = datetime!(2026-11-25 15:30 UTC);
        assert_eq!(
            kst_date(add_months(bought, 24)),
            time::macros::date!(2028 - 11 - 26)
        );
        assert_eq!(add_months(bought, 24).to_offset(KST).hour(), 0);
    }

    fn grant_of(starts: OffsetDateTime, expires: OffsetDateTime, ended: bool) -> Grant {
        Grant {
            id: EnrolmentId(uuid::Uuid::nil()),
            product: Product::Curriculum(CurriculumId(uuid::Uuid::nil())),
            order: None,
            starts_at: starts,
            expires_at: expires,
            ended_at: ended.then_some(starts),
        }
    }

    #[test]
    fn access_is_the_union_of_live_grants_that_join_up() {
        let now = datetime!(2027-01-01 0:00 UTC);
        let first = grant_of(
            datetime!(2026-11-26 0:00 UTC),
            datetime!(2028-11-26 0:00 UTC),
            false,
        );
        let renewal = grant_of(
            datetime!(2028-11-26 0:00 UTC),
            datetime!(2030-11-26 0:00 UTC),
            false,
        );
        assert_eq!(coverage(&[], now), Access::None);
        assert_eq!(
            coverage(&[first.clone(), renewal.clone()], now),
            Access::Active(datetime!(2030-11-26 0:00 UTC))
        );
        // Refunding the first order leaves only the later period: not now.
        let refunded = Grant {
            ended_at: Some(now),
            ..first.clone()
        };
        assert_eq!(coverage(&[refunded, renewal], now), Access::Lapsed);
        // Refunding the renewal leaves exactly the first.
        let renewal_refunded = grant_of(
            datetime!(2028-11-26 0:00 UTC),
            datetime!(2030-11-26 0:00 UTC),
            true,
        );
        assert_eq!(
            coverage(&[first, renewal_refunded], now),
            Access::Active(datetime!(2028-11-26 0:00 UTC))
        );
    }

    async fn learner_with_orders(db: &sqlx::PgPool) -> (UserId, Product, OrderId, OrderId) {
        let mut conn = db.acquire().await.unwrap();
        let (user, curriculum) = crate::catalog::seed::testing::seeded_learner(&mut conn).await;
        let mut orders = Vec::new();
        for _ in 0..2 {
            orders.push(crate::catalog::seed::testing::paid_order(&mut conn, user).await);
        }
        (user, Product::Curriculum(curriculum), orders[0], orders[1])
    }

    async fn until(db: &sqlx::PgPool, user: UserId, product: Product) -> OffsetDateTime {
        forget(user);
        let mut conn = db.acquire().await.unwrap();
        product_access(&mut conn, user, product)
            .await
            .unwrap()
            .until()
            .expect("active")
    }

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn grants_chain_a_repeated_grant_adds_nothing_and_a_refund_moves_the_later_one_up(
        db: sqlx::PgPool,
    ) {
        let (user, product, first, second) = learner_with_orders(&db).await;
        let now = OffsetDateTime::now_utc();
        let mut tx = db.begin().await.unwrap();
        grant(&mut tx, user, first, product, 24).await.unwrap();
        tx.commit().await.unwrap();
        let one = until(&db, user, product).await;
        assert!(one >= add_months(now, 24) - time::Duration::minutes(1));
        // A second order chains after the first; the same order again adds nothing.
        let mut tx = db.begin().await.unwrap();
        grant(&mut tx, user, second, product, 24).await.unwrap();
        grant(&mut tx, user, first, product, 24).await.unwrap();
        tx.commit().await.unwrap();
        let two = until(&db, user, product).await;
        assert_eq!(two, add_months(one, 24));
        // Refunding the first ends it now; the second keeps its length from now.
        let mut tx = db.begin().await.unwrap();
        assert_eq!(end_order(&mut tx, first).await.unwrap(), 1);
        tx.commit().await.unwrap();
        let after = until(&db, user, product).await;
        let length = two - one;
        let expected = OffsetDateTime::now_utc() + length;
        assert!(
            (after - expected).abs() < time::Duration::minutes(1),
            "{after} vs {expected}"
        );
    }
}
