//! Live-target safety, secrets, upgrade comparison and certification,
//! through the command as users run it. "Live" servers here are the mock
//! started with `emr-conformance mock` and addressed by URL or target
//! file, so its request journal shows what really reached it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_emr-conformance"))
}

/// A mock served by the command, stopped on drop.
struct Mock {
    child: Child,
    url: String,
}

impl Mock {
    fn start(profile: &str) -> Mock {
        let mut child = bin()
            .args(["mock", "--profile", profile, "--addr", "127.0.0.1:0"])
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
        Mock { child, url }
    }

    /// Every request the mock's journal holds, as (method, path).
    fn journal(&self) -> Vec<(String, String)> {
        let body = get(&format!("{}/__admin/requests", self.url));
        let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
        doc["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["method"].as_str().unwrap().to_owned(),
                    r["path"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(url: &str) -> String {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { reqwest::get(url).await.unwrap().text().await.unwrap() })
}

fn write(root: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = bin();
    cmd.current_dir(dir)
        .args(["run", "--scenarios", "scenarios", "--report-dir", "reports"])
        .args(args)
        .env("EMR_CONFORMANCE_CONFIG_DIR", dir.join("config"))
        .env_remove("CI");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("reports/report.json")).unwrap())
        .unwrap()
}

const MIXED: &str = r#"
name: reads and writes
profile: oscar
covers: [GET /ws/rs/status/checkIfAuthed]
steps:
  - name: read first
    request: {path: /ws/rs/status/checkIfAuthed}
    expect: {status: 401}
  - name: a head request
    request: {method: HEAD, path: /ws/rs/status/checkIfAuthed}
  - name: create
    request: {method: POST, path: /ws/rs/demographics, json: {lastName: '{{synthetic.last_name}}'}}
  - name: read again
    request: {path: /ws/rs/status/checkIfAuthed}
cleanup:
  - request: {method: DELETE, path: '/ws/rs/demographics/{{synthetic.marker}}'}
"#;

const READS: &str = "name: only reads\nprofile: oscar\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n    expect: {status: 401}\n";

#[test]
fn read_only_runs_send_nothing_but_reads() {
    let mock = Mock::start("oscar");
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("scenarios/oscar/mixed.yaml", MIXED),
            ("scenarios/oscar/reads.yaml", READS),
        ],
    );
    let r = run(
        dir.path(),
        &[
            "--target",
            &mock.url,
            "--profile",
            "oscar",
            "--read-only",
            "--rate-limit",
            "100",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let journal = mock.journal();
    assert!(!journal.is_empty());
    assert!(
        journal.iter().all(|(m, _)| m == "GET" || m == "HEAD"),
        "only reads reach the server: {journal:?}"
    );
    assert_eq!(
        journal.iter().filter(|(m, _)| m == "GET").count(),
        2,
        "{journal:?}"
    );
    let doc = report(dir.path());
    let mixed = &doc["scenarios"][0];
    assert_eq!(mixed["status"], "passed");
    assert_eq!(
        mixed["steps"][2]["skip_reason"],
        "skipped: write in read-only mode"
    );
    assert_eq!(
        mixed["steps"][3]["skip_reason"],
        "skipped: follows a write skipped in read-only mode"
    );
    assert_eq!(
        mixed["cleanup"][0]["skip_reason"],
        "skipped: write in read-only mode"
    );
    assert!(
        r.stdout.contains("2 of 4 steps not sent: read-only mode"),
        "{}",
        r.stdout
    );
}

#[test]
fn writes_to_a_live_target_need_allow_writes_and_follow_the_rules() {
    let mock = Mock::start("oscar");
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("scenarios/oscar/mixed.yaml", MIXED)]);
    let base = [
        "--target",
        &mock.url,
        "--profile",
        "oscar",
        "--rate-limit",
        "100",
    ];

    let r = run(dir.path(), &base, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("refusing to send writes to the live target")
            && r.stderr.contains("oscar/mixed (step `create`)")
            && r.stderr.contains("--allow-writes"),
        "{}",
        r.stderr
    );
    assert!(mock.journal().is_empty(), "nothing was sent");

    // A write scenario without synthetic data or cleanup is refused.
    write(
        dir.path(),
        &[(
            "scenarios/oscar/mixed.yaml",
            "name: unmarked\nprofile: oscar\nsteps:\n  - request: {method: POST, path: /ws/rs/demographics, json: {lastName: Lee}}\n",
        )],
    );
    let r = run(dir.path(), &[&base[..], &["--allow-writes"]].concat(), &[]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("must mark the records it creates as synthetic"),
        "{}",
        r.stdout
    );
    assert!(mock.journal().is_empty(), "still nothing was sent");

    // A marked scenario runs, and its cleanup runs after a failure; what
    // cleanup could not remove is reported.
    write(
        dir.path(),
        &[(
            "scenarios/oscar/mixed.yaml",
            "name: marked\nprofile: oscar\nsteps:\n  - name: create\n    request: {method: POST, path: /ws/rs/demographics, json: {lastName: '{{synthetic.last_name}}'}}\n    expect: {status: 200}\n    capture: {id: {json: $.id}}\ncleanup:\n  - name: delete it\n    request: {method: DELETE, path: '/ws/rs/demographics/{{synthetic.marker}}'}\n    expect: {status: 200}\n  - name: never captured\n    request: {method: DELETE, path: '/ws/rs/demographics/{{id}}'}\n",
        )],
    );
    let r = run(dir.path(), &[&base[..], &["--allow-writes"]].concat(), &[]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    let methods: Vec<String> = mock.journal().into_iter().map(|(m, _)| m).collect();
    assert_eq!(methods, ["POST", "DELETE"], "the write, then its cleanup");
    assert!(r.stdout.contains("Left on the target:"), "{}", r.stdout);
    assert!(
        r.stdout.contains("cleanup step `delete it` failed"),
        "{}",
        r.stdout
    );
    let doc = report(dir.path());
    let s = &doc["scenarios"][0];
    assert_eq!(
        s["cleanup"][1]["skip_reason"],
        "skipped: nothing to clean up (`id` was never captured)"
    );
    assert!(
        s["left_behind"][0].as_str().unwrap().contains("DELETE"),
        "{s}"
    );
}

#[test]
fn a_read_only_target_file_cannot_be_overridden_and_insecure_warns() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("scenarios/oscar/reads.yaml", READS),
            ("prod.yaml", "url: http://127.0.0.1:9/oscar\nprofile: oscar\nread_only: true\ntls: {insecure: true}\n"),
        ],
    );
    let r = run(
        dir.path(),
        &["--target", "prod.yaml", "--allow-writes"],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is read-only"), "{}", r.stderr);
    let r = run(
        dir.path(),
        &["--target", "prod.yaml", "--timeout", "2"],
        &[],
    );
    assert!(
        r.stderr.contains("warning: TLS certificates"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("read-only"), "{}", r.stdout);
    let r = run(dir.path(), &["--target", "missing.yaml"], &[]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("missing.yaml: cannot read"),
        "{}",
        r.stderr
    );
}

/// Every file under `dir`, as text.
fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p));
            } else if let Ok(t) = std::fs::read_to_string(&p) {
                out.push((p, t));
            }
        }
    }
    out
}

fn assert_absent(secrets: &[&str], artifacts: &[(String, String)]) {
    for (name, text) in artifacts {
        for s in secrets {
            let found = if s.len() < 6 {
                text.match_indices(s).any(|(i, _)| {
                    let before = text[..i].chars().next_back();
                    let after = text[i + s.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric())
                        && !after.is_some_and(|c| c.is_alphanumeric())
                })
            } else {
                text.contains(s)
            };
            assert!(!found, "secret {s:?} found in {name}:\n{text}");
        }
    }
}

#[test]
fn secrets_never_reach_an_artifact() {
    // Against the embedded mock: its seeded credentials.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "scenarios/oscar/leaky.yaml",
            r#"
name: a scenario that handles every secret
profile: oscar
steps:
  - name: the credentials document
    request: {path: /__admin/credentials}
    snapshot: credentials
  - name: a login form and a PIN in the query
    request:
      method: POST
      path: /login.do
      query: {pin: '{{credentials.users[0].pin}}'}
      headers: {Authorization: 'Basic b3NjYXJkb2M6bWFjMjAwMiM=', X-Pin: '{{credentials.users[0].pin}}'}
      form: {username: '{{credentials.users[0].username}}', password: '{{credentials.users[0].password}}'}
  - name: the journal echoes the PIN
    request: {path: /__admin/requests}
    snapshot: journal
  - name: a failing check quotes the password
    request: {path: /__admin/credentials}
    expect:
      json: {'$.users[0].password': 'not {{credentials.users[0].pin}}'}
"#,
        )],
    );
    let r = run(
        dir.path(),
        &["--update-snapshots", "--snapshot-dir", "recording"],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("a failing check quotes the password"),
        "{}",
        r.stdout
    );
    let mut artifacts: Vec<(String, String)> = files(dir.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with(dir.path().join("scenarios")))
        .map(|(p, t)| (p.display().to_string(), t))
        .collect();
    assert!(
        artifacts.iter().any(|(p, _)| p.ends_with("journal.snap")),
        "{artifacts:?}"
    );
    assert!(artifacts.iter().any(|(p, _)| p.ends_with("report.html")));
    assert!(artifacts.iter().any(|(p, _)| p.contains("recording")));
    artifacts.push(("stdout".into(), r.stdout.clone()));
    artifacts.push(("stderr".into(), r.stderr.clone()));
    assert_absent(&["mac2002#", "mac2002%23", "1117"], &artifacts);
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).unwrap();
    assert!(
        html.contains("[secret]"),
        "the report shows where a secret was"
    );

    // Against a live target: secrets from the environment, and a token.
    let mock = Mock::start("oscar");
    let dir = tempfile::tempdir().unwrap();
    let token = "tok-7f3a9c2e41d84b6f";
    write(
        dir.path(),
        &[
            (
                "staging.yaml",
                &format!(
                    "url: {}/oscar\nprofile: oscar\nrate_limit: 100\ncredentials:\n  users:\n    - {{username: drsmith, password: {{env: S_PASSWORD}}, pin: {{env: S_PIN}}}}\n  tokens:\n    oauth2: {{access_token: {{env: S_TOKEN}}}}\n",
                    mock.url
                ),
            ),
            (
                "scenarios/oscar/live.yaml",
                r#"
name: secrets on a live target
profile: oscar
steps:
  - name: bearer and password in the request
    request:
      path: /ws/rs/status/checkIfAuthed
      query: {password: '{{credentials.users[0].password}}', t: '{{credentials.tokens.oauth2.access_token}}'}
      headers: {Authorization: 'Bearer {{credentials.tokens.oauth2.access_token}}'}
    expect:
      status: 200
      body: 'pin {{credentials.users[0].pin}} and {{credentials.tokens.oauth2.access_token}}'
"#,
            ),
        ],
    );
    let env = [
        ("S_PASSWORD", "hunter2-Sekr3t"),
        ("S_PIN", "8642"),
        ("S_TOKEN", token),
    ];
    let r = run(
        dir.path(),
        &["--target", "staging.yaml", "--snapshot-dir", "rec"],
        &env,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let mut artifacts: Vec<(String, String)> = files(dir.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with(dir.path().join("scenarios")))
        .map(|(p, t)| (p.display().to_string(), t))
        .collect();
    artifacts.push(("stdout".into(), r.stdout.clone()));
    artifacts.push(("stderr".into(), r.stderr.clone()));
    assert_absent(
        &[
            "hunter2-Sekr3t",
            "hunter2-Sekr3t".replace('-', "%2D").as_str(),
            "8642",
            token,
        ],
        &artifacts,
    );
    assert!(
        r.stdout.contains("expected"),
        "the failure is still explained: {}",
        r.stdout
    );

    // A missing variable is named, never guessed.
    let r = run(dir.path(), &["--target", "staging.yaml"], &env[..1]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("S_PIN, S_TOKEN"), "{}", r.stderr);
}

const PROFILES: &str = "name: guard\nprofile: [oscar, juno]\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n    expect: {status: 401}\n";

#[test]
fn recordings_diff_by_shape_and_fail_on_breaking_drift() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("scenarios/guard.yaml", PROFILES)]);
    let r = run(
        dir.path(),
        &["--profile", "oscar", "--snapshot-dir", "before"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = run(
        dir.path(),
        &["--profile", "juno", "--snapshot-dir", "after"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let diff = |a: &str, b: &str| {
        let out = bin()
            .current_dir(dir.path())
            .args(["diff", a, b, "--report-dir", "drift"])
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Two profiles' recordings of the same scenarios.
    let (code, stdout, _) = diff("before", "after");
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("No breaking drift"), "{stdout}");
    assert!(dir.path().join("drift/drift.json").exists());
    assert!(dir.path().join("drift/drift.html").exists());

    // A modified recording: the body changed shape and a header went.
    let op_dir = dir.path().join("after/juno");
    let file = std::fs::read_dir(&op_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut rec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    rec["samples"][0]["body"] = serde_json::Value::String("<error><code>1</code></error>".into());
    rec["samples"][0]["media_type"] = "application/xml".into();
    std::fs::write(&file, rec.to_string()).unwrap();
    let (code, stdout, _) = diff("before", "after");
    assert_eq!(code, 1, "{stdout}");
    assert!(
        stdout.contains("BREAKING media type text/xml → application/xml"),
        "{stdout}"
    );
    assert!(stdout.contains("Breaking drift"), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("drift/drift.json")).unwrap(),
    )
    .unwrap();
    assert!(
        stdout.contains("BREAKING /error: text → element"),
        "{stdout}"
    );
    assert_eq!(json["summary"]["breaking"], 2);

    // A run with a baseline carries the drift into its reports and fails.
    let r = run(
        dir.path(),
        &["--profile", "juno", "--baseline", "after"],
        &[],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("Drift after"), "{}", r.stdout);
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).unwrap();
    assert!(html.contains("id=\"drift\""));

    let (code, _, stderr) = diff("before", "nowhere");
    assert_eq!(code, 2);
    assert!(stderr.contains("nowhere/recording.json"), "{stderr}");
}

#[test]
fn expected_failures_do_not_fail_ci_and_fixed_ones_are_flagged() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            (
                "scenarios/oscar/known.yaml",
                "name: known deviation\nprofile: oscar\nrequirements: [REQ-1]\nsteps:\n  - name: wants 200\n    request: {path: /ws/rs/status/checkIfAuthed}\n    expect: {status: 200}\n",
            ),
            ("scenarios/oscar/fixed.yaml", "name: fixed\nprofile: oscar\nrequirements: [REQ-2]\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n    expect: {status: 401}\n"),
            (
                "expected.yaml",
                "expected_failures:\n  - {scenario: oscar/known, step: wants 200, reason: returns 401 (ticket 12)}\n  - {scenario: oscar/fixed, reason: was broken}\n",
            ),
        ],
    );
    let r = run(dir.path(), &["--expected", "expected.yaml"], &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("XFAIL") && r.stdout.contains("returns 401 (ticket 12)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("XPASS") && r.stdout.contains("remove the entry"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("1 failed (1 expected)"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("Requirements 1 proven, 0 failed, 1 accepted deviations"),
        "{}",
        r.stdout
    );
    let junit = std::fs::read_to_string(dir.path().join("reports/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    assert_eq!(doc.root_element().attribute("failures"), Some("0"));
    assert!(junit.contains("expected failure: returns 401 (ticket 12)"));
    assert!(junit.contains("name=\"requirement\" value=\"REQ-1\""));
    let json = report(dir.path());
    assert_eq!(json["summary"]["new_failures"], 0);
    assert_eq!(json["requirements"][0]["verdict"], "accepted_deviation");

    // Without the file, the same failure fails the run.
    assert_eq!(run(dir.path(), &[], &[]).code, 1);
    // A bad file is an invalid argument.
    write(
        dir.path(),
        &[("bad.yaml", "expected_failures:\n  - {scenario: x}\n")],
    );
    let r = run(dir.path(), &["--expected", "bad.yaml"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("bad.yaml:2:"), "{}", r.stderr);
}

#[test]
fn shards_split_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(String, String)> = (0..5)
        .map(|i| {
            (
                format!("scenarios/oscar/s{i}.yaml"),
                READS.replace("only reads", &format!("s{i}")),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write(dir.path(), &refs);
    let ids = |shard: &str| {
        let r = run(dir.path(), &["--shard", shard], &[]);
        assert_eq!(r.code, 0, "{}", r.stdout);
        report(dir.path())["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let (a, b) = (ids("1/2"), ids("2/2"));
    assert_eq!(a, ["oscar/s0", "oscar/s2", "oscar/s4"]);
    assert_eq!(b, ["oscar/s1", "oscar/s3"]);
    let r = run(dir.path(), &["--shard", "3/2"], &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn the_html_report_renders_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            ("scenarios/oscar/reads.yaml", READS),
            ("scenarios/juno/fails.yaml", "name: fails\nprofile: juno\nsteps:\n  - request: {path: /ws/rs/status/checkIfAuthed}\n    expect: {status: 200}\n"),
        ],
    );
    assert_eq!(run(dir.path(), &[], &[]).code, 1);
    let html = std::fs::read_to_string(dir.path().join("reports/report.html")).unwrap();
    for section in [
        "id=\"summary\"",
        "id=\"failures\"",
        "id=\"coverage\"",
        "data-profile=\"juno\"",
    ] {
        assert!(html.contains(section), "{section}");
    }
    assert!(
        !html.contains("http://") || !html.contains("<link"),
        "self-contained"
    );
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!(
            "skipped: /usr/bin/chromium is not installed (scripts/render-report.sh installs it)"
        );
        return;
    }
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!(
            "file://{}",
            dir.path().join("reports/report.html").display()
        ))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("data-rendered=\"true\""),
        "the page's script ran: {dom:.500}"
    );
    assert!(dom.contains("data-failures=\"1\""), "{dom:.500}");
}
