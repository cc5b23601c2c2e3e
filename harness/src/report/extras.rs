//! What the command adds to a run's reports after the suite ran: the
//! target's description, the expected-results file's verdicts, the drift
//! against a baseline recording.

use serde::Serialize;

use crate::diff::Drift;
use crate::expected::ExpectedSummary;

/// Report sections beyond the outcomes themselves.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunExtras {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<ExpectedSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<Drift>,
    /// Where the run's responses were recorded (`--snapshot-dir`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording: Option<String>,
}

/// The target as the reports describe it.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TargetInfo {
    pub label: String,
    pub live: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub read_only: bool,
    pub allow_writes: bool,
    pub personal_data_redacted: bool,
}
