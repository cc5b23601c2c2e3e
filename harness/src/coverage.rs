//! Coverage: the documented operations of each profile's catalogue against
//! those a passing scenario exercised.

use std::collections::BTreeSet;

use emr_catalog::{Api, Catalog, ProfileId};
use serde::Serialize;

use crate::outcome::{ScenarioOutcome, Status};

/// Coverage of one kind of operation of one profile.
#[derive(Debug, Clone, Serialize)]
pub struct ApiCoverage {
    pub api: &'static str,
    pub total: usize,
    pub covered: usize,
    /// Operations no passing scenario exercised.
    pub missing: Vec<String>,
}

/// Coverage of one profile.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileCoverage {
    pub profile: ProfileId,
    pub total: usize,
    pub covered: usize,
    pub apis: Vec<ApiCoverage>,
    /// Operations exercised by a passing scenario.
    pub covered_operations: Vec<String>,
}

/// Coverage of every profile that had scenarios in the run.
pub fn compute(outcomes: &[ScenarioOutcome]) -> Vec<ProfileCoverage> {
    let profiles: BTreeSet<ProfileId> = outcomes.iter().map(|o| o.profile).collect();
    profiles
        .into_iter()
        .map(|profile| {
            let exercised: BTreeSet<&str> = outcomes
                .iter()
                .filter(|o| o.profile == profile && o.status == Status::Passed)
                .flat_map(|o| o.exercised.iter().map(String::as_str))
                .collect();
            of_profile(profile, &exercised)
        })
        .collect()
}

/// Coverage of one profile given the operation ids exercised.
pub fn of_profile(profile: ProfileId, exercised: &BTreeSet<&str>) -> ProfileCoverage {
    let catalog = Catalog::of(profile);
    let mut apis = Vec::new();
    for api in Api::ALL {
        let ops: Vec<&str> = catalog
            .operations()
            .iter()
            .filter(|o| o.api == api)
            .map(|o| o.id.as_str())
            .collect();
        if ops.is_empty() {
            continue;
        }
        let missing: Vec<String> = ops
            .iter()
            .filter(|id| !exercised.contains(*id))
            .map(|id| (*id).to_owned())
            .collect();
        apis.push(ApiCoverage {
            api: api.as_str(),
            total: ops.len(),
            covered: ops.len() - missing.len(),
            missing,
        });
    }
    ProfileCoverage {
        profile,
        total: apis.iter().map(|a| a.total).sum(),
        covered: apis.iter().map(|a| a.covered).sum(),
        apis,
        covered_operations: exercised
            .iter()
            .filter(|id| catalog.get(id).is_some())
            .map(|id| (*id).to_owned())
            .collect(),
    }
}

/// The catalogue operations a scenario's steps address, read from the
/// scenario itself (without running it): each request's method and path,
/// placeholders replaced by a sample value, resolved like the server
/// routes it, and each SOAP call's operation. `list --uncovered` uses it
/// beside the declared `covers`.
pub fn called(scenario: &crate::scenario::Scenario) -> BTreeSet<String> {
    let catalog = Catalog::of(scenario.profile);
    let context = scenario.profile.profile().context.clone();
    let mut out = BTreeSet::new();
    for step in scenario.steps.iter().chain(scenario.cleanup.iter()) {
        let r = match &step.action {
            crate::scenario::Action::Request(r) => r,
            crate::scenario::Action::Soap(call) => {
                if let Some(op) = catalog.soap(&call.service, &call.operation) {
                    out.insert(op.id.clone());
                }
                continue;
            }
        };
        let path = sample_path(r.path.as_str());
        let path = path.strip_prefix(context.as_str()).unwrap_or(&path);
        if let emr_catalog::Lookup::Found(op, _) = catalog.resolve(&r.method, path) {
            out.insert(op.id.clone());
        }
    }
    out
}

/// `/ws/rs/demographics/{{patient}}?x` → `/ws/rs/demographics/1`.
fn sample_path(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template.split('?').next().unwrap_or("");
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        match rest[i..].find("}}") {
            Some(j) => {
                out.push('1');
                rest = &rest[i + j + 2..];
            }
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_resolve_to_operations_without_running() {
        let text = "name: x\nprofile: oscar\nvars: {id: 1}\nsteps:\n  - request: {path: '/ws/rs/demographics/{{id}}'}\n  - request: {method: POST, path: /ws/rs/schedule/add}\n  - request: {path: /__admin/health}\n  - soap: {service: DemographicService, operation: getDemographic, args: {arg0: 1}}\n";
        let s = crate::scenario::parse(std::path::Path::new("s.yaml"), "s".into(), text).unwrap();
        let ids: Vec<String> = called(&s[0]).into_iter().collect();
        assert_eq!(
            ids,
            [
                "DemographicService.getDemographic",
                "GET /ws/rs/demographics/{dataId}",
                "POST /ws/rs/schedule/add"
            ]
        );
    }
}
