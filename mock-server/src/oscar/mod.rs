//! OSCAR-family routes: the JAX-RS resources under `{context}/ws/rs` and
//! the JAX-WS services under `{context}/ws/<Name>Service`.

pub mod soap;
pub mod wss;

pub use soap::SoapState;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use emr_catalog::{Lookup, Profile};

use crate::error::{Dialect, Failure};
use crate::journal::OperationId;
use crate::state::AppState;

pub fn routes(profile: &Profile) -> Router<AppState> {
    let ctx = &profile.context;
    Router::new()
        .route(&format!("{ctx}/ws/rs"), any(rs))
        .route(&format!("{ctx}/ws/rs/{{*rest}}"), any(rs))
        .merge(soap::routes(profile))
}

/// `/ws/rs/...`: CXF selects the resource first (unknown path 404, wrong
/// method 405), then `AuthenticationInInterceptor` refuses a request
/// without a logged-in session with its XML 401.
async fn rs(State(state): State<AppState>, req: Request) -> Response {
    let full = req.uri().path();
    let in_context = full
        .strip_prefix(state.profile.context.as_str())
        .unwrap_or(full);
    match state.catalog.resolve(req.method().as_str(), in_context) {
        Lookup::NotFound => Failure::NotFound
            .in_dialect(Dialect::OscarRest)
            .into_response(),
        Lookup::WrongMethod(allow) => Failure::MethodNotAllowed {
            allow: allow.into_iter().map(str::to_owned).collect(),
        }
        .in_dialect(Dialect::OscarRest)
        .into_response(),
        Lookup::Found(op, _) => {
            state.audit(
                "REST WS: NOT AUTHORIZED",
                None,
                None,
                &format!("{} {}", req.method(), full),
            );
            let mut response = Failure::Unauthorized
                .in_dialect(Dialect::OscarRest)
                .into_response();
            response.extensions_mut().insert(OperationId(op.id.clone()));
            response
        }
    }
}
