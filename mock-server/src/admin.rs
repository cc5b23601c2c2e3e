//! The admin API under `/__admin/`, on every profile: what integrators
//! expect from a mock server (health, reset, request journal, seeded
//! credentials, clock control), in plain JSON.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::error::{Dialect, Failure};
use crate::state::AppState;
use crate::{body, credentials};

type AdminResult = Result<Response, crate::error::DialectError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__admin/health", get(health))
        .route("/__admin/reset", axum::routing::post(reset))
        .route("/__admin/requests", get(requests).delete(clear_requests))
        .route("/__admin/audit", get(audit))
        .route("/__admin/credentials", get(credentials))
        .route("/__admin/clock", get(clock).post(set_clock))
        .route("/__admin/catalog", get(catalog))
}

fn fail(f: Failure) -> crate::error::DialectError {
    f.in_dialect(Dialect::Admin)
}

/// Parses an optional JSON body; an empty body means "no options".
async fn options<T: for<'de> Deserialize<'de> + Default>(
    state: &AppState,
    raw: Body,
) -> Result<T, crate::error::DialectError> {
    let bytes = body::read(raw, state.config.max_body_bytes)
        .await
        .map_err(fail)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| fail(Failure::BadRequest(format!("invalid JSON body: {e}"))))
}

async fn health(State(state): State<AppState>) -> Json<Value> {
    let mut health = json!({
        "status": "ok",
        "profile": state.config.profile.as_str(),
        "title": state.profile.title,
        "context": state.profile.context,
        "sites": state.sites().map(|s| s.name.clone()).collect::<Vec<_>>(),
        "operations": state.catalog.operations().len(),
        "seed": state.config.seed,
        "now": state.clock.now(),
    });
    // The real system's bugs the profile reproduces on purpose.
    if !state.profile.quirks.is_empty() {
        health["quirks"] = json!(state.profile.quirks);
    }
    Json(health)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetOptions {
    seed: Option<u64>,
    patients: Option<usize>,
}

async fn reset(State(state): State<AppState>, raw: Body) -> AdminResult {
    let opts: ResetOptions = options(&state, raw).await?;
    state.reset(opts.seed, opts.patients);
    Ok(Json(json!({
        "status": "reset",
        "seed": opts.seed.unwrap_or(state.config.seed),
        "patients": opts.patients.unwrap_or(state.config.patients),
    }))
    .into_response())
}

#[derive(Debug, Deserialize)]
struct Limit {
    limit: Option<usize>,
}

async fn requests(State(state): State<AppState>, Query(q): Query<Limit>) -> Json<Value> {
    Json(json!({
        "capacity": state.journal.capacity(),
        "requests": state.journal.entries(q.limit),
    }))
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.journal.clear();
    StatusCode::NO_CONTENT
}

async fn audit(State(state): State<AppState>, Query(q): Query<Limit>) -> Json<Value> {
    Json(json!({ "entries": state.audit.snapshot(q.limit) }))
}

async fn credentials(State(state): State<AppState>) -> Json<Value> {
    Json(credentials::of(&state))
}

fn clock_json(state: &AppState) -> Value {
    json!({
        "now": state.clock.now(),
        "offset_seconds": state.clock.offset().num_seconds(),
    })
}

async fn clock(State(state): State<AppState>) -> Json<Value> {
    Json(clock_json(&state))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    advance_seconds: Option<i64>,
    set: Option<DateTime<Utc>>,
    reset: Option<bool>,
}

async fn set_clock(State(state): State<AppState>, raw: Body) -> AdminResult {
    let change: ClockChange = options(&state, raw).await?;
    match change {
        ClockChange {
            reset: Some(true), ..
        } => state.clock.reset(),
        ClockChange {
            set: Some(at),
            advance_seconds: None,
            ..
        } => state.clock.set(at),
        ClockChange {
            advance_seconds: Some(s),
            set: None,
            ..
        } => state.clock.advance(Duration::seconds(s)),
        _ => {
            return Err(fail(Failure::BadRequest(
                "give exactly one of `advance_seconds`, `set` (RFC 3339) or `reset: true`".into(),
            )))
        }
    }
    Ok(Json(clock_json(&state)).into_response())
}

async fn catalog(State(state): State<AppState>) -> Json<Value> {
    let ops: Vec<Value> = state
        .catalog
        .operations()
        .iter()
        .map(|op| {
            json!({
                "id": op.id,
                "api": op.api.as_str(),
                "method": op.method,
                "path": format!("{}{}", state.profile.context, op.path),
            })
        })
        .collect();
    Json(json!({ "profile": state.config.profile.as_str(), "operations": ops }))
}
