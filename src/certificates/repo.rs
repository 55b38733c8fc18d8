//! Certificates SQL.

use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{catalog::model::Product, certificates::Status, ids::UserId};

#[derive(Debug)]
pub struct CertificateRow {
    pub id: Uuid,
    pub code: String,
    pub user_id: UserId,
    pub course_id: Option<Uuid>,
    pub curriculum_id: Option<Uuid>,
    pub learner_name: String,
    pub title: String,
    pub study_hours: f64,
    pub score: Option<i32>,
    pub credits: i32,
    pub issued_at: OffsetDateTime,
    pub issued_by: Option<Uuid>,
    pub issue_reason: Option<String>,
    pub status: Status,
    pub revoked_at: Option<OffsetDateTime>,
    pub revoke_reason: Option<String>,
    pub pdf_key: Option<String>,
    pub public: bool,
    /// Its place in the badge status lists.
    pub status_index: i64,
    /// Whether `learner_name` is the learner's legal name (a certificate
    /// issued before they gave it waits for it).
    pub name_confirmed: bool,
}

impl CertificateRow {
    pub fn is_valid(&self) -> bool {
        self.status == Status::Valid
    }
}

pub struct NewCertificate<'a> {
    pub code: &'a str,
    pub user: UserId,
    pub subject: Product,
    pub name: &'a str,
    pub title: &'a str,
    pub hours: f64,
    pub score: Option<i32>,
    pub credits: i32,
    pub issued_by: Option<UserId>,
    pub reason: Option<&'a str>,
    pub name_confirmed: bool,
}

/// Issues unless the learner has one for the subject (the unique index
/// decides); the code when this made it.
pub async fn insert(
    conn: &mut PgConnection,
    c: &NewCertificate<'_>,
) -> sqlx::Result<Option<String>> {
    let (curriculum, course) = c.subject.columns();
    sqlx::query_scalar!(
        "INSERT INTO certificates (code, user_id, course_id, curriculum_id, learner_name, title,
                                   study_hours, score, credits, issued_by, issue_reason, name_confirmed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT DO NOTHING RETURNING code",
        c.code,
        c.user.0,
        course,
        curriculum,
        c.name,
        c.title,
        c.hours,
        c.score,
        c.credits,
        c.issued_by.map(|u| u.0),
        c.reason,
        c.name_confirmed
    )
    .fetch_optional(conn)
    .await
}

pub async fn by_code(conn: &mut PgConnection, code: &str) -> sqlx::Result<Option<CertificateRow>> {
    sqlx::query_as!(
        CertificateRow,
        r#"SELECT id, code, user_id AS "user_id: UserId", course_id, curriculum_id, learner_name,
                  title, study_hours, score, credits, issued_at, issued_by, issue_reason,
                  status AS "status: Status", revoked_at, revoke_reason, pdf_key, public,
                  status_index, name_confirmed
             FROM certificates WHERE code = $1"#,
        code
    )
    .fetch_optional(conn)
    .await
}

pub async fn of_learner(
    conn: &mut PgConnection,
    user: UserId,
) -> sqlx::Result<Vec<CertificateRow>> {
    sqlx::query_as!(
        CertificateRow,
        r#"SELECT id, code, user_id AS "user_id: UserId", course_id, curriculum_id, learner_name,
                  title, study_hours, score, credits, issued_at, issued_by, issue_reason,
                  status AS "status: Status", revoked_at, revoke_reason, pdf_key, public,
                  status_index, name_confirmed
             FROM certificates WHERE user_id = $1 ORDER BY issued_at"#,
        user.0
    )
    .fetch_all(conn)
    .await
}

pub async fn latest(
    conn: &mut PgConnection,
    from: Option<OffsetDateTime>,
    before: Option<OffsetDateTime>,
    limit: i64,
) -> sqlx::Result<Vec<CertificateRow>> {
    sqlx::query_as!(
        CertificateRow,
        r#"SELECT id, code, user_id AS "user_id: UserId", course_id, curriculum_id, learner_name,
                  title, study_hours, score, credits, issued_at, issued_by, issue_reason,
                  status AS "status: Status", revoked_at, revoke_reason, pdf_key, public,
                  status_index, name_confirmed
             FROM certificates
            WHERE ($2::timestamptz IS NULL OR issued_at >= $2)
              AND ($3::timestamptz IS NULL OR issued_at < $3)
            ORDER BY issued_at DESC LIMIT $1"#,
        limit,
        from,
        before
    )
    .fetch_all(conn)
    .await
}

pub async fn revoke(
    conn: &mut PgConnection,
    code: &str,
    admin: UserId,
    reason: &str,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "UPDATE certificates SET status = 'revoked', revoked_at = now(), revoked_by = $2,
                revoke_reason = $3
          WHERE code = $1 AND status = 'valid'",
        code,
        admin.0,
        reason
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

pub async fn set_public(
    conn: &mut PgConnection,
    code: &str,
    user: UserId,
    public: bool,
) -> sqlx::Result<bool> {
    Ok(sqlx::query!(
        "UPDATE certificates SET public = $3 WHERE code = $1 AND user_id = $2",
        code,
        user.0,
        public
    )
    .execute(conn)
    .await?
    .rows_affected()
        == 1)
}

/// Keeps the first PDF made (a parallel first download loses quietly).
pub async fn set_pdf_key(conn: &mut PgConnection, id: Uuid, key: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "UPDATE certificates SET pdf_key = $2 WHERE id = $1 AND pdf_key IS NULL",
        id,
        key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// The places in status list `list` of revoked certificates.
pub async fn revoked_in_list(
    conn: &mut PgConnection,
    list: i64,
    size: i64,
) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar!(
        r#"SELECT status_index - $1::bigint * $2::bigint AS "place!" FROM certificates
            WHERE status = 'revoked' AND status_index >= $1::bigint * $2::bigint
              AND status_index < ($1::bigint + 1) * $2::bigint"#,
        list,
        size
    )
    .fetch_all(conn)
    .await
}

/// The highest status index given so far.
pub async fn last_status_index(conn: &mut PgConnection) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar!("SELECT max(status_index) FROM certificates")
        .fetch_one(conn)
        .await
}

/// Puts the learner's legal name on their certificates that waited for it.
pub async fn confirm_names(conn: &mut PgConnection, user: UserId, name: &str) -> sqlx::Result<u64> {
    Ok(sqlx::query!(
        "UPDATE certificates SET learner_name = $2, name_confirmed = true
          WHERE user_id = $1 AND NOT name_confirmed",
        user.0,
        name
    )
    .execute(conn)
    .await?
    .rows_affected())
}
