//! Recordings: every response a run received, per documented operation,
//! written by `run --snapshot-dir DIR` and read by `diff`.
//!
//! Layout: `DIR/recording.json` (what was recorded, when, against what)
//! and one file per operation, `DIR/<profile>/<operation>.json`, holding a
//! sample per scenario step that called it: method, path, status, media
//! type, headers of interest and the body (secrets scrubbed; personal data
//! too on live targets, keeping each value's JSON type so shapes survive).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::redact::Redactor;
use crate::scenario::Scenario;
use crate::transport::{HttpRequest, HttpResponse};

/// The format tag of `recording.json`.
pub const FORMAT: &str = "emr-conformance-recording/1";

/// Bodies longer than this are cut (and marked `truncated`).
const MAX_BODY: usize = 512 * 1024;

/// Headers whose presence or value is part of an API's contract.
pub const HEADERS_OF_INTEREST: &[&str] = &[
    "allow",
    "www-authenticate",
    "location",
    "cache-control",
    "content-disposition",
    "etag",
    "last-modified",
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-allow-methods",
    "access-control-allow-headers",
];

/// `recording.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    pub tool_version: String,
    pub recorded_at: String,
    /// The target's label (`the embedded mock`, a URL, a target file name).
    pub target: String,
    /// The server's variant as the target file names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    pub profiles: Vec<String>,
    pub operations: usize,
    pub samples: usize,
}

/// One operation's file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OperationRecording {
    pub profile: String,
    pub operation: String,
    pub samples: Vec<Sample>,
}

/// One response, as a scenario step received it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    pub scenario: String,
    pub step: String,
    pub method: String,
    /// The path as sent, under the context, without the query.
    pub path: String,
    pub status: u16,
    pub media_type: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub body_format: BodyFormat,
    /// JSON bodies as JSON; anything else as text.
    pub body: Value,
    #[serde(default)]
    pub truncated: bool,
}

impl Sample {
    /// The key that pairs a sample with its counterpart in another
    /// recording.
    pub fn key(&self) -> String {
        // `file@oscar` and `file@juno` are the same scenario, so the
        // recordings of two profiles pair up.
        let scenario = match self.scenario.rsplit_once('@') {
            Some((id, profile)) if profile.parse::<emr_catalog::ProfileId>().is_ok() => id,
            _ => self.scenario.as_str(),
        };
        format!("{scenario} › {}", self.step)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    Empty,
    Json,
    Xml,
    Text,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Empty => "empty",
            BodyFormat::Json => "json",
            BodyFormat::Xml => "xml",
            BodyFormat::Text => "text",
        }
    }
}

/// A whole recording in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    pub manifest: Manifest,
    /// `(profile, operation)` → its samples.
    pub operations: BTreeMap<(String, String), OperationRecording>,
}

/// Why a recording could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a recording: {message}")]
    Invalid { path: String, message: String },
}

/// Collects samples while a suite runs; shared by every scenario.
#[derive(Debug, Default)]
pub struct Recorder {
    samples: Mutex<BTreeMap<(String, String), BTreeMap<String, Sample>>>,
}

impl Recorder {
    pub fn new() -> Recorder {
        Recorder::default()
    }

    /// Records one response (the last one wins for a repeated step).
    pub fn record(
        &self,
        scenario: &Scenario,
        step: &str,
        operation: &str,
        req: &HttpRequest,
        resp: &HttpResponse,
        redactor: &Redactor,
    ) {
        let sample = sample(scenario, step, req, resp, redactor);
        let key = (scenario.profile.to_string(), operation.to_owned());
        let mut all = match self.samples.lock() {
            Ok(a) => a,
            Err(p) => p.into_inner(),
        };
        all.entry(key).or_default().insert(sample.key(), sample);
    }

    /// The recording so far.
    pub fn recording(&self, target: &str, variant: Option<String>) -> Recording {
        let all = match self.samples.lock() {
            Ok(a) => a,
            Err(p) => p.into_inner(),
        };
        let operations: BTreeMap<(String, String), OperationRecording> = all
            .iter()
            .map(|((profile, op), samples)| {
                (
                    (profile.clone(), op.clone()),
                    OperationRecording {
                        profile: profile.clone(),
                        operation: op.clone(),
                        samples: samples.values().cloned().collect(),
                    },
                )
            })
            .collect();
        let mut profiles: Vec<String> = operations.keys().map(|(p, _)| p.clone()).collect();
        profiles.dedup();
        Recording {
            manifest: Manifest {
                format: FORMAT.into(),
                tool_version: env!("CARGO_PKG_VERSION").into(),
                recorded_at: chrono::Utc::now().to_rfc3339(),
                target: target.into(),
                variant,
                profiles,
                operations: operations.len(),
                samples: operations.values().map(|o| o.samples.len()).sum(),
            },
            operations,
        }
    }
}

fn sample(
    scenario: &Scenario,
    step: &str,
    req: &HttpRequest,
    resp: &HttpResponse,
    redactor: &Redactor,
) -> Sample {
    let path = url::Url::parse(&req.url)
        .map(|u| u.path().to_owned())
        .unwrap_or_else(|_| req.url.split('?').next().unwrap_or("").to_owned());
    let media_type = resp.media_type();
    let truncated = resp.body.len() > MAX_BODY;
    let text = String::from_utf8_lossy(&resp.body[..resp.body.len().min(MAX_BODY)]).into_owned();
    let (body_format, body) = if text.trim().is_empty() {
        (BodyFormat::Empty, Value::Null)
    } else if let Ok(mut doc) = serde_json::from_str::<Value>(&text) {
        redactor.scrub_json(&mut doc);
        (BodyFormat::Json, doc)
    } else if looks_like_xml(&media_type, &text) {
        (BodyFormat::Xml, Value::String(redactor.scrub(&text)))
    } else {
        (BodyFormat::Text, Value::String(redactor.scrub(&text)))
    };
    let headers = HEADERS_OF_INTEREST
        .iter()
        .filter_map(|h| {
            let v = resp.header_values(h).join(", ");
            (!resp.header_values(h).is_empty()).then(|| ((*h).to_owned(), redactor.scrub(&v)))
        })
        .collect();
    Sample {
        scenario: scenario.id.clone(),
        step: step.to_owned(),
        method: req.method.clone(),
        path: redactor.scrub(&path),
        status: resp.status,
        media_type,
        headers,
        body_format,
        body,
        truncated,
    }
}

fn looks_like_xml(media_type: &str, text: &str) -> bool {
    (media_type.contains("xml") || text.trim_start().starts_with('<'))
        && roxmltree::Document::parse(text.trim_start()).is_ok()
}

/// A file name for an operation id: readable, and unique through a short
/// hash of the id (`GET /a/{x}` and `GET /a/:x` stay apart).
pub fn file_name(operation: &str) -> String {
    let mut slug: String = operation
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    while slug.contains("__") {
        slug = slug.replace("__", "_");
    }
    let slug: String = slug.trim_matches('_').chars().take(100).collect();
    // FNV-1a: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in operation.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{slug}-{:08x}.json", h as u32)
}

impl Recording {
    /// Writes the recording under `dir`, replacing an earlier one there.
    pub fn write(&self, dir: &Path) -> Result<(), RecordingError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| RecordingError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        for profile in &self.manifest.profiles {
            let sub = dir.join(profile);
            if sub.is_dir() {
                for entry in std::fs::read_dir(&sub).map_err(io(&sub))?.flatten() {
                    if entry.path().extension().is_some_and(|e| e == "json") {
                        std::fs::remove_file(entry.path()).map_err(io(&entry.path()))?;
                    }
                }
            }
        }
        for ((profile, op), rec) in &self.operations {
            let sub = dir.join(profile);
            std::fs::create_dir_all(&sub).map_err(io(&sub))?;
            let path = sub.join(file_name(op));
            let text = serde_json::to_string_pretty(rec).unwrap_or_default();
            std::fs::write(&path, text + "\n").map_err(io(&path))?;
        }
        let path = dir.join("recording.json");
        let text = serde_json::to_string_pretty(&self.manifest).unwrap_or_default();
        std::fs::write(&path, text + "\n").map_err(io(&path))
    }

    /// Reads a recording written by [`Recording::write`].
    pub fn read(dir: &Path) -> Result<Recording, RecordingError> {
        let manifest_path = dir.join("recording.json");
        let text =
            std::fs::read_to_string(&manifest_path).map_err(|source| RecordingError::Io {
                path: manifest_path.display().to_string(),
                source,
            })?;
        let invalid = |path: &Path, message: String| RecordingError::Invalid {
            path: path.display().to_string(),
            message,
        };
        let manifest: Manifest =
            serde_json::from_str(&text).map_err(|e| invalid(&manifest_path, e.to_string()))?;
        if manifest.format != FORMAT {
            return Err(invalid(
                &manifest_path,
                format!("format `{}`, expected `{FORMAT}`", manifest.format),
            ));
        }
        let mut operations = BTreeMap::new();
        for profile in &manifest.profiles {
            let sub = dir.join(profile);
            let mut files: Vec<_> = std::fs::read_dir(&sub)
                .map_err(|source| RecordingError::Io {
                    path: sub.display().to_string(),
                    source,
                })?
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "json"))
                .collect();
            files.sort();
            for path in files {
                let text = std::fs::read_to_string(&path).map_err(|source| RecordingError::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                let rec: OperationRecording =
                    serde_json::from_str(&text).map_err(|e| invalid(&path, e.to_string()))?;
                operations.insert((rec.profile.clone(), rec.operation.clone()), rec);
            }
        }
        Ok(Recording {
            manifest,
            operations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_readable_and_distinct() {
        let a = file_name("GET /ws/rs/demographics/{dataId}");
        assert!(a.starts_with("GET_ws_rs_demographics_dataId-"), "{a}");
        assert_ne!(file_name("GET /a/{x}"), file_name("GET /a/:x"));
        assert_eq!(file_name("GET /a"), file_name("GET /a"));
    }
}
