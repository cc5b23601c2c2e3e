//! SMART scopes: parsing (v1 `.read`/`.write` and v2 `.cruds`), which
//! scopes a server knows, and whether a token's scopes reach a route.
//!
//! The scope a route requires is the catalogue's `scope` column
//! (`user|patient|system/Patient.r (v1: .read)`), so the route tables stay
//! the one description of the API (OpenEMR derives the same value from
//! the method and path at run time; see `docs/reference/openemr`).

use std::collections::BTreeSet;

use emr_catalog::{Api, Catalog, Operation};

/// Who a scope speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Context {
    User,
    Patient,
    System,
}

impl Context {
    pub fn parse(s: &str) -> Option<Context> {
        match s {
            "user" => Some(Context::User),
            "patient" => Some(Context::Patient),
            "system" => Some(Context::System),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Context::User => "user",
            Context::Patient => "patient",
            Context::System => "system",
        }
    }
}

/// The scopes that are not resource scopes (ScopeRepository).
pub const BASE_SCOPES: &[&str] = &[
    "openid",
    "fhirUser",
    "online_access",
    "offline_access",
    "launch",
    "launch/patient",
    "api:oemr",
    "api:fhir",
    "api:port",
    "profile",
    "name",
    "address",
    "given_name",
    "family_name",
    "nickname",
    "phone",
    "phone_verified",
    "email",
    "email_verified",
];

/// SMART v2 permission letters, in their required order.
const CRUDS: &str = "cruds";

/// What a resource scope grants: permission letters (`r`, `s`, ...) or one
/// operation (`$export`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    Letters(BTreeSet<char>),
    Operation(String),
}

/// `context/Resource.permissions[?query]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceScope {
    pub context: Context,
    pub resource: String,
    pub grant: Grant,
    /// SMART v2 granular constraint (`category=...`), kept for the search.
    pub query: Option<String>,
}

/// Why a scope string is not a valid resource scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    #[error("Invalid permission string")]
    Permission,
    #[error("not a resource scope")]
    NotResource,
}

impl ResourceScope {
    /// Parses `patient/Observation.rs?category=...`, `user/patient.read`,
    /// `system/*.$export`.
    pub fn parse(s: &str) -> Result<ResourceScope, ScopeError> {
        let (context, rest) = s.split_once('/').ok_or(ScopeError::NotResource)?;
        let context = Context::parse(context).ok_or(ScopeError::NotResource)?;
        let (resource, perm) = rest.split_once('.').ok_or(ScopeError::NotResource)?;
        if resource.is_empty()
            || !resource
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '*')
        {
            return Err(ScopeError::NotResource);
        }
        let (perm, query) = match perm.split_once('?') {
            Some((p, q)) => (p, Some(q.to_owned())),
            None => (perm, None),
        };
        let grant = if let Some(op) = perm.strip_prefix('$') {
            if op.is_empty() || query.is_some() {
                return Err(ScopeError::Permission);
            }
            Grant::Operation(perm.to_owned())
        } else {
            Grant::Letters(letters(perm)?)
        };
        Ok(ResourceScope {
            context,
            resource: resource.to_owned(),
            grant,
            query,
        })
    }

    /// Whether this scope grants `need` on `resource` in `context`.
    pub fn allows(&self, context: Context, resource: &str, need: &Need) -> bool {
        if self.context != context {
            return false;
        }
        let resource_ok = self.resource == resource || self.resource == "*";
        match (&self.grant, need) {
            (Grant::Letters(have), Need::Letter(c)) => resource_ok && have.contains(c),
            (Grant::Operation(have), Need::Operation(op)) => resource_ok && have == op,
            _ => false,
        }
    }
}

/// v1 `read` = `rs`, `write` = `cud`, `*` = all; v2 an ordered subset of
/// `cruds` without repeats.
fn letters(perm: &str) -> Result<BTreeSet<char>, ScopeError> {
    match perm {
        "read" => return Ok(['r', 's'].into()),
        "write" => return Ok(['c', 'u', 'd'].into()),
        "*" => return Ok(CRUDS.chars().collect()),
        _ => {}
    }
    let mut last: Option<usize> = None;
    let mut out = BTreeSet::new();
    for c in perm.chars() {
        let i = CRUDS.find(c).ok_or(ScopeError::Permission)?;
        if last.is_some_and(|l| i <= l) {
            return Err(ScopeError::Permission);
        }
        last = Some(i);
        out.insert(c);
    }
    if out.is_empty() {
        return Err(ScopeError::Permission);
    }
    Ok(out)
}

/// What a route requires of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Need {
    Letter(char),
    Operation(String),
}

/// A route's required scope, from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteScope {
    /// The contexts the route accepts (`user|patient|system`).
    pub contexts: Vec<Context>,
    pub resource: String,
    pub need: Need,
}

impl RouteScope {
    /// Reads the `scope` column of a route; `None` for public routes
    /// (`none (public)`).
    pub fn of(op: &Operation) -> Option<RouteScope> {
        let cell = op.column("scope");
        let head = cell.split_whitespace().next().unwrap_or("");
        let (contexts, rest) = head.split_once('/')?;
        let contexts: Vec<Context> = contexts.split('|').filter_map(Context::parse).collect();
        let (resource, perm) = rest.split_once('.')?;
        if contexts.is_empty() {
            return None;
        }
        let need = if perm.starts_with('$') {
            Need::Operation(perm.to_owned())
        } else {
            Need::Letter(perm.chars().next()?)
        };
        Some(RouteScope {
            contexts,
            resource: resource.to_owned(),
            need,
        })
    }
}

/// The resource scopes a server accepts at registration and authorize:
/// every `context/resource` pair some route of the catalogue accepts, with
/// any permission; plus eMedicalPractice's `Document` scopes.
#[derive(Debug, Clone)]
pub struct KnownScopes {
    pairs: BTreeSet<(Context, String)>,
    operations: BTreeSet<(Context, String, String)>,
}

impl KnownScopes {
    pub fn of(catalog: &Catalog, extra_resources: &[&str]) -> KnownScopes {
        let mut pairs = BTreeSet::new();
        let mut operations = BTreeSet::new();
        for op in catalog.operations() {
            if !matches!(op.api, Api::Rest | Api::Fhir | Api::Portal) {
                continue;
            }
            let Some(rs) = RouteScope::of(op) else {
                continue;
            };
            for c in &rs.contexts {
                match &rs.need {
                    Need::Letter(_) => {
                        pairs.insert((*c, rs.resource.clone()));
                    }
                    Need::Operation(name) => {
                        operations.insert((*c, rs.resource.clone(), name.clone()));
                    }
                }
            }
        }
        for r in extra_resources {
            for c in [Context::User, Context::Patient, Context::System] {
                pairs.insert((c, (*r).to_owned()));
            }
        }
        KnownScopes { pairs, operations }
    }

    /// The `context/resource` pairs of permission scopes.
    pub fn pairs(&self) -> impl Iterator<Item = &(Context, String)> {
        self.pairs.iter()
    }

    /// The `context/resource.$operation` scopes.
    pub fn operations(&self) -> impl Iterator<Item = &(Context, String, String)> {
        self.operations.iter()
    }

    /// Whether the server knows `scope`.
    pub fn knows(&self, scope: &str) -> bool {
        if BASE_SCOPES.contains(&scope) {
            return true;
        }
        let Ok(rs) = ResourceScope::parse(scope) else {
            return false;
        };
        match &rs.grant {
            Grant::Letters(_) => self.pairs.contains(&(rs.context, rs.resource)),
            Grant::Operation(op) => {
                self.operations
                    .contains(&(rs.context, rs.resource.clone(), op.clone()))
                    // `system/*.$export` names no resource.
                    || (rs.resource == "*"
                        && self.operations.iter().any(|(c, _, o)| *c == rs.context && o == op))
            }
        }
    }
}

/// Splits a space-separated scope parameter, dropping empties and
/// repeats, keeping the order.
pub fn split(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split_whitespace() {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use emr_catalog::ProfileId;

    #[test]
    fn v1_and_v2_permissions() {
        let s = ResourceScope::parse("user/patient.read").unwrap();
        assert!(s.allows(Context::User, "patient", &Need::Letter('s')));
        assert!(s.allows(Context::User, "patient", &Need::Letter('r')));
        assert!(!s.allows(Context::User, "patient", &Need::Letter('c')));
        assert!(!s.allows(Context::Patient, "patient", &Need::Letter('r')));
        let s = ResourceScope::parse("patient/Observation.rs?category=vital-signs").unwrap();
        assert_eq!(s.query.as_deref(), Some("category=vital-signs"));
        assert!(s.allows(Context::Patient, "Observation", &Need::Letter('s')));
        let s = ResourceScope::parse("user/Patient.cruds").unwrap();
        assert!(s.allows(Context::User, "Patient", &Need::Letter('u')));
        for bad in [
            "user/Patient.sr",
            "user/Patient.rr",
            "user/Patient.x",
            "user/Patient.",
        ] {
            assert_eq!(
                ResourceScope::parse(bad),
                Err(ScopeError::Permission),
                "{bad}"
            );
        }
        let s = ResourceScope::parse("system/*.$export").unwrap();
        assert!(s.allows(Context::System, "*", &Need::Operation("$export".into())));
        assert!(!s.allows(Context::System, "*", &Need::Letter('r')));
    }

    #[test]
    fn route_scopes_come_from_the_catalogue() {
        let c = Catalog::of(ProfileId::OpenEmr);
        let rs = RouteScope::of(c.get("GET /fhir/Patient/:uuid").unwrap()).unwrap();
        assert_eq!(
            rs.contexts,
            vec![Context::User, Context::Patient, Context::System]
        );
        assert_eq!(
            (rs.resource.as_str(), &rs.need),
            ("Patient", &Need::Letter('r'))
        );
        let rs = RouteScope::of(c.get("GET /api/patient").unwrap()).unwrap();
        assert_eq!(rs.contexts, vec![Context::User]);
        assert_eq!(rs.need, Need::Letter('s'));
        let rs = RouteScope::of(c.get("GET /fhir/$export").unwrap()).unwrap();
        assert_eq!(rs.need, Need::Operation("$export".into()));
        assert!(RouteScope::of(c.get("GET /fhir/metadata").unwrap()).is_none());
    }

    #[test]
    fn known_scopes_follow_the_catalogue() {
        let k = KnownScopes::of(&Catalog::of(ProfileId::OpenEmr), &[]);
        for ok in [
            "openid",
            "user/patient.read",
            "patient/Patient.rs",
            "system/*.$export",
            "system/Patient.$export",
            "patient/encounter.read",
        ] {
            assert!(k.knows(ok), "{ok}");
        }
        for bad in [
            "user/Nothing.read",
            "patient/Group.read",
            "superuser",
            "patient/Document.read",
        ] {
            assert!(!k.knows(bad), "{bad}");
        }
        let e = KnownScopes::of(&Catalog::of(ProfileId::EMedPractice), &["Document"]);
        assert!(e.knows("patient/Document.read"));
    }
}
