//! The CLI contract: exit codes, report files, the `mock` command's first
//! line and clean shutdown, `list`.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_emr-conformance"))
}

/// A scenarios directory with the given files.
fn scenarios(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("scenarios");
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const PASSING: &str = "name: refused without a session\nprofile: oscar\ntags: [smoke]\ncovers: [GET /ws/rs/status/checkIfAuthed]\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n    expect: {status: 401, body: <error>Not authorized</error>}\n";
const FAILING: &str = "name: wrong on purpose\nprofile: juno\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n    expect:\n      status: 200\n      headers: {content-type: application/json}\n";

fn run(dir: &Path, extra: &[&str]) -> (i32, String, String) {
    let out = bin()
        .args(["run", "--scenarios"])
        .arg(dir.join("scenarios"))
        .arg("--report-dir")
        .arg(dir.join("reports"))
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn passing_suite_exits_0_and_writes_valid_reports() {
    let dir = scenarios(&[("oscar/a.yaml", PASSING)]);
    let (code, stdout, _) = run(dir.path(), &[]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("PASS"), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
    assert!(stdout.contains("Coverage oscar: 1/"), "{stdout}");

    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(root.attribute("tests"), Some("1"));
    assert_eq!(root.attribute("failures"), Some("0"));
    let case = root
        .descendants()
        .find(|n| n.has_tag_name("testcase"))
        .unwrap();
    assert_eq!(case.attribute("name"), Some("oscar/a"));
    assert_eq!(case.attribute("classname"), Some("oscar"));

    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["summary"]["passed"], 1);
    assert_eq!(
        json["scenarios"][0]["exercised"][0],
        "GET /ws/rs/status/checkIfAuthed"
    );
    assert_eq!(json["coverage"][0]["profile"], "oscar");
    assert_eq!(json["coverage"][0]["covered"], 1);

    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("id=\"coverage\""));
}

#[test]
fn auth_and_diff_refuse_what_they_cannot_do() {
    let dir = tempfile::tempdir().unwrap();
    let auth = |extra: &[&str]| {
        bin()
            .args([
                "auth",
                "--target",
                "http://127.0.0.1:9/oscar",
                "--profile",
                "oscar",
            ])
            .args(extra)
            .env("EMR_CONFORMANCE_CONFIG_DIR", dir.path())
            .output()
            .unwrap()
    };
    // A URL target has no client: the OAuth 1.0a flow says what it needs.
    let out = auth(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("oauth1.clients"),
        "{out:?}"
    );
    let out = auth(&["--driver", "oauth2"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no interactive flow `oauth2` for the oscar profile"),
        "{out:?}"
    );
    let out = auth(&["--show"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing stored for 127.0.0.1_9_oscar"));
    let out = bin()
        .args(["diff", "a-missing-dir", "another"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_failing_scenario_exits_1_and_says_why() {
    let dir = scenarios(&[("oscar/a.yaml", PASSING), ("juno/b.yaml", FAILING)]);
    let (code, stdout, _) = run(dir.path(), &[]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    assert!(stdout.contains("status: expected 200, got 401"), "{stdout}");
    assert!(
        stdout.contains("header content-type: expected \"application/json\", got \"text/xml\""),
        "{stdout}"
    );

    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    assert_eq!(doc.root_element().attribute("failures"), Some("1"));
    let failure = doc
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(failure.attribute("type"), Some("status"));
    assert!(failure.text().unwrap().contains("expected 200, got 401"));

    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("reports/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["summary"]["failed"], 1);
}

#[test]
fn invalid_files_and_arguments_exit_2() {
    let dir = scenarios(&[
        ("oscar/a.yaml", PASSING),
        ("oscar/bad.yaml", "name: x\nprofile: oscar\nstepz: []\n"),
    ]);
    let (code, _, stderr) = run(dir.path(), &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("bad.yaml:3:1: unknown field `stepz`"),
        "{stderr}"
    );

    let dir = scenarios(&[("oscar/a.yaml", PASSING)]);
    assert_eq!(run(dir.path(), &["--profile", "oscar20"]).0, 2);
    assert_eq!(run(dir.path(), &["--filter", "matches-nothing"]).0, 2);
    assert_eq!(
        run(dir.path(), &["--target", "http://127.0.0.1:9"]).0,
        2,
        "a URL needs --profile"
    );
    assert_eq!(run(dir.path(), &["--jobs", "many"]).0, 2);
}

#[test]
fn filters_select_by_id_and_profile() {
    let dir = scenarios(&[("oscar/a.yaml", PASSING), ("juno/b.yaml", FAILING)]);
    assert_eq!(run(dir.path(), &["--filter", "oscar/a"]).0, 0);
    assert_eq!(run(dir.path(), &["--profile", "oscar"]).0, 0);
    assert_eq!(run(dir.path(), &["--profile", "juno"]).0, 1);
}

#[test]
fn mock_prints_its_address_first_and_stops_on_interrupt() {
    let mut child = bin()
        .args(["mock", "--profile", "open-o", "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"),
        "{line}"
    );

    let health = reqwest::blocking_get(&format!("{url}/__admin/health"));
    assert!(health.contains("\"profile\":\"open-o\""), "{health}");

    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "{status:?}");
            break;
        }
        assert!(Instant::now() < deadline, "the mock did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn list_shows_scenarios_tags_and_coverage() {
    let dir = scenarios(&[("oscar/a.yaml", PASSING)]);
    let out = bin()
        .args(["list", "--profile", "oscar", "--scenarios"])
        .arg(dir.path().join("scenarios"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(stdout.contains("oscar/a  (oscar)  [smoke]"), "{stdout}");
    assert!(
        stdout.contains("covers GET /ws/rs/status/checkIfAuthed"),
        "{stdout}"
    );
    assert!(
        stdout.contains("oscar: 1 of 405 documented operations"),
        "{stdout}"
    );
}

/// A tiny blocking GET without pulling reqwest's blocking feature.
mod reqwest {
    pub fn blocking_get(url: &str) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async { ::reqwest::get(url).await.unwrap().text().await.unwrap() })
    }
}
