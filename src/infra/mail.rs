//! Outgoing mail. Files in `var/mail` by default (one `.eml` each), SMTP when
//! `SMTP_URL` is set. Mail is sent by the job queue (`mail.send`), so a
//! request never waits on an SMTP server and a failed send is retried.

use std::path::PathBuf;

use anyhow::Context;
use lettre::{
    AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, header::ContentType},
};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use crate::jobs::{self, EnqueueOptions};

/// The job kind that sends one [`Mail`].
pub const SEND_JOB: &str = "mail.send";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl Mail {
    /// A mail from a rendered mail template: its first line is
    /// `Subject: ...`, the body follows a blank line. (The words of a mail
    /// live in its template, subject included.)
    pub fn compose(to: impl Into<String>, rendered: &str) -> Self {
        let (first, body) = rendered.split_once('\n').unwrap_or((rendered, ""));
        let (subject, text) = match first.strip_prefix("Subject:") {
            Some(subject) => (subject.trim(), body.trim_start_matches('\n')),
            None => ("", rendered),
        };
        Self {
            to: to.into(),
            subject: subject.to_string(),
            text: text.to_string(),
        }
    }
}

#[derive(Clone)]
pub enum Mailer {
    Files(AsyncFileTransport<Tokio1Executor>, PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Files(_, dir) => write!(f, "Mailer::Files({})", dir.display()),
            Self::Smtp(_) => f.write_str("Mailer::Smtp"),
        }
    }
}

impl Mailer {
    /// SMTP when a URL is given (`smtp://`, `smtps://`, `?tls=required`), else files.
    pub fn new(smtp_url: Option<&str>, mail_dir: PathBuf) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => Ok(Self::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("SMTP_URL")?
                    .build(),
            )),
            None => {
                std::fs::create_dir_all(&mail_dir)
                    .with_context(|| format!("creating {}", mail_dir.display()))?;
                Ok(Self::Files(AsyncFileTransport::new(&mail_dir), mail_dir))
            }
        }
    }

    pub async fn send(&self, from: &Mailbox, mail: &Mail) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(from.clone())
            .to(mail.to.parse().context("recipient address")?)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .context("building the message")?;
        match self {
            Self::Files(transport, _) => {
                transport
                    .send(message)
                    .await
                    .context("writing the mail file")?;
            }
            Self::Smtp(transport) => {
                transport.send(message).await.context("SMTP send")?;
            }
        }
        Ok(())
    }
}

/// Queues `mail` inside the caller's transaction.
pub async fn enqueue(conn: &mut PgConnection, mail: &Mail) -> anyhow::Result<()> {
    jobs::enqueue(
        conn,
        SEND_JOB,
        serde_json::to_value(mail)?,
        EnqueueOptions {
            max_attempts: Some(8),
            ..EnqueueOptions::default()
        },
    )
    .await?;
    Ok(())
}
