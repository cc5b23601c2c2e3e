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
    /// A live-target safety rule refused the step or scenario.
    Safety,
    /// A `cleanup:` step failed: data may have been left behind.
    Cleanup,
    /// The body does not match its schema (`expect: {schema: ...}`).
    Schema,
    /// A `fuzz` step's mutant got another answer than its profile's.
    Fuzz,
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
    /// Request headers, credentials replaced by `[secret]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub request_headers: Vec<(String, String)>,
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
    /// Why the step was not sent (read-only mode, an earlier failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// A `fuzz` step's figures per mutation kind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fuzz: Option<crate::fuzz::FuzzSummary>,
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
    /// Of the rest, time spent on the client protocol's own cryptography
    /// (RSA key generation and signatures); for the engine benchmark.
    #[serde(skip)]
    pub client_crypto: Duration,
    pub steps: Vec<StepOutcome>,
    /// Failures that belong to the scenario rather than a step.
    pub failures: Vec<Failure>,
    /// Catalogue operations the scenario's requests addressed.
    pub exercised: Vec<String>,
    /// The operations the scenario declares it covers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub covers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// The scenario's `cleanup:` steps, run after the others whatever
    /// happened.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cleanup: Vec<StepOutcome>,
    /// What the scenario may have left on the target: failed cleanup steps
    /// and what cleanup steps declare they leave (`leaves:`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_behind: Vec<String>,
    /// Set when an expected-results file lists this scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expectation: Option<Expectation>,
}

/// How an expected-results entry applied to a scenario.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expectation {
    /// It failed as the entry says: a known, accepted deviation.
    AcceptedFailure { reason: String },
    /// The entry expects a failure but the scenario passed: the entry can
    /// go.
    NowPasses { reason: String },
}

impl ScenarioOutcome {
    /// An empty outcome for a scenario, before anything ran.
    pub fn empty(scenario: &crate::scenario::Scenario) -> ScenarioOutcome {
        ScenarioOutcome {
            id: scenario.id.clone(),
            name: scenario.name.clone(),
            profile: scenario.profile,
            file: scenario.file.to_string_lossy().into_owned(),
            tags: scenario.tags.clone(),
            requirements: scenario.requirements.clone(),
            status: Status::Passed,
            duration: Duration::ZERO,
            network: Duration::ZERO,
            client_crypto: Duration::ZERO,
            steps: Vec::new(),
            failures: Vec::new(),
            exercised: Vec::new(),
            covers: scenario.covers.clone(),
            skip_reason: None,
            cleanup: Vec::new(),
            left_behind: Vec::new(),
            expectation: None,
        }
    }

    /// A failure that an expected-results file accepts.
    pub fn is_accepted_failure(&self) -> bool {
        self.status == Status::Failed
            && matches!(self.expectation, Some(Expectation::AcceptedFailure { .. }))
    }

    /// A failure no expected-results entry accepts: what fails CI.
    pub fn is_new_failure(&self) -> bool {
        self.status == Status::Failed && !self.is_accepted_failure()
    }

    /// Every failure, scenario-level and per step, with the step's name.
    pub fn all_failures(&self) -> Vec<(Option<&str>, &Failure)> {
        let mut out: Vec<(Option<&str>, &Failure)> =
            self.failures.iter().map(|f| (None, f)).collect();
        for s in self.steps.iter().chain(self.cleanup.iter()) {
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
