//! REST client registration as *Admin > Integration > REST Clients* does
//! it (`clientManage.json?method=add&name=&uri=&lifetime=`), through the
//! mock's admin API, and the `oauth1` section of `/__admin/credentials`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{Client, Flavor};
use crate::error::{Dialect, Failure};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/__admin/oauth1/clients", get(list).post(register))
        .route("/__admin/oauth1/clients/{key}", delete(remove))
        .route("/__admin/oauth1/tokens", get(tokens))
}

fn client_json(c: &Client) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "key": c.key,
        "secret": c.secret,
        "uri": c.uri,
        "lifetime": c.lifetime,
        "callback": c.callback(),
    })
}

/// The `oauth1` section of `/__admin/credentials`: where the protocol
/// endpoints and the protected resources are (under the context), and
/// every registered client with the callback it should use. Live
/// targets describe themselves in the same shape.
pub fn credentials(state: &AppState) -> Value {
    let clients: Vec<Value> = state
        .default_site()
        .oauth1
        .clients()
        .iter()
        .map(client_json)
        .collect();
    json!({
        "initiate": "/ws/oauth/initiate",
        "authorize": "/ws/oauth/authorize",
        "token": "/ws/oauth/token",
        "resources": Flavor::of(state.profile).resource_prefix(),
        "clients": clients,
    })
}

async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(json!({"clients": credentials(&state)["clients"]}))
}

/// The "Token TTL" field: a number, or text that the admin page would
/// fail to parse and store as 0.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Lifetime {
    Number(i64),
    Text(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    #[serde(default)]
    name: String,
    #[serde(default)]
    uri: String,
    #[serde(default)]
    lifetime: Option<Lifetime>,
}

async fn register(State(state): State<AppState>, raw: Body) -> Response {
    let fail = |f: Failure| f.in_dialect(Dialect::Admin).into_response();
    let bytes = match crate::body::read(raw, state.config.max_body_bytes).await {
        Ok(b) => b,
        Err(f) => return fail(f),
    };
    let reg: Registration = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            return fail(Failure::BadRequest(format!(
                "expected {{\"name\", \"uri\", \"lifetime\"}}: {e}"
            )))
        }
    };
    let lifetime = match reg.lifetime {
        Some(Lifetime::Number(n)) => n,
        Some(Lifetime::Text(t)) => t.parse::<i32>().map_or(0, i64::from),
        None => 0,
    };
    let client = state.default_site().oauth1.register(
        &reg.name,
        &reg.uri,
        lifetime,
        &state.rng,
        state.clock.now(),
    );
    (StatusCode::CREATED, Json(client_json(&client))).into_response()
}

async fn remove(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    if state.default_site().oauth1.delete_client(&key) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Failure::NotFound.in_dialect(Dialect::Admin).into_response()
    }
}

/// Request and access tokens (without their secrets), with whether the
/// profile would treat each access token as expired now.
async fn tokens(State(state): State<AppState>) -> Json<Value> {
    let (request, access) = state.default_site().oauth1.tokens();
    let now = state.clock.unix();
    let expires = Flavor::of(state.profile).is_classic();
    let access: Vec<Value> = access
        .iter()
        .map(|t| {
            let mut v = json!(t);
            v["expired"] = json!(expires && t.expired_at(now));
            v
        })
        .collect();
    Json(json!({"request_tokens": request, "access_tokens": access}))
}
