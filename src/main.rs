//! The `weaverse` command: one binary, several roles.

use anyhow::Context;

/// mimalloc gives freed memory back to the system; glibc's malloc kept every
/// 19 MiB argon2 buffer it ever held (a login flood left 300+ MB behind,
/// `bench/login_memory.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use clap::{Parser, Subcommand};
use weaverse::{
    accounts::{self, AdminOutcome},
    app::{self, Platform},
    catalog::seed::{self, SeedOutcome},
    config::Config,
    infra::{db, sealed},
    telemetry,
};

#[derive(Parser)]
#[command(
    name = "weaverse",
    version,
    about = "Weaverse: the web development nano-degree platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application (migrates the database first).
    Serve {
        /// Load the demo nano-degree first if it is not there (`make run`).
        #[arg(long)]
        seed_demo: bool,
    },
    /// Load the demo nano-degree (idempotent: a second run changes nothing).
    Seed,
    /// Run background jobs only (scale-out: as many as needed, same
    /// database), in the lanes `JOB_LANES` sizes.
    Worker,
    /// Grade code submissions only, in the sandbox (the one role that
    /// needs root; it needs no keys: give it only DATABASE_URL and the
    /// grading settings).
    Grade {
        /// Submissions graded at once.
        #[arg(long, default_value_t = 2)]
        concurrency: usize,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Transcode a video file into HLS the way the upload job does, and
    /// print how long it took (checks a file; `bench/media.sh` uses it).
    Transcode {
        input: std::path::PathBuf,
        /// Folder for master.m3u8, the renditions and poster.jpg.
        out: std::path::PathBuf,
    },
    /// Back up the database (pg_dump) and the media into a folder or
    /// s3://bucket/prefix, then delete backups past the retention rule.
    Backup {
        /// Where (default BACKUP_TO).
        #[arg(long, env = "BACKUP_TO")]
        to: String,
    },
    /// Restore a backup (a set, or the newest whole one under a folder or
    /// s3:// prefix) into an empty database and empty media storage.
    Restore {
        #[arg(long)]
        from: String,
    },
    /// Re-encrypt personal data with the newest key in DATA_KEYS.
    RotateKeys,
    /// Create an admin account, or promote the account with that email.
    CreateAdmin {
        #[arg(long)]
        email: String,
        /// The password (at least 10 characters). Prefer the environment
        /// variable WEAVERSE_ADMIN_PASSWORD, which stays out of shell history.
        #[arg(long, env = "WEAVERSE_ADMIN_PASSWORD", hide_env_values = true)]
        password: String,
    },
}

/// A refusal or a failure is one clear line on stderr (with its causes) and
/// a non-zero exit, never a Rust backtrace, whatever `RUST_BACKTRACE` says.
fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("weaverse: cannot start the runtime: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("weaverse: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Grade { concurrency } = cli.command {
        let config = Config::for_grading_from_env()?;
        telemetry::init(&config);
        return app::grade(config, concurrency).await;
    }
    let config = Config::from_env()?;
    telemetry::init(&config);
    if let Command::Transcode { input, out } = &cli.command {
        return transcode(&config, input, out).await;
    }
    let pool = db::connect(&config).await?;
    if let Command::Restore { from } = &cli.command {
        // Into an empty database: no migrations first.
        let report = weaverse::ops::backup::restore(&config, &pool, from).await?;
        println!(
            "restored {} ({} tables, {} media files, {} bytes of media{})",
            report.manifest.name,
            report.tables,
            report.manifest.media.len(),
            report.manifest.media_bytes(),
            if report.manifest.media_copied {
                ""
            } else {
                ", checked in the bucket"
            }
        );
        return Ok(());
    }
    db::migrate(&pool).await?;

    match cli.command {
        Command::Serve { seed_demo } => {
            if seed_demo {
                seed(&pool).await?;
            }
            let state = Platform::new(config, pool)?;
            if seed_demo {
                // The page is up at once; clips appear as they are made.
                let background = state.clone();
                tokio::spawn(async move {
                    if let Err(err) = seed_videos(&background).await {
                        tracing::error!(error = %format!("{err:#}"), "demo videos");
                    }
                });
            }
            app::serve(state).await
        }
        Command::Seed => {
            seed(&pool).await?;
            let state = Platform::new(config, pool)?;
            let attached = seed_videos(&state).await?;
            println!(
                "queued {attached} demo video(s) for transcoding (a worker makes them playable)"
            );
            Ok(())
        }
        Command::Worker => app::work(Platform::new(config, pool)?).await,
        Command::RotateKeys => {
            let keys = weaverse::state::data_keys(&config)?;
            for (sealed, changed) in sealed::rotate(&pool, &keys).await? {
                println!(
                    "{}.{}: re-encrypted {changed} value(s) with key {}",
                    sealed.table,
                    sealed.column,
                    keys.current_id()
                );
            }
            Ok(())
        }
        Command::Backup { to } => {
            let report = weaverse::ops::backup::backup(&config, &pool, &to).await?;
            println!(
                "backed up to {}: database {} bytes, {} media file(s) {} ({} bytes); removed {} old backup(s)",
                report.place,
                report.manifest.database.size,
                report.manifest.media.len(),
                if report.manifest.media_copied {
                    "copied"
                } else {
                    "listed"
                },
                report.manifest.media_bytes(),
                report.removed.len()
            );
            Ok(())
        }
        Command::Transcode { .. } | Command::Grade { .. } | Command::Restore { .. } => Ok(()),
        Command::Migrate => {
            println!("migrations are up to date");
            Ok(())
        }
        Command::CreateAdmin { email, password } => {
            let mut conn = pool.acquire().await.context("database connection")?;
            match accounts::create_or_promote_admin(&mut conn, &email, &password, "관리자").await?
            {
                AdminOutcome::Created(id) => println!("created admin {email} ({id})"),
                AdminOutcome::Promoted(id) => println!("{email} ({id}) is now an admin"),
            }
            Ok(())
        }
    }
}

async fn transcode(
    config: &Config,
    input: &std::path::Path,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let started = std::time::Instant::now();
    let (info, renditions) = weaverse::media::transcode_file(
        input,
        out,
        &config.media.preset,
        config.media.max_video_secs,
        |_| {},
    )
    .await?;
    let took = started.elapsed().as_secs_f64();
    let length = info.duration_ms as f64 / 1000.0;
    let names: Vec<&str> = renditions.iter().map(|r| r.name.as_str()).collect();
    println!(
        "{}x{} {length:.1} s -> {} in {took:.1} s: {:.2}x realtime (preset {})",
        info.width,
        info.height,
        names.join(" + "),
        length / took,
        config.media.preset
    );
    Ok(())
}

/// Demo clips for the demo's video topics; `SEED_VIDEOS` = how many
/// (default all, `0` none).
async fn seed_videos(state: &Platform) -> anyhow::Result<usize> {
    let limit = match std::env::var("SEED_VIDEOS").ok().as_deref().map(str::trim) {
        None | Some("") | Some("all") => None,
        Some(n) => Some(
            n.parse::<usize>()
                .context("SEED_VIDEOS must be a number or all")?,
        ),
    };
    let cache = state.app.config.var_dir.join("seed-media");
    weaverse::media::seed::seed_covers(&state.app.db, &state.media, &cache).await?;
    if limit == Some(0) {
        return Ok(0);
    }
    weaverse::media::seed::seed_videos(&state.app.db, &state.media, &cache, limit).await
}

async fn seed(pool: &sqlx::PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    let outcome = seed::seed_nanodegree(&mut tx).await?;
    let missions = weaverse::assessments::seed_demo(&mut tx).await?;
    tx.commit().await?;
    if missions > 0 {
        println!("made {missions} demo missions");
    }
    match outcome {
        SeedOutcome::Created(id) => println!("seeded the demo nano-degree ({id})"),
        SeedOutcome::AlreadyThere(id) => println!("the demo nano-degree is already there ({id})"),
    }
    Ok(())
}
