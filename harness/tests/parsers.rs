//! Fuzz target for the scenario loader: scenario files are input written
//! by people, so any text must load or give errors that point at a place
//! (`file:line:column`), never panic or hang.
//!
//! CI runs a few cases; run many, outside CI, with
//!
//! ```sh
//! FUZZ_CASES=100000 cargo test --release -p emr-harness --test parsers -- --ignored
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Real scenario files, to mutate.
fn corpus() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = vec![root];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml") {
                if let Ok(t) = std::fs::read_to_string(&p) {
                    out.push(t);
                }
            }
        }
    }
    out.sort();
    out
}

/// A scenario file with a few edits: characters inserted or removed,
/// YAML punctuation, templates and keys dropped in at random places.
fn mutated(corpus: Vec<String>) -> impl Strategy<Value = String> {
    let edit = (
        any::<usize>(),
        prop_oneof![
            Just(String::new()),
            any::<char>().prop_map(|c| c.to_string()),
            "[-:{}\\[\\],'\"&*!|>%@` #\\n\\t]{1,3}",
            "\\{\\{[a-z_.\\[\\]0-9]{0,12}\\}?\\}?",
            "(fuzz|expect|auth|request|soap|steps|profile|repeat|poll|status|json|xml|capture): ?",
        ],
    );
    let n = corpus.len().max(1);
    (0..n, proptest::collection::vec(edit, 1..6)).prop_map(move |(pick, edits)| {
        let mut text: Vec<char> = corpus
            .get(pick)
            .map_or(String::new(), Clone::clone)
            .chars()
            .collect();
        for (at, s) in edits {
            let i = at % (text.len() + 1);
            if s.is_empty() {
                if i < text.len() {
                    text.remove(i);
                }
            } else {
                for (k, c) in s.chars().enumerate() {
                    text.insert((i + k).min(text.len()), c);
                }
            }
        }
        text.into_iter().collect::<String>()
    })
}

fn target(cases: u32) {
    let corpus = corpus();
    assert!(!corpus.is_empty(), "no scenario files found");
    let strategy = prop_oneof![mutated(corpus), any::<String>()];
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&strategy, |text| {
            let started = Instant::now();
            let result = emr_harness::scenario::parse(Path::new("fuzz.yaml"), "fuzz".into(), &text);
            if let Err(errors) = result {
                prop_assert!(!errors.is_empty());
                for e in errors {
                    prop_assert!(e.to_string().starts_with("fuzz.yaml"), "{e}");
                }
            }
            prop_assert!(started.elapsed() < Duration::from_secs(2));
            Ok(())
        })
        .unwrap();
}

#[test]
fn scenario_files_smoke() {
    target(48);
}

#[test]
#[ignore = "a long fuzz run; see the file's header"]
fn scenario_files_fuzz() {
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    target(cases);
}
