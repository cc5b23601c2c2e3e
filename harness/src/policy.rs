//! What a run may send to a target and what it must hide: read-only mode,
//! the rules for writes on live targets, enabled services, redaction and
//! recording.
//!
//! Whether a step reads or writes is decided here, from the catalogue:
//! an HTTP step by its method (only GET and HEAD read), a SOAP call by the
//! catalogue's classification of its operation ([`Operation::access`]).

use std::sync::Arc;

use emr_catalog::{Access, Catalog, Lookup, Operation};

use crate::diff::recording::Recorder;
use crate::redact::Redactor;
use crate::scenario::{step_references, Action, Scenario, Step};
use crate::target::Target;

/// The per-run rules every scenario obeys.
#[derive(Debug, Clone)]
pub struct RunPolicy {
    /// Send only reads; write steps are skipped and reported as such.
    pub read_only: bool,
    /// Writes may go to a live target (they always may to the mock).
    pub allow_writes: bool,
    /// Secrets and personal data to scrub from every artifact.
    pub redactor: Arc<Redactor>,
    /// Records every response for `diff` (`run --snapshot-dir`).
    pub recorder: Option<Arc<Recorder>>,
}

impl Default for RunPolicy {
    fn default() -> Self {
        RunPolicy {
            read_only: false,
            allow_writes: false,
            redactor: Arc::new(Redactor::new(false)),
            recorder: None,
        }
    }
}

/// The reason reported for a write step in a read-only run.
pub const READ_ONLY_SKIP: &str = "skipped: write in read-only mode";
/// The reason reported for the steps after it.
pub const AFTER_READ_ONLY_SKIP: &str = "skipped: follows a write skipped in read-only mode";

/// Whether a step reads or may write.
pub fn step_access(step: &Step, catalog: &Catalog) -> Access {
    match &step.action {
        Action::Request(r) => Access::of_method(&r.method),
        // A SOAP call takes its operation's class; an unknown one may write.
        Action::Soap(call) => catalog
            .soap(&call.service, &call.operation)
            .map_or(Access::Write, Operation::access),
    }
}

/// The steps (of `steps` and `cleanup`) that may write, as `(index, name)`.
pub fn write_steps<'a>(scenario: &'a Scenario, catalog: &Catalog) -> Vec<&'a Step> {
    scenario
        .steps
        .iter()
        .chain(scenario.cleanup.iter())
        .filter(|s| step_access(s, catalog) == Access::Write)
        .collect()
}

/// The rules a write scenario must follow on a live target: it marks what
/// it creates as synthetic (`{{synthetic.*}}` or `{{run_id}}` in a write
/// step) and removes it again (`cleanup:`). `Err` says what is missing.
pub fn live_write_rules(scenario: &Scenario, catalog: &Catalog) -> Result<(), String> {
    let writes: Vec<&Step> = scenario
        .steps
        .iter()
        .filter(|s| step_access(s, catalog) == Access::Write)
        .collect();
    if writes.is_empty() {
        return Ok(());
    }
    let marked = writes.iter().any(|s| {
        step_references(s)
            .iter()
            .any(|r| r == "synthetic" || r == "run_id")
    });
    let mut missing = Vec::new();
    if !marked {
        missing.push(
            "mark the records it creates as synthetic (use `{{synthetic.last_name}}` or `{{run_id}}` in a write step)",
        );
    }
    if scenario.cleanup.is_empty() {
        missing.push("remove them again in a `cleanup:` block");
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "refused: a scenario that writes to a live target must {}",
            missing.join(" and ")
        ))
    }
}

/// Whether the target enables an operation: its API (`rest`, `soap`,
/// `fhir`, `portal`, `auth`) or its group (`DemographicService`) is listed.
pub fn service_enabled(target: &Target, op: &Operation) -> bool {
    match &target.services {
        None => true,
        Some(list) => list
            .iter()
            .any(|s| s == op.api.as_str() || s.eq_ignore_ascii_case(&op.group)),
    }
}

/// Why a scenario cannot run on the target's enabled services, if so: an
/// operation it covers, or a literal step path, is in a disabled service.
pub fn disabled_service(scenario: &Scenario, target: &Target, catalog: &Catalog) -> Option<String> {
    target.services.as_ref()?;
    let mut ops: Vec<&Operation> = scenario
        .covers
        .iter()
        .filter_map(|id| catalog.get(id))
        .collect();
    for step in &scenario.steps {
        match &step.action {
            Action::Request(r) => {
                let path = r.path.as_str();
                if !path.contains("{{") {
                    if let Lookup::Found(op, _) = catalog.resolve(&r.method, path) {
                        ops.push(op);
                    }
                }
            }
            Action::Soap(call) => {
                if let Some(op) = catalog.soap(&call.service, &call.operation) {
                    ops.push(op);
                }
            }
        }
    }
    ops.into_iter()
        .find(|op| !service_enabled(target, op))
        .map(|op| {
            format!(
                "needs {} ({} service), which the target does not enable",
                op.id,
                op.api.as_str()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use emr_catalog::ProfileId;
    use std::path::Path;

    fn scenario(yaml: &str) -> Scenario {
        crate::scenario::parse(Path::new("t.yaml"), "t".into(), yaml)
            .unwrap()
            .remove(0)
    }

    #[test]
    fn steps_are_classified_by_method() {
        let c = Catalog::of(ProfileId::Oscar);
        let s = scenario("name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n  - request: {method: HEAD, path: /a}\n  - request: {method: POST, path: /a}\n  - request: {method: DELETE, path: /a}\n");
        let access: Vec<Access> = s.steps.iter().map(|st| step_access(st, &c)).collect();
        assert_eq!(
            access,
            [Access::Read, Access::Read, Access::Write, Access::Write]
        );
        assert_eq!(write_steps(&s, &c).len(), 2);
    }

    #[test]
    fn live_writes_need_marked_data_and_cleanup() {
        let c = Catalog::of(ProfileId::Oscar);
        let bare = scenario("name: x\nprofile: oscar\nsteps:\n  - request: {method: POST, path: /ws/rs/demographics, json: {lastName: Lee}}\n");
        let e = live_write_rules(&bare, &c).unwrap_err();
        assert!(e.contains("synthetic") && e.contains("cleanup"), "{e}");
        let marked = scenario("name: x\nprofile: oscar\nsteps:\n  - request: {method: POST, path: /ws/rs/demographics, json: {lastName: '{{synthetic.last_name}}'}}\n    capture: {id: {json: $.id}}\ncleanup:\n  - request: {method: DELETE, path: '/ws/rs/demographics/{{id}}'}\n");
        assert_eq!(live_write_rules(&marked, &c), Ok(()));
        let no_cleanup = scenario("name: x\nprofile: oscar\nsteps:\n  - request: {method: POST, path: /ws/rs/demographics, json: {lastName: '{{synthetic.last_name}}'}}\n");
        let e = live_write_rules(&no_cleanup, &c).unwrap_err();
        assert!(!e.contains("synthetic (") && e.contains("cleanup"), "{e}");
        let reads = scenario("name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n");
        assert_eq!(live_write_rules(&reads, &c), Ok(()));
    }

    #[test]
    fn disabled_services_are_named() {
        let c = Catalog::of(ProfileId::Oscar);
        let s = scenario("name: x\nprofile: oscar\ncovers: [GET /ws/rs/status/checkIfAuthed]\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n");
        let mut t = Target::new(
            crate::target::TargetKind::Live,
            ProfileId::Oscar,
            "http://x",
            serde_json::Value::Null,
        );
        assert_eq!(disabled_service(&s, &t, &c), None);
        t.services = Some(vec!["soap".into()]);
        let why = disabled_service(&s, &t, &c).unwrap();
        assert!(
            why.contains("GET /ws/rs/status/checkIfAuthed (rest service)"),
            "{why}"
        );
        t.services = Some(vec!["rest".into()]);
        assert_eq!(disabled_service(&s, &t, &c), None);
        t.services = Some(vec!["StatusService".into()]);
        let op = c.get("GET /ws/rs/status/checkIfAuthed").unwrap();
        assert_eq!(service_enabled(&t, op), op.group == "StatusService");
    }
}
