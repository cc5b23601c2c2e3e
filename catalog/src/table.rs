//! Operation tables: one row per documented operation, read from the
//! tab-separated files under `data/`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use crate::profile::{Profile, ProfileId};
use crate::template::{PathMatch, PathTemplate};

/// The catalogue files compiled into the binary, by the name
/// `profiles.yaml` uses for them.
const FILES: &[(&str, &str)] = &[
    (
        "oscar/rest-operations.tsv",
        include_str!("../data/oscar/rest-operations.tsv"),
    ),
    (
        "oscar/soap-operations.tsv",
        include_str!("../data/oscar/soap-operations.tsv"),
    ),
    (
        "openemr/standard-api.tsv",
        include_str!("../data/openemr/standard-api.tsv"),
    ),
    (
        "openemr/portal-api.tsv",
        include_str!("../data/openemr/portal-api.tsv"),
    ),
    (
        "openemr/fhir-api.tsv",
        include_str!("../data/openemr/fhir-api.tsv"),
    ),
    (
        "openemr/oauth2.tsv",
        include_str!("../data/openemr/oauth2.tsv"),
    ),
    (
        "emedpractice/auth.tsv",
        include_str!("../data/emedpractice/auth.tsv"),
    ),
    (
        "oscar/rest-behaviour.tsv",
        include_str!("../data/oscar/rest-behaviour.tsv"),
    ),
    (
        "oscar/rest-types.tsv",
        include_str!("../data/oscar/rest-types.tsv"),
    ),
    (
        "oscar/rest-fields.tsv",
        include_str!("../data/oscar/rest-fields.tsv"),
    ),
    (
        "oscar/rest-seed.json",
        include_str!("../data/oscar/rest-seed.json"),
    ),
];

/// A data file compiled into the catalogue (`oscar/rest-behaviour.tsv`):
/// the tables that say how the mock answers each operation, kept beside
/// the operations themselves so they are reviewed together.
pub fn data_file(name: &str) -> Option<&'static str> {
    FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// How to read a catalogue file: which columns hold the method, the path
/// and the operation's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableKind {
    /// `rest-operations.tsv`: OSCAR REST, one row per variant and operation.
    OscarRest,
    /// `soap-operations.tsv`: OSCAR SOAP, one row per variant and operation.
    OscarSoap,
    /// OpenEMR route tables (`standard-api.tsv`, `portal-api.tsv`,
    /// `fhir-api.tsv`): one row per route, paths under `/apis/{site}`.
    OpenemrRoutes,
    /// Authorization-server endpoints (`openemr/oauth2.tsv`,
    /// `emedpractice/auth.tsv`): a `method` cell may list several methods
    /// (`GET|POST`), each becoming its own operation.
    AuthEndpoints,
}

/// Which kind of interface an operation belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Api {
    /// A resource operation over HTTP (JSON or XML): OSCAR REST, OpenEMR's
    /// Standard API.
    Rest,
    /// OpenEMR's Patient Portal API.
    Portal,
    /// FHIR R4.
    Fhir,
    /// A SOAP operation, addressed by service and operation name.
    Soap,
    /// An authorization protocol endpoint (OAuth 1.0a or OAuth2/OIDC).
    Auth,
}

impl Api {
    pub const ALL: [Api; 5] = [Api::Rest, Api::Portal, Api::Fhir, Api::Soap, Api::Auth];

    pub fn as_str(self) -> &'static str {
        match self {
            Api::Rest => "rest",
            Api::Portal => "portal",
            Api::Fhir => "fhir",
            Api::Soap => "soap",
            Api::Auth => "auth",
        }
    }
}

/// One documented operation of one profile.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Stable id used by scenarios' `covers` and the coverage report:
    /// `GET /ws/rs/demographics/{dataId}` for HTTP operations,
    /// `DemographicService.getDemographic` for SOAP ones.
    pub id: String,
    pub api: Api,
    /// HTTP method; `POST` for SOAP; `LOCATOR` for a JAX-RS sub-resource
    /// locator that declares none and so cannot be called.
    pub method: String,
    /// Path under the profile's context (`/ws/rs/...`, `/ws/DemographicService`).
    pub path: PathTemplate,
    /// The same operation mounted elsewhere (`/ws/services/...`).
    pub alt_paths: Vec<PathTemplate>,
    /// The class or service that declares it (`DemographicService`).
    pub group: String,
    /// The operation's own name (Java method or SOAP operation).
    pub name: String,
    /// Every column of the source row, for the dialects that need more.
    pub columns: BTreeMap<String, String>,
}

impl Operation {
    pub fn column(&self, name: &str) -> &str {
        self.columns.get(name).map(String::as_str).unwrap_or("")
    }

    /// Whether a client can call it at all.
    pub fn callable(&self) -> bool {
        self.method != "LOCATOR"
    }

    fn templates(&self) -> impl Iterator<Item = &PathTemplate> {
        std::iter::once(&self.path).chain(self.alt_paths.iter())
    }
}

/// The result of looking up an HTTP request in a catalogue.
#[derive(Debug)]
pub enum Lookup<'a> {
    Found(&'a Operation, PathMatch),
    /// The path is known but not with this method; the allowed ones.
    WrongMethod(Vec<&'a str>),
    NotFound,
}

/// A catalogue file that does not parse: a build defect, reported with the
/// file and line so it is quick to mend.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CatalogError {
    #[error("{file}: catalogue file is not compiled in")]
    MissingFile { file: String },
    #[error("{file}:{line}: {message}")]
    Row {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}:{line}: duplicate operation id `{id}`")]
    Duplicate {
        file: String,
        line: usize,
        id: String,
    },
}

/// Every documented operation of one profile.
#[derive(Debug)]
pub struct Catalog {
    profile: ProfileId,
    operations: Vec<Operation>,
    by_id: Map<usize>,
    /// Rebased operations by the id of their source row (`GET /api/patient`
    /// for eMedicalPractice's `GET /fhir/r4/patient`).
    by_source: Map<usize>,
    /// HTTP operations' templates, indexed by segment count.
    by_depth: Vec<Routes>,
}

/// Maps keyed by text. The keys are the catalogue's own, so a fast hash
/// without a per-process seed serves (the mock routes every request and
/// the harness books every step through these).
type Map<V> = HashMap<String, V, foldhash::fast::FixedState>;

/// The templates of one depth, split by the discriminating segment
/// ([`key_segment`]): a lookup tries the bucket of its literal and the
/// templates with a parameter there only, since a template whose literal
/// differs cannot match.
#[derive(Debug, Default)]
struct Routes {
    by_literal: Map<Vec<Route>>,
    param: Vec<Route>,
}

/// One template of an operation, with its [`PathTemplate::specificity`].
#[derive(Debug)]
struct Route {
    operation: usize,
    template: usize,
    rank: (usize, std::cmp::Reverse<usize>),
}

/// The segment that tells routes of one depth apart: the resource after
/// the mount for OSCAR (`/ws/rs/{demographics}/…`), the one after the
/// API's root for OpenEMR (`/api/{patient}/…`, `/fhir/{Patient}`).
fn key_segment(depth: usize) -> usize {
    match depth {
        0 | 1 => 0,
        2 => 1,
        _ => 2,
    }
}

impl Catalog {
    /// The catalogue of a profile, parsed once per process.
    pub fn of(profile: ProfileId) -> Arc<Catalog> {
        static CATALOGS: OnceLock<BTreeMap<ProfileId, Arc<Catalog>>> = OnceLock::new();
        let all = CATALOGS.get_or_init(|| {
            ProfileId::ALL
                .into_iter()
                .map(|p| {
                    // Compiled-in data, checked by the unit tests below.
                    let c = Catalog::load(p.profile()).expect("catalogue data is valid");
                    (p, Arc::new(c))
                })
                .collect()
        });
        all[&profile].clone()
    }

    fn load(profile: &Profile) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog {
            profile: profile.id,
            operations: Vec::new(),
            by_id: Map::default(),
            by_source: Map::default(),
            by_depth: Vec::new(),
        };
        for source in &profile.catalogs {
            let text = FILES
                .iter()
                .find(|(name, _)| *name == source.file)
                .map(|(_, text)| *text)
                .ok_or_else(|| CatalogError::MissingFile {
                    file: source.file.clone(),
                })?;
            for (line, row) in rows(&source.file, text)? {
                // Tables shared by several variants say which rows are whose.
                if let Some(v) = row.get("variant") {
                    if v != &profile.variant {
                        continue;
                    }
                }
                let row_error = |message| CatalogError::Row {
                    file: source.file.clone(),
                    line,
                    message,
                };
                for op in operations(source.kind, row).map_err(row_error)? {
                    let op = source.mount(op).map_err(row_error)?;
                    if catalog.by_id.contains_key(&op.id) {
                        return Err(CatalogError::Duplicate {
                            file: source.file.clone(),
                            line,
                            id: op.id,
                        });
                    }
                    catalog.push(op);
                }
            }
        }
        Ok(catalog)
    }

    fn push(&mut self, op: Operation) {
        let index = self.operations.len();
        self.by_id.insert(op.id.clone(), index);
        let source = format!("{} {}", op.method, op.column("path"));
        if source != op.id && !op.column("path").is_empty() {
            self.by_source.insert(source, index);
        }
        if op.api != Api::Soap {
            for (t, template) in op.templates().enumerate() {
                let depth = template.depth();
                if self.by_depth.len() <= depth {
                    self.by_depth.resize_with(depth + 1, Routes::default);
                }
                let routes = &mut self.by_depth[depth];
                match template.literal_at(key_segment(depth)) {
                    Some(l) => routes.by_literal.entry(l.to_owned()).or_default(),
                    None => &mut routes.param,
                }
                .push(Route {
                    operation: index,
                    template: t,
                    rank: template.specificity(),
                });
            }
        }
        self.operations.push(op);
    }

    pub fn profile(&self) -> ProfileId {
        self.profile
    }

    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    pub fn get(&self, id: &str) -> Option<&Operation> {
        self.by_id.get(id).map(|&i| &self.operations[i])
    }

    /// An operation by its id, or by the id its source table gives it
    /// (OpenEMR's path, for a profile that mounts the routes elsewhere),
    /// so one scenario's `covers` serves every profile of a family.
    pub fn canonical(&self, id: &str) -> Option<&Operation> {
        self.get(id)
            .or_else(|| self.by_source.get(id).map(|&i| &self.operations[i]))
    }

    /// The SOAP operation `service.operation` (`DemographicService.getDemographic`).
    pub fn soap(&self, service: &str, operation: &str) -> Option<&Operation> {
        self.get(&format!("{service}.{operation}"))
            .filter(|op| op.api == Api::Soap)
    }

    /// Finds the operation a request addresses, as the real server would
    /// route it: `path` is under the profile's context, without the query
    /// string, and may carry OSCAR's `.json`/`.xml` media-type extension.
    pub fn resolve(&self, method: &str, path: &str) -> Lookup<'_> {
        if self.profile.family() == crate::Family::OpenEmr {
            // `/apis/{site}/api/...` routes as `/api/...`.
            if let Some(rest) = path.strip_prefix("/apis/") {
                if let Some(i) = rest.find('/') {
                    return self.lookup(method, &rest[i..]);
                }
            }
        }
        if self.profile.family() == crate::Family::Oscar {
            let (bare, _) = strip_media_extension(path);
            if bare.len() != path.len() {
                if let found @ Lookup::Found(..) = self.lookup(method, bare) {
                    return found;
                }
            }
        }
        self.lookup(method, path)
    }

    /// Finds the HTTP operation a request addresses. `path` is relative to
    /// the profile's context and carries no query string.
    pub fn lookup(&self, method: &str, path: &str) -> Lookup<'_> {
        let parts = crate::template::split_path(path);
        let depth = parts.len();
        let Some(routes) = self.by_depth.get(depth) else {
            return Lookup::NotFound;
        };
        let literal = parts
            .get(key_segment(depth))
            .and_then(|k| routes.by_literal.get(*k));
        let candidates = literal.into_iter().flatten().chain(&routes.param);
        let mut best: Option<(&Operation, &PathTemplate, _)> = None;
        let mut allowed: Vec<&str> = Vec::new();
        for route in candidates {
            // Once a template matched, only a more specific one changes
            // the answer (the methods others allow count when none does).
            if best.as_ref().is_some_and(|(_, _, r)| route.rank <= *r) {
                continue;
            }
            let op = &self.operations[route.operation];
            let Some(template) = op.templates().nth(route.template) else {
                continue;
            };
            if !template.fits(&parts) {
                continue;
            }
            // A sub-resource locator declares no method: CXF routes every
            // method to it (and only then finds nothing to call).
            if !op.method.eq_ignore_ascii_case(method) && op.callable() {
                allowed.push(op.method.as_str());
                continue;
            }
            if best.as_ref().is_none_or(|(_, _, r)| route.rank > *r) {
                best = Some((op, template, route.rank));
            }
        }
        match best.and_then(|(op, template, _)| Some((op, template.matches_segments(&parts)?))) {
            Some((op, m)) => Lookup::Found(op, m),
            None if !allowed.is_empty() => {
                allowed.sort_unstable();
                allowed.dedup();
                Lookup::WrongMethod(allowed)
            }
            None => Lookup::NotFound,
        }
    }
}

/// JAX-RS servers map a `.json` or `.xml` path extension to the Accept
/// type: returns the path without it and the media type it forces.
pub fn strip_media_extension(path: &str) -> (&str, Option<&'static str>) {
    if let Some(p) = path.strip_suffix(".json") {
        (p, Some("application/json"))
    } else if let Some(p) = path.strip_suffix(".xml") {
        (p, Some("application/xml"))
    } else {
        (path, None)
    }
}

/// A table row: header name to cell.
type Row = BTreeMap<String, String>;

/// Reads a TSV file into maps from header name to cell, with line numbers.
fn rows(file: &str, text: &str) -> Result<Vec<(usize, Row)>, CatalogError> {
    let mut lines = text.lines().enumerate();
    let header: Vec<&str> = match lines.next() {
        Some((_, h)) => h.split('\t').collect(),
        None => return Ok(Vec::new()),
    };
    let mut out = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('\t').collect();
        if cells.len() != header.len() {
            return Err(CatalogError::Row {
                file: file.to_owned(),
                line: i + 1,
                message: format!("{} cells, header has {}", cells.len(), header.len()),
            });
        }
        let row = header
            .iter()
            .zip(cells)
            .map(|(h, c)| ((*h).to_owned(), c.trim().to_owned()))
            .collect();
        out.push((i + 1, row));
    }
    Ok(out)
}

/// The operations of one row: one, except for auth rows listing several
/// methods.
fn operations(kind: TableKind, row: Row) -> Result<Vec<Operation>, String> {
    if kind != TableKind::AuthEndpoints {
        return operation(kind, row).map(|op| vec![op]);
    }
    let methods = row
        .get("method")
        .ok_or_else(|| "missing column `method`".to_owned())?
        .clone();
    let path = row
        .get("path")
        .ok_or_else(|| "missing column `path`".to_owned())?
        .clone();
    let handler = row.get("handler").cloned().unwrap_or_default();
    let (group, name) = match handler.split_once("::") {
        Some((g, n)) => (g.to_owned(), n.to_owned()),
        None => (String::new(), handler.clone()),
    };
    let api = match row.get("api").map(String::as_str) {
        None | Some("auth") => Api::Auth,
        Some("fhir") => Api::Fhir,
        Some(other) => return Err(format!("unknown api `{other}`")),
    };
    methods
        .split('|')
        .map(|m| {
            let method = m.trim().to_ascii_uppercase();
            if method.is_empty() {
                return Err(format!("empty method in `{methods}`"));
            }
            Ok(Operation {
                id: format!("{method} {path}"),
                api,
                method,
                path: PathTemplate::parse(&path)?,
                alt_paths: Vec::new(),
                group: group.clone(),
                name: name.clone(),
                columns: row.clone(),
            })
        })
        .collect()
}

fn operation(kind: TableKind, row: Row) -> Result<Operation, String> {
    let cell = |name: &str| -> Result<String, String> {
        row.get(name)
            .cloned()
            .ok_or_else(|| format!("missing column `{name}`"))
    };
    match kind {
        TableKind::OscarRest => {
            let method = match cell("http_method")?.as_str() {
                "(none)" => "LOCATOR".to_owned(),
                m => m.to_ascii_uppercase(),
            };
            let full = cell("full_path")?;
            let path = PathTemplate::parse(&full)?;
            let alt_paths = cell("alt_paths")?
                .split([',', ' '])
                .filter(|s| s.starts_with('/'))
                .map(PathTemplate::parse)
                .collect::<Result<Vec<_>, _>>()?;
            let api = if full.starts_with("/ws/oauth") {
                Api::Auth
            } else {
                Api::Rest
            };
            Ok(Operation {
                id: format!("{method} {full}"),
                api,
                method,
                path,
                alt_paths,
                group: cell("service_class")?,
                name: cell("java_method")?,
                columns: row,
            })
        }
        TableKind::OpenemrRoutes => {
            let method = cell("method")?.to_ascii_uppercase();
            let path = cell("path")?;
            let api = if path.starts_with("/fhir") {
                Api::Fhir
            } else if path.starts_with("/portal") {
                Api::Portal
            } else {
                Api::Rest
            };
            Ok(Operation {
                id: format!("{method} {path}"),
                api,
                method,
                path: PathTemplate::parse(&path)?,
                alt_paths: Vec::new(),
                group: cell("controller")?
                    .split("::")
                    .next()
                    .unwrap_or_default()
                    .to_owned(),
                name: cell("controller")?
                    .split("::")
                    .nth(1)
                    .unwrap_or_default()
                    .to_owned(),
                columns: row,
            })
        }
        TableKind::AuthEndpoints => Err("auth rows are read by `operations`".into()),
        TableKind::OscarSoap => {
            let service_path = cell("service_path")?;
            let service = service_path
                .rsplit('/')
                .next()
                .filter(|s| !s.is_empty())
                .ok_or_else(|| format!("bad service_path `{service_path}`"))?
                .to_owned();
            let name = cell("operation")?;
            Ok(Operation {
                id: format!("{service}.{name}"),
                api: Api::Soap,
                method: "POST".to_owned(),
                path: PathTemplate::parse(&service_path)?,
                alt_paths: Vec::new(),
                group: service,
                name,
                columns: row,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(profile: ProfileId, api: Api) -> usize {
        Catalog::of(profile)
            .operations()
            .iter()
            .filter(|o| o.api == api)
            .count()
    }

    #[test]
    fn oscar_catalogues_have_the_reference_counts() {
        // Counts from the reference: REST rows include the OAuth endpoints.
        assert_eq!(
            count(ProfileId::Oscar, Api::Rest) + count(ProfileId::Oscar, Api::Auth),
            319
        );
        assert_eq!(
            count(ProfileId::OpenO, Api::Rest) + count(ProfileId::OpenO, Api::Auth),
            227
        );
        assert_eq!(
            count(ProfileId::Juno, Api::Rest) + count(ProfileId::Juno, Api::Auth),
            314
        );
        assert_eq!(count(ProfileId::Oscar, Api::Soap), 86);
        assert_eq!(count(ProfileId::OpenO, Api::Soap), 79);
        assert_eq!(count(ProfileId::Juno, Api::Soap), 89);
    }

    #[test]
    fn lookup_prefers_literal_paths_and_knows_alt_mounts() {
        let c = Catalog::of(ProfileId::Oscar);
        match c.lookup("GET", "/ws/services/demographics/quickSearch") {
            Lookup::Found(op, _) => assert_eq!(op.id, "GET /ws/rs/demographics/quickSearch"),
            other => panic!("{other:?}"),
        }
        match c.lookup("GET", "/ws/rs/demographics/12") {
            Lookup::Found(op, m) => {
                assert_eq!(op.id, "GET /ws/rs/demographics/{dataId}");
                assert_eq!(m.get("dataId"), Some("12"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            c.lookup("PATCH", "/ws/rs/demographics/12"),
            Lookup::WrongMethod(_)
        ));
        assert!(matches!(
            c.lookup("GET", "/ws/rs/nothing/here"),
            Lookup::NotFound
        ));
    }

    #[test]
    fn openemr_routes_load_and_resolve_under_a_site() {
        let c = Catalog::of(ProfileId::OpenEmr);
        assert_eq!(count(ProfileId::OpenEmr, Api::Rest), 94);
        assert_eq!(count(ProfileId::OpenEmr, Api::Portal), 5);
        assert_eq!(count(ProfileId::OpenEmr, Api::Fhir), 80);
        match c.resolve("GET", "/apis/default/fhir/Patient/9a1") {
            Lookup::Found(op, m) => {
                assert_eq!(op.id, "GET /fhir/Patient/:uuid");
                assert_eq!(m.get("uuid"), Some("9a1"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn auth_tables_expand_methods_and_emedpractice_mounts_the_routes() {
        // 15 rows under /oauth2/{site}; GET|POST and POST|OPTIONS rows
        // become one operation per method.
        assert_eq!(count(ProfileId::OpenEmr, Api::Auth), 18);
        let c = Catalog::of(ProfileId::OpenEmr);
        assert!(c.get("OPTIONS /oauth2/{site}/token").is_some());
        match c.resolve("POST", "/oauth2/alternate/authorize") {
            Lookup::Found(op, m) => {
                assert_eq!(op.id, "POST /oauth2/{site}/authorize");
                assert_eq!(m.get("site"), Some("alternate"));
            }
            other => panic!("{other:?}"),
        }
        let e = Catalog::of(ProfileId::EMedPractice);
        assert_eq!(count(ProfileId::EMedPractice, Api::Auth), 17);
        assert_eq!(count(ProfileId::EMedPractice, Api::Fhir), 80);
        assert_eq!(count(ProfileId::EMedPractice, Api::Rest), 94);
        assert_eq!(count(ProfileId::EMedPractice, Api::Portal), 5);
        for (method, path, id) in [
            ("GET", "/fhir/r4/Patient/abc", "GET /fhir/r4/Patient/:uuid"),
            ("GET", "/fhir/r4/patient/abc", "GET /fhir/r4/patient/:puuid"),
            ("GET", "/metadata", "GET /fhir/r4/metadata"),
            ("GET", "/fhir/r4/metadata", "GET /fhir/r4/metadata"),
            ("POST", "/connect/token", "POST /connect/token"),
            ("GET", "/authorize/logout", "GET /authorize/logout"),
        ] {
            assert!(e.canonical(id).is_some(), "{id}");
            match e.resolve(method, path) {
                Lookup::Found(op, _) => assert_eq!(op.id, id, "{path}"),
                other => panic!("{path}: {other:?}"),
            }
        }
    }

    #[test]
    fn source_ids_name_rebased_operations() {
        let e = Catalog::of(ProfileId::EMedPractice);
        assert_eq!(
            e.canonical("GET /api/patient").unwrap().id,
            "GET /fhir/r4/patient"
        );
        assert_eq!(
            e.canonical("GET /fhir/Patient/:uuid").unwrap().id,
            "GET /fhir/r4/Patient/:uuid"
        );
        assert!(e.get("GET /api/patient").is_none());
        assert!(e.canonical("GET /api/nothing").is_none());
    }

    #[test]
    fn soap_operations_are_addressed_by_service() {
        let c = Catalog::of(ProfileId::OpenO);
        let op = c.soap("DemographicService", "getDemographic").unwrap();
        assert_eq!(op.path.as_str(), "/ws/DemographicService");
    }
}
