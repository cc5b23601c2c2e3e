//! The `fuzz` step: mutants of a valid, authorized request, generated with
//! proptest, each expected to be refused (or, where a mutation does not
//! change the request's meaning, accepted) the way the target's profile
//! says (`harness/data/fuzz.yaml`).
//!
//! A step names its request and auth as any step does; the channel that
//! checks the credential (OAuth 1.0a, OAuth2 bearer or token endpoint,
//! WS-Security) decides which mutation kinds apply. For every kind the
//! engine runs `cases` mutants drawn from a seeded proptest strategy; the
//! first mutant that gets the wrong answer is shrunk to a minimal one and
//! reported with the request sent, the response and the seed that
//! replays it. The valid request must pass before and after.

mod engine;
pub mod expectations;
mod io;
mod oauth1;
mod oauth2;
mod spec;
#[cfg(test)]
mod tests;
mod wire;
mod wss;

use std::time::Duration;

use serde::Serialize;

pub use engine::run_step;
pub use expectations::Verdict;
pub use io::StepCx;
pub use spec::{check_step, FuzzSettings, FuzzSpec, DEFAULT_CASES};

use crate::outcome::{Exchange, Failure};

/// A `fuzz` step's figures, per mutation kind.
#[derive(Debug, Clone, Serialize)]
pub struct FuzzSummary {
    /// The run's `--fuzz-seed`; each kind derives its own from it.
    pub seed: u64,
    /// Cases per kind.
    pub cases_per_kind: u32,
    pub kinds: Vec<KindStats>,
}

/// What one mutation kind did.
#[derive(Debug, Clone, Serialize)]
pub struct KindStats {
    /// `oauth1.signature.bits`.
    pub kind: String,
    /// `oauth1.signature`.
    pub family: String,
    /// What the profile must do with these mutants.
    pub expect: Verdict,
    /// Why, with its source (`harness/data/fuzz.yaml`).
    pub why: String,
    /// Mutants sent (shrinking runs not counted).
    pub cases: u32,
    /// Mutants answered with the expected refusal.
    pub refused: u32,
    /// Mutants accepted: must be 0 where the kind expects a refusal.
    pub accepted: u32,
    /// Mutants answered with something that is neither.
    pub other: u32,
    /// Requests sent while shrinking a failure.
    pub shrink_runs: u32,
    #[serde(with = "crate::outcome::millis")]
    pub duration: Duration,
    pub cases_per_second: f64,
    /// Why the kind did not run on this step or target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applicable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FuzzFailure>,
}

impl KindStats {
    /// Cases that did not get the expected answer.
    pub fn violations(&self) -> u32 {
        match self.expect {
            Verdict::Refused => self.accepted + self.other,
            Verdict::Accepted => self.refused + self.other,
        }
    }

    /// Mutants accepted although the profile must refuse them.
    pub fn wrongly_accepted(&self) -> u32 {
        match self.expect {
            Verdict::Refused => self.accepted,
            Verdict::Accepted => 0,
        }
    }
}

/// The minimal mutant that got the wrong answer.
#[derive(Debug, Clone, Serialize)]
pub struct FuzzFailure {
    /// What was changed, after shrinking.
    pub mutant: String,
    /// Simplifications that still failed.
    pub shrink_steps: u32,
    /// The last request sent for the minimal mutant and its response,
    /// secrets redacted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
    /// How the answer differs from the expected one.
    pub problems: Vec<Failure>,
    /// The command that runs the same cases again.
    pub replay: String,
}

/// A position, reduced modulo the length it is used with: small, so a
/// failing mutant shrinks to the first position in a few steps.
pub(crate) fn pick() -> impl proptest::strategy::Strategy<Value = usize> {
    0usize..64
}

/// Per-family totals over a run's outcomes, for the reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FamilyTotals {
    pub family: String,
    /// Kinds run, summed over the steps that ran them.
    pub kind_runs: usize,
    pub cases: u64,
    pub accepted_wrongly: u64,
    pub violations: u64,
    #[serde(with = "crate::outcome::millis")]
    pub duration: Duration,
    pub cases_per_second: f64,
}

/// Totals per family over every fuzz step of `outcomes`, and the seeds used.
pub fn totals(outcomes: &[crate::outcome::ScenarioOutcome]) -> (Vec<FamilyTotals>, Vec<u64>) {
    let mut by_family: std::collections::BTreeMap<String, FamilyTotals> = Default::default();
    let mut seeds = Vec::new();
    for o in outcomes {
        for s in &o.steps {
            let Some(f) = &s.fuzz else { continue };
            if !seeds.contains(&f.seed) {
                seeds.push(f.seed);
            }
            for k in f.kinds.iter().filter(|k| k.not_applicable.is_none()) {
                let t = by_family.entry(k.family.clone()).or_default();
                t.family = k.family.clone();
                t.kind_runs += 1;
                t.cases += u64::from(k.cases);
                t.accepted_wrongly += u64::from(k.wrongly_accepted());
                t.violations += u64::from(k.violations());
                t.duration += k.duration;
            }
        }
    }
    let mut out: Vec<FamilyTotals> = by_family.into_values().collect();
    for t in &mut out {
        let secs = t.duration.as_secs_f64();
        t.cases_per_second = if secs > 0.0 {
            (t.cases as f64 / secs * 10.0).round() / 10.0
        } else {
            0.0
        };
    }
    (out, seeds)
}
