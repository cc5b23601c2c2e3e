//! `/__admin/credentials`: the seeded test credentials of every auth flow
//! the profile supports, so scenarios and clients never hard-code them.
//! Each auth provider adds its own section.

use emr_catalog::Family;
use serde_json::{json, Map, Value};

use crate::state::{AppState, Site};

pub fn of(state: &AppState) -> Value {
    let mut out = Map::new();
    out.insert("profile".into(), json!(state.config.profile.as_str()));
    match state.profile.family {
        Family::Oscar => {
            let site = state.default_site();
            out.insert("users".into(), users(site, true));
            out.insert(
                "oauth1".into(),
                crate::oscar::oauth1::admin::credentials(state),
            );
        }
        Family::OpenEmr => {
            let mut sites = Map::new();
            for site in state.sites() {
                sites.insert(
                    site.name.clone(),
                    json!({
                        "users": users(site, false),
                        "patients": portal_patients(site),
                        "oauth2": crate::openemr::oauth2::credentials(site),
                    }),
                );
            }
            out.insert("sites".into(), Value::Object(sites));
        }
    }
    Value::Object(out)
}

/// The logins of a site. OSCAR's carry the PIN and the security number
/// (the WS-Security username).
fn users(site: &Site, oscar: bool) -> Value {
    site.store.read(|d| {
        d.logins
            .iter()
            .map(|l| {
                let mut u = json!({
                    "username": l.user_name,
                    "password": l.password,
                    "provider_no": l.provider_no,
                });
                if oscar {
                    u["pin"] = json!(l.pin);
                    u["security_no"] = json!(l.id);
                }
                u
            })
            .collect()
    })
}

/// Patients with a portal login.
fn portal_patients(site: &Site) -> Value {
    site.store.read(|d| {
        d.patients()
            .iter()
            .filter(|p| !p.portal_username.is_empty())
            .map(|p| {
                json!({
                    "username": p.portal_username,
                    "password": p.portal_password,
                    "email": p.email,
                    "pid": p.id,
                    "uuid": p.uuid,
                })
            })
            .collect()
    })
}
