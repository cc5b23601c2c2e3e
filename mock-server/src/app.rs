//! The axum application: the profile's routes, the admin API, and the
//! cross-cutting layers (request journal, panic safety net).

use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use emr_catalog::Family;

use crate::error::{Dialect, Failure};
use crate::journal::{Authenticated, Entry, OperationId};
use crate::state::AppState;
use crate::{admin, openemr, oscar};

/// Builds the router for the state's profile.
pub fn router(state: AppState) -> Router {
    let family_routes = match state.profile.family {
        Family::Oscar => oscar::routes(state.profile),
        Family::OpenEmr => openemr::routes(state.profile),
    };
    Router::new()
        .merge(admin::routes())
        .merge(family_routes)
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::limits::guard,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), journal))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(state)
}

/// Paths no route claims: the admin API answers JSON, OSCAR's Tomcat an
/// HTML 404 page, OpenEMR's front controller a JSON 404.
async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    let dialect = if path.starts_with("/__admin") {
        Dialect::Admin
    } else {
        match state.profile.family {
            Family::Oscar => {
                return (
                    StatusCode::NOT_FOUND,
                    [(axum::http::header::CONTENT_TYPE, "text/html;charset=utf-8")],
                    crate::error::tomcat_error_page(
                        StatusCode::NOT_FOUND,
                        &format!("The requested resource [{path}] is not available"),
                    ),
                )
                    .into_response()
            }
            Family::OpenEmr => Dialect::OpenEmrApi,
        }
    };
    Failure::NotFound.in_dialect(dialect).into_response()
}

/// Records every non-admin request in the journal.
async fn journal(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with("/__admin/") {
        return next.run(req).await;
    }
    let started = Instant::now();
    let seq = state.journal.next_seq();
    let at = state.clock.now();
    let method = req.method().clone();
    let uri = req.uri().clone();
    let content_type = req.headers().get(axum::http::header::CONTENT_TYPE).cloned();
    let response = next.run(req).await;
    let operation = response
        .extensions()
        .get::<OperationId>()
        .map(|o| o.0.clone());
    let auth = response.extensions().get::<Authenticated>().cloned();
    state.journal.record(Entry {
        seq,
        at,
        method,
        uri,
        content_type,
        status: response.status().as_u16(),
        operation,
        auth,
        duration_us: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
    });
    response
}

/// Last line of defence: a handler bug answers 500 instead of dropping the
/// connection. Handlers are written not to panic; this only keeps the
/// server serving if one does.
fn panicked(_err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    Failure::Internal("the mock failed while handling this request".into())
        .in_dialect(Dialect::Admin)
        .into_response()
}
