//! What running a scenario produced: the data every report renders.

use std::time::Duration;

use emr_catalog::ProfileId;
use serde::Serialize;

/// How a scenario or step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    /// Not run: an earlier step failed, or the target cannot run it.
    Skipped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Skipped => "skipped",
        }
    }
}

/// What kind of check failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    Status,
    Header,
    Json,
    Body,
    Xml,
    Fault,
    Capture,
    Snapshot,
    Transport,
    Template,
    Auth,
    Coverage,
    Setup,
}

/// One failed check, with enough to see why without rerunning.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub kind: FailureKind,
    /// What was checked: `$.firstName`, `header content-type`, `status`.
    pub subject: String,
    pub message: String,
    /// A unified diff of expected and actual, for values worth diffing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl Failure {
    pub fn new(
        kind: FailureKind,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Failure {
        Failure {
            kind,
            subject: subject.into(),
            message: message.into(),
            diff: None,
        }
    }

    pub fn with_diff(mut self, diff: Option<String>) -> Failure {
        self.diff = diff;
        self
    }
}

/// The last request a step sent and what came back, abbreviated.
#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_body: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_body: Option<String>,
    #[serde(with = "millis")]
    pub elapsed: Duration,
}

/// One step's result.
#[derive(Debug, Clone, Serialize)]
pub struct StepOutcome {
    pub name: String,
    pub status: Status,
    #[serde(with = "millis")]
    pub duration: Duration,
    /// Requests sent (more than one with `repeat` or `poll`).
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exchange: Option<Exchange>,
    pub failures: Vec<Failure>,
}

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioOutcome {
    pub id: String,
    pub name: String,
    pub profile: ProfileId,
    pub file: String,
    pub tags: Vec<String>,
    pub requirements: Vec<String>,
    pub status: Status,
    #[serde(with = "millis")]
    pub duration: Duration,
    /// Time spent waiting for the target, summed over requests.
    #[serde(with = "millis")]
    pub network: Duration,
    pub steps: Vec<StepOutcome>,
    /// Failures that belong to the scenario rather than a step.
    pub failures: Vec<Failure>,
    /// Catalogue operations the scenario's requests addressed.
    pub exercised: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
}

impl ScenarioOutcome {
    /// Every failure, scenario-level and per step, with the step's name.
    pub fn all_failures(&self) -> Vec<(Option<&str>, &Failure)> {
        let mut out: Vec<(Option<&str>, &Failure)> =
            self.failures.iter().map(|f| (None, f)).collect();
        for s in &self.steps {
            out.extend(s.failures.iter().map(|f| (Some(s.name.as_str()), f)));
        }
        out
    }
}

/// Durations as fractional milliseconds in JSON.
pub(crate) mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1e6).round() / 1e3)
    }
}
