//! Variables of a running scenario: `vars:`, captures, and built-ins.

use std::collections::BTreeMap;

use serde_json::Value;

/// Names every scenario can use without defining them.
pub const BUILTINS: &[&str] = &[
    "base_url",
    "context",
    "profile",
    "site",
    "today",
    "dates",
    "now_epoch",
    "run_id",
    "credentials",
    "synthetic",
    "soap_namespace",
    "api_path",
    "portal_path",
    "fhir_path",
];

/// A scope of named JSON values.
#[derive(Debug, Clone, Default)]
pub struct Vars {
    values: BTreeMap<String, Value>,
}

impl Vars {
    pub fn set(&mut self, name: impl Into<String>, value: Value) {
        self.values.insert(name.into(), value);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    pub fn names(&self) -> Vec<String> {
        self.values.keys().cloned().collect()
    }
}
