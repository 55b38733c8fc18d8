//! Telling every instance that something it keeps in memory changed. A
//! write calls [`announce`] after its commit with a topic (`"catalog"`,
//! `"accounts.identities"`, ...); a task per process turns that into
//! `NOTIFY weaverse_changes`, and [`listen`] hears every process's (its own
//! too) and hands the topic to the caller, who drops what it kept. Another
//! instance then sees a logout or a published course within milliseconds
//! instead of a cache's lifetime; the lifetimes stay as the bound when
//! PostgreSQL's notifications are lost (a dropped connection: on reconnect
//! the listener reports [`EVERYTHING`]).

use std::{sync::OnceLock, time::Duration};

use sqlx::{PgPool, postgres::PgListener};
use tokio::sync::mpsc;

/// The PostgreSQL channel.
pub const CHANNEL: &str = "weaverse_changes";

/// Reported after the listener (re)connects: anything may have changed.
pub const EVERYTHING: &str = "*";

static OUTBOX: OnceLock<mpsc::UnboundedSender<String>> = OnceLock::new();

/// Tells the other instances that `topic` changed (no-op until
/// [`start_announcing`] ran in this process: one instance needs no news).
pub fn announce(topic: &'static str) {
    if let Some(outbox) = OUTBOX.get() {
        let _ = outbox.send(topic.to_owned());
    }
}

/// Tells the other instances that `key` of `topic` changed (one learner's
/// grants, one session): [`listen`] hands them `topic` and `key`.
pub fn announce_about(topic: &'static str, key: &str) {
    if let Some(outbox) = OUTBOX.get() {
        let _ = outbox.send(format!("{topic} {key}"));
    }
}

/// A payload as `(topic, key)`.
pub fn parse(payload: &str) -> (&str, Option<&str>) {
    match payload.split_once(' ') {
        Some((topic, key)) => (topic, Some(key)),
        None => (payload, None),
    }
}

/// Starts this process's announcer (once; later calls do nothing).
pub fn start_announcing(db: PgPool) {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    if OUTBOX.set(tx).is_err() {
        return;
    }
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            // A burst of the same news goes out once.
            let mut topics = vec![first];
            while let Ok(more) = rx.try_recv() {
                if topics.len() >= 1000 {
                    break;
                }
                if !topics.contains(&more) {
                    topics.push(more);
                }
            }
            // One statement for the whole burst (a learner's state changes
            // with every watch batch: one statement each cost ingestion 15%).
            let sent = sqlx::query("SELECT pg_notify($1, topic) FROM unnest($2::text[]) AS topic")
                .bind(CHANNEL)
                .bind(&topics)
                .execute(&db)
                .await;
            if let Err(err) = sent {
                tracing::warn!(error = %err, count = topics.len(), "could not announce changes");
            }
        }
    });
}

/// Calls `heard` with every topic (and key) any instance announces, for as
/// long as the process runs; [`EVERYTHING`] after each (re)connection.
pub fn listen(db: PgPool, heard: impl Fn(&str, Option<&str>) + Send + Sync + 'static) {
    tokio::spawn(follow(
        db,
        CHANNEL,
        Duration::from_secs(2),
        // Whatever changed while nobody listened is reported as all.
        move |note| match note {
            None => heard(EVERYTHING, None),
            Some(payload) => {
                let (topic, key) = parse(payload);
                heard(topic, key);
            }
        },
    ));
}

/// Listens on `channel` for as long as the task runs: `heard(None)` after
/// each (re)connection (notices sent meanwhile are lost, so the caller
/// assumes anything happened), `heard(Some(payload))` for each notice.
/// Reconnects after `retry` when PostgreSQL is away.
pub async fn follow(
    db: PgPool,
    channel: &'static str,
    retry: Duration,
    heard: impl Fn(Option<&str>) + Send + Sync + 'static,
) {
    loop {
        let mut listener = match PgListener::connect_with(&db).await {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, channel, "listener: connect failed");
                tokio::time::sleep(retry).await;
                continue;
            }
        };
        if let Err(err) = listener.listen(channel).await {
            tracing::warn!(error = %err, channel, "listener: LISTEN failed");
            tokio::time::sleep(retry).await;
            continue;
        }
        heard(None);
        loop {
            match listener.try_recv().await {
                Ok(Some(note)) => heard(Some(note.payload())),
                // The connection dropped: listen afresh (above).
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!(error = %err, channel, "listener: receive failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    break;
                }
            }
        }
        tracing::warn!(channel, "listener: connection lost; reconnecting");
    }
}
