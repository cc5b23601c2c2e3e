//! The token store of `emr-conformance auth`: tokens obtained
//! interactively, kept in the user's config directory, readable by the
//! owner only, and reused by later runs against the same target.
//!
//! `$EMR_CONFORMANCE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/emr-conformance`,
//! else `~/.config/emr-conformance`; one file per target under `tokens/`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What is stored for one target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredTokens {
    pub target: String,
    pub profile: String,
    /// RFC 3339.
    pub saved_at: String,
    /// Driver → its `tokens.<driver>` entry.
    pub tokens: BTreeMap<String, Value>,
}

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a token file: {message}")]
    Invalid { path: String, message: String },
    #[error("refusing to read tokens from {path}: other users can read it (mode {mode:o}); run `chmod 600 {path}`")]
    Exposed { path: String, mode: u32 },
    #[error("no config directory: set EMR_CONFORMANCE_CONFIG_DIR or HOME")]
    NoHome,
}

/// A directory of token files.
#[derive(Debug, Clone)]
pub struct TokenStore {
    dir: PathBuf,
}

impl TokenStore {
    pub fn at(dir: impl Into<PathBuf>) -> TokenStore {
        TokenStore { dir: dir.into() }
    }

    /// The user's store (see the module docs).
    pub fn user() -> Result<TokenStore, StoreError> {
        let var = |n: &str| {
            std::env::var_os(n)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let base = var("EMR_CONFORMANCE_CONFIG_DIR")
            .or_else(|| var("XDG_CONFIG_HOME").map(|d| d.join("emr-conformance")))
            .or_else(|| var("HOME").map(|h| h.join(".config").join("emr-conformance")))
            .ok_or(StoreError::NoHome)?;
        Ok(TokenStore::at(base.join("tokens")))
    }

    pub fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// Writes the tokens of a target, readable and writable by the owner
    /// only (the directory too).
    pub fn save(&self, key: &str, tokens: &StoredTokens) -> Result<PathBuf, StoreError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| StoreError::Io { path, source }
        };
        create_private_dir(&self.dir).map_err(io(&self.dir))?;
        let path = self.path(key);
        let text = serde_json::to_string_pretty(tokens).unwrap_or_default();
        let mut file = private_file(&path).map_err(io(&path))?;
        file.write_all(text.as_bytes()).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
        Ok(path)
    }

    /// The tokens of a target, if stored. A file other users can read is
    /// refused, like ssh refuses an exposed key.
    pub fn load(&self, key: &str) -> Result<Option<StoredTokens>, StoreError> {
        let path = self.path(key);
        let shown = path.display().to_string();
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(StoreError::Io {
                    path: shown,
                    source,
                })
            }
        };
        if let Some(mode) = exposed_mode(&meta) {
            return Err(StoreError::Exposed { path: shown, mode });
        }
        let text = std::fs::read_to_string(&path).map_err(|source| StoreError::Io {
            path: shown.clone(),
            source,
        })?;
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StoreError::Invalid {
                path: shown,
                message: e.to_string(),
            })
    }

    /// Deletes the tokens of a target; `false` if there were none.
    pub fn forget(&self, key: &str) -> Result<bool, StoreError> {
        let path = self.path(key);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(StoreError::Io {
                path: path.display().to_string(),
                source,
            }),
        }
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An older file keeps its mode on open: tighten it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(not(unix))]
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::File::create(path)
}

#[cfg(unix)]
fn exposed_mode(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn exposed_mode(_meta: &std::fs::Metadata) -> Option<u32> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> StoredTokens {
        StoredTokens {
            target: "staging".into(),
            profile: "openemr".into(),
            saved_at: "2026-11-24T00:00:00Z".into(),
            tokens: [(
                "oauth2".to_owned(),
                serde_json::json!({"access_token": "a"}),
            )]
            .into_iter()
            .collect(),
        }
    }

    #[test]
    fn tokens_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::at(dir.path().join("tokens"));
        assert!(store.load("staging").unwrap().is_none());
        store.save("staging", &tokens()).unwrap();
        assert_eq!(store.load("staging").unwrap(), Some(tokens()));
        assert!(store.forget("staging").unwrap());
        assert!(!store.forget("staging").unwrap());
    }

    #[cfg(unix)]
    #[test]
    fn files_are_owner_only_and_exposed_files_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::at(dir.path().join("cfg/tokens"));
        // A pre-existing world-readable file is tightened by `save`.
        std::fs::create_dir_all(dir.path().join("cfg/tokens")).unwrap();
        let path = store.path("staging");
        std::fs::write(&path, "{}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        store.save("staging", &tokens()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("cfg/tokens")), 0o700);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let e = store.load("staging").unwrap_err().to_string();
        assert!(e.contains("other users can read it (mode 640)"), "{e}");
        assert!(e.contains("chmod 600"), "{e}");
    }
}
