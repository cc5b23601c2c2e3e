//! Reports of a run: the console, JUnit XML for CI, and JSON for tools.

pub mod console;
pub mod json;
pub mod junit;

use std::path::{Path, PathBuf};

use crate::suite::SuiteOutcome;

/// Writes `junit.xml` and `report.json` into `dir`; returns their paths.
pub fn write_files(outcome: &SuiteOutcome, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let junit = dir.join("junit.xml");
    std::fs::write(&junit, junit::render(outcome))?;
    let json = dir.join("report.json");
    std::fs::write(&json, json::render(outcome))?;
    Ok(vec![junit, json])
}
