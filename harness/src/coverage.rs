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
