//! `report.html`: one self-contained page (no external resources) with
//! the summary, requirements, expected results, every failure with its
//! request and response (already redacted), what cleanup left behind, the
//! coverage matrix of each profile's documented operations, and the drift
//! against a baseline recording when there is one.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use emr_catalog::{Catalog, ProfileId};

use crate::outcome::{Expectation, ScenarioOutcome, Status, StepOutcome};
use crate::report::requirements;
use crate::suite::SuiteOutcome;

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
main{max-width:1200px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d8dce3;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;width:100%;background:#fff;margin:6px 0}
th,td{border:1px solid #e1e4ea;padding:4px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef0f4;font-weight:600}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#fff;border:1px solid #e1e4ea;padding:8px;overflow:auto;max-height:360px;white-space:pre-wrap;word-break:break-all}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.card{background:#fff;border:1px solid #e1e4ea;border-radius:6px;padding:10px 14px;min-width:110px}
.card b{display:block;font-size:22px}
.passed,.proven,.pass,.good{color:#17803d}.failed,.fail,.bad,.breaking{color:#b42318}
.skipped,.skip,.info,.not_run{color:#9a6700}.accepted,.addition{color:#1f5fbf}
td.pass{background:#e8f5ec}td.fail{background:#fdecea}td.skip{background:#fff6db}td.none{color:#8a93a3}
.tag{display:inline-block;border-radius:3px;padding:0 5px;font-size:12px;font-weight:600;border:1px solid currentColor}
details{background:#fff;border:1px solid #e1e4ea;border-radius:6px;margin:8px 0;padding:6px 10px}
summary{cursor:pointer;font-weight:600}
.muted{color:#5b6576}
"#;

/// A complete page around `body`.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head>\
         <body><main>{body}</main>\
         <script>document.documentElement.dataset.rendered=\"true\";\
         document.documentElement.dataset.failures=String(document.querySelectorAll(\"section#failures details.scenario\").length);</script>\
         </body></html>\n",
        escape(title)
    )
}

/// The whole report.
pub fn render(s: &SuiteOutcome) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>emr-conformance report</h1><p class=\"muted\">{} against {} · {:.3}s · version {}</p>",
        escape(&s.started.to_rfc3339()),
        escape(&s.target),
        s.duration.as_secs_f64(),
        env!("CARGO_PKG_VERSION")
    );
    summary(&mut b, s);
    requirements_section(&mut b, s);
    expected_section(&mut b, s);
    failures(&mut b, s);
    fuzz_section(&mut b, s);
    left_behind(&mut b, s);
    coverage_matrix(&mut b, s);
    scenarios(&mut b, s);
    if let Some(d) = &s.extras.drift {
        b.push_str(&crate::diff::render::html_section(d));
    }
    page("emr-conformance report", &b)
}

fn summary(b: &mut String, s: &SuiteOutcome) {
    let new_failures = s.outcomes.iter().filter(|o| o.is_new_failure()).count();
    let accepted = s
        .outcomes
        .iter()
        .filter(|o| o.is_accepted_failure())
        .count();
    let verdict = if s.passed() {
        "<span class=\"good\">PASSED</span>"
    } else {
        "<span class=\"bad\">FAILED</span>"
    };
    let _ = write!(
        b,
        "<section id=\"summary\" data-passed=\"{}\" data-failed=\"{}\" data-skipped=\"{}\"><h2>Summary: {verdict}</h2><div class=\"cards\">\
         <div class=\"card\"><b>{}</b>scenarios</div>\
         <div class=\"card passed\"><b>{}</b>passed</div>\
         <div class=\"card failed\"><b>{new_failures}</b>failed</div>\
         <div class=\"card accepted\"><b>{accepted}</b>accepted deviations</div>\
         <div class=\"card skipped\"><b>{}</b>skipped</div></div>",
        s.count(Status::Passed),
        new_failures,
        s.count(Status::Skipped),
        s.outcomes.len(),
        s.count(Status::Passed),
        s.count(Status::Skipped),
    );
    if let Some(t) = &s.extras.target {
        let _ = write!(
            b,
            "<p>Target <strong>{}</strong>{}{} · {} · {} · personal data {}</p>",
            escape(&t.label),
            if t.live { " (live)" } else { " (mock)" },
            t.variant
                .as_deref()
                .map(|v| format!(", variant {}", escape(v)))
                .unwrap_or_default(),
            if t.read_only {
                "read-only"
            } else {
                "reads and writes"
            },
            if t.allow_writes || !t.live {
                "writes allowed"
            } else {
                "writes refused"
            },
            if t.personal_data_redacted {
                "redacted"
            } else {
                "shown (synthetic)"
            },
        );
    }
    for c in &s.coverage {
        let parts: Vec<String> = c
            .apis
            .iter()
            .map(|a| format!("{} {}/{}", a.api, a.covered, a.total))
            .collect();
        let _ = write!(
            b,
            "<p>Coverage <strong>{}</strong>: {}/{} documented operations ({})</p>",
            c.profile,
            c.covered,
            c.total,
            escape(&parts.join(", "))
        );
    }
    b.push_str("</section>");
}

fn requirements_section(b: &mut String, s: &SuiteOutcome) {
    let reqs = requirements::group(&s.outcomes);
    if reqs.is_empty() {
        return;
    }
    let (proven, failed, accepted, not_run) = requirements::tally(&reqs);
    let _ = write!(
        b,
        "<section id=\"requirements\"><h2>Requirements</h2><p>{proven} proven, {failed} failed, {accepted} accepted deviations, {not_run} not run.</p>\
         <table><thead><tr><th>requirement</th><th>verdict</th><th>scenarios</th></tr></thead><tbody>"
    );
    for r in &reqs {
        let scen: Vec<String> = r
            .scenarios
            .iter()
            .map(|(id, st)| format!("<span class=\"{}\">{}</span>", st.as_str(), escape(id)))
            .collect();
        let _ = write!(
            b,
            "<tr><td><code>{}</code></td><td class=\"{}\">{}</td><td>{}</td></tr>",
            escape(&r.id),
            r.verdict.as_str().replace(' ', "_"),
            r.verdict.as_str(),
            scen.join("<br>")
        );
    }
    b.push_str("</tbody></table></section>");
}

fn expected_section(b: &mut String, s: &SuiteOutcome) {
    let Some(e) = &s.extras.expected else {
        return;
    };
    let _ = write!(
        b,
        "<section id=\"expected\"><h2>Expected results</h2><p class=\"muted\">{}</p>",
        escape(&e.file)
    );
    let list = |b: &mut String, title: &str, rows: &[(String, String)]| {
        if rows.is_empty() {
            return;
        }
        let _ = write!(b, "<h3>{title}</h3><table><tbody>");
        for (id, reason) in rows {
            let _ = write!(
                b,
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                escape(id),
                escape(reason)
            );
        }
        b.push_str("</tbody></table>");
    };
    list(b, "Accepted deviations (failed as expected)", &e.accepted);
    list(b, "Now passing: remove these entries", &e.now_passing);
    let unused: Vec<(String, String)> = e
        .unused
        .iter()
        .map(|u| (u.scenario.clone(), u.reason.clone()))
        .collect();
    list(b, "Entries that matched no scenario of this run", &unused);
    b.push_str("</section>");
}

fn step_html(b: &mut String, i: usize, step: &StepOutcome) {
    let _ = write!(
        b,
        "<h3>step {} “{}” <span class=\"tag {}\">{}</span></h3>",
        i + 1,
        escape(&step.name),
        step.status.as_str(),
        step.status.as_str()
    );
    if !step.failures.is_empty() {
        b.push_str("<ul>");
        for f in &step.failures {
            let _ = write!(
                b,
                "<li><code>{}</code>: {}</li>",
                escape(&f.subject),
                escape(&f.message)
            );
            if let Some(d) = &f.diff {
                let _ = write!(b, "<pre>{}</pre>", escape(d));
            }
        }
        b.push_str("</ul>");
    }
    if let Some(x) = &step.exchange {
        exchange_html(b, x);
    }
    if let Some(f) = &step.fuzz {
        for k in f.kinds.iter().filter(|k| k.failure.is_some()) {
            if let Some(fail) = &k.failure {
                let _ = write!(
                    b,
                    "<p>Minimal mutant of <code>{}</code> ({} simplifications): {}</p><p class=\"muted\">Replay: <code>{}</code></p>",
                    escape(&k.kind),
                    fail.shrink_steps,
                    escape(&fail.mutant),
                    escape(&fail.replay)
                );
                if let Some(x) = &fail.exchange {
                    exchange_html(b, x);
                }
            }
        }
    }
}

fn exchange_html(b: &mut String, x: &crate::outcome::Exchange) {
    let mut req = format!("{} {}\n", x.method, x.url);
    for (n, v) in &x.request_headers {
        let _ = writeln!(req, "{n}: {v}");
    }
    if let Some(body) = &x.request_body {
        let _ = write!(req, "\n{body}");
    }
    let _ = write!(
        b,
        "<p>Request</p><pre class=\"request\">{}</pre>",
        escape(&req)
    );
    let resp = format!(
        "HTTP {} {}\n\n{}",
        x.status.map(|s| s.to_string()).unwrap_or_default(),
        x.content_type.as_deref().unwrap_or(""),
        x.response_body.as_deref().unwrap_or("")
    );
    let _ = write!(
        b,
        "<p>Response</p><pre class=\"response\">{}</pre>",
        escape(&resp)
    );
}

fn failures(b: &mut String, s: &SuiteOutcome) {
    let failed: Vec<&ScenarioOutcome> = s
        .outcomes
        .iter()
        .filter(|o| o.status == Status::Failed)
        .collect();
    let _ = write!(
        b,
        "<section id=\"failures\"><h2>Failures ({})</h2>",
        failed.len()
    );
    if failed.is_empty() {
        b.push_str("<p class=\"good\">No scenario failed.</p>");
    }
    for o in failed {
        let accepted = match &o.expectation {
            Some(Expectation::AcceptedFailure { reason }) => format!(
                " <span class=\"tag accepted\">accepted: {}</span>",
                escape(reason)
            ),
            _ => String::new(),
        };
        let _ = write!(
            b,
            "<details class=\"scenario\" open><summary><span class=\"failed\">FAIL</span> <code>{}</code> {}{accepted}</summary><p class=\"muted\">{}</p>",
            escape(&o.id),
            escape(&o.name),
            escape(&o.file)
        );
        if !o.failures.is_empty() {
            b.push_str("<ul>");
            for f in &o.failures {
                let _ = write!(
                    b,
                    "<li><code>{}</code>: {}</li>",
                    escape(&f.subject),
                    escape(&f.message)
                );
            }
            b.push_str("</ul>");
        }
        for (i, step) in o.steps.iter().enumerate() {
            if step.status == Status::Failed {
                step_html(b, i, step);
            }
        }
        for (i, step) in o.cleanup.iter().enumerate() {
            if step.status == Status::Failed {
                b.push_str("<p><strong>cleanup</strong></p>");
                step_html(b, i, step);
            }
        }
        b.push_str("</details>");
    }
    b.push_str("</section>");
}

/// Per fuzz family: cases, speed, and mutants wrongly accepted (must be 0).
fn fuzz_section(b: &mut String, s: &SuiteOutcome) {
    let (families, seeds) = crate::fuzz::totals(&s.outcomes);
    if families.is_empty() {
        return;
    }
    let seeds: Vec<String> = seeds.iter().map(u64::to_string).collect();
    let _ = write!(
        b,
        "<section id=\"fuzz\"><h2>Fuzzing</h2><p class=\"muted\">Seed {}. Every family's mutants must get the answer its profile gives (harness/data/fuzz.yaml); mutants that must be refused and were accepted are counted apart: that column must be 0.</p>\
         <table><thead><tr><th>family</th><th>kind runs</th><th>cases</th><th>cases/s</th><th>accepted (must be 0)</th><th>wrong answers</th></tr></thead><tbody>",
        escape(&seeds.join(", "))
    );
    for f in &families {
        let class = if f.violations > 0 { "failed" } else { "passed" };
        let _ = write!(
            b,
            "<tr class=\"{class}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{:.1}</td><td>{}</td><td>{}</td></tr>",
            escape(&f.family),
            f.kind_runs,
            f.cases,
            f.cases_per_second,
            f.accepted_wrongly,
            f.violations
        );
    }
    b.push_str("</tbody></table></section>");
}

fn left_behind(b: &mut String, s: &SuiteOutcome) {
    let left: Vec<(&str, &String)> = s
        .outcomes
        .iter()
        .flat_map(|o| o.left_behind.iter().map(move |l| (o.id.as_str(), l)))
        .collect();
    if left.is_empty() {
        return;
    }
    b.push_str("<section id=\"left-behind\"><h2>Left on the target</h2><table><tbody>");
    for (id, l) in left {
        let _ = write!(
            b,
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            escape(id),
            escape(l)
        );
    }
    b.push_str("</tbody></table></section>");
}

/// Scenarios that passed, failed, skipped on one operation.
type Cell<'a> = (Vec<&'a str>, Vec<&'a str>, Vec<&'a str>);

/// Per profile, every documented operation × the scenarios that passed,
/// failed or skipped on it.
fn coverage_matrix(b: &mut String, s: &SuiteOutcome) {
    b.push_str("<section id=\"coverage\"><h2>Coverage matrix</h2><p class=\"muted\">Every documented operation of each profile, with the scenarios that passed, failed or were skipped on it.</p>");
    let profiles: Vec<ProfileId> = s.coverage.iter().map(|c| c.profile).collect();
    for p in profiles {
        let catalog = Catalog::of(p);
        let mut cells: BTreeMap<&str, Cell> = BTreeMap::new();
        for o in s.outcomes.iter().filter(|o| o.profile == p) {
            let ops: Vec<&str> = if o.status == Status::Skipped {
                o.exercised
                    .iter()
                    .chain(o.covers.iter())
                    .map(String::as_str)
                    .collect()
            } else {
                o.exercised.iter().map(String::as_str).collect()
            };
            for op in ops {
                let e = cells.entry(op).or_default();
                match o.status {
                    Status::Passed => e.0.push(&o.id),
                    Status::Failed => e.1.push(&o.id),
                    Status::Skipped => e.2.push(&o.id),
                }
            }
        }
        let mut by_api: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut counts: BTreeMap<&str, (usize, usize, usize, usize)> = BTreeMap::new();
        for op in catalog.operations() {
            let api = op.api.as_str();
            let (pass, fail, skip) = cells.get(op.id.as_str()).cloned().unwrap_or_default();
            let class = if !fail.is_empty() {
                "fail"
            } else if !pass.is_empty() {
                "pass"
            } else if !skip.is_empty() {
                "skip"
            } else {
                "none"
            };
            let c = counts.entry(api).or_default();
            match class {
                "pass" => c.0 += 1,
                "fail" => c.1 += 1,
                "skip" => c.2 += 1,
                _ => c.3 += 1,
            }
            let list = |v: &[&str]| v.iter().map(|x| escape(x)).collect::<Vec<_>>().join("<br>");
            by_api.entry(api).or_default().push(format!(
                "<tr data-status=\"{class}\"><td><code>{}</code></td><td>{}</td><td class=\"{}\">{}</td><td class=\"{}\">{}</td><td class=\"{}\">{}</td></tr>",
                escape(&op.id),
                op.access().as_str(),
                if pass.is_empty() { "none" } else { "pass" },
                list(&pass),
                if fail.is_empty() { "none" } else { "fail" },
                list(&fail),
                if skip.is_empty() { "none" } else { "skip" },
                list(&skip),
            ));
        }
        let _ = write!(b, "<h3>{p}</h3>");
        for (api, rows) in by_api {
            let (pass, fail, skip, none) = counts.get(api).copied().unwrap_or_default();
            let _ = write!(
                b,
                "<details class=\"matrix\" data-profile=\"{p}\" data-api=\"{api}\"{}><summary>{api}: {} operations · <span class=\"pass\">{pass} pass</span> · <span class=\"fail\">{fail} fail</span> · <span class=\"skip\">{skip} skip</span> · {none} not exercised</summary>\
                 <table><thead><tr><th>operation</th><th>access</th><th>passed</th><th>failed</th><th>skipped</th></tr></thead><tbody>{}</tbody></table></details>",
                if fail > 0 { " open" } else { "" },
                rows.len(),
                rows.join("")
            );
        }
    }
    b.push_str("</section>");
}

fn scenarios(b: &mut String, s: &SuiteOutcome) {
    b.push_str("<section id=\"scenarios\"><h2>Scenarios</h2><table><thead><tr><th>scenario</th><th>status</th><th>time</th><th>note</th></tr></thead><tbody>");
    for o in &s.outcomes {
        let note = match (&o.expectation, &o.skip_reason) {
            (Some(Expectation::AcceptedFailure { reason }), _) => {
                format!("accepted deviation: {reason}")
            }
            (Some(Expectation::NowPasses { reason }), _) => {
                format!("listed as an expected failure ({reason}) but passes now")
            }
            (None, Some(r)) => r.clone(),
            (None, None) => String::new(),
        };
        let _ = write!(
            b,
            "<tr><td><code>{}</code><br><span class=\"muted\">{}</span></td><td class=\"{}\">{}</td><td>{:.3}s</td><td>{}</td></tr>",
            escape(&o.id),
            escape(&o.name),
            o.status.as_str(),
            o.status.as_str(),
            o.duration.as_secs_f64(),
            escape(&note)
        );
    }
    b.push_str("</tbody></table></section>");
}
