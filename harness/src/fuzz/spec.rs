//! The `fuzz:` key of a step, and the run-wide `--fuzz-cases`/`--fuzz-seed`.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::expectations;
use crate::scenario::Expect;

/// Cases per kind when neither the step nor the run says.
pub const DEFAULT_CASES: u32 = 8;

/// `fuzz:` on a step: run these mutation families over the step's valid,
/// authorized request.
#[derive(Debug, Clone, Default)]
pub struct FuzzSpec {
    /// Selectors: a group (`oauth1`, `positive`), a family
    /// (`oauth1.signature`), a kind (`oauth1.signature.bits`) or `all`.
    /// Empty: every kind that applies to the step.
    pub families: Vec<String>,
    /// Cases per kind; `--fuzz-cases` overrides it.
    pub cases: Option<u32>,
    /// How every mutant must be refused, instead of the profile's default.
    pub refused: Option<Expect>,
}

/// Run-wide settings (`emr-conformance run --fuzz-cases N --fuzz-seed S`).
#[derive(Debug, Clone, Default)]
pub struct FuzzSettings {
    /// Cases per kind for every fuzz step, overriding the scenarios.
    pub cases: Option<u32>,
    /// The seed every fuzz step derives its cases from.
    pub seed: u64,
}

impl FuzzSpec {
    /// A fuzz step checks its own responses: it cannot also repeat, poll,
    /// capture or snapshot.
    pub fn check_step_keys(
        repeat: bool,
        poll: bool,
        capture: bool,
        snapshot: bool,
    ) -> Result<(), String> {
        for (set, key) in [
            (repeat, "repeat"),
            (poll, "poll"),
            (capture, "capture"),
            (snapshot, "snapshot"),
        ] {
            if set {
                return Err(format!(
                    "a `fuzz` step sends many mutants of its request; it cannot `{key}` (use another step)"
                ));
            }
        }
        Ok(())
    }

    /// The cases per kind for a run.
    pub fn cases(&self, settings: &FuzzSettings) -> u32 {
        settings
            .cases
            .or(self.cases)
            .unwrap_or(DEFAULT_CASES)
            .max(1)
    }
}

/// Load-time checks of a fuzz step against its auth: what the engine
/// needs to have a valid request to mutate.
pub fn check_step(
    step: &crate::scenario::Step,
    auth: &crate::scenario::AuthSpec,
) -> Option<String> {
    use crate::scenario::{Action, AuthSpec, Leg};
    let fits = match (&step.action, auth) {
        (Action::Request(_), AuthSpec::OAuth1(o)) => {
            if !matches!(o.leg, Leg::Resource | Leg::Initiate) {
                return Some("an oauth1 fuzz step mutates a resource call or an initiate request (`leg: resource` or `leg: initiate`)".into());
            }
            true
        }
        (Action::Request(_), AuthSpec::OAuth2(o)) => {
            if o.tamper.is_some() || !o.exchange {
                return Some("an oauth2 fuzz step needs the valid token: remove `tamper` and `exchange: false`".into());
            }
            true
        }
        (Action::Soap(_), AuthSpec::Wss(_)) => true,
        _ => false,
    };
    if !fits {
        return Some(format!(
            "a fuzz step mutates `oauth1` or `oauth2` requests, or `wss` SOAP calls; this step has `{}` on a {}",
            auth.name(),
            match step.action {
                Action::Request(_) => "request",
                Action::Soap(_) => "soap call",
            }
        ));
    }
    if step.expect.is_empty() {
        return Some(
            "a fuzz step needs an `expect` that the valid request meets (it tells an accepted mutant from a refused one)"
                .into(),
        );
    }
    None
}

fn check_selectors(list: &[String]) -> Result<(), String> {
    let e = expectations::get()?;
    for s in list {
        if !e.known_selector(s) {
            return Err(format!(
                "`{s}` is no fuzz family; expected `all`, a group (oauth1, oauth2, wss, positive), a family ({}) or one of its kinds",
                e.families().join(", ")
            ));
        }
    }
    Ok(())
}

const KEYS: &[&str] = &["families", "cases", "refused"];

impl<'de> Deserialize<'de> for FuzzSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FuzzSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a family selector, a list of them, or a map with `families`, `cases`, `refused`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FuzzSpec, E> {
                let families = vec![v.to_owned()];
                check_selectors(&families).map_err(E::custom)?;
                Ok(FuzzSpec {
                    families,
                    ..FuzzSpec::default()
                })
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FuzzSpec, A::Error> {
                let mut families = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    families.push(s);
                }
                check_selectors(&families).map_err(de::Error::custom)?;
                Ok(FuzzSpec {
                    families,
                    ..FuzzSpec::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FuzzSpec, A::Error> {
                let mut spec = FuzzSpec::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "families" => {
                            spec.families = match map.next_value::<OneOrMany>()? {
                                OneOrMany(v) => v,
                            };
                            check_selectors(&spec.families).map_err(de::Error::custom)?;
                        }
                        "cases" => {
                            let n: u32 = map.next_value()?;
                            if n == 0 {
                                return Err(de::Error::custom("`cases` must be at least 1"));
                            }
                            spec.cases = Some(n);
                        }
                        "refused" => spec.refused = Some(map.next_value()?),
                        other => return Err(de::Error::unknown_field(other, KEYS)),
                    }
                }
                Ok(spec)
            }
        }
        d.deserialize_any(V)
    }
}

struct OneOrMany(Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a selector or a list of selectors")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_owned()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    out.push(s);
                }
                Ok(OneOrMany(out))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    fn errors(steps: &str) -> Vec<String> {
        let yaml = format!("name: x\nprofile: oscar\nauth: oauth1\nsteps:\n{steps}");
        match crate::scenario::parse(Path::new("t.yaml"), "t".into(), &yaml) {
            Ok(_) => Vec::new(),
            Err(e) => e.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn fuzz_steps_load_with_every_form() {
        let ok =
            "  - request: {path: /ws/services/status/checkIfAuthed}\n    expect: {status: 200}\n";
        for f in [
            "oauth1",
            "[oauth1.signature, positive]",
            "{families: oauth1.nonce.replay, cases: 3, refused: {status: 401}}",
            "{cases: 2}",
        ] {
            assert!(errors(&format!("{ok}    fuzz: {f}\n")).is_empty(), "{f}");
        }
    }

    #[test]
    fn mistakes_are_load_errors_where_they_are() {
        let e = errors("  - request: {path: /x}\n    expect: {status: 200}\n    fuzz: oauth3\n");
        assert!(e[0].starts_with("t.yaml:7:11:"), "{e:?}");
        assert!(e[0].contains("`oauth3` is no fuzz family"), "{e:?}");
        let e =
            errors("  - request: {path: /x}\n    expect: {status: 200}\n    fuzz: {cases: 0}\n");
        assert!(e[0].contains("at least 1"), "{e:?}");
        let e = errors(
            "  - request: {path: /x}\n    repeat: 2\n    expect: {status: 200}\n    fuzz: oauth1\n",
        );
        assert!(e[0].contains("cannot `repeat`"), "{e:?}");
        let e = errors("  - request: {path: /x}\n    fuzz: oauth1\n");
        assert!(e[0].contains("needs an `expect`"), "{e:?}");
        let e = errors("  - request: {path: /x}\n    auth: none\n    expect: {status: 200}\n    fuzz: oauth1\n");
        assert!(e[0].contains("this step has `none` on a request"), "{e:?}");
        let e = errors("  - request: {path: /x}\n    auth: {oauth1: {leg: token, token: a, token_secret: b, verifier: c}}\n    expect: {status: 200}\n    fuzz: oauth1\n");
        assert!(e[0].contains("`leg: resource` or `leg: initiate`"), "{e:?}");
    }
}
