//! Expected results: known, accepted deviations of a server, so CI fails
//! only on new failures (as certification suites keep a list of known
//! failures), and says when a listed failure is fixed.
//!
//! ```yaml
//! expected_failures:
//!   - scenario: oscar/demographics/search@juno
//!     step: search by health number      # optional: only a failure at this step
//!     reason: Juno answers 500 for an empty HIN (ticket 1234)
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::outcome::{Expectation, ScenarioOutcome, Status};

/// The expected-results file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ExpectedResults {
    #[serde(default)]
    pub expected_failures: Vec<ExpectedFailure>,
}

/// One accepted deviation.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFailure {
    /// A scenario id; `*` matches any run of characters
    /// (`oscar/demographics/*@juno`).
    pub scenario: String,
    /// Accept only a failure at this step (its name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub reason: String,
}

/// What applying the file did, for the reports.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ExpectedSummary {
    pub file: String,
    /// Failures the file accepts: `(scenario, reason)`.
    pub accepted: Vec<(String, String)>,
    /// Listed failures that passed this time: the entry can go.
    pub now_passing: Vec<(String, String)>,
    /// Entries that matched no scenario of the run.
    pub unused: Vec<ExpectedFailure>,
}

/// A file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ExpectedError(pub String);

impl ExpectedResults {
    pub fn load(path: &Path) -> Result<ExpectedResults, ExpectedError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ExpectedError(format!("{}: cannot read: {e}", path.display())))?;
        Self::parse(&text).map_err(|e| ExpectedError(format!("{}:{e}", path.display())))
    }

    pub fn parse(text: &str) -> Result<ExpectedResults, String> {
        let r: ExpectedResults = serde_yaml::from_str(text).map_err(|e| {
            let pos = e
                .location()
                .map(|l| format!("{}:{}: ", l.line(), l.column()))
                .unwrap_or_else(|| " ".into());
            format!("{pos}{e}")
        })?;
        for f in &r.expected_failures {
            if f.reason.trim().is_empty() {
                return Err(format!(
                    " the entry for `{}` needs a reason (why the deviation is accepted)",
                    f.scenario
                ));
            }
        }
        Ok(r)
    }

    /// Marks the outcomes the file lists and says what it did.
    pub fn apply(&self, outcomes: &mut [ScenarioOutcome], file: &str) -> ExpectedSummary {
        let mut summary = ExpectedSummary {
            file: file.to_owned(),
            ..Default::default()
        };
        let mut used = vec![false; self.expected_failures.len()];
        for o in outcomes.iter_mut() {
            let Some((i, entry)) = self
                .expected_failures
                .iter()
                .enumerate()
                .find(|(_, e)| glob(&e.scenario, &o.id))
            else {
                continue;
            };
            used[i] = true;
            match o.status {
                Status::Failed if entry.matches_failure(o) => {
                    o.expectation = Some(Expectation::AcceptedFailure {
                        reason: entry.reason.clone(),
                    });
                    summary.accepted.push((o.id.clone(), entry.reason.clone()));
                }
                Status::Passed => {
                    o.expectation = Some(Expectation::NowPasses {
                        reason: entry.reason.clone(),
                    });
                    summary
                        .now_passing
                        .push((o.id.clone(), entry.reason.clone()));
                }
                // Failing elsewhere than the entry says is a new failure;
                // a skipped scenario proves nothing either way.
                _ => {}
            }
        }
        summary.unused = self
            .expected_failures
            .iter()
            .zip(used)
            .filter(|(_, u)| !u)
            .map(|(e, _)| e.clone())
            .collect();
        summary
    }
}

impl ExpectedFailure {
    /// With a `step`, only a scenario whose failures are all at that step.
    fn matches_failure(&self, o: &ScenarioOutcome) -> bool {
        let Some(step) = &self.step else {
            return true;
        };
        let failed: Vec<&str> = o
            .steps
            .iter()
            .filter(|s| s.status == Status::Failed)
            .map(|s| s.name.as_str())
            .collect();
        o.failures.is_empty() && !failed.is_empty() && failed.iter().all(|n| n == step)
    }
}

/// `*` matches any run of characters; everything else literally.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Failure, FailureKind, StepOutcome};
    use std::time::Duration;

    fn outcome(id: &str, status: Status, failed_step: Option<&str>) -> ScenarioOutcome {
        let s = crate::scenario::parse(
            Path::new("t.yaml"),
            id.into(),
            "name: x\nprofile: oscar\nsteps:\n  - request: {path: /a}\n",
        )
        .unwrap()
        .remove(0);
        let mut o = ScenarioOutcome::empty(&s);
        o.status = status;
        if let Some(step) = failed_step {
            o.steps.push(StepOutcome {
                name: step.into(),
                status: Status::Failed,
                duration: Duration::ZERO,
                attempts: 1,
                exchange: None,
                failures: vec![Failure::new(FailureKind::Status, "status", "x")],
                skip_reason: None,
                fuzz: None,
            });
        }
        o
    }

    #[test]
    fn accepted_failures_new_failures_and_fixed_ones() {
        let file = ExpectedResults::parse(
            "expected_failures:\n  - {scenario: a, reason: known bug}\n  - {scenario: 'b*@juno', step: search, reason: juno 500}\n  - {scenario: c, reason: fixed now}\n  - {scenario: gone, reason: stale}\n",
        )
        .unwrap();
        let mut outcomes = vec![
            outcome("a", Status::Failed, Some("x")),
            outcome("b/1@juno", Status::Failed, Some("search")),
            outcome("b/2@juno", Status::Failed, Some("other step")),
            outcome("c", Status::Passed, None),
            outcome("d", Status::Failed, Some("x")),
        ];
        let s = file.apply(&mut outcomes, "expected.yaml");
        assert!(outcomes[0].is_accepted_failure());
        assert!(outcomes[1].is_accepted_failure());
        assert!(
            outcomes[2].is_new_failure(),
            "failing at another step is new"
        );
        assert_eq!(
            outcomes[3].expectation,
            Some(Expectation::NowPasses {
                reason: "fixed now".into()
            })
        );
        assert!(outcomes[4].is_new_failure());
        assert_eq!(s.accepted.len(), 2);
        assert_eq!(
            s.now_passing,
            vec![("c".to_owned(), "fixed now".to_owned())]
        );
        assert_eq!(s.unused.len(), 1);
        assert_eq!(s.unused[0].scenario, "gone");
    }

    #[test]
    fn bad_files_say_where() {
        let e = ExpectedResults::parse("expected_failures:\n  - {scenario: a, reasn: x}\n")
            .unwrap_err();
        assert!(e.starts_with("2:"), "{e}");
        assert!(e.contains("unknown field `reasn`"), "{e}");
        let e = ExpectedResults::parse("expected_failures:\n  - {scenario: a, reason: ' '}\n")
            .unwrap_err();
        assert!(e.contains("needs a reason"), "{e}");
    }

    #[test]
    fn globs() {
        assert!(glob("a/*@juno", "a/b/c@juno"));
        assert!(!glob("a/*@juno", "a/b@oscar"));
        assert!(glob("*", "x"));
        assert!(glob("x", "x") && !glob("x", "xy"));
    }
}
