//! Certificates: the completion rules (a course when all its published
//! topics are complete, missions being complete only once passed; the
//! nano-degree when all its courses are), issued exactly once (a unique
//! index decides), by hand by admins with a reason, revoked with a reason,
//! the PDF (made once, kept in storage), and public verification.

pub mod badge;
pub mod figures;
pub mod handlers;
pub mod pdf;
mod repo;
mod views;

use anyhow::Context;
use rand::Rng;
use sqlx::PgConnection;
use time::OffsetDateTime;

pub use repo::CertificateRow;

use crate::{
    accounts,
    catalog::{self, model::Product},
    config::Config,
    ids::{CourseId, TopicId, UserId},
    learning::progress,
    media::Media,
    state::AppState,
};

crate::text_enum!(
    /// Whether a certificate still stands.
    Status {
        Valid => "valid",
        Revoked => "revoked",
    }
);

/// The letters and digits codes are made of (no look-alikes).
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// An unguessable code: 20 characters from an alphabet without look-alikes
/// (about 98 bits), grouped for reading aloud.
fn new_code() -> String {
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    let groups: Vec<String> = chars.chunks(5).map(|c| c.iter().collect()).collect();
    format!("WV-{}", groups.join("-"))
}

/// Whether `code` has the shape [`new_code`] makes (`WV-` and four groups
/// of five): anything else names no certificate and is answered without a
/// query (a NUL or a megabyte of text never reaches the database).
pub fn well_formed(code: &str) -> bool {
    let Some(rest) = code.strip_prefix("WV-") else {
        return false;
    };
    let groups: Vec<&str> = rest.split('-').collect();
    groups.len() == 4
        && groups
            .iter()
            .all(|g| g.len() == 5 && g.bytes().all(|b| ALPHABET.contains(&b)))
}

/// Why a certificate was not issued by hand.
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("no such learner")]
    NoLearner,
    #[error("no such course or curriculum")]
    NoSubject,
    #[error("already issued")]
    Already,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// Issues `user`'s certificate for `subject` unless they have one; returns
/// its code when this call made it. Name, title, hours, score and credits
/// are taken as they are now.
async fn issue(
    conn: &mut PgConnection,
    user: UserId,
    subject: Product,
    by: Option<(UserId, &str)>,
) -> sqlx::Result<Option<String>> {
    let courses = catalog::courses_of(conn, &[subject]).await?;
    let topics: Vec<TopicId> = catalog::published_topics(conn, &courses)
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    // The legal name when the learner gave it; else the nickname, until
    // they give it (the certificate waits for it).
    let legal = accounts::legal_name_of(conn, user).await?;
    let name = match &legal {
        Some(name) => name.clone(),
        None => accounts::name_of(conn, user).await?.unwrap_or_default(),
    };
    let title = catalog::titles(conn, &[subject])
        .await?
        .remove(&subject)
        .unwrap_or_default();
    let hours = progress::study_secs_in(conn, user, &topics).await? / 3600.0;
    let score = crate::assessments::mission_score(conn, user, &topics).await?;
    let credits: i32 = catalog::credits_of(conn, &courses).await?.values().sum();
    let issued = repo::insert(
        conn,
        &repo::NewCertificate {
            code: &new_code(),
            user,
            subject,
            name: &name,
            title: &title,
            // Whole minutes (the certificate reads hours and minutes).
            hours: (hours * 60.0).round() / 60.0,
            score,
            credits,
            issued_by: by.map(|(u, _)| u),
            reason: by.map(|(_, r)| r),
            name_confirmed: legal.is_some(),
        },
    )
    .await;
    learners_changed();
    issued
}

/// Checks the rules after `user`'s progress changed in `course` and issues
/// what is due (the course, then every curriculum holding it); returns the
/// codes issued now. Safe to call any number of times, at once too.
pub async fn check(
    conn: &mut PgConnection,
    user: UserId,
    course: CourseId,
) -> sqlx::Result<Vec<String>> {
    let mut issued = Vec::new();
    let done = progress::courses(conn, user, &[course]).await?;
    if !done.get(&course).is_some_and(|p| p.finished()) {
        return Ok(issued);
    }
    issued.extend(issue(conn, user, Product::Course(course), None).await?);
    for product in catalog::products_granting(conn, course).await? {
        let Product::Curriculum(_) = product else {
            continue;
        };
        let courses = catalog::courses_of(conn, &[product]).await?;
        let all = progress::courses(conn, user, &courses).await?;
        if !courses.is_empty()
            && courses
                .iter()
                .all(|c| all.get(c).is_some_and(|p| p.finished()))
        {
            issued.extend(issue(conn, user, product, None).await?);
        }
    }
    if !issued.is_empty() {
        tracing::info!(user = %user, ?issued, "certificates issued");
    }
    Ok(issued)
}

/// [`check`] for the course of `topic`.
pub async fn check_topic(
    conn: &mut PgConnection,
    user: UserId,
    topic: TopicId,
) -> sqlx::Result<Vec<String>> {
    match catalog::topic_place(conn, topic).await? {
        Some(place) => check(conn, user, place.course).await,
        None => Ok(Vec::new()),
    }
}

/// An admin issues a certificate by hand.
pub async fn issue_by_hand(
    conn: &mut PgConnection,
    admin: UserId,
    email: &str,
    subject: Product,
    reason: &str,
) -> Result<String, IssueError> {
    let user = accounts::user_by_email(conn, email)
        .await?
        .ok_or(IssueError::NoLearner)?;
    if catalog::titles(conn, &[subject]).await?.is_empty() {
        return Err(IssueError::NoSubject);
    }
    issue(conn, user, subject, Some((admin, reason)))
        .await?
        .ok_or(IssueError::Already)
}

pub async fn by_code(conn: &mut PgConnection, code: &str) -> sqlx::Result<Option<CertificateRow>> {
    if !well_formed(code) {
        return Ok(None);
    }
    repo::by_code(conn, code).await
}

pub async fn of_learner(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<CertificateRow>> {
    repo::of_learner(conn, user).await
}

/// Learners' certificates, kept a few seconds for their dashboard: they
/// change rarely. Every write to a certificate in this process
/// ([`learners_changed`], right after it) drops them all; a load racing a
/// write still in its transaction may keep the old list for the TTL, the
/// bound other instances have anyway.
static KEPT: std::sync::LazyLock<crate::infra::cache::Cache<Vec<CertificateRow>>> =
    std::sync::LazyLock::new(|| crate::infra::cache::Cache::new(std::time::Duration::from_secs(5)));

/// A certificate was issued, revoked or changed.
fn learners_changed() {
    KEPT.invalidate();
    crate::infra::changes::announce(CERTIFICATES_CHANGED);
}

/// What other instances hear when a certificate changed here.
pub const CERTIFICATES_CHANGED: &str = "certificates";

/// Drops this instance's kept certificate lists (another instance changed one).
pub fn forget_certificates() {
    KEPT.invalidate();
}

/// The learner's certificates, from the cache or the database.
pub async fn of_learner_kept(
    db: &sqlx::PgPool,
    user: UserId,
) -> sqlx::Result<std::sync::Arc<Vec<CertificateRow>>> {
    KEPT.get_or_load(&user.to_string(), async {
        let mut conn = db.acquire().await?;
        repo::of_learner(&mut conn, user).await
    })
    .await
}

/// Certificates issued on the Seoul days `from..=to` (either open), newest
/// first, at most `limit`.
pub async fn latest(
    conn: &mut PgConnection,
    from: Option<time::Date>,
    to: Option<time::Date>,
    limit: i64,
) -> sqlx::Result<Vec<CertificateRow>> {
    let start = from.map(crate::web::dates::day_start);
    let before = to
        .and_then(|d| d.next_day())
        .map(crate::web::dates::day_start);
    repo::latest(conn, start, before, limit).await
}

/// Revokes a valid certificate; `false` when there was none to revoke.
pub async fn revoke(
    conn: &mut PgConnection,
    code: &str,
    admin: UserId,
    reason: &str,
) -> sqlx::Result<bool> {
    if !well_formed(code) {
        return Ok(false);
    }
    let revoked = repo::revoke(conn, code, admin, reason).await;
    learners_changed();
    revoked
}

pub async fn set_public(
    conn: &mut PgConnection,
    code: &str,
    user: UserId,
    public: bool,
) -> sqlx::Result<bool> {
    if !well_formed(code) {
        return Ok(false);
    }
    let set = repo::set_public(conn, code, user, public).await;
    learners_changed();
    set
}

/// Records `user`'s legal name (asked once, before their first
/// certificate's PDF) and puts it on the certificates that waited for it.
/// Call it inside a transaction.
pub async fn set_legal_name(
    conn: &mut PgConnection,
    user: UserId,
    raw: &str,
) -> Result<String, NameError> {
    let name = accounts::model::LegalName::parse(raw).map_err(NameError::Invalid)?;
    accounts::set_legal_name(conn, user, name.as_str()).await?;
    repo::confirm_names(conn, user, name.as_str()).await?;
    learners_changed();
    Ok(name.as_str().to_string())
}

/// Why a legal name was not taken.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    #[error("invalid legal name: {0}")]
    Invalid(accounts::error::Problem),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

/// The PDF of a certificate: made on the first download (in a blocking
/// task), kept in storage, and the same bytes ever after.
pub async fn pdf_bytes(
    state: &AppState,
    media: &Media,
    keys: &Keys,
    cert: &CertificateRow,
) -> anyhow::Result<Vec<u8>> {
    if let Some(key) = &cert.pdf_key
        && let Some(bytes) = media.storage.get_bytes(key).await?
    {
        return Ok(bytes);
    }
    let font = keys.font.clone();
    let url = format!(
        "{}/certificates/{}",
        state.config.public_origin(),
        cert.code
    );
    let date = crate::web::dates::date(&cert.issued_at);
    let (name, title, code, hours, nanodegree) = (
        cert.learner_name.clone(),
        cert.title.clone(),
        cert.code.clone(),
        cert.study_hours,
        cert.curriculum_id.is_some(),
    );
    let bytes = tokio::task::spawn_blocking(move || {
        pdf::render(
            &font,
            &pdf::Sheet {
                name: &name,
                title: &title,
                date: &date,
                hours,
                code: &code,
                url: &url,
                nanodegree,
            },
        )
    })
    .await??;
    let key = format!("certificates/{}.pdf", cert.code);
    media
        .storage
        .put_bytes(&key, bytes.clone(), "application/pdf")
        .await?;
    let mut conn = state.db.acquire().await?;
    repo::set_pdf_key(&mut conn, cert.id, &key).await?;
    learners_changed();
    Ok(bytes)
}

/// What certificates are set in and signed with.
#[derive(Clone)]
pub struct Keys {
    pub font: pdf::CertificateFont,
    pub badge: badge::BadgeSigner,
}

impl Keys {
    /// The font (checked now) and the badge key (`BADGE_SIGNING_KEY`, or
    /// in development one generated into `var/keys`).
    pub fn load(config: &Config) -> anyhow::Result<Self> {
        let font = pdf::CertificateFont::load(&config.certificate_font)?;
        let seed = match &config.badge_key {
            Some(raw) => {
                hex::decode(raw.trim()).context("BADGE_SIGNING_KEY must be 64 hex digits")?
            }
            None => crate::infra::keys::load_or_generate(&config.var_dir, "badge_signing_key", 32)?,
        };
        Ok(Self {
            font,
            badge: badge::BadgeSigner::from_seed(&seed)?,
        })
    }
}

/// Certificates listen to learning's completion path: a completed topic
/// may complete a course, and a course a curriculum.
pub struct OnCompletion;

impl crate::learning::Listener for OnCompletion {
    fn completed<'a>(
        &'a self,
        conn: &'a mut PgConnection,
        user: UserId,
        topic: TopicId,
    ) -> crate::learning::Heard<'a> {
        Box::pin(async move {
            check_topic(conn, user, topic).await?;
            Ok(())
        })
    }
}

/// The year and month for LinkedIn's form.
pub fn issued_year_month(at: OffsetDateTime) -> (i32, u8) {
    let local = at.to_offset(crate::web::dates::KST);
    (local.year(), u8::from(local.month()))
}

/// The Open Badge of a valid certificate, signed for `origin`.
pub async fn open_badge(
    conn: &mut PgConnection,
    signer: &badge::BadgeSigner,
    cert: &CertificateRow,
    origin: &str,
) -> anyhow::Result<serde_json::Value> {
    let emails = crate::accounts::emails_of(conn, &[cert.user_id]).await?;
    let email = emails.get(&cert.user_id).map_or("", String::as_str);
    badge::credential(signer, cert, email, origin)
}

/// Status list `list`, signed now; `None` past the last list in use.
pub async fn status_list(
    conn: &mut PgConnection,
    signer: &badge::BadgeSigner,
    origin: &str,
    list: i64,
) -> anyhow::Result<Option<serde_json::Value>> {
    let last = repo::last_status_index(conn).await?.unwrap_or(0);
    if list < 0 || list > badge::status_place(last).0 {
        return Ok(None);
    }
    let revoked = repo::revoked_in_list(conn, list, badge::STATUS_LIST_SIZE).await?;
    Ok(Some(badge::status_list(
        signer,
        origin,
        list,
        &revoked,
        OffsetDateTime::now_utc(),
    )?))
}

/// The most a badge handed in for checking may weigh.
pub const MAX_BADGE_BYTES: usize = 64 * 1024;

/// What checking a badge someone hands over found.
#[derive(Debug)]
pub enum BadgeVerdict {
    /// Ours, unchanged, and the certificate stands.
    Valid(Box<CertificateRow>),
    /// Ours and unchanged, but the certificate was revoked since.
    Revoked(Box<CertificateRow>),
    /// Signed with another key, or in another issuer's name.
    NotOurs,
    /// Changed after it was signed.
    Altered,
    /// Not an Open Badge credential (or not JSON, or too large).
    Malformed,
}

/// Checks a badge (its JSON text) against Weaverse's key and DID, then the
/// certificate's standing now (so a badge saved before a revocation shows
/// revoked).
pub async fn verify_badge(
    conn: &mut PgConnection,
    signer: &badge::BadgeSigner,
    origin: &str,
    text: &str,
) -> sqlx::Result<BadgeVerdict> {
    if text.len() > MAX_BADGE_BYTES {
        return Ok(BadgeVerdict::Malformed);
    }
    let Ok(json) = serde_json::from_str::<serde_json::Value>(text.trim()) else {
        return Ok(BadgeVerdict::Malformed);
    };
    match badge::check(&json, signer, origin) {
        badge::Checked::Signed { code, status } => {
            let Some(cert) = by_code(conn, &code).await? else {
                return Ok(BadgeVerdict::Altered);
            };
            // The status entry must be this certificate's own.
            let own = status.is_some_and(|(list, place)| {
                list * badge::STATUS_LIST_SIZE + place == cert.status_index
            });
            Ok(match (own, cert.is_valid()) {
                (false, _) => BadgeVerdict::Altered,
                (true, true) => BadgeVerdict::Valid(Box::new(cert)),
                (true, false) => BadgeVerdict::Revoked(Box::new(cert)),
            })
        }
        badge::Checked::NotOurs => Ok(BadgeVerdict::NotOurs),
        badge::Checked::Altered => Ok(BadgeVerdict::Altered),
        badge::Checked::Malformed => Ok(BadgeVerdict::Malformed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[sqlx::test(migrator = "crate::infra::db::MIGRATOR")]
    async fn a_course_certificate_is_due_when_every_topic_is_done_and_issued_once(
        db: sqlx::PgPool,
    ) {
        let mut conn = db.acquire().await.unwrap();
        let (user, _) = crate::catalog::seed::testing::seeded_learner(&mut conn).await;
        let course: uuid::Uuid = sqlx::query_scalar(
            "SELECT course_id FROM curriculum_courses ORDER BY position LIMIT 1",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        let course = CourseId(course);
        let topics: Vec<TopicId> = catalog::published_topics(&mut conn, &[course])
            .await
            .unwrap()
            .into_iter()
            .map(|(_, t)| t)
            .collect();
        let (last, rest) = topics.split_last().unwrap();
        let completion = crate::learning::Completion::unheard();
        for topic in rest {
            completion.complete(&mut conn, user, *topic).await.unwrap();
        }
        // One topic short: nothing is due.
        assert!(check(&mut conn, user, course).await.unwrap().is_empty());
        completion.complete(&mut conn, user, *last).await.unwrap();
        let issued = check(&mut conn, user, course).await.unwrap();
        assert_eq!(
            issued.len(),
            1,
            "the course's certificate, not the nano-degree's"
        );
        assert!(well_formed(&issued[0]));
        // Checking again (or a second listener at once) issues nothing more.
        assert!(check(&mut conn, user, course).await.unwrap().is_empty());
        let held = of_learner(&mut conn, user).await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].course_id, Some(course.0));
        assert_eq!(held[0].status, Status::Valid);
    }
}
