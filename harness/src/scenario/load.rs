//! Finding and loading scenario files, and reporting what is wrong with
//! them like a compiler: `file:line:column: what was expected`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use emr_catalog::Catalog;

use super::matcher::Matcher;
use super::model::{Action, Body, Capture, Scenario, ScenarioDoc, SoapSpec, Step};
use super::template::{json_templates, Template, VarRef};
use super::vars::BUILTINS;

/// Why a scenario file could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub file: PathBuf,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}:{}", self.column.unwrap_or(1))?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for LoadError {}

impl LoadError {
    fn at(file: &Path, pos: Option<(usize, usize)>, message: impl Into<String>) -> LoadError {
        LoadError {
            file: file.to_owned(),
            line: pos.map(|p| p.0),
            column: pos.map(|p| p.1),
            message: message.into(),
        }
    }
}

/// Every `*.yaml`/`*.yml` file under the given files or directories, with
/// the id each scenario gets, sorted by id. Unreadable paths are errors.
///
/// Ids are relative to the enclosing `scenarios` directory when there is
/// one, so `--scenarios scenarios/oscar` gives the same ids (and finds the
/// same snapshots) as running the whole suite.
pub fn discover(roots: &[PathBuf]) -> Result<Vec<(PathBuf, String)>, LoadError> {
    let mut out = Vec::new();
    for root in roots {
        let meta = std::fs::metadata(root)
            .map_err(|e| LoadError::at(root, None, format!("cannot read: {e}")))?;
        if meta.is_dir() {
            let base = root
                .ancestors()
                .find(|a| a.file_name().is_some_and(|n| n == "scenarios"))
                .unwrap_or(root);
            walk(base, root, &mut out)?;
        } else {
            let id = file_id(root);
            out.push((root.clone(), id));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(PathBuf, String)>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| LoadError::at(dir, None, format!("cannot read: {e}")))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for path in paths {
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        ) {
            let rel = path.strip_prefix(root).unwrap_or(&path).with_extension("");
            let id = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((path, id));
        }
    }
    Ok(())
}

/// The id of a file given directly: its path after a `scenarios`
/// directory if it has one, else its stem.
fn file_id(path: &Path) -> String {
    let parts: Vec<String> = path
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.iter().rposition(|p| p == "scenarios") {
        Some(i) if i + 1 < parts.len() => parts[i + 1..].join("/"),
        _ => parts.last().cloned().unwrap_or_default(),
    }
}

/// Loads every scenario under `roots`; returns the good ones and every
/// error, so one run reports all broken files at once.
pub fn load_all(roots: &[PathBuf]) -> (Vec<Scenario>, Vec<LoadError>) {
    let files = match discover(roots) {
        Ok(f) => f,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for (path, id) in files {
        match load_file(&path, id) {
            Ok(mut s) => scenarios.append(&mut s),
            Err(mut e) => errors.append(&mut e),
        }
    }
    (scenarios, errors)
}

/// Reads and checks one scenario file: one scenario per profile it names.
pub fn load_file(path: &Path, id: String) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![LoadError::at(path, None, format!("cannot read: {e}"))])?;
    parse(path, id, &text)
}

/// Parses scenario text; `path` is only used in messages. A file naming
/// several profiles yields one scenario each, with ids `<id>@<profile>`.
pub fn parse(path: &Path, id: String, text: &str) -> Result<Vec<Scenario>, Vec<LoadError>> {
    let doc: ScenarioDoc = serde_yaml::from_str(text).map_err(|e| vec![yaml_error(path, &e)])?;
    let source: Arc<str> = Arc::from(text);
    let several = doc.profile.0.len() > 1;
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for profile in &doc.profile.0 {
        let scenario = Scenario {
            id: if several {
                format!("{id}@{profile}")
            } else {
                id.clone()
            },
            file: path.to_owned(),
            source: source.clone(),
            name: doc.name.clone(),
            description: doc.description.clone(),
            profile: *profile,
            tags: doc.tags.clone(),
            requirements: doc.requirements.clone(),
            // Source-table ids (`GET /api/patient`) name the profile's own
            // operation (`GET /fhir/r4/patient` for eMedicalPractice).
            covers: doc
                .covers
                .iter()
                .map(|id| {
                    emr_catalog::Catalog::of(*profile)
                        .canonical(id)
                        .map_or_else(|| id.clone(), |op| op.id.clone())
                })
                .collect(),
            auth: doc.auth.clone(),
            vars: doc
                .vars
                .iter()
                .map(|(k, v)| (k.clone(), v.0.clone()))
                .collect(),
            steps: doc.steps.clone(),
            cleanup: doc.cleanup.clone(),
        };
        for e in check(&scenario) {
            if !errors.contains(&e) {
                errors.push(e);
            }
        }
        out.push(scenario);
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// serde_yaml's message without its trailing " at line L column C", which
/// the `file:line:column` prefix already says.
fn yaml_error(path: &Path, e: &serde_yaml::Error) -> LoadError {
    let pos = e.location().map(|l| (l.line(), l.column()));
    LoadError::at(path, pos, strip_position(&e.to_string()))
}

/// Removes " at line L column C" wherever serde_yaml put it.
fn strip_position(message: &str) -> String {
    let Some(i) = message.find(" at line ") else {
        return message.to_owned();
    };
    let rest = &message[i + " at line ".len()..];
    let after_line = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let Some(after) = after_line.strip_prefix(" column ") else {
        return message.to_owned();
    };
    let tail = after.trim_start_matches(|c: char| c.is_ascii_digit());
    format!("{}{}", &message[..i], tail)
}

/// The position of the first occurrence of `needle` at or after `from`
/// (a byte offset), for errors found after parsing.
fn locate(text: &str, needle: &str, from: usize) -> Option<(usize, usize, usize)> {
    let start = from.min(text.len());
    let at = text[start..].find(needle)? + start;
    let line = text[..at].matches('\n').count() + 1;
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
    Some((line, column, at))
}

/// Checks that need the whole file: variables defined before use, step
/// and snapshot names, and covered operations that exist.
fn check(s: &Scenario) -> Vec<LoadError> {
    let mut c = Checker {
        scenario: s,
        text: &s.source,
        defined: BUILTINS.iter().map(|b| (*b).to_owned()).collect(),
        snapshots: Vec::new(),
        cursor: 0,
        errors: Vec::new(),
    };
    if s.steps.is_empty() {
        c.error(
            "steps",
            0,
            "`steps` is empty: a scenario needs at least one step".into(),
        );
    }
    c.defined.extend(s.vars.keys().cloned());
    let mut templates = Vec::new();
    for v in s.vars.values() {
        if let Err(e) = json_templates(v, &mut templates) {
            c.error("vars", 0, e);
        }
    }
    for t in &templates {
        c.refs(t, 0);
    }
    for t in s.auth.templates() {
        c.refs(&t, 0);
    }

    c.cursor = locate(c.text, "steps", 0).map_or(0, |p| p.2);
    for step in &s.steps {
        if step.leaves.is_some() {
            c.error(
                "leaves",
                c.cursor,
                "`leaves` belongs to a `cleanup:` step (it says what cleanup could not remove)"
                    .into(),
            );
        }
        c.step(step);
    }
    // Cleanup steps may use any capture: one whose step never ran is
    // skipped at run time, with nothing to clean.
    if !s.cleanup.is_empty() {
        c.cursor = locate(c.text, "cleanup", c.cursor).map_or(c.cursor, |p| p.2);
    }
    for step in &s.cleanup {
        c.step(step);
        if let Some(t) = &step.leaves {
            c.refs(t, c.cursor);
        }
    }

    let catalog = Catalog::of(s.profile);
    for id in &s.covers {
        if catalog.canonical(id).is_none() {
            let hint = suggestion(&catalog, id);
            c.error(
                id,
                0,
                format!(
                    "`covers`: `{id}` is not an operation of the {} catalogue{hint}",
                    s.profile
                ),
            );
        }
    }
    c.errors
}

/// The state of the whole-file checks: what is defined so far, and where
/// in the text the current step starts (to locate errors).
struct Checker<'a> {
    scenario: &'a Scenario,
    text: &'a str,
    defined: Vec<String>,
    snapshots: Vec<String>,
    cursor: usize,
    errors: Vec<LoadError>,
}

impl Checker<'_> {
    fn error(&mut self, needle: &str, from: usize, message: String) {
        let pos = locate(self.text, needle, from);
        self.errors.push(LoadError::at(
            &self.scenario.file,
            pos.map(|(l, c, _)| (l, c)),
            message,
        ));
    }

    /// Every variable a template uses must be defined by now.
    fn refs(&mut self, t: &Template, from: usize) {
        for VarRef { name, .. } in t.references() {
            if !self.defined.iter().any(|d| d == name) {
                self.error(
                    &format!("{{{{{name}"),
                    from,
                    format!(
                        "variable `{name}` is not defined here (define it in `vars`, capture it in an earlier step, or use a built-in: {})",
                        BUILTINS.join(", ")
                    ),
                );
            }
        }
    }

    /// Checks one step; its captures become defined for what follows.
    fn step(&mut self, step: &Step) {
        // Errors in a step are located from the step's name onwards.
        if let Some((_, _, at)) = locate(self.text, &step.name, self.cursor) {
            self.cursor = at;
        }
        let cursor = self.cursor;
        let mut templates = match step_templates(step) {
            Ok(t) => t,
            Err(e) => {
                self.error("json", cursor, e);
                Vec::new()
            }
        };
        if let Action::Soap(call) = &step.action {
            if let Some(e) = check_soap_call(self.scenario, call, step.expect.fault.is_some()) {
                self.error(&call.operation, cursor, e);
            }
        }
        let mut matchers: Vec<&Matcher> = Vec::new();
        matchers.extend(step.expect.headers.values());
        matchers.extend(step.expect.json.values());
        matchers.extend(step.expect.body.iter());
        matchers.extend(step.expect.xml.values());
        matchers.extend(step.expect.fault.iter().flat_map(|f| f.string.iter()));
        if let Some(refused) = step.fuzz.as_ref().and_then(|f| f.refused.as_ref()) {
            matchers.extend(refused.headers.values());
            matchers.extend(refused.json.values());
            matchers.extend(refused.body.iter());
            matchers.extend(refused.xml.values());
        }
        if let Some(p) = &step.poll {
            matchers.extend(p.until.headers.values());
            matchers.extend(p.until.json.values());
            matchers.extend(p.until.body.iter());
            matchers.extend(p.until.xml.values());
        }
        for m in matchers {
            for v in m.expected_values() {
                if let Err(e) = json_templates(v, &mut templates) {
                    self.error("expect", cursor, e);
                }
            }
        }
        // The scenario's own `auth` was checked once, at the top.
        if let Some(a) = &step.auth {
            templates.extend(a.templates());
        }
        let auth = step.auth.as_ref().unwrap_or(&self.scenario.auth);
        if step.fuzz.is_some() {
            if let Some(e) = crate::fuzz::check_step(step, auth) {
                self.error("fuzz", cursor, e);
            }
        }
        for t in &templates {
            self.refs(t, cursor);
        }
        // The oauth2 driver publishes what it obtained as `{{oauth2.*}}`.
        if matches!(auth, crate::scenario::AuthSpec::OAuth2(_))
            && !self.defined.iter().any(|d| d == "oauth2")
        {
            self.defined.push("oauth2".to_owned());
        }
        for (name, Capture { .. }) in &step.capture {
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                || name.starts_with(|c: char| c.is_ascii_digit())
            {
                self.error(
                    name,
                    cursor,
                    format!("capture name `{name}` must be a plain identifier"),
                );
            }
            if BUILTINS.contains(&name.as_str()) {
                self.error(
                    name,
                    cursor,
                    format!("capture `{name}` would hide the built-in variable"),
                );
            }
            self.defined.push(name.clone());
        }
        if let Some(snap) = &step.snapshot {
            if self.snapshots.contains(&snap.name) {
                self.error(
                    &snap.name,
                    cursor,
                    format!(
                        "snapshot name `{}` is used twice in this scenario",
                        snap.name
                    ),
                );
            }
            self.snapshots.push(snap.name.clone());
        }
    }
}

/// A SOAP call must name a service of the profile, and (unless the step
/// expects a fault: a negative test) one of its operations with its
/// parameter names.
fn check_soap_call(s: &Scenario, call: &SoapSpec, negative: bool) -> Option<String> {
    let catalog = Catalog::of(s.profile);
    let services = catalog.soap_services();
    let Some(ops) = services.get(call.service.as_str()) else {
        let known: Vec<&str> = services.keys().copied().collect();
        return Some(if known.is_empty() {
            format!("the {} profile has no SOAP services", s.profile)
        } else {
            format!(
                "`{}` is not a SOAP service of the {} catalogue (services: {})",
                call.service,
                s.profile,
                known.join(", ")
            )
        });
    };
    if negative {
        return None;
    }
    let Some(op) = ops.iter().find(|o| o.name == call.operation) else {
        let names: Vec<&str> = ops.iter().map(|o| o.name.as_str()).collect();
        return Some(format!(
            "`{}` is not an operation of {} in the {} catalogue (operations: {}); a negative test expects a `fault`",
            call.operation,
            call.service,
            s.profile,
            names.join(", ")
        ));
    };
    let params: Vec<String> = emr_catalog::signature(op)
        .map(|sig| sig.params.into_iter().map(|p| p.name).collect())
        .unwrap_or_default();
    for name in call.args.keys() {
        if !params.contains(name) {
            return Some(format!(
                "{}.{} has no parameter `{name}` in the {} catalogue (parameters: {})",
                call.service,
                call.operation,
                s.profile,
                if params.is_empty() {
                    "none".to_owned()
                } else {
                    params.join(", ")
                }
            ));
        }
    }
    None
}

/// The templates a step's request renders: path, query, headers, body.
pub fn step_templates(step: &Step) -> Result<Vec<Template>, String> {
    let mut templates = Vec::new();
    match &step.action {
        Action::Request(r) => {
            templates.push(r.path.clone());
            templates.extend(r.query.0.iter().map(|(_, t)| t.clone()));
            templates.extend(r.headers.0.iter().map(|(_, t)| t.clone()));
            match &r.body {
                Some(Body::Json(v)) => json_templates(v, &mut templates)?,
                Some(Body::Form(p)) => templates.extend(p.0.iter().map(|(_, t)| t.clone())),
                Some(Body::Raw(t)) => templates.push(t.clone()),
                None => {}
            }
        }
        Action::Soap(call) => {
            for v in call.args.values() {
                json_templates(v, &mut templates)?;
            }
            templates.extend(call.namespace.iter().cloned());
            templates.extend(call.headers.0.iter().map(|(_, t)| t.clone()));
        }
    }
    Ok(templates)
}

/// The variables a step's request uses (not its expectations).
pub fn step_references(step: &Step) -> Vec<String> {
    let mut names: Vec<String> = step_templates(step)
        .unwrap_or_default()
        .iter()
        .flat_map(|t| t.references().map(|r| r.name.clone()).collect::<Vec<_>>())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// "did you mean" for an unknown operation id: same path, or same last
/// path segment.
fn suggestion(catalog: &Catalog, id: &str) -> String {
    let path = id.split_whitespace().last().unwrap_or(id);
    let tail = path.rsplit(['/', '.']).next().unwrap_or(path);
    let close: Vec<&str> = catalog
        .operations()
        .iter()
        .map(|o| o.id.as_str())
        .filter(|o| o.ends_with(path) || (!tail.is_empty() && o.ends_with(tail)))
        .take(3)
        .collect();
    if close.is_empty() {
        String::new()
    } else {
        format!(
            " (did you mean {}?)",
            close
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<String> {
        match parse(Path::new("s.yaml"), "s".into(), text) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    const GOOD: &str = "\
name: health
profile: oscar
steps:
  - request: {path: /__admin/health}
    expect: {status: 200}
";

    #[test]
    fn a_good_file_loads() {
        let s = parse(Path::new("s.yaml"), "s".into(), GOOD).unwrap();
        assert_eq!(s[0].steps[0].name, "GET /__admin/health");
        let many = GOOD.replace("profile: oscar", "profile: [oscar, juno]");
        let s = parse(Path::new("s.yaml"), "s".into(), &many).unwrap();
        let ids: Vec<&str> = s.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["s@oscar", "s@juno"]);
    }

    #[test]
    fn bad_yaml_points_at_the_problem() {
        let e = errors("name: x\nprofile: oscar\nsteps: [\n");
        assert_eq!(e.len(), 1);
        assert!(e[0].starts_with("s.yaml:4:1: "), "{}", e[0]);
        assert!(
            e[0].contains("did not find expected node content"),
            "{}",
            e[0]
        );
    }

    #[test]
    fn unknown_keys_are_errors_with_the_choices() {
        let e =
            errors("name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n    expekt: {}\n");
        assert_eq!(
            e,
            vec!["s.yaml:4:5: steps[0]: unknown field `expekt`, expected one of `name`, `request`, `soap`, `auth`, `expect`, `capture`, `snapshot`, `repeat`, `poll`, `leaves`, `fuzz`"]
        );
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - request: {path: /a, methd: GET}\n");
        assert!(e[0].contains("unknown field `methd`"), "{}", e[0]);
        assert!(e[0].starts_with("s.yaml:4:"), "{}", e[0]);
    }

    #[test]
    fn wrong_types_say_what_was_expected() {
        let e = errors(
            "name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n    expect: {status: ok}\n",
        );
        assert!(e[0].starts_with("s.yaml:5:"), "{}", e[0]);
        assert!(e[0].contains("expected an HTTP status"), "{}", e[0]);
        let e = errors("name: x\nprofile: oscar20\nsteps: []\n");
        assert!(e[0].contains("unknown profile `oscar20`"), "{}", e[0]);
        assert!(e[0].starts_with("s.yaml:2:"), "{}", e[0]);
    }

    #[test]
    fn missing_fields_are_named() {
        let e = errors("name: x\nsteps:\n  - request: {path: /a}\n");
        assert_eq!(e, vec!["s.yaml:1:1: missing field `profile`"]);
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - request: {method: GET}\n");
        assert!(e[0].contains("missing field `path`"), "{}", e[0]);
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - name: only a name\n");
        assert!(e[0].contains("a step needs a `request`"), "{}", e[0]);
    }

    #[test]
    fn oauth2_specs_are_checked_where_they_are_written() {
        let e = errors("name: x\nprofile: openemr\nauth:\n  oauth2:\n    grant: authorization_code\n    scoep: openid\nsteps:\n  - request: {path: /a}\n");
        assert!(e[0].starts_with("s.yaml:6:5: "), "{e:?}");
        assert!(e[0].contains("unknown field `scoep`"), "{e:?}");
        let e = errors("name: x\nprofile: openemr\nauth: {oauth2: {grant: implicit}}\nsteps:\n  - request: {path: /a}\n");
        assert!(e[0].contains("unknown variant `implicit`"), "{e:?}");
        let e = errors("name: x\nprofile: openemr\nauth: {oauth2: {grant: client_credentials, key: {site: a, kid: b}}}\nsteps:\n  - request: {path: /a}\n");
        assert!(
            e[0].contains("`{site: NAME}` or `{pem: PEM, kid: KID}`"),
            "{e:?}"
        );
        // The driver's outputs exist after the first step that uses it,
        // and its own templates are checked.
        let e = errors("name: x\nprofile: openemr\nauth: {oauth2: {grant: password, username: '{{who}}'}}\nsteps:\n  - request: {path: '/a/{{oauth2.access_token}}'}\n  - request: {path: '/b/{{oauth2.access_token}}'}\n");
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e.iter().any(|m| m.contains("variable `who`")), "{e:?}");
        assert!(e.iter().any(|m| m.contains("variable `oauth2`")), "{e:?}");
    }

    #[test]
    fn undefined_variables_are_found_before_running() {
        let e = errors(
            "name: x\nprofile: oscar\nsteps:\n  - request: {path: '/a/{{id}}'}\n    capture: {id: {json: $.id}}\n  - request: {path: '/b/{{id}}/{{other}}'}\n",
        );
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].starts_with("s.yaml:4:"), "{}", e[0]);
        assert!(
            e[0].contains("variable `id` is not defined here"),
            "{}",
            e[0]
        );
        assert!(e[1].starts_with("s.yaml:6:"), "{}", e[1]);
        assert!(e[1].contains("`other`"), "{}", e[1]);
    }

    #[test]
    fn covered_operations_must_exist() {
        let e = errors(&format!(
            "{GOOD}covers: [GET /ws/rs/demographics/quickSerch]\n"
        ));
        assert!(
            e[0].contains("is not an operation of the oscar catalogue"),
            "{}",
            e[0]
        );
        let e = errors(&format!(
            "{GOOD}covers: [GET /ws/rs/demographics/quickSearch]\n"
        ));
        assert!(e.is_empty(), "{e:?}");
    }

    #[test]
    fn invalid_json_paths_and_regexes_are_load_errors() {
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n    expect:\n      json:\n        'status': 1\n");
        assert!(e[0].contains("invalid JSONPath `status`"), "{}", e[0]);
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n    capture: {x: {regex: '('}}\n");
        assert!(e[0].contains("invalid regex"), "{}", e[0]);
    }

    #[test]
    fn duplicate_snapshot_names_are_errors() {
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n    snapshot: s\n  - request: {path: /b}\n    snapshot: s\n");
        assert!(e[0].contains("snapshot name `s` is used twice"), "{}", e[0]);
    }

    #[test]
    fn cleanup_steps_load_and_leaves_belongs_to_them() {
        let ok = "name: x\nprofile: oscar\nsteps:\n  - request: {method: POST, path: /a}\n    capture: {id: {json: $.id}}\ncleanup:\n  - request: {method: DELETE, path: '/a/{{id}}'}\n    leaves: 'record {{id}} (deactivated)'\n";
        let s = parse(Path::new("s.yaml"), "s".into(), ok).unwrap();
        assert_eq!(s[0].cleanup.len(), 1);
        assert!(s[0].cleanup[0].leaves.is_some());
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n    leaves: x\n");
        assert!(
            e[0].contains("`leaves` belongs to a `cleanup:` step"),
            "{}",
            e[0]
        );
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\ncleanup:\n  - request: {method: DELETE, path: '/a/{{nope}}'}\n");
        assert!(e[0].starts_with("s.yaml:6:"), "{}", e[0]);
        assert!(e[0].contains("variable `nope` is not defined"), "{}", e[0]);
    }

    #[test]
    fn ids_are_stable_whichever_subdirectory_is_run() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("scenarios/oscar/auth");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("flow.yaml"), GOOD).unwrap();
        let whole = discover(&[dir.path().join("scenarios")]).unwrap();
        let part = discover(&[dir.path().join("scenarios/oscar")]).unwrap();
        assert_eq!(whole[0].1, "oscar/auth/flow");
        assert_eq!(part[0].1, "oscar/auth/flow");
    }

    #[test]
    fn soap_calls_are_checked_against_the_catalogue() {
        let call = |body: &str| {
            errors(&format!(
                "name: x\nprofile: oscar\nsteps:\n  - name: one\n    soap: {body}\n"
            ))
        };
        let e = call("{service: NoService, operation: x}");
        assert!(e[0].starts_with("s.yaml:5:"), "{}", e[0]);
        assert!(e[0].contains("`NoService` is not a SOAP service of the oscar catalogue (services: AllergyService"), "{}", e[0]);
        let e = call("{service: SystemInfoService, operation: getNothing}");
        assert!(
            e[0].contains("`getNothing` is not an operation of SystemInfoService"),
            "{}",
            e[0]
        );
        assert!(
            e[0].contains("a negative test expects a `fault`"),
            "{}",
            e[0]
        );
        let ok = errors("name: x\nprofile: oscar\nsteps:\n  - soap: {service: SystemInfoService, operation: getNothing}\n    expect: {fault: {code: 'soap:Client'}}\n");
        assert!(ok.is_empty(), "{ok:?}");
        let e = call(
            "{service: DemographicService, operation: getDemographic, args: {demographicId: 1}}",
        );
        assert!(
            e[0].contains(
                "has no parameter `demographicId` in the oscar catalogue (parameters: arg0)"
            ),
            "{}",
            e[0]
        );
        let e = errors("name: x\nprofile: openemr\nsteps:\n  - soap: {service: A, operation: b}\n");
        assert!(
            e[0].contains("the openemr profile has no SOAP services"),
            "{}",
            e[0]
        );
        let e = call("{service: SystemInfoService, operation: 'is Alive'}");
        assert!(e[0].contains("plain names"), "{}", e[0]);
    }

    #[test]
    fn wss_options_xml_paths_and_their_templates_are_checked() {
        let e = errors("name: x\nprofile: oscar\nauth: {wss: {password: '{{secret}}'}}\nsteps:\n  - soap: {service: SystemInfoService, operation: isAlive}\n");
        assert!(
            e[0].contains("variable `secret` is not defined here"),
            "{}",
            e[0]
        );
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - soap: {service: SystemInfoService, operation: isAlive}\n    auth: {wss: {login: true, username: '1'}}\n");
        assert!(
            e[0].contains("`login` obtains the username and password"),
            "{}",
            e[0]
        );
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - soap: {service: SystemInfoService, operation: isAlive}\n    auth: {wss: {nonse: true}}\n");
        assert!(e[0].contains("unknown field `nonse`"), "{}", e[0]);
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - soap: {service: SystemInfoService, operation: isAlive}\n    auth: {wss: {nonce: 5}}\n");
        assert!(
            e[0].contains("`nonce` is `true`, `false` or a base64 value"),
            "{}",
            e[0]
        );
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - soap: {service: SystemInfoService, operation: isAlive}\n    expect:\n      xml: {'x:return': a}\n");
        assert!(e[0].starts_with("s.yaml:"), "{}", e[0]);
        assert!(e[0].contains("unknown prefix `x`"), "{}", e[0]);
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - soap: {service: SystemInfoService, operation: isAlive}\n    capture: {t: {xml: 'return[0]'}}\n");
        assert!(e[0].contains("indexes start at 1"), "{}", e[0]);
        let e = errors("name: x\nprofile: oscar\nsteps:\n  - soap: {service: SystemInfoService, operation: isAlive}\n    expect: {fault: {cod: x}}\n");
        assert!(e[0].contains("unknown field `cod`"), "{}", e[0]);
    }

    #[test]
    fn ids_come_from_paths_under_the_root() {
        assert_eq!(
            file_id(Path::new("x/scenarios/oscar/health.yaml")),
            "oscar/health"
        );
        assert_eq!(file_id(Path::new("/tmp/one.yml")), "one");
    }
}
