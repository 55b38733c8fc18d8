//! Assembly: the only place (with `main.rs`) that names every capability.
//! It builds each capability's parts, wires the hooks lower capabilities
//! define (a completed topic -> certificates), registers the jobs, and
//! builds the router and its layer stack.

use std::{net::SocketAddr, sync::Arc};

use anyhow::Context;
use axum::{Router, extract::FromRef, middleware, response::IntoResponse, routing::get};
use sqlx::PgPool;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};
use tower_sessions::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer, cookie::SameSite};
use tower_sessions_sqlx_store::PostgresStore;

use lettre::message::Mailbox;

use crate::{
    accounts::{
        self,
        providers::{naver, oidc},
    },
    api, assessments,
    catalog::{self, cache::CatalogCache},
    certificates, commerce,
    config::Config,
    dashboards,
    error::AppError,
    infra::{
        changes,
        mail::{self, Mail, Mailer},
        session_cache::{self, SessionCache},
    },
    jobs, learning,
    media::{self, Media},
    ops,
    state::AppState,
    tutor::{self, Tutor},
    web::{csrf, error_pages, flash, limits, routes::At, security},
};

/// Everything the router serves with: the shared infrastructure and each
/// capability's own parts. Handlers take the parts they need as sub-states
/// (`State<Arc<Media>>`, `State<AppState>`, ...); nothing below `app.rs`
/// names this type.
#[derive(Clone)]
pub struct Platform(Arc<Parts>);

impl std::ops::Deref for Platform {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        &self.0
    }
}

/// Each part is a sub-state handlers name by its type.
macro_rules! sub_states {
    ($($field:ident: $ty:ty,)+) => {$(
        impl FromRef<Platform> for $ty {
            fn from_ref(platform: &Platform) -> Self {
                platform.$field.clone()
            }
        }
    )+};
}

sub_states! {
    app: AppState,
    providers: accounts::Providers,
    catalog_cache: Arc<CatalogCache>,
    gateways: Arc<commerce::gateway::Gateways>,
    media: Arc<Media>,
    grader: Arc<assessments::Grader>,
    certificates: certificates::Keys,
    completion: learning::Completion,
    tutor: Arc<Tutor>,
    lanes: Arc<jobs::Lanes>,
    sessions: SessionCache,
    api: Arc<api::Api>,
}

/// What [`Platform`] holds, behind one `Arc` (the router clones it per
/// request).
pub struct Parts {
    pub app: AppState,
    /// Sign-in with Google, Kakao and Naver, as configured.
    pub providers: accounts::Providers,
    /// Catalogue pages and the roadmap, for a few seconds.
    pub catalog_cache: Arc<CatalogCache>,
    /// Payment gateways.
    pub gateways: Arc<commerce::gateway::Gateways>,
    /// Media storage and the bounds on media work.
    pub media: Arc<Media>,
    /// The sandbox code is graded in (probed on first use).
    pub grader: Arc<assessments::Grader>,
    /// What certificates are set in and signed with.
    pub certificates: certificates::Keys,
    /// Who hears that a learner completed a topic.
    pub completion: learning::Completion,
    /// The AI tutor: who answers, and how many answers at once.
    pub tutor: Arc<Tutor>,
    /// The job lanes and their sizes in a process that runs jobs.
    pub lanes: Arc<jobs::Lanes>,
    /// Session records kept for a moment in front of PostgreSQL.
    pub sessions: SessionCache,
    /// The JSON API's own parts (its rate limiter).
    pub api: Arc<api::Api>,
}

impl Platform {
    pub fn new(config: Config, db: PgPool) -> anyhow::Result<Self> {
        ops::metrics::install();
        let app = AppState::new(config, db)?;
        let config = &app.config;
        let providers = sign_in_providers(config, &app.http);
        let gateways = Arc::new(commerce::gateway::Gateways::from_config(
            config,
            app.db.clone(),
            &app.http,
        ));
        let media = Arc::new(Media::new(&config.media, &config.var_dir)?);
        let grader = Arc::new(assessments::Grader::new(
            config.sandbox_dir.clone(),
            config.grading_slots,
            config.grades_here,
        ));
        let certificates = certificates::Keys::load(config)?;
        let tutor = Arc::new(Tutor::new(&config.tutor)?);
        Ok(Self(Arc::new(Parts {
            api: Arc::new(api::Api::new(&config.api)),
            sessions: SessionCache::new(SESSION_CACHE_TTL),
            lanes: Arc::new(lanes(config)),
            tutor,
            providers,
            catalog_cache: Arc::new(CatalogCache::new(CATALOG_CACHE_TTL)),
            gateways,
            media,
            grader,
            certificates,
            completion: completion(),
            app,
        })))
    }
}

/// The outside sign-ins this instance is configured for; each needs its
/// client id and secret.
fn sign_in_providers(config: &Config, http: &reqwest::Client) -> accounts::Providers {
    let base = config.public_url.as_str().trim_end_matches('/');
    let callback = |provider: &str| format!("{base}/auth/{provider}/callback");
    let both = |id: &Option<String>, secret: &Option<String>| id.clone().zip(secret.clone());
    let oidc = |(client_id, client_secret): (String, String),
                issuer: &String,
                provider: &str,
                scope: &'static str,
                prompt: Option<&'static str>,
                login_origins: &'static [&'static str]| {
        let settings = oidc::Settings {
            client_id,
            client_secret,
            issuer: issuer.clone(),
            redirect_uri: callback(provider),
            scope,
            prompt,
            login_origins,
        };
        oidc::Oidc::new(settings, http.clone())
    };
    let google = both(&config.google_client_id, &config.google_client_secret).map(|client| {
        let scope = "openid email profile";
        oidc(
            client,
            &config.google_issuer,
            "google",
            scope,
            Some("select_account"),
            &[],
        )
    });
    // kauth.kakao.com sends the browser on to its login page.
    let kakao_login: &[&str] = &["https://accounts.kakao.com"];
    let kakao = both(&config.kakao_client_id, &config.kakao_client_secret).map(|client| {
        let scope = "openid account_email profile_nickname";
        oidc(
            client,
            &config.kakao_issuer,
            "kakao",
            scope,
            None,
            kakao_login,
        )
    });
    let naver = both(&config.naver_client_id, &config.naver_client_secret).map(|(id, secret)| {
        naver::Naver::new(
            naver::Settings {
                client_id: id,
                client_secret: secret,
                redirect_uri: callback("naver"),
                auth_base: config.naver_auth_base.clone(),
                api_base: config.naver_api_base.clone(),
            },
            http.clone(),
        )
    });
    accounts::Providers::new(google, kakao, naver)
}

/// Certificates listen for completed topics (the hook `learning` defines).
fn completion() -> learning::Completion {
    learning::Completion::new(Arc::new(certificates::OnCompletion))
}

/// How long a session row read from PostgreSQL is reused in this process.
const SESSION_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// How long catalogue pages are reused (studio writes in this process drop
/// them at once; other instances see changes within this time).
const CATALOG_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// How often the dashboards' funnels, mission rates and retention curves
/// are counted again (an admin can ask for it at once on `/admin`).
const DASHBOARD_ROLLUP_EVERY: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// How often the worker backs up when `BACKUP_TO` is set, and how long one
/// backup may take.
const BACKUP_EVERY: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);
const BACKUP_LIMIT: std::time::Duration = std::time::Duration::from_secs(6 * 60 * 60);

/// The job lanes and the kinds in each: quick work never waits behind slow
/// work. Where graders elsewhere (`weaverse grade`) take code submissions,
/// the grading lane has no workers here.
pub fn lanes(config: &Config) -> jobs::Lanes {
    let sizes = config.job_lanes;
    let grading = if config.grades_here { sizes.grading } else { 0 };
    jobs::Lanes::new(vec![
        jobs::Lane::new("quick", sizes.quick, &[]),
        jobs::Lane::new("grading", grading, &[assessments::GRADE_JOB]),
        jobs::Lane::new("video", sizes.video, &[media::TRANSCODE_JOB]),
        jobs::Lane::new(
            "batch",
            sizes.batch,
            &[dashboards::rollup::ROLLUP_JOB, ops::backup::BACKUP_JOB],
        ),
    ])
}

/// [`worker`] with this instance's settings (its job lease).
fn configured_worker(state: &Platform) -> anyhow::Result<jobs::Worker> {
    let lease = state.app.config.job_lease;
    worker(
        state,
        jobs::WorkerConfig {
            lease,
            ..jobs::WorkerConfig::default()
        },
    )
}

/// The job worker with every handler the application defines, in the
/// lanes the settings give (`config.lanes` is replaced).
pub fn worker(state: &Platform, config: jobs::WorkerConfig) -> anyhow::Result<jobs::Worker> {
    let config = jobs::WorkerConfig {
        lanes: (*state.lanes).clone(),
        ..config
    };
    let mut worker = jobs::Worker::new(state.app.db.clone(), config);
    let stored = state.media.storage.clone();
    worker.housekeeping(move |db| {
        let stored = stored.clone();
        async move {
            session_store(&db).delete_expired().await?;
            media::forget_abandoned(&db, stored.as_ref(), media::ABANDONED_AFTER).await?;
            api::idempotency::prune(&db).await?;
            Ok(())
        }
    });
    let mailer = Arc::new(Mailer::new(
        state.app.config.smtp_url.as_deref(),
        state.app.config.var_dir.join("mail"),
    )?);
    let from: Mailbox = state.app.config.mail_from.parse().context("MAIL_FROM")?;
    worker.register(mail::SEND_JOB, move |payload| {
        let mailer = mailer.clone();
        let from = from.clone();
        async move {
            let message: Mail = serde_json::from_value(payload)?;
            mailer.send(&from, &message).await
        }
    });
    let db = state.app.db.clone();
    let idle_days = state.app.config.session_idle_days;
    worker.register(accounts::PRUNE_JOB, move |_| {
        let db = db.clone();
        async move {
            let mut conn = db.acquire().await?;
            let (sessions, tokens) = accounts::prune(&mut conn, idle_days).await?;
            tracing::info!(
                sessions,
                tokens,
                "pruned idle sign-in sessions and spent tokens"
            );
            Ok(())
        }
    });
    worker.every(accounts::PRUNE_JOB, std::time::Duration::from_secs(60 * 60));
    media::register(
        &mut worker,
        state.app.db.clone(),
        state.media.clone(),
        state.catalog_cache.clone(),
    );
    if state.grader.grades_here() {
        assessments::register(
            &mut worker,
            state.app.db.clone(),
            state.grader.clone(),
            state.completion.clone(),
        );
    }
    dashboards::rollup::register(
        &mut worker,
        state.app.db.clone(),
        state.catalog_cache.clone(),
        DASHBOARD_ROLLUP_EVERY,
    );
    if let Some(to) = state.app.config.backup.to.clone() {
        let (config, db) = (state.app.config.clone(), state.app.db.clone());
        worker.register_with(ops::backup::BACKUP_JOB, BACKUP_LIMIT, move |_, _| {
            let (config, db, to) = (config.clone(), db.clone(), to.clone());
            async move {
                let report = ops::backup::backup(&config, &db, &to).await?;
                tracing::info!(
                    place = %report.place,
                    media_files = report.manifest.media.len(),
                    removed = report.removed.len(),
                    "daily backup done"
                );
                Ok(())
            }
        });
        worker.every(ops::backup::BACKUP_JOB, BACKUP_EVERY);
    }
    let db = state.app.db.clone();
    let gateways = state.gateways.clone();
    worker.register(commerce::RECONCILE_JOB, move |payload| {
        let (db, gateways) = (db.clone(), gateways.clone());
        async move { commerce::reconcile(&db, &gateways, payload).await }
    });
    Ok(worker)
}

/// The session store (PostgreSQL table `tower_sessions.session`, created by
/// our migrations). Expired rows are deleted by the housekeeping job.
pub fn session_store(db: &PgPool) -> PostgresStore {
    PostgresStore::new(db.clone())
}

/// The request body and time limits: small and short for forms, larger for
/// pictures, large and long for the streamed video upload.
fn limits(config: &Config) -> limits::Limits {
    let images = media::images::MAX_BYTES + (1 << 20);
    // The form around the file (field names, boundaries) needs a little room.
    let video = config.media.max_video_bytes.saturating_add(1 << 20);
    limits::Limits::new(config.max_body_bytes as u64, config.request_timeout)
        .posts_to(media::is_image_path, images, config.request_timeout)
        .posts_to(media::is_upload_path, video, config.media.upload_timeout)
        // A question waits for its whole answer when no script streams it.
        .posts_to(
            tutor::is_ask_path,
            config.max_body_bytes as u64,
            config.tutor.timeout + std::time::Duration::from_secs(15),
        )
}

/// A handler's panic: an internal error (logged), answered as such.
fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// The whole application.
pub fn router(state: Platform) -> Router {
    let config = state.app.config.clone();
    let state_gateways = state.gateways.clone();
    let sign_in_origins = state.providers.form_origins();
    let app = state.app.clone();
    // Reads try a short in-process cache first (infra::session_cache), so a
    // signed-in request costs one round trip for who the visitor is.
    let store = tower_sessions::CachingSessionStore::new(
        state.sessions.clone(),
        crate::infra::session_cache::Announced(session_store(&app.db)),
    );
    let sessions = SessionManagerLayer::new(store)
        .with_name("weaverse_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(config.secure_cookies())
        .with_expiry(Expiry::OnInactivity(time::Duration::days(
            config.session_idle_days,
        )));

    // Pages: everything a person sees. Innermost layer first.
    let pages = Router::new()
        .merge(catalog::handlers::routes())
        .merge(accounts::handlers::routes())
        .merge(commerce::handlers::routes())
        .merge(dashboards::routes())
        .merge(learning::handlers::routes())
        .merge(assessments::handlers::routes())
        .merge(certificates::handlers::routes())
        .merge(media::handlers::routes())
        .merge(tutor::handlers::routes())
        .merge(ops::admin_routes())
        .merge(api::pages())
        .fallback(|| async { AppError::NotFound })
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn_with_state(app.clone(), csrf::verify))
        .layer(middleware::from_fn_with_state(
            Arc::new(limits(&config)),
            limits::apply,
        ))
        // Who the visitor is, once per request; it leaves them on the
        // response too, for the error pages' navigation.
        .layer(middleware::from_fn_with_state(
            app.clone(),
            accounts::identify,
        ))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            error_pages::render,
        ))
        .layer(middleware::from_fn_with_state(app.clone(), flash::carry))
        .layer(middleware::from_fn_with_state(app.clone(), csrf::mint))
        .layer(middleware::from_fn(security::no_store))
        .layer(middleware::from_fn(crate::web::compress::pages))
        .layer(sessions);

    // Machine endpoints and static files: no session, no CSRF cookie.
    let statics = Router::new().at("/static/{*path}", get(crate::web::assets::serve));

    // The JSON API: tokens, not cookies (no session layer, so no CSRF
    // either); refusals as problem documents; CORS for configured origins.
    let api = api::routes()
        .layer(CatchPanicLayer::custom(panicked))
        .layer(middleware::from_fn_with_state(
            Arc::new(limits(&config)),
            limits::apply,
        ))
        .layer(middleware::from_fn(api::problem::render))
        .layer(middleware::from_fn(crate::web::compress::pages))
        .layer(api::cors(&config.api.cors_origins));

    let mut app = Router::new()
        .merge(ops::routes())
        .merge(statics)
        .merge(api)
        .merge(pages)
        .layer(middleware::from_fn(crate::web::observe::track))
        .with_state(state);
    let media_origins = config.media.delivery_origins();
    for layer in security::layers(
        config.is_production(),
        &state_gateways
            .form_origins()
            .into_iter()
            .chain(sign_in_origins.iter().map(String::as_str))
            .collect::<Vec<_>>(),
        &state_gateways.toss_origins(),
        &media_origins.iter().map(String::as_str).collect::<Vec<_>>(),
    ) {
        app = app.layer(layer);
    }
    app.layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
                let request_id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                // At ERROR level, so the span (and its request id) is there
                // on every line a filter lets through, `RUST_LOG=warn` too.
                tracing::error_span!(
                    "request",
                    method = %req.method(),
                    path = %crate::web::loggable_path(req.uri().path()),
                    request_id,
                )
            }),
        )
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Keeps this process's memory in step with the other instances': what it
/// changes is announced, and what they change is dropped here (a logout, a
/// password change, a published course, a video, a mission, a certificate).
pub fn follow_changes(state: &Platform) {
    changes::start_announcing(state.app.db.clone());
    let catalog = state.catalog_cache.clone();
    let sessions = state.sessions.clone();
    let tutor = state.tutor.clone();
    changes::listen(state.app.db.clone(), move |topic, key| {
        let all = topic == changes::EVERYTHING;
        if all || topic == session_cache::CHANGED {
            sessions.forget(key);
        }
        if all || topic == learning::access::GRANTS_CHANGED {
            learning::access::forget_grants(key);
        }
        if all || topic == learning::mine::LEARNER_CHANGED {
            learning::mine::forget_learner(key);
        }
        if all || topic == accounts::IDENTITIES_CHANGED {
            accounts::forget_identities();
        }
        if all || topic == catalog::cache::CHANGED {
            catalog.forget();
        }
        if all || topic == media::VIDEOS_CHANGED {
            media::forget_videos();
        }
        if all || topic == assessments::MISSIONS_CHANGED {
            assessments::forget_missions();
        }
        if all || topic == certificates::CERTIFICATES_CHANGED {
            certificates::forget_certificates();
        }
        if all || topic == tutor::service::FAQ_CHANGED {
            tutor.forget_faq();
        }
    });
}

/// Binds and serves until Ctrl-C / SIGTERM, finishing requests in flight.
/// With `config.job_workers > 0` the job lanes run in the same process.
pub async fn serve(state: Platform) -> anyhow::Result<()> {
    let addr = format!("{}:{}", state.app.config.host, state.app.config.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    tracing::info!(
        address = %addr,
        public_url = %state.app.config.public_url,
        env = %state.app.config.app_env,
        "Weaverse is listening"
    );
    follow_changes(&state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker = if state.app.config.job_workers > 0 {
        let worker = configured_worker(&state)?;
        Some(tokio::spawn(worker.run(stopped(stop_rx.clone()))))
    } else {
        None
    };
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stop_tx.send(true);
    })
    .await
    .context("serving")?;
    if let Some(worker) = worker {
        worker.await.context("job worker")??;
    }
    Ok(())
}

/// Runs a grader alone (`weaverse grade`), until Ctrl-C / SIGTERM: code
/// submissions and nothing else, from the database alone. It builds no
/// `Platform`, so it needs none of the session, data, badge or payment
/// keys, and its environment can hold none (ADR 0017).
pub async fn grade(config: Config, concurrency: usize) -> anyhow::Result<()> {
    let db = crate::infra::db::connect(&config).await?;
    let grader = Arc::new(assessments::Grader::new(
        config.sandbox_dir.clone(),
        config.grading_slots,
        true,
    ));
    if let Some(why) = grader.unusable().await {
        anyhow::bail!("the grading sandbox is unusable: {why}");
    }
    let mut worker = jobs::Worker::new(
        db.clone(),
        jobs::WorkerConfig {
            lanes: jobs::Lanes::new(vec![jobs::Lane::new(
                "grading",
                concurrency.max(1),
                &[assessments::GRADE_JOB],
            )]),
            lease: config.job_lease,
            ..jobs::WorkerConfig::default()
        },
    );
    // Its certificates must reach the web instances' memory at once.
    changes::start_announcing(db.clone());
    assessments::register(&mut worker, db, grader, completion());
    tracing::info!(concurrency, "grading code submissions");
    worker.run(shutdown_signal()).await
}

/// Runs only the job lanes (`weaverse worker`), until Ctrl-C / SIGTERM.
pub async fn work(state: Platform) -> anyhow::Result<()> {
    // Transcodes, grading and rollups change what the web instances keep.
    changes::start_announcing(state.app.db.clone());
    let worker = configured_worker(&state)?;
    worker.run(shutdown_signal()).await
}

async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
