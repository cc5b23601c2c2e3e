//! OpenEMR's access control (phpGACL, `AclMain::aclCheckCore`): which
//! `section/value` objects each user group may reach. Routes call
//! [`check`] (`RestConfig::request_authorization_check`); a refusal is
//! 403 "Organization policy does not have permit access resource".
//!
//! Groups follow OpenEMR's default installation: the administrator is in
//! Administrators; physicians, clinicians and front-office staff get the
//! objects those default groups hold. The system user of client
//! credentials runs with administrator rights, as OpenEMR's `oe-system`
//! user does.

use axum::http::StatusCode;
use axum::response::Response;

use super::api::Principal;
use super::oauth2::Role;
use crate::error::openemr_error;
use crate::store::seed::accounts;
use crate::store::Data;

pub const REFUSED: &str = "Organization policy does not have permit access resource";

/// A default group's objects: `section/value`, or `section/*` for all of a
/// section's values.
const GROUPS: &[(&str, &[&str])] = &[
    ("Administrators", &["*/*"]),
    (
        "Physicians",
        &[
            "patients/*",
            "encounters/*",
            "lists/default",
            "lists/state",
            "lists/country",
            "lists/language",
            "lists/ethrace",
            "admin/drugs",
        ],
    ),
    (
        "Clinicians",
        &[
            "patients/appt",
            "patients/demo",
            "patients/med",
            "patients/notes",
            "patients/trans",
            "patients/docs",
            "patients/lab",
            "encounters/notes",
            "encounters/notes_a",
            "encounters/coding",
            "encounters/date_a",
            "lists/default",
        ],
    ),
    (
        "Front Office",
        &[
            "patients/appt",
            "patients/demo",
            "patients/trans",
            "patients/docs",
            "patients/notes",
            "lists/default",
        ],
    ),
];

/// The group of a staff user, by provider type.
pub fn group_of(d: &Data, user_uuid: &str) -> Option<&'static str> {
    let p = d.providers.iter().find(|p| p.uuid == user_uuid)?;
    if p.provider_no == accounts::OPENEMR_PROVIDER_NO {
        return Some("Administrators");
    }
    Some(match p.provider_type.as_str() {
        "doctor" => "Physicians",
        "nurse" => "Clinicians",
        "admin" => "Administrators",
        _ => "Front Office",
    })
}

/// Whether a group holds `section/value`.
pub fn group_allows(group: &str, section: &str, value: &str) -> bool {
    GROUPS
        .iter()
        .filter(|(g, _)| *g == group)
        .flat_map(|(_, objects)| objects.iter())
        .any(|o| {
            let (s, v) = o.split_once('/').unwrap_or((o, ""));
            (s == "*" || s == section) && (v == "*" || v == value)
        })
}

/// Whether the principal may reach `section/value`.
pub fn allows(d: &Data, p: &Principal, section: &str, value: &str) -> bool {
    match p.role {
        Role::System => true,
        Role::Patient => false,
        Role::Users => group_of(d, &p.user).is_some_and(|g| group_allows(g, section, value)),
    }
}

/// `RestConfig::request_authorization_check`: `Err` with the 403 when the
/// principal's groups do not hold the object. `acl` is `section/value`;
/// `none` and the empty string always pass.
pub fn check(d: &Data, p: Option<&Principal>, acl: &str) -> Result<(), Response> {
    let acl = acl.split_whitespace().next().unwrap_or("");
    let Some((section, value)) = acl.split_once('/') else {
        return Ok(());
    };
    let Some(p) = p else {
        return Ok(());
    };
    if allows(d, p, section, value) {
        Ok(())
    } else {
        Err(openemr_error(StatusCode::FORBIDDEN, REFUSED, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_hold_their_objects() {
        assert!(group_allows("Administrators", "admin", "super"));
        assert!(group_allows("Physicians", "patients", "med"));
        assert!(!group_allows("Physicians", "admin", "users"));
        assert!(!group_allows("Front Office", "patients", "med"));
        assert!(group_allows("Front Office", "patients", "demo"));
        assert!(!group_allows("Clinicians", "encounters", "auth_a"));
        assert!(!group_allows("Nobody", "patients", "demo"));
    }
}
