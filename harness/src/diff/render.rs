//! A drift for people (console, HTML) and tools (JSON).

use std::fmt::Write as _;

use super::compare::{Drift, Severity};
use crate::report::html::{escape, page};

/// The console text: a summary line, then each changed operation with its
/// changes, breaking ones marked.
pub fn console(d: &Drift, color: bool) -> String {
    let paint = |code: &str, t: &str| {
        if color {
            format!("\x1b[{code}m{t}\x1b[0m")
        } else {
            t.to_owned()
        }
    };
    let mut out = String::new();
    let _ = writeln!(out, "Comparing {} → {}", d.before, d.after);
    for op in &d.operations {
        let _ = writeln!(out);
        let head = format!("{}  {}", op.profile, op.operation);
        let _ = writeln!(
            out,
            "{}",
            if op.breaking() {
                paint("1;31", &head)
            } else {
                paint("1", &head)
            }
        );
        for c in &op.changes {
            let tag = match c.severity {
                Severity::Breaking => paint("31", "  BREAKING "),
                Severity::Addition => paint("32", "  added    "),
                Severity::Info => paint("33", "  changed  "),
            };
            let sample = c
                .sample
                .as_deref()
                .map(|s| format!("  [{s}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "{tag}{}{sample}", c.message);
        }
    }
    let s = &d.summary;
    let verdict = if d.has_breaking() {
        paint("1;31", "Breaking drift")
    } else {
        paint("1;32", "No breaking drift")
    };
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{verdict}: {} operations compared, {} changed: {} breaking, {} additions, {} other changes",
        s.operations_compared, s.operations_changed, s.breaking, s.additions, s.info
    );
    out
}

/// The drift as JSON.
pub fn json(d: &Drift) -> String {
    serde_json::to_string_pretty(d).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}

/// The drift as an HTML section (used inside the run report too).
pub fn html_section(d: &Drift) -> String {
    let mut h = String::new();
    let s = &d.summary;
    let _ = write!(
        h,
        "<section id=\"drift\"><h2>API drift</h2><p>{} → {}</p>\
         <p class=\"{}\" data-breaking=\"{}\"><strong>{}</strong>: {} operations compared, {} changed: \
         {} breaking, {} additions, {} other changes.</p>",
        escape(&d.before),
        escape(&d.after),
        if d.has_breaking() { "bad" } else { "good" },
        s.breaking,
        if d.has_breaking() {
            "Breaking drift"
        } else {
            "No breaking drift"
        },
        s.operations_compared,
        s.operations_changed,
        s.breaking,
        s.additions,
        s.info
    );
    if !d.operations.is_empty() {
        h.push_str("<table class=\"drift\"><thead><tr><th>operation</th><th>change</th><th>where</th><th>before</th><th>after</th></tr></thead><tbody>");
        for op in &d.operations {
            for (i, c) in op.changes.iter().enumerate() {
                let _ = write!(
                    h,
                    "<tr class=\"{}\"><td>{}</td><td><span class=\"tag {}\">{}</span> {}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                    c.severity.as_str(),
                    if i == 0 {
                        format!("{} <code>{}</code>", escape(&op.profile), escape(&op.operation))
                    } else {
                        String::new()
                    },
                    c.severity.as_str(),
                    c.severity.as_str(),
                    escape(&c.message),
                    escape(c.sample.as_deref().unwrap_or("")),
                    escape(c.before.as_deref().unwrap_or("")),
                    escape(c.after.as_deref().unwrap_or("")),
                );
            }
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>");
    h
}

/// A standalone HTML page of the drift (`diff`'s `drift.html`).
pub fn html_page(d: &Drift) -> String {
    page(
        "emr-conformance: API drift",
        &format!("<h1>API drift</h1>{}", html_section(d)),
    )
}
