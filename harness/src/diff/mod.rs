//! Upgrade comparison: record a target's responses (`run --snapshot-dir`),
//! then compare two recordings by shape (`diff BEFORE AFTER`).

pub mod compare;
pub mod recording;
pub mod render;
pub mod shape;

pub use compare::{compare, Change, ChangeKind, Drift, Incomparable, Severity};
pub use recording::{Recorder, Recording, RecordingError};
