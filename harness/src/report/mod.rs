//! Reports of a run: the console, JUnit XML for CI, JSON for tools, and
//! one self-contained HTML page for people.

pub mod console;
pub mod extras;
pub mod html;
pub mod json;
pub mod junit;
pub mod progress;
pub mod requirements;

use std::path::{Path, PathBuf};

use crate::redact::Redactor;
use crate::suite::SuiteOutcome;

/// Writes `junit.xml`, `report.json` and `report.html` into `dir`;
/// returns their paths.
pub fn write_files(outcome: &SuiteOutcome, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    write_files_scrubbed(outcome, dir, &Redactor::default())
}

/// [`write_files`], every file scrubbed once more with `redactor` as it
/// is written: the last line of defence for secrets registered late.
pub fn write_files_scrubbed(
    outcome: &SuiteOutcome,
    dir: &Path,
    redactor: &Redactor,
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let files = [
        ("junit.xml", junit::render(outcome)),
        ("report.json", json::render(outcome)),
        ("report.html", html::render(outcome)),
    ];
    let mut paths = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, redactor.scrub(&text))?;
        paths.push(path);
    }
    Ok(paths)
}
