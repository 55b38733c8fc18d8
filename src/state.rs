//! What every capability shares: the database, the configuration, the
//! cookie signer, the static assets, the keys for personal data and the
//! outgoing HTTP client. A capability's own parts (the payment gateways,
//! the media store, the sandbox, ...) are not here: `app.rs` holds them
//! beside this, and handlers take them as axum sub-states (`FromRef`).

use std::sync::Arc;

use anyhow::Context;
use sqlx::PgPool;

use crate::{
    config::Config,
    infra::{crypto::DataKeys, keys},
    web::{assets::Assets, signing::Signer},
};

/// Shared infrastructure behind one `Arc`: the router and every
/// middleware clone it per request, so a clone is one counter, not one per
/// part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct Shared {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub signer: Signer,
    pub assets: Arc<Assets>,
    /// Keys for personal data at rest.
    pub keys: Arc<DataKeys>,
    /// Outgoing HTTP (OpenID providers, payment gateways, the tutor API).
    pub http: reqwest::Client,
}

impl AppState {
    pub fn new(config: Config, db: PgPool) -> anyhow::Result<Self> {
        let session_key = match &config.session_key {
            Some(key) => key.clone(),
            None => keys::load_or_generate(&config.var_dir, "session_key", 64)?,
        };
        let keys = data_keys(&config)?;
        let assets = Assets::scan(&config.static_dir)?;
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(15))
            .user_agent(concat!("Weaverse/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("HTTP client")?;
        Ok(Self(Arc::new(Shared {
            db,
            signer: Signer::new(&session_key),
            config: Arc::new(config),
            assets: Arc::new(assets),
            keys: Arc::new(keys),
            http,
        })))
    }
}

/// `DATA_KEYS`, or in development a generated key in `var/keys`.
pub fn data_keys(config: &Config) -> anyhow::Result<DataKeys> {
    match &config.data_keys {
        Some(raw) => DataKeys::parse(raw),
        None => DataKeys::parse(&keys::dev_data_keys(&config.var_dir)?),
    }
}
