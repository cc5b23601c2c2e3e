#![recursion_limit = "256"]
//! A stateful mock of OSCAR EMR (REST with OAuth 1.0a, SOAP with
//! WS-Security) and of OpenEMR and eMedicalPractice (OAuth2/OIDC/SMART,
//! Standard API, FHIR R4, Patient Portal API).
//!
//! A profile picks the system and variant; one clinical [`store`] sits
//! behind every dialect, and the admin API under `/__admin/` resets,
//! inspects and steers it.

pub mod admin;
pub mod app;
pub mod body;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod journal;
pub mod json_out;
pub mod kept;
pub mod limits;
pub mod openemr;
pub mod oscar;
pub mod rng;
pub mod server;
pub mod state;
pub mod store;

pub use app::router;
pub use error::{Dialect, DialectError, Failure};
pub use server::MockServer;
pub use state::{AppState, MockConfig};
