//! Fuzz targets for the parsers that read untrusted input: OAuth 1.0a
//! parameters (the `Authorization` header, query and form body, as each
//! OSCAR variant reads them) and SOAP envelopes with their WS-Security
//! header. Each must return, never panic, and take time and memory in
//! proportion to its input.
//!
//! CI runs a few cases of each; run many, outside CI, with
//!
//! ```sh
//! FUZZ_CASES=200000 cargo test --release -p emr-mock --test parsers -- --ignored
//! ```

use std::time::{Duration, Instant};

use emr_mock::oscar::oauth1::params::{ClassicParams, Incoming, OpenOParams};
use emr_mock::oscar::oauth1::signature::base_string;
use emr_mock::oscar::soap::xml;
use emr_mock::oscar::wss;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

fn long_cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

/// Header-ish text: OAuth pairs with stray quotes, commas, equals signs,
/// percent escapes and arbitrary characters.
fn oauth_header() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z_]{0,12}=\"[^\"]{0,16}\"",
        "[a-z_]{0,12}=[^,]{0,16}",
        "%[0-9A-Fa-f]{0,2}",
        "[,=\" \t]{1,3}",
        any::<String>(),
    ];
    (
        prop_oneof![
            Just("OAuth "),
            Just("oauth "),
            Just("OAuth"),
            Just(""),
            Just("Bearer ")
        ],
        proptest::collection::vec(piece, 0..12),
    )
        .prop_map(|(scheme, pieces)| format!("{scheme}{}", pieces.join(",")))
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z_%0-9A-F=&+]{0,40}",
        any::<String>(),
        Just("oauth_token=a&oauth_token=b&=x&&y".to_owned()),
    ]
}

fn check_oauth(headers: &[String], query: &str, body: &[u8], form: bool) {
    let started = Instant::now();
    let req = Incoming {
        method: "POST",
        host: "127.0.0.1:8080",
        path: "/oscar/ws/services/status/checkIfAuthed",
        query,
        authorization: headers,
        content_type: form.then_some("application/x-www-form-urlencoded"),
        body,
    };
    let classic = ClassicParams::read(&req);
    let _ = classic.repeated_oauth();
    let base = base_string(req.method, &req.base_uri(), classic.signed());
    let open_o = OpenOParams::read(&req);
    let _ = open_o.signature();
    let _ = base_string(req.method, &req.base_uri(), open_o.signed());
    // Percent-encoding at most triples the input, decoding twice at most
    // keeps it: the output is bounded by the input.
    let input = headers.iter().map(String::len).sum::<usize>() + query.len() + body.len();
    assert!(base.len() <= 9 * input + 200, "{} from {input}", base.len());
    assert!(started.elapsed() < Duration::from_secs(2));
}

fn oauth_target(cases: u32) {
    let strategy = (
        proptest::collection::vec(oauth_header(), 0..3),
        query(),
        proptest::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
    );
    runner(cases)
        .run(&strategy, |(headers, query, body, form)| {
            check_oauth(&headers, &query, &body, form);
            Ok(())
        })
        .unwrap();
}

#[test]
fn oauth_parameters_smoke() {
    oauth_target(64);
}

#[test]
#[ignore = "a long fuzz run; see the file's header"]
fn oauth_parameters_fuzz() {
    oauth_target(long_cases());
}

const VALID: &str = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Header>\
<wsse:Security xmlns:wsse=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\" \
xmlns:wsu=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">\
<wsse:UsernameToken><wsse:Username>128</wsse:Username><wsse:Password>mac2002#</wsse:Password>\
<wsse:Nonce>bm9uY2U=</wsse:Nonce><wsu:Created>2031-01-01T00:00:00Z</wsu:Created></wsse:UsernameToken></wsse:Security>\
</s:Header><s:Body><t:getDemographic xmlns:t=\"http://ws.oscarehr.org/\"><arg0>1</arg0></t:getDemographic></s:Body></s:Envelope>";

/// Edits of a valid envelope: characters inserted, removed or replaced,
/// pieces repeated, the text cut.
fn envelope() -> impl Strategy<Value = String> {
    let edit = prop_oneof![
        (any::<usize>(), any::<char>()).prop_map(|(i, c)| (0u8, i, c.to_string())),
        (any::<usize>(), "<[!?/]?[a-zA-Z:]{0,8}[ >]?").prop_map(|(i, s)| (1u8, i, s)),
        (any::<usize>(), Just(String::new())).prop_map(|(i, s)| (2u8, i, s)),
        (any::<usize>(), "&[a-z#0-9]{0,6};?").prop_map(|(i, s)| (3u8, i, s)),
    ];
    prop_oneof![
        proptest::collection::vec(edit, 0..8).prop_map(|edits| {
            let mut text: Vec<char> = VALID.chars().collect();
            for (kind, at, s) in edits {
                let i = at % (text.len() + 1);
                match kind {
                    2 if i < text.len() => {
                        text.remove(i);
                    }
                    _ => {
                        for (k, c) in s.chars().enumerate() {
                            text.insert((i + k).min(text.len()), c);
                        }
                    }
                }
            }
            text.into_iter().collect()
        }),
        any::<usize>().prop_map(|cut| VALID.chars().take(cut % VALID.len()).collect()),
        (1usize..2000).prop_map(|n| format!("{}{}", "<a>".repeat(n), "</a>".repeat(n))),
        any::<String>(),
    ]
}

fn soap_target(cases: u32) {
    runner(cases)
        .run(&envelope(), |text| {
            let started = Instant::now();
            if let Ok(doc) = xml::parse(&text) {
                if let Ok(env) = xml::envelope(&doc) {
                    let _ = wss::security_headers(env.header);
                    let _ = wss::token(env.header);
                    let _ = env.wrapper.text();
                }
            }
            prop_assert!(started.elapsed() < Duration::from_secs(2));
            Ok(())
        })
        .unwrap();
}

#[test]
fn soap_envelopes_smoke() {
    soap_target(64);
}

#[test]
#[ignore = "a long fuzz run; see the file's header"]
fn soap_envelopes_fuzz() {
    soap_target(long_cases());
}
