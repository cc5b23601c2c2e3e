//! Where each profile mounts the authorization server and the APIs.
//!
//! OpenEMR (source): `/oauth2/{site}/...` and `/apis/{site}/{api,portal,fhir}`.
//! eMedicalPractice (seed): `/connect/authorize`, `/connect/token`, logout at
//! `/authorize/logout`, the FHIR base `/fhir/r4` (its Standard API's
//! lower-case resources beside FHIR's) and the CapabilityStatement also at
//! `/metadata`; it has one site.

use emr_catalog::ProfileId;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    OpenEmr,
    EMedPractice,
}

impl Layout {
    pub fn of(profile: ProfileId) -> Layout {
        match profile {
            ProfileId::EMedPractice => Layout::EMedPractice,
            _ => Layout::OpenEmr,
        }
    }

    /// The path the authorization server's endpoints are under.
    pub fn auth_path(self, site: &str) -> String {
        match self {
            Layout::OpenEmr => format!("/oauth2/{site}"),
            Layout::EMedPractice => "/connect".to_owned(),
        }
    }

    /// The `iss` of id tokens and discovery's `issuer`.
    pub fn issuer(self, root: &str, site: &str) -> String {
        match self {
            Layout::OpenEmr => format!("{root}{}", self.auth_path(site)),
            Layout::EMedPractice => root.to_owned(),
        }
    }

    /// Where discovery is served.
    pub fn discovery_path(self, site: &str) -> String {
        match self {
            Layout::OpenEmr => format!("/oauth2/{site}/.well-known/openid-configuration"),
            Layout::EMedPractice => "/.well-known/openid-configuration".to_owned(),
        }
    }

    pub fn logout_path(self, site: &str) -> String {
        match self {
            Layout::OpenEmr => format!("/oauth2/{site}/logout"),
            Layout::EMedPractice => "/authorize/logout".to_owned(),
        }
    }

    pub fn fhir_path(self, site: &str) -> String {
        match self {
            Layout::OpenEmr => format!("/apis/{site}/fhir"),
            Layout::EMedPractice => "/fhir/r4".to_owned(),
        }
    }

    pub fn api_path(self, site: &str) -> String {
        match self {
            Layout::OpenEmr => format!("/apis/{site}/api"),
            Layout::EMedPractice => "/fhir/r4".to_owned(),
        }
    }

    pub fn portal_path(self, site: &str) -> String {
        match self {
            Layout::OpenEmr => format!("/apis/{site}/portal"),
            Layout::EMedPractice => "/portal".to_owned(),
        }
    }

    /// Client-credentials token lifetime: 5 minutes in OpenEMR's code
    /// (its README says 1 minute), 60 seconds in eMedicalPractice's seed.
    pub fn client_credentials_ttl(self) -> i64 {
        match self {
            Layout::OpenEmr => 300,
            Layout::EMedPractice => 60,
        }
    }

    /// Resource names a profile's scopes know beyond its route tables:
    /// eMedicalPractice lists `patient|user|system/Document.read`.
    pub fn extra_scope_resources(self) -> &'static [&'static str] {
        match self {
            Layout::OpenEmr => &[],
            Layout::EMedPractice => &["Document"],
        }
    }
}
