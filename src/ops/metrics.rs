//! `GET /metrics` in the Prometheus text format: what this process counted
//! (requests by route and status with latency histograms, grading runs,
//! tutor tokens) and, read at scrape time from the database so every
//! instance tells the same, jobs per lane and state, learners online and
//! orders per state. Served to a configured token or to a scraper on an
//! internal address that did not come through the proxy; anyone else gets
//! the 404 page.

use std::{net::SocketAddr, sync::Arc, sync::OnceLock};

use axum::{
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::{
    accounts, commerce,
    error::{AppError, AppResult},
    jobs::{self, Lanes},
    state::AppState,
    web::observe,
};

/// Latency buckets in seconds: pages answer in milliseconds, uploads and
/// tutor questions take seconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Makes this process's recorder (once; later calls reuse it).
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(observe::REQUEST_SECONDS.into()), BUCKETS)
            .unwrap_or_else(|err| {
                tracing::warn!(error = %err, "latency buckets refused; summaries instead");
                PrometheusBuilder::new()
            })
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics shows only its own");
        }
        handle
    })
}

/// Whether the caller may read the figures: the token, or a direct call
/// from loopback or a private network (a request through the proxy carries
/// `X-Forwarded-For` and is refused without the token).
fn allowed(token: Option<&str>, headers: &HeaderMap, peer: SocketAddr) -> bool {
    if let Some(token) = token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !given.is_empty() && constant_time_eq(given.as_bytes(), token.as_bytes()) {
            return true;
        }
    }
    let proxied = headers.contains_key("x-forwarded-for") || headers.contains_key("forwarded");
    !proxied && internal(peer.ip())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn internal(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        std::net::IpAddr::V6(v6) => {
            v6.is_loopback()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || v6
                    .to_ipv4_mapped()
                    .is_some_and(|v4| v4.is_loopback() || v4.is_private())
        }
    }
}

pub async fn serve(
    State(state): State<AppState>,
    State(lanes): State<Arc<Lanes>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> AppResult<Response> {
    if !allowed(state.config.metrics_token.as_deref(), &headers, peer) {
        return Err(AppError::NotFound);
    }
    let handle = install();
    handle.run_upkeep();
    let mut text = handle.render();
    text.push_str(&shared_figures(&state, &lanes).await?);
    Ok((
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response())
}

/// The figures every instance reads alike from the database.
async fn shared_figures(state: &AppState, lanes: &Lanes) -> AppResult<String> {
    use std::fmt::Write;
    let mut conn = state.db.acquire().await?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP weaverse_jobs Jobs not done, by lane, kind and state.\n# TYPE weaverse_jobs gauge"
    );
    for (kind, status, n) in jobs::waiting(&mut conn).await? {
        let _ = writeln!(
            out,
            "weaverse_jobs{{lane=\"{}\",kind=\"{}\",state=\"{}\"}} {n}",
            lanes.lane_of(&kind),
            escape(&kind),
            status.as_str()
        );
    }
    let _ = writeln!(
        out,
        "# HELP weaverse_job_wait_seconds How long the oldest due job of each lane has waited.\n# TYPE weaverse_job_wait_seconds gauge"
    );
    for lane in lanes.queues(&jobs::queues(&mut conn).await?) {
        let secs = lane.oldest_wait_secs.unwrap_or(0.0);
        let _ = writeln!(
            out,
            "weaverse_job_wait_seconds{{lane=\"{}\"}} {secs:.3}",
            lane.name
        );
    }
    let online = accounts::figures::online_learners(&mut conn).await?;
    let _ = writeln!(
        out,
        "# HELP weaverse_learners_online Learners active in the last few minutes.\n# TYPE weaverse_learners_online gauge\nweaverse_learners_online {online}"
    );
    let _ = writeln!(
        out,
        "# HELP weaverse_orders Orders by state.\n# TYPE weaverse_orders gauge"
    );
    for (status, n) in commerce::figures::orders_by_status(&mut conn).await? {
        let _ = writeln!(out, "weaverse_orders{{state=\"{}\"}} {n}", escape(&status));
    }
    Ok(out)
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_or_a_direct_internal_caller_reads_the_figures() {
        let loopback: SocketAddr = "127.0.0.1:5000".parse().unwrap();
        let public: SocketAddr = "203.0.113.9:5000".parse().unwrap();
        let none = HeaderMap::new();
        assert!(allowed(None, &none, loopback));
        assert!(allowed(None, &none, "10.1.2.3:1".parse().unwrap()));
        assert!(!allowed(None, &none, public));
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        assert!(!allowed(None, &proxied, loopback));
        let mut bearer = HeaderMap::new();
        bearer.insert(header::AUTHORIZATION, "Bearer s3cret".parse().unwrap());
        assert!(allowed(Some("s3cret"), &bearer, public));
        assert!(!allowed(Some("other"), &bearer, public));
        assert!(!allowed(None, &bearer, public));
    }
}
