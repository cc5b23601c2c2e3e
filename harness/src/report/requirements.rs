//! Scenarios grouped by the requirements they prove (`requirements:`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::outcome::{ScenarioOutcome, Status};

/// Whether a requirement is proven by this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every scenario that proves it passed.
    Proven,
    /// A scenario that proves it failed (and no expected-results entry
    /// accepts the failure).
    Failed,
    /// Its only failures are accepted deviations.
    AcceptedDeviation,
    /// None of its scenarios ran.
    NotRun,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Proven => "proven",
            Verdict::Failed => "failed",
            Verdict::AcceptedDeviation => "accepted deviation",
            Verdict::NotRun => "not run",
        }
    }
}

/// One requirement and its scenarios.
#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    pub id: String,
    pub verdict: Verdict,
    /// `(scenario id, status)`.
    pub scenarios: Vec<(String, Status)>,
}

/// Every requirement named by a scenario of the run, sorted by id.
pub fn group(outcomes: &[ScenarioOutcome]) -> Vec<Requirement> {
    let mut by: BTreeMap<&str, Vec<&ScenarioOutcome>> = BTreeMap::new();
    for o in outcomes {
        for r in &o.requirements {
            by.entry(r.as_str()).or_default().push(o);
        }
    }
    by.into_iter()
        .map(|(id, os)| {
            let verdict = if os.iter().any(|o| o.is_new_failure()) {
                Verdict::Failed
            } else if os.iter().any(|o| o.is_accepted_failure()) {
                Verdict::AcceptedDeviation
            } else if os.iter().all(|o| o.status == Status::Skipped) {
                Verdict::NotRun
            } else if os.iter().any(|o| o.status == Status::Skipped) {
                // Partly run: not proven by this run.
                Verdict::NotRun
            } else {
                Verdict::Proven
            };
            Requirement {
                id: id.to_owned(),
                verdict,
                scenarios: os.iter().map(|o| (o.id.clone(), o.status)).collect(),
            }
        })
        .collect()
}

/// `(proven, failed, accepted, not run)`.
pub fn tally(reqs: &[Requirement]) -> (usize, usize, usize, usize) {
    let n = |v: Verdict| reqs.iter().filter(|r| r.verdict == v).count();
    (
        n(Verdict::Proven),
        n(Verdict::Failed),
        n(Verdict::AcceptedDeviation),
        n(Verdict::NotRun),
    )
}
