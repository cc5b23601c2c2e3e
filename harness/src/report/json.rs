//! `report.json`: the whole run as data, for dashboards and diffing.

use serde::Serialize;

use crate::coverage::ProfileCoverage;
use crate::outcome::{ScenarioOutcome, Status};
use crate::report::extras::RunExtras;
use crate::report::requirements::{self, Requirement};
use crate::suite::SuiteOutcome;

#[derive(Serialize)]
struct Report<'a> {
    tool: &'static str,
    version: &'static str,
    started: String,
    duration_ms: f64,
    target: &'a str,
    summary: Summary,
    coverage: &'a [ProfileCoverage],
    requirements: Vec<Requirement>,
    /// Per fuzz family: cases, cases per second, mutants wrongly accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    fuzz: Option<FuzzReport>,
    #[serde(flatten)]
    extras: &'a RunExtras,
    scenarios: &'a [ScenarioOutcome],
}

#[derive(Serialize)]
struct FuzzReport {
    seeds: Vec<u64>,
    cases: u64,
    /// Mutants accepted that the profile must refuse: must be 0.
    accepted_wrongly: u64,
    families: Vec<crate::fuzz::FamilyTotals>,
}

#[derive(Serialize)]
struct Summary {
    scenarios: usize,
    passed: usize,
    failed: usize,
    skipped: usize,
    /// Failures an expected-results file accepts (counted in `failed`).
    accepted_failures: usize,
    /// Failures that fail the run.
    new_failures: usize,
    /// Scenarios listed as expected failures that passed.
    now_passing: usize,
}

pub fn render(s: &SuiteOutcome) -> String {
    let report = Report {
        tool: "emr-conformance",
        version: env!("CARGO_PKG_VERSION"),
        started: s.started.to_rfc3339(),
        duration_ms: (s.duration.as_secs_f64() * 1e6).round() / 1e3,
        target: &s.target,
        summary: Summary {
            scenarios: s.outcomes.len(),
            passed: s.count(Status::Passed),
            failed: s.count(Status::Failed),
            skipped: s.count(Status::Skipped),
            accepted_failures: s
                .outcomes
                .iter()
                .filter(|o| o.is_accepted_failure())
                .count(),
            new_failures: s.outcomes.iter().filter(|o| o.is_new_failure()).count(),
            now_passing: s
                .outcomes
                .iter()
                .filter(|o| {
                    matches!(
                        o.expectation,
                        Some(crate::outcome::Expectation::NowPasses { .. })
                    )
                })
                .count(),
        },
        coverage: &s.coverage,
        requirements: requirements::group(&s.outcomes),
        fuzz: {
            let (families, seeds) = crate::fuzz::totals(&s.outcomes);
            (!families.is_empty()).then(|| FuzzReport {
                seeds,
                cases: families.iter().map(|f| f.cases).sum(),
                accepted_wrongly: families.iter().map(|f| f.accepted_wrongly).sum(),
                families,
            })
        },
        extras: &s.extras,
        scenarios: &s.outcomes,
    };
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
