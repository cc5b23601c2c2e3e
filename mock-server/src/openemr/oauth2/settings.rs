//! The mock's admin switches for what an OpenEMR administrator sets in
//! Administration → Globals → Connectors and approves in Administration →
//! System → API Clients:
//!
//! - `GET|POST /__admin/openemr/settings` `{"site"?, "password_grant"?,
//!   "app_manual_approval"?, "export_delay_seconds"?}` (every site when
//!   `site` is omitted);
//! - `POST /__admin/openemr/clients/{client_id}` `{"enabled": bool}`;
//! - `POST /__admin/openemr/portal/{patient_uuid}` `{"username", "password"}`:
//!   gives a patient a portal login (Patient Portal → portal credentials).

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::error::{Dialect, DialectError, Failure};
use crate::state::AppState;

pub fn admin_routes() -> Router<AppState> {
    Router::new()
        .route("/__admin/openemr/settings", get(read).post(change))
        .route("/__admin/openemr/clients/{client_id}", post(client))
        .route("/__admin/openemr/portal/{patient}", post(portal_login))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalLogin {
    username: String,
    password: String,
}

async fn portal_login(
    State(state): State<AppState>,
    Path(patient): Path<String>,
    raw: Body,
) -> Result<Response, DialectError> {
    let l: PortalLogin = parse(&state, raw).await?;
    if l.username.trim().is_empty() || l.password.is_empty() {
        return Err(fail(Failure::BadRequest(
            "username and password must not be empty".into(),
        )));
    }
    let now = state.clock.now();
    for site in state.sites() {
        let done = site.store.write(|d| {
            let id = d.patients().by_uuid(&patient).map(|p| p.id)?;
            d.update_patient(id, now, |p| {
                p.portal_username = l.username.clone().into();
                p.portal_password = l.password.clone().into();
            })
            .ok()
        });
        if done.is_some() {
            return Ok(Json(
                json!({"site": site.name, "patient": patient, "username": l.username}),
            )
            .into_response());
        }
    }
    Err(fail(Failure::BadRequest(format!("no patient `{patient}`"))))
}

fn fail(f: Failure) -> DialectError {
    f.in_dialect(Dialect::Admin)
}

fn all(state: &AppState) -> Value {
    let mut sites = Map::new();
    for s in state.sites() {
        sites.insert(s.name.clone(), json!(s.oauth2.settings()));
    }
    json!({ "sites": sites })
}

async fn read(State(state): State<AppState>) -> Json<Value> {
    Json(all(&state))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Change {
    site: Option<String>,
    password_grant: Option<bool>,
    app_manual_approval: Option<bool>,
    export_delay_seconds: Option<u64>,
}

async fn parse<T: for<'de> Deserialize<'de>>(
    state: &AppState,
    raw: Body,
) -> Result<T, DialectError> {
    let bytes = crate::body::read(raw, state.config.max_body_bytes)
        .await
        .map_err(fail)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| fail(Failure::BadRequest(format!("invalid JSON body: {e}"))))
}

async fn change(State(state): State<AppState>, raw: Body) -> Result<Response, DialectError> {
    let c: Change = parse(&state, raw).await?;
    let sites: Vec<_> = match &c.site {
        Some(name) => vec![state
            .site(name)
            .ok_or_else(|| fail(Failure::BadRequest(format!("no site `{name}`"))))?],
        None => state.sites().collect(),
    };
    for site in sites {
        site.oauth2.with(|d| {
            if let Some(v) = c.password_grant {
                d.settings.password_grant = v;
            }
            if let Some(v) = c.app_manual_approval {
                d.settings.app_manual_approval = v;
            }
            if let Some(v) = c.export_delay_seconds {
                d.settings.export_delay_seconds = v;
            }
        });
    }
    Ok(Json(all(&state)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Approval {
    enabled: bool,
}

async fn client(
    State(state): State<AppState>,
    Path(client_id): Path<String>,
    raw: Body,
) -> Result<Response, DialectError> {
    let a: Approval = parse(&state, raw).await?;
    for site in state.sites() {
        let found = site.oauth2.with(|d| {
            d.clients.get_mut(&client_id).map(|c| {
                c.enabled = a.enabled;
            })
        });
        if found.is_some() {
            return Ok(Json(
                json!({"site": site.name, "client_id": client_id, "enabled": a.enabled}),
            )
            .into_response());
        }
    }
    Err(fail(Failure::BadRequest(format!(
        "no client `{client_id}`"
    ))))
}
