//! `junit.xml`: one testsuite per profile, one testcase per scenario, as
//! CI systems read it.

use std::collections::BTreeMap;

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::outcome::{ScenarioOutcome, Status};
use crate::suite::SuiteOutcome;

pub fn render(s: &SuiteOutcome) -> String {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing into a Vec cannot fail.
    let _ = write(&mut w, s);
    String::from_utf8(w.into_inner()).unwrap_or_default()
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

fn write(w: &mut Writer<Vec<u8>>, s: &SuiteOutcome) -> quick_xml::Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let mut by_profile: BTreeMap<String, Vec<&ScenarioOutcome>> = BTreeMap::new();
    for o in &s.outcomes {
        by_profile.entry(o.profile.to_string()).or_default().push(o);
    }
    let mut root = BytesStart::new("testsuites");
    root.push_attribute(("name", "emr-conformance"));
    root.push_attribute(("tests", s.outcomes.len().to_string().as_str()));
    let accepted = s
        .outcomes
        .iter()
        .filter(|o| o.is_accepted_failure())
        .count();
    root.push_attribute((
        "failures",
        (s.count(Status::Failed) - accepted).to_string().as_str(),
    ));
    root.push_attribute((
        "skipped",
        (s.count(Status::Skipped) + accepted).to_string().as_str(),
    ));
    root.push_attribute(("time", secs(s.duration).as_str()));
    w.write_event(Event::Start(root))?;
    for (profile, outcomes) in by_profile {
        let accepted = outcomes.iter().filter(|o| o.is_accepted_failure()).count();
        let count = |st: Status| {
            let n = outcomes.iter().filter(|o| o.status == st).count();
            match st {
                Status::Failed => n - accepted,
                Status::Skipped => n + accepted,
                Status::Passed => n,
            }
            .to_string()
        };
        let time: std::time::Duration = outcomes.iter().map(|o| o.duration).sum();
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", profile.as_str()));
        suite.push_attribute(("tests", outcomes.len().to_string().as_str()));
        suite.push_attribute(("failures", count(Status::Failed).as_str()));
        suite.push_attribute(("errors", "0"));
        suite.push_attribute(("skipped", count(Status::Skipped).as_str()));
        suite.push_attribute(("time", secs(time).as_str()));
        suite.push_attribute((
            "timestamp",
            s.started.format("%Y-%m-%dT%H:%M:%S").to_string().as_str(),
        ));
        w.write_event(Event::Start(suite))?;
        for o in outcomes {
            testcase(w, o)?;
        }
        w.write_event(Event::End(BytesEnd::new("testsuite")))?;
    }
    w.write_event(Event::End(BytesEnd::new("testsuites")))?;
    Ok(())
}

fn testcase(w: &mut Writer<Vec<u8>>, o: &ScenarioOutcome) -> quick_xml::Result<()> {
    let mut case = BytesStart::new("testcase");
    case.push_attribute(("name", o.id.as_str()));
    case.push_attribute(("classname", o.profile.as_str()));
    case.push_attribute(("file", o.file.as_str()));
    case.push_attribute(("time", secs(o.duration).as_str()));
    w.write_event(Event::Start(case))?;
    if !o.requirements.is_empty() {
        w.write_event(Event::Start(BytesStart::new("properties")))?;
        for r in &o.requirements {
            let mut p = BytesStart::new("property");
            p.push_attribute(("name", "requirement"));
            p.push_attribute(("value", r.as_str()));
            w.write_event(Event::Empty(p))?;
        }
        w.write_event(Event::End(BytesEnd::new("properties")))?;
    }
    match o.status {
        // An accepted deviation does not fail CI: reported as skipped,
        // with the reason, as test runners report expected failures.
        Status::Failed if o.is_accepted_failure() => {
            let reason = match &o.expectation {
                Some(crate::outcome::Expectation::AcceptedFailure { reason }) => reason.as_str(),
                _ => "",
            };
            let mut skipped = BytesStart::new("skipped");
            let message = format!("expected failure: {reason}");
            skipped.push_attribute(("message", message.as_str()));
            w.write_event(Event::Empty(skipped))?;
        }
        Status::Failed => {
            let failures = o.all_failures();
            let first = failures
                .first()
                .map(|(_, f)| format!("{}: {}", f.subject, f.message))
                .unwrap_or_else(|| "failed".into());
            let mut detail = Vec::new();
            let _ = crate::report::console::failure_details(
                o,
                &mut detail,
                crate::report::console::Style { color: false },
            );
            let mut failure = BytesStart::new("failure");
            failure.push_attribute(("message", first.as_str()));
            failure.push_attribute((
                "type",
                failures.first().map_or("failure", |(_, f)| kind(f.kind)),
            ));
            w.write_event(Event::Start(failure))?;
            w.write_event(Event::Text(BytesText::new(&String::from_utf8_lossy(
                &detail,
            ))))?;
            w.write_event(Event::End(BytesEnd::new("failure")))?;
        }
        Status::Skipped => {
            let mut skipped = BytesStart::new("skipped");
            if let Some(r) = &o.skip_reason {
                skipped.push_attribute(("message", r.as_str()));
            }
            w.write_event(Event::Empty(skipped))?;
        }
        Status::Passed => {}
    }
    let log: Vec<String> = o
        .steps
        .iter()
        .map(|s| {
            format!(
                "{} {} [{:.3}s]",
                s.status.as_str(),
                s.name,
                s.duration.as_secs_f64()
            )
        })
        .collect();
    w.write_event(Event::Start(BytesStart::new("system-out")))?;
    w.write_event(Event::Text(BytesText::new(&log.join("\n"))))?;
    w.write_event(Event::End(BytesEnd::new("system-out")))?;
    w.write_event(Event::End(BytesEnd::new("testcase")))?;
    Ok(())
}

fn kind(k: crate::outcome::FailureKind) -> &'static str {
    use crate::outcome::FailureKind::*;
    match k {
        Status => "status",
        Header => "header",
        Json => "json",
        Body => "body",
        Xml => "xml",
        Fault => "fault",
        Capture => "capture",
        Snapshot => "snapshot",
        Transport => "transport",
        Template => "template",
        Auth => "auth",
        Coverage => "coverage",
        Setup => "setup",
        Safety => "safety",
        Cleanup => "cleanup",
        Schema => "schema",
        Fuzz => "fuzz",
    }
}
