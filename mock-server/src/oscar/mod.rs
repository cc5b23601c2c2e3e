//! OSCAR-family routes: the JAX-RS resources under `{context}/ws/rs` and
//! `{context}/ws/services`, the OAuth 1.0a provider under
//! `{context}/ws/oauth`, `{context}/login.do`, and the JAX-WS services under
//! `{context}/ws/<Name>Service`.

pub mod api;
pub mod jsonlib;
pub mod oauth1;
pub mod rest;
pub mod session;
pub mod soap;
pub mod wss;

pub use soap::SoapState;

use axum::routing::any;
use axum::Router;
use emr_catalog::Profile;

use crate::state::AppState;

pub fn routes(profile: &Profile) -> Router<AppState> {
    let ctx = &profile.context;
    Router::new()
        .route(&format!("{ctx}/ws/rs"), any(rest::rs))
        .route(&format!("{ctx}/ws/rs/{{*rest}}"), any(rest::rs))
        .route(&format!("{ctx}/ws/services"), any(rest::services))
        .route(&format!("{ctx}/ws/services/{{*rest}}"), any(rest::services))
        .route(
            &format!("{ctx}/ws/oauth/{{*rest}}"),
            any(oauth1::endpoints::handle),
        )
        .route(&format!("{ctx}/login.do"), any(session::login))
        // `login.do;jsessionid=...`, as the consent page's script posts it;
        // any other single segment is Tomcat's 404.
        .route(&format!("{ctx}/{{page}}"), any(session::login))
        .merge(oauth1::admin::routes())
        .merge(soap::routes(profile))
}
