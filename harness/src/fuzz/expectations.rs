//! What each profile must do with each mutation kind, and how it refuses:
//! `harness/data/fuzz.yaml`, compiled in. Variants differ only there.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use emr_catalog::ProfileId;
use serde::Deserialize;

use crate::scenario::Expect;

const DATA: &str = include_str!("../../data/fuzz.yaml");

/// What a profile must answer to a mutant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Refused the way the kind's refusal class says.
    Refused,
    /// Accepted: the step's own `expect` still holds.
    Accepted,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Refused => "refused",
            Verdict::Accepted => "accepted",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Exception {
    expect: Verdict,
    why: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct KindDoc {
    expect: Verdict,
    #[serde(default)]
    refusal: Option<String>,
    why: String,
    #[serde(default)]
    except: BTreeMap<ProfileId, Exception>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Doc {
    refusals: BTreeMap<String, BTreeMap<ProfileId, Expect>>,
    revokes: BTreeMap<String, Vec<ProfileId>>,
    kinds: BTreeMap<String, KindDoc>,
}

/// The expectation of one kind for one profile.
#[derive(Debug, Clone)]
pub struct KindExpectation {
    pub verdict: Verdict,
    /// The refusal class (`channel` means the step's channel).
    pub refusal: String,
    /// Why, with its source.
    pub why: String,
}

/// The parsed data file.
#[derive(Debug)]
pub struct Expectations {
    doc: Doc,
}

/// Parses the compiled-in data (once). A broken file is a harness bug that
/// the unit tests catch, so the error is only reported, never a panic.
pub fn get() -> Result<&'static Expectations, String> {
    static CELL: OnceLock<Result<Expectations, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        serde_yaml::from_str::<Doc>(DATA)
            .map(|doc| Expectations { doc })
            .map_err(|e| format!("harness/data/fuzz.yaml: {e}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

impl Expectations {
    /// Every kind id, sorted.
    pub fn kinds(&self) -> impl Iterator<Item = &str> {
        self.doc.kinds.keys().map(String::as_str)
    }

    pub fn kind(&self, id: &str, profile: ProfileId) -> Option<KindExpectation> {
        let k = self.doc.kinds.get(id)?;
        let (verdict, why) = match k.except.get(&profile) {
            Some(e) => (e.expect, e.why.clone()),
            None => (k.expect, k.why.clone()),
        };
        Some(KindExpectation {
            verdict,
            refusal: k.refusal.clone().unwrap_or_else(|| "channel".to_owned()),
            why,
        })
    }

    /// How `profile` refuses in `class`.
    pub fn refusal(&self, class: &str, profile: ProfileId) -> Option<&Expect> {
        self.doc.refusals.get(class)?.get(&profile)
    }

    /// Whether a refusal in `class` deletes the credential on `profile`.
    pub fn revokes(&self, class: &str, profile: ProfileId) -> bool {
        self.doc
            .revokes
            .get(class)
            .is_some_and(|ps| ps.contains(&profile))
    }

    /// The family of a kind id: everything before the last dot.
    pub fn family_of(kind: &str) -> &str {
        kind.rsplit_once('.').map_or(kind, |(f, _)| f)
    }

    /// Whether `selector` names a kind, a family or a group of families
    /// (`oauth1`, `oauth1.signature`, `oauth1.signature.bits`, `positive`).
    pub fn selects(selector: &str, kind: &str) -> bool {
        selector == "all"
            || kind == selector
            || kind
                .strip_prefix(selector)
                .is_some_and(|rest| rest.starts_with('.'))
    }

    /// Whether any kind matches a selector.
    pub fn known_selector(&self, selector: &str) -> bool {
        self.kinds().any(|k| Self::selects(selector, k))
    }

    /// The families, for error messages.
    pub fn families(&self) -> Vec<&str> {
        let mut out: Vec<&str> = self.kinds().map(Self::family_of).collect();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_parses_and_every_class_used_is_defined_per_profile() {
        let e = get().unwrap();
        for kind in e.kinds() {
            for profile in ProfileId::ALL {
                let k = e.kind(kind, profile).unwrap();
                if k.refusal == "channel" {
                    continue;
                }
                // A kind with its own class must say how every profile
                // of its family refuses, unless it expects acceptance.
                let family = profile.family();
                let applies = match kind.split('.').next() {
                    Some("wss") | Some("oauth1") => family == emr_catalog::Family::Oscar,
                    Some("oauth2") => family == emr_catalog::Family::OpenEmr,
                    _ => true,
                };
                if applies && k.verdict == Verdict::Refused {
                    assert!(
                        e.refusal(&k.refusal, profile).is_some(),
                        "{kind}: no `{}` refusal for {profile}",
                        k.refusal
                    );
                }
            }
        }
        for (class, family) in [
            ("oauth1-resource", emr_catalog::Family::Oscar),
            ("oauth1-initiate", emr_catalog::Family::Oscar),
            ("oauth2-api", emr_catalog::Family::OpenEmr),
            ("oauth2-token", emr_catalog::Family::OpenEmr),
        ] {
            for p in ProfileId::ALL.into_iter().filter(|p| p.family() == family) {
                assert!(e.refusal(class, p).is_some(), "{class} for {p}");
            }
        }
    }

    #[test]
    fn exceptions_name_their_source() {
        let e = get().unwrap();
        for (id, k) in &e.doc.kinds {
            for (p, x) in &k.except {
                assert!(
                    x.why.contains("quirk ") || x.why.contains("README") || x.why.contains('§'),
                    "{id} for {p}: say where the exception comes from"
                );
                if let Some(q) = x.why.split("[quirk ").nth(1) {
                    let id = q.split(']').next().unwrap_or("");
                    assert!(
                        p.profile().quirks.iter().any(|d| d.id == id),
                        "{id} is not a declared quirk of {p}"
                    );
                }
            }
        }
    }

    #[test]
    fn selectors_match_groups_families_and_kinds() {
        assert!(Expectations::selects("oauth1", "oauth1.signature.bits"));
        assert!(Expectations::selects(
            "oauth1.signature",
            "oauth1.signature.bits"
        ));
        assert!(!Expectations::selects(
            "oauth1.sig",
            "oauth1.signature.bits"
        ));
        assert!(Expectations::selects("all", "wss.nonce.replay"));
        assert_eq!(
            Expectations::family_of("oauth1.signature.bits"),
            "oauth1.signature"
        );
    }
}
