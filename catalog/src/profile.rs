//! Profiles: which EMR (and which variant of it) the mock imitates and the
//! harness expects. The names are part of the CLI contract; everything else
//! about a profile is data in `data/profiles.yaml`.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// A profile name of the CLI contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProfileId {
    /// OSCAR 19, the McMaster mainline.
    Oscar,
    /// Open-O, the OpenOSP fork.
    OpenO,
    /// Juno, CloudPractice's fork.
    Juno,
    /// OpenEMR 7.
    #[serde(rename = "openemr")]
    OpenEmr,
    /// eMedicalPractice, an OpenEMR derivative.
    #[serde(rename = "emedpractice")]
    EMedPractice,
}

impl ProfileId {
    pub const ALL: [ProfileId; 5] = [
        ProfileId::Oscar,
        ProfileId::OpenO,
        ProfileId::Juno,
        ProfileId::OpenEmr,
        ProfileId::EMedPractice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProfileId::Oscar => "oscar",
            ProfileId::OpenO => "open-o",
            ProfileId::Juno => "juno",
            ProfileId::OpenEmr => "openemr",
            ProfileId::EMedPractice => "emedpractice",
        }
    }

    /// The profile's data.
    pub fn profile(self) -> &'static Profile {
        &profiles()[&self]
    }

    pub fn family(self) -> Family {
        self.profile().family
    }
}

impl fmt::Display for ProfileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A profile name that is not one of [`ProfileId::ALL`].
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown profile `{0}` (expected one of: oscar, open-o, juno, openemr, emedpractice)")]
pub struct UnknownProfile(pub String);

impl FromStr for ProfileId {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProfileId::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownProfile(s.to_owned()))
    }
}

/// The EMR a profile belongs to: profiles of one family share the store's
/// dialects and the auth providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Oscar,
    #[serde(rename = "openemr")]
    OpenEmr,
}

/// One catalogue file of a profile and how to read it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    pub file: String,
    pub kind: crate::table::TableKind,
    /// Serves the table's paths under another prefix: eMedicalPractice
    /// mounts OpenEMR's routes elsewhere (`{from: /fhir, to: /fhir/r4}`).
    #[serde(default)]
    pub rebase: Option<Rebase>,
    /// Extra paths of an operation, by its (rebased) path: the same
    /// operation also answers there (`/fhir/r4/metadata: [/metadata]`).
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
}

/// A path prefix replaced by another.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rebase {
    pub from: String,
    pub to: String,
}

impl CatalogFile {
    /// Applies `rebase` and `aliases` to an operation read from the file;
    /// the id follows the new path.
    pub(crate) fn mount(
        &self,
        mut op: crate::table::Operation,
    ) -> Result<crate::table::Operation, String> {
        if let Some(r) = &self.rebase {
            if let Some(rest) = op.path.as_str().strip_prefix(r.from.as_str()) {
                let path = format!("{}{rest}", r.to);
                op.id = format!("{} {path}", op.method);
                op.path = crate::template::PathTemplate::parse(&path)?;
            }
        }
        if let Some(extra) = self.aliases.get(op.path.as_str()) {
            for p in extra {
                op.alt_paths.push(crate::template::PathTemplate::parse(p)?);
            }
        }
        Ok(op)
    }
}

/// What the mock imitates for one profile name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Filled in from the map key when the table is loaded.
    #[serde(skip, default = "placeholder_id")]
    pub id: ProfileId,
    pub title: String,
    pub family: Family,
    /// The variant name used in the catalogue tables (`oscar19`, `open-o`, ...).
    pub variant: String,
    /// The webapp context path every route is under (`/oscar`), or empty.
    pub context: String,
    /// SOAP target namespace, for OSCAR-family profiles.
    #[serde(default)]
    pub soap_namespace: Option<String>,
    /// OpenEMR multisite names; the first is the default site.
    #[serde(default)]
    pub sites: Vec<String>,
    /// Where each API is mounted (`api`, `portal`, `fhir` → a path with
    /// `{site}`), for OpenEMR-family profiles.
    #[serde(default)]
    pub mounts: BTreeMap<String, String>,
    #[serde(default)]
    pub catalogs: Vec<CatalogFile>,
    /// Behaviours of the real system that are bugs or oddities, which the
    /// mock reproduces on purpose.
    #[serde(default)]
    pub quirks: Vec<Quirk>,
}

/// A deliberate reproduction of a real system's bug or oddity.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Quirk {
    pub id: String,
    pub description: String,
}

impl Profile {
    /// The path an API is mounted at for `site` (`/apis/default/api`).
    pub fn mount(&self, api: &str, site: &str) -> Option<String> {
        self.mounts.get(api).map(|m| m.replace("{site}", site))
    }
}

fn placeholder_id() -> ProfileId {
    ProfileId::Oscar
}

const PROFILES_YAML: &str = include_str!("../data/profiles.yaml");

fn profiles() -> &'static BTreeMap<ProfileId, Profile> {
    static PROFILES: OnceLock<BTreeMap<ProfileId, Profile>> = OnceLock::new();
    PROFILES.get_or_init(|| {
        // The table is compiled in and covered by a unit test, so a failure
        // here is a build defect, not an input error.
        let mut map: BTreeMap<ProfileId, Profile> =
            serde_yaml::from_str(PROFILES_YAML).expect("data/profiles.yaml is valid");
        for (id, profile) in map.iter_mut() {
            profile.id = *id;
        }
        map
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_name_has_data() {
        for id in ProfileId::ALL {
            let p = id.profile();
            assert_eq!(p.id, id);
            assert_eq!(id.as_str().parse::<ProfileId>().unwrap(), id);
        }
        assert_eq!(profiles().len(), ProfileId::ALL.len());
    }

    #[test]
    fn unknown_profile_names_the_choices() {
        let err = "oscar20".parse::<ProfileId>().unwrap_err();
        assert!(err.to_string().contains("open-o"), "{err}");
    }
}
