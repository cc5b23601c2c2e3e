//! Where scenarios run: the bundled mock (started per scenario, so every
//! scenario sees fresh seed data) or a live server.

use std::time::Duration;

use emr_catalog::{Catalog, Lookup, Operation, ProfileId};
use serde_json::Value;

/// Whether the target is the bundled mock or a real server. Steps that use
/// the mock's `/__admin/` API only make sense against the mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    Mock,
    Live,
}

/// One server to run scenarios against.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: TargetKind,
    pub profile: ProfileId,
    /// `scheme://host:port`, without a trailing slash.
    pub root: String,
    /// The webapp context every documented path is under (`/oscar`).
    pub context: String,
    /// OpenEMR multisite name used by `{{site}}`.
    pub site: String,
    /// The credentials document (`/__admin/credentials` shape), exposed to
    /// scenarios as `{{credentials...}}` and to the auth drivers.
    pub credentials: Value,
    pub timeout: Duration,
    /// Rate limit, retries, TLS (see `live::net`); defaults for the mock.
    pub net: crate::live::net::NetSettings,
    /// The services the target enables (`rest`, `soap`, `fhir`, `portal`,
    /// `auth`, or a service name); `None` means all. Scenarios that need
    /// another are skipped.
    pub services: Option<Vec<String>>,
}

impl Target {
    /// A target for `profile` at `root`, with the profile's defaults.
    pub fn new(kind: TargetKind, profile: ProfileId, root: &str, credentials: Value) -> Target {
        let p = profile.profile();
        Target {
            kind,
            profile,
            root: root.trim_end_matches('/').to_owned(),
            context: p.context.clone(),
            site: p.sites.first().cloned().unwrap_or_default(),
            credentials,
            timeout: Duration::from_secs(30),
            net: Default::default(),
            services: None,
        }
    }

    /// The URL of a scenario path: `/__admin/...` is under the server
    /// root, everything else under the context.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/__admin/") {
            format!("{}{path}", self.root)
        } else {
            format!("{}{}{path}", self.root, self.context)
        }
    }

    /// The path as the catalogue writes it: without the context.
    pub fn catalogue_path<'a>(&self, path: &'a str) -> &'a str {
        path.strip_prefix(self.context.as_str())
            .filter(|p| p.starts_with('/'))
            .unwrap_or(path)
    }

    /// The catalogue operation `method` on `path` addresses; `path` with
    /// or without the context, and with any query string it carries.
    pub fn operation<'c>(
        &self,
        catalog: &'c Catalog,
        method: &str,
        path: &str,
    ) -> Option<&'c Operation> {
        let path = path.split('?').next().unwrap_or_default();
        match catalog.resolve(method, self.catalogue_path(path)) {
            Lookup::Found(op, _) => Some(op),
            _ => None,
        }
    }
}
