//! Backups that restore (`weaverse backup`, `weaverse restore`, the daily
//! job). A backup is a set under `<destination>/weaverse-<UTC time>/`:
//!
//! - `database.dump`: `pg_dump --format=custom` of the whole database;
//! - `media/<key>`: every media file, when media is stored in a local
//!   folder (with S3 media, the bucket keeps the files: the manifest lists
//!   each key with its size and checksum, and a restore checks they are
//!   there);
//! - `MANIFEST.json`, written last: SHA-256 and size of every file of the
//!   set. A set without it is unfinished and never restored from.
//!
//! A backup that cannot finish removes what it wrote and fails; earlier
//! sets are only touched (by retention) after a new one is whole. The data
//! keys (`DATA_KEYS`, `SESSION_KEY`, `BADGE_SIGNING_KEY`) are never in a
//! backup: keep them apart (README, "Backups").

use std::{
    collections::{BTreeMap, HashSet},
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, bail, ensure};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use time::{
    OffsetDateTime, PrimitiveDateTime, format_description::FormatItem, macros::format_description,
};
use tokio::{io::AsyncReadExt, process::Command};

use crate::{
    config::Config,
    infra::{
        db,
        storage::{self, Local, S3, Storage},
    },
};

/// The daily backup (batch lane).
pub const BACKUP_JOB: &str = "ops.backup";

const MANIFEST: &str = "MANIFEST.json";
const DUMP: &str = "database.dump";
const NAME_PREFIX: &str = "weaverse-";
const NAME_TIME: &[FormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// What a set holds, with a checksum for every file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Manifest {
    pub format: u32,
    pub name: String,
    pub app_version: String,
    /// The newest migration of the database backed up.
    pub migration: Option<i64>,
    pub database: FileSum,
    /// `true`: the media files are in the set; `false`: they stay in the
    /// media bucket and `media` lists what must be there.
    pub media_copied: bool,
    pub media: Vec<FileSum>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileSum {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn media_bytes(&self) -> u64 {
        self.media.iter().map(|f| f.size).sum()
    }
}

/// Where sets are kept: a storage (folder or bucket) and a prefix in it.
pub struct Destination {
    storage: Arc<dyn Storage>,
    prefix: String,
    shown: String,
}

impl Destination {
    /// A folder, or `s3://bucket/prefix` with the S3 settings of `config`.
    pub fn parse(raw: &str, config: &Config) -> anyhow::Result<Self> {
        let raw = raw.trim();
        ensure!(!raw.is_empty(), "no backup destination (--to, BACKUP_TO)");
        if let Some(rest) = raw.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            ensure!(!bucket.is_empty(), "{raw}: s3:// needs a bucket");
            let template = config.backup.s3.clone().context(
                "a backup to S3 needs S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (and S3_ENDPOINT for a service other than AWS)",
            )?;
            let prefix = prefix.trim_matches('/').to_owned();
            ensure!(
                prefix.is_empty() || storage::valid_key(&prefix),
                "{raw}: the prefix may hold only letters, digits, '.', '_', '-' and '/'"
            );
            let settings = storage::S3Settings {
                bucket: bucket.to_owned(),
                ..template
            };
            return Ok(Self {
                storage: Arc::new(S3::new(&settings)),
                prefix,
                shown: raw.to_owned(),
            });
        }
        let dir = PathBuf::from(raw);
        Ok(Self {
            storage: Arc::new(Local::new(&dir).with_context(|| format!("backup folder {raw}"))?),
            prefix: String::new(),
            shown: raw.to_owned(),
        })
    }

    fn key(&self, rest: &str) -> String {
        if self.prefix.is_empty() {
            rest.to_owned()
        } else {
            format!("{}/{rest}", self.prefix)
        }
    }

    /// Every set under the destination: name and whether it is whole.
    async fn sets(&self) -> anyhow::Result<BTreeMap<String, bool>> {
        let base = self.key("");
        let mut sets = BTreeMap::new();
        for key in self.storage.list(&base).await? {
            let Some(rest) = key.strip_prefix(&base) else {
                continue;
            };
            let Some((name, file)) = rest.split_once('/') else {
                continue;
            };
            if taken_at(name).is_none() {
                continue;
            }
            let whole = sets.entry(name.to_owned()).or_insert(false);
            *whole |= file == MANIFEST;
        }
        Ok(sets)
    }

    async fn delete_set(&self, name: &str) -> anyhow::Result<usize> {
        let keys = self.storage.list(&self.key(&format!("{name}/"))).await?;
        for key in &keys {
            self.storage.delete(key).await?;
        }
        Ok(keys.len())
    }
}

/// When a set was taken, from its name.
fn taken_at(name: &str) -> Option<OffsetDateTime> {
    let stamp = name.strip_prefix(NAME_PREFIX)?;
    PrimitiveDateTime::parse(stamp, NAME_TIME)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Removes the local work folders (a half-written dump can be large) of
/// backups a killed process left, once they are a day old: the same rule as
/// for the unfinished sets they were writing.
async fn sweep_work(dir: &Path, now: OffsetDateTime) {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        if taken_at(&name).is_some_and(|t| now - t > time::Duration::days(1)) {
            match tokio::fs::remove_dir_all(entry.path()).await {
                Ok(()) => {
                    tracing::warn!(set = %name, "removed the work folder of a backup that did not finish")
                }
                Err(err) => {
                    tracing::error!(error = %err, set = %name, "removing an old backup work folder")
                }
            }
        }
    }
}

/// What `backup` did.
#[derive(Debug)]
pub struct BackupReport {
    pub place: String,
    pub manifest: Manifest,
    pub removed: Vec<String>,
}

/// Takes a backup into `to` and applies the retention rule there.
pub async fn backup(config: &Config, db: &PgPool, to: &str) -> anyhow::Result<BackupReport> {
    let dest = Destination::parse(to, config)?;
    let now = OffsetDateTime::now_utc();
    let name = format!("{NAME_PREFIX}{}", now.format(NAME_TIME)?);
    ensure!(
        !dest.sets().await?.contains_key(&name),
        "a backup named {name} is already there (one per second)"
    );
    sweep_work(&config.var_dir.join("backup-work"), now).await;
    let work = config.var_dir.join("backup-work").join(&name);
    tokio::fs::create_dir_all(&work)
        .await
        .with_context(|| format!("creating {}", work.display()))?;
    let result = write_set(config, db, &dest, &name, &work).await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    let manifest = match result {
        Ok(manifest) => manifest,
        Err(err) => {
            // Nothing unfinished stays behind; earlier sets are untouched.
            if let Err(cleanup) = dest.delete_set(&name).await {
                tracing::error!(error = %format!("{cleanup:#}"), set = %name, "removing an unfinished backup");
            }
            return Err(err.context(format!("backup to {} failed", dest.shown)));
        }
    };
    let removed = retain(
        &dest,
        &name,
        config.backup.keep_daily,
        config.backup.keep_weekly,
        now,
    )
    .await?;
    Ok(BackupReport {
        place: format!("{}/{name}", dest.shown.trim_end_matches('/')),
        manifest,
        removed,
    })
}

async fn write_set(
    config: &Config,
    db: &PgPool,
    dest: &Destination,
    name: &str,
    work: &Path,
) -> anyhow::Result<Manifest> {
    let migration = db::applied_migration(db).await?;
    let dump = work.join(DUMP);
    pg_dump(config, &dump).await?;
    let database = put(dest, &format!("{name}/{DUMP}"), &dump, DUMP).await?;
    tokio::fs::remove_file(&dump).await?;

    let media = storage::from_settings(&config.media.dir, config.media.s3.as_ref())?;
    let copied = media.local_path("probe").is_some();
    let mut files = Vec::new();
    for key in media.list("").await? {
        if copied {
            let path = media.local_path(&key).context("local media file")?;
            let sum = put(dest, &format!("{name}/media/{key}"), &path, &key).await?;
            files.push(sum);
            crate::infra::crash_point("backup-media-file");
        } else {
            // The bucket keeps the file: note what it holds.
            let temp = work.join("media-object");
            media.get_to_file(&key, &temp).await?;
            let (size, sha256) = sha256_file(&temp).await?;
            tokio::fs::remove_file(&temp).await?;
            files.push(FileSum { key, size, sha256 });
        }
    }
    let manifest = Manifest {
        format: 1,
        name: name.to_owned(),
        app_version: env!("CARGO_PKG_VERSION").to_owned(),
        migration,
        database,
        media_copied: copied,
        media: files,
    };
    let text = serde_json::to_vec_pretty(&manifest)?;
    dest.storage
        .put_bytes(
            &dest.key(&format!("{name}/{MANIFEST}")),
            text,
            "application/json",
        )
        .await
        .context("writing the manifest")?;
    Ok(manifest)
}

/// Copies a local file to `key` in the set; its checksum, under `listed`
/// (its name in the manifest).
async fn put(dest: &Destination, key: &str, path: &Path, listed: &str) -> anyhow::Result<FileSum> {
    let (size, sha256) = sha256_file(path).await?;
    dest.storage
        .put_file(&dest.key(key), path, "application/octet-stream")
        .await
        .with_context(|| format!("copying {listed} into the backup"))?;
    Ok(FileSum {
        key: listed.to_owned(),
        size,
        sha256,
    })
}

async fn sha256_file(path: &Path) -> anyhow::Result<(u64, String)> {
    let mut file = tokio::fs::File::open(path)
        .await
        .with_context(|| format!("reading {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// The sets to keep: the newest of each of the last `daily` days and of the
/// last `weekly` ISO weeks that have one (and always the newest).
pub fn keep(taken: &[(String, OffsetDateTime)], daily: usize, weekly: usize) -> HashSet<String> {
    let mut newest_first: Vec<&(String, OffsetDateTime)> = taken.iter().collect();
    newest_first.sort_by_key(|b| std::cmp::Reverse(b.1));
    let mut kept = HashSet::new();
    let (mut days, mut weeks) = (Vec::new(), Vec::new());
    for (name, at) in newest_first.iter().map(|(n, t)| (n, *t)) {
        let day = at.date();
        if !days.contains(&day) && days.len() < daily {
            days.push(day);
            kept.insert(name.clone());
        }
        let week = (at.date().to_iso_week_date().0, at.date().iso_week());
        if !weeks.contains(&week) && weeks.len() < weekly {
            weeks.push(week);
            kept.insert(name.clone());
        }
    }
    if let Some((newest, _)) = newest_first.first() {
        kept.insert(newest.clone());
    }
    kept
}

/// Deletes whole sets the rule does not keep, and unfinished ones older
/// than a day (a backup still being written elsewhere is younger).
async fn retain(
    dest: &Destination,
    just_taken: &str,
    daily: usize,
    weekly: usize,
    now: OffsetDateTime,
) -> anyhow::Result<Vec<String>> {
    let sets = dest.sets().await?;
    let whole: Vec<(String, OffsetDateTime)> = sets
        .iter()
        .filter(|(_, whole)| **whole)
        .filter_map(|(name, _)| taken_at(name).map(|t| (name.clone(), t)))
        .collect();
    let mut kept = keep(&whole, daily.max(1), weekly);
    kept.insert(just_taken.to_owned());
    let mut removed = Vec::new();
    for (name, whole) in &sets {
        let stale = !whole && taken_at(name).is_some_and(|t| now - t > time::Duration::days(1));
        if (*whole && !kept.contains(name)) || stale {
            dest.delete_set(name).await?;
            removed.push(name.clone());
        }
    }
    Ok(removed)
}

/// What `restore` did.
#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    pub tables: i64,
}

/// Restores the set at `from` (a set, or a destination: its newest whole
/// set) into the configured database and media storage, both empty.
pub async fn restore(config: &Config, db: &PgPool, from: &str) -> anyhow::Result<RestoreReport> {
    let (dest, name) = locate(from, config).await?;
    let raw = dest
        .storage
        .get_bytes(&dest.key(&format!("{name}/{MANIFEST}")))
        .await?
        .with_context(|| format!("{from}: no {MANIFEST}: not a whole backup"))?;
    let manifest: Manifest = serde_json::from_slice(&raw).context("reading the manifest")?;
    ensure!(
        manifest.format == 1,
        "backup format {} is not known",
        manifest.format
    );

    let tables: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"#
    )
    .fetch_one(db)
    .await?;
    ensure!(
        tables == 0,
        "the database already has {tables} table(s): restore into an empty database"
    );
    let media = storage::from_settings(&config.media.dir, config.media.s3.as_ref())?;
    let present = media.list("").await?;
    if manifest.media_copied {
        ensure!(
            present.is_empty(),
            "the media storage already holds {} file(s): restore into empty storage",
            present.len()
        );
    } else {
        let present: HashSet<&String> = present.iter().collect();
        let missing: Vec<&str> = manifest
            .media
            .iter()
            .filter(|f| !present.contains(&f.key))
            .map(|f| f.key.as_str())
            .collect();
        ensure!(
            missing.is_empty(),
            "the media bucket lacks {} file(s) the backup lists, e.g. {}",
            missing.len(),
            missing.first().unwrap_or(&"")
        );
    }

    // Everything is fetched and checked before anything is written.
    let work = config.var_dir.join("restore-work").join(&name);
    tokio::fs::create_dir_all(&work).await?;
    let result = async {
        let dump = work.join(DUMP);
        fetch(&dest, &format!("{name}/{DUMP}"), &dump, &manifest.database).await?;
        let mut staged = Vec::new();
        if manifest.media_copied {
            for (i, file) in manifest.media.iter().enumerate() {
                let path = work.join(format!("media-{i}"));
                fetch(&dest, &format!("{name}/media/{}", file.key), &path, file).await?;
                staged.push((file.key.clone(), path));
            }
        }
        pg_restore(config, &dump).await?;
        for (key, path) in staged {
            media
                .adopt_file(&key, &path, storage::content_type_of(&key))
                .await
                .with_context(|| format!("restoring media file {key}"))?;
        }
        anyhow::Ok(())
    }
    .await;
    let _ = tokio::fs::remove_dir_all(&work).await;
    result?;
    let tables: i64 = sqlx::query_scalar!(
        r#"SELECT count(*) AS "n!" FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"#
    )
    .fetch_one(db)
    .await?;
    Ok(RestoreReport { manifest, tables })
}

/// The set `from` names, or the newest whole set under it.
async fn locate(from: &str, config: &Config) -> anyhow::Result<(Destination, String)> {
    let trimmed = from.trim().trim_end_matches('/');
    if let Some((parent, last)) = trimmed.rsplit_once('/')
        && taken_at(last).is_some()
    {
        return Ok((Destination::parse(parent, config)?, last.to_owned()));
    }
    let dest = Destination::parse(trimmed, config)?;
    let newest = dest
        .sets()
        .await?
        .into_iter()
        .filter(|(_, whole)| *whole)
        .map(|(name, _)| name)
        .max()
        .with_context(|| format!("{from}: no whole backup there"))?;
    Ok((dest, newest))
}

/// Copies a file of the set here and checks it against the manifest.
async fn fetch(dest: &Destination, key: &str, path: &Path, want: &FileSum) -> anyhow::Result<()> {
    dest.storage
        .get_to_file(&dest.key(key), path)
        .await
        .with_context(|| format!("fetching {key}"))?;
    let (size, sha256) = sha256_file(path).await?;
    if size != want.size || sha256 != want.sha256 {
        bail!("{key} does not match the manifest (damaged or changed backup)");
    }
    Ok(())
}

fn pg_tool(config: &Config, tool: &str) -> PathBuf {
    config
        .backup
        .pg_bin_dir
        .as_ref()
        .map_or_else(|| PathBuf::from(tool), |dir| dir.join(tool))
}

/// A `pg_*` command for `DATABASE_URL`, the password in the environment
/// (not on the command line, where `ps` shows it).
fn pg_command(config: &Config, tool: &str) -> anyhow::Result<Command> {
    let mut url = url::Url::parse(&config.database_url).context("DATABASE_URL")?;
    let password = url.password().map(str::to_owned);
    let _ = url.set_password(None);
    let mut command = Command::new(pg_tool(config, tool));
    command.arg(format!("--dbname={url}")).kill_on_drop(true);
    if let Some(password) = password {
        let password = percent_decode(&password);
        command.env("PGPASSWORD", password);
    }
    Ok(command)
}

fn percent_decode(raw: &str) -> String {
    url::form_urlencoded::parse(format!("p={}", raw.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

async fn pg_dump(config: &Config, out: &Path) -> anyhow::Result<()> {
    let mut args: Vec<&std::ffi::OsStr> =
        ["--format=custom", "--no-owner", "--no-privileges", "--file"]
            .iter()
            .map(std::ffi::OsStr::new)
            .collect();
    args.push(out.as_os_str());
    run_pg(config, "pg_dump", &args).await
}

async fn pg_restore(config: &Config, dump: &Path) -> anyhow::Result<()> {
    let mut args: Vec<&std::ffi::OsStr> = [
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .collect();
    args.push(dump.as_os_str());
    run_pg(config, "pg_restore", &args).await
}

/// Runs `tool` with `args` on `DATABASE_URL`; its last error lines on failure.
async fn run_pg(config: &Config, tool: &str, args: &[&std::ffi::OsStr]) -> anyhow::Result<()> {
    let output = pg_command(config, tool)?
        .args(args)
        .output()
        .await
        .with_context(|| format!("running {}", pg_tool(config, tool).display()))?;
    ensure!(
        output.status.success(),
        "{tool} failed ({}): {}",
        output.status,
        last_lines(&output.stderr)
    );
    Ok(())
}

fn last_lines(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(3)..].join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sets_name_gives_its_time() {
        let at = taken_at("weaverse-20261205T130501Z").unwrap();
        assert_eq!(at.hour(), 13);
        assert!(taken_at("weaverse-2026").is_none());
        assert!(taken_at("other-20261205T130501Z").is_none());
    }

    #[test]
    fn retention_keeps_the_newest_of_each_recent_day_and_week() {
        let now = OffsetDateTime::now_utc();
        // Two backups a day for 60 days, newest first.
        let taken: Vec<(String, OffsetDateTime)> = (0..120)
            .map(|i| {
                let at = now - time::Duration::hours(12 * i);
                (
                    format!("{NAME_PREFIX}{}", at.format(NAME_TIME).unwrap()),
                    at,
                )
            })
            .collect();
        let kept = keep(&taken, 7, 4);
        let days: HashSet<_> = taken
            .iter()
            .filter(|(n, _)| kept.contains(n))
            .map(|(_, t)| t.date())
            .collect();
        // 7 days plus at most 4 older week heads (some weeks share a day kept).
        assert!(kept.len() >= 7 && kept.len() <= 11, "{}", kept.len());
        assert_eq!(days.len(), kept.len(), "one per day at most");
        assert!(kept.contains(&taken[0].0), "the newest is kept");
        // Within the last seven days it is each day's newest.
        for (name, at) in &taken {
            let newest_of_day = taken
                .iter()
                .filter(|(_, t)| t.date() == at.date())
                .map(|(_, t)| *t)
                .max();
            if kept.contains(name) {
                assert_eq!(Some(*at), newest_of_day);
            }
        }
        let oldest_kept = taken
            .iter()
            .filter(|(n, _)| kept.contains(n))
            .map(|(_, t)| *t)
            .min()
            .unwrap();
        assert!(now - oldest_kept < time::Duration::days(35));
        // Four weeks counting this one: back to the week three weeks ago.
        assert!(now - oldest_kept > time::Duration::days(14));
        assert_eq!(keep(&taken, 1, 0).len(), 1);
    }
}
