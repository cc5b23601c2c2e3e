//! `PersonaService` and `ProviderService`: who is logged in, what they may
//! do, their menus and settings, and the clinic's providers.

use serde_json::{json, Map, Value};

use super::super::beans;
use super::super::behaviour::body_value;
use super::super::render::{plain, prop};
use super::super::{Call, Outcome};
use super::util::{body_str, exception, generic, npe, text};
use crate::oscar::jsonlib;
use crate::store::Id;

/// `GET /persona/hasRight?objectName&privilege&demographicNo`: the seeded
/// logins are doctors with admin, so every known object is granted.
pub fn has_right(call: &mut Call<'_>) -> Outcome {
    let object = plain(&call.source("query.objectName"));
    generic(call.principal.is_some() && object.starts_with('_'), None)
}

/// `POST /persona/hasRights` `{items: [{objectName, privilege}]}`.
pub fn has_rights(call: &mut Call<'_>) -> Outcome {
    let Some(items) = call.body.get("items").and_then(Value::as_array).cloned() else {
        return exception(
            "net.sf.json.JSONException",
            "JSONObject[\"items\"] not found.",
        );
    };
    let granted: Vec<Value> = items
        .iter()
        .map(|i| {
            Value::Bool(
                i.get("objectName")
                    .map(plain)
                    .is_some_and(|o| o.starts_with('_')),
            )
        })
        .collect();
    let total = granted.len();
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": granted, "query": null}),
    )
}

/// `POST /persona/isAllowedAccessToPatientRecord` `{demographicNo}`.
pub fn allowed_access(call: &mut Call<'_>) -> Outcome {
    let Some(p) = super::util::body_i64(call, "demographicNo") else {
        return exception(
            "net.sf.json.JSONException",
            "JSONObject[\"demographicNo\"] not found.",
        );
    };
    let ok = super::util::known_patient(call, p).is_some();
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": 1, "timestamp": call.now_value(), "content": [ok], "query": null}),
    )
}

/// `GET /persona/navbar`: the fixture, with my unread message counts.
pub fn navbar(call: &mut Call<'_>) -> Outcome {
    let me = call.provider_no();
    let (plain_n, patient_n) = call.read(|d| {
        let mine: Vec<_> = d
            .messages
            .iter()
            .filter(|m| m.to == me && m.status == "new")
            .collect();
        (
            mine.iter().filter(|m| m.patient.is_none()).count(),
            mine.iter().filter(|m| m.patient.is_some()).count(),
        )
    });
    let mut v = body_value(call, "@navbar");
    if let Some(items) = v
        .pointer_mut("/menus/messengerMenu/items")
        .and_then(Value::as_array_mut)
    {
        if let Some(i) = items.get_mut(0) {
            i["extra"] = json!(patient_n.to_string());
        }
        if let Some(i) = items.get_mut(1) {
            i["extra"] = json!(plain_n.to_string());
        }
    }
    Outcome::Value(v)
}

fn preference(call: &Call<'_>, key: &str) -> Option<String> {
    let me = call.provider_no();
    call.read(|d| {
        d.records
            .rows("providerPreferences")
            .filter(|r| prop(&r.fields, "providerNo") == me && prop(&r.fields, "key") == key)
            .last()
            .map(|r| prop(&r.fields, "value"))
    })
}

fn set_preference(call: &Call<'_>, key: &str, value: &str) {
    let me = call.provider_no();
    let now = call.now;
    call.write(|d| {
        let existing = d
            .records
            .rows("providerPreferences")
            .find(|r| prop(&r.fields, "providerNo") == me && prop(&r.fields, "key") == key)
            .map(|r| r.id);
        match existing {
            Some(id) => {
                d.records.update("providerPreferences", id, now, |m| {
                    m.insert("value".into(), json!(value));
                });
            }
            None => {
                let mut m = Map::new();
                m.insert("providerNo".into(), json!(me));
                m.insert("key".into(), json!(key));
                m.insert("value".into(), json!(value));
                d.records.insert("providerPreferences", m, now);
            }
        }
    });
}

/// `GET`/`POST /persona/patientList/config` (`PatientListConfigTo1`):
/// stored as the provider's properties.
pub fn patient_list_config(call: &mut Call<'_>) -> Outcome {
    if call.behaviour.param("save") == Some("true") {
        if call.body.is_null() {
            return npe("patientListConfigTo1 is null");
        }
        if let Some(n) = call
            .body
            .get("numberOfApptstoShow")
            .filter(|v| !v.is_null())
        {
            set_preference(call, "patientListConfig.numberOfApptsToShow", &plain(n));
        }
        let show = call
            .body
            .get("showReason")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        set_preference(call, "patientListConfig.showReason", &show.to_string());
    }
    let n = preference(call, "patientListConfig.numberOfApptsToShow")
        .and_then(|v| v.parse::<i64>().ok());
    let show = preference(call, "patientListConfig.showReason").is_some_and(|v| v == "true");
    Outcome::Value(json!({"numberOfApptstoShow": n, "showReason": show}))
}

/// `POST /persona/preferences` `{type}`: the persona with dashboard
/// preferences.
pub fn preferences(call: &mut Call<'_>) -> Outcome {
    let expired = preference(call, "dashboard.expiredTicklersOnly").is_some_and(|v| v == "true");
    let mut v = body_value(call, "@patientLists");
    v["dashboardPreferences"] = json!({"expiredTicklersOnly": expired});
    Outcome::Value(v)
}

/// `POST /persona/updatePreference` `{key, value}` and `updatePreferences`
/// `{key: value, ...}`.
pub fn update_preferences(call: &mut Call<'_>) -> Outcome {
    let Value::Object(m) = call.body.clone() else {
        return npe("json is null");
    };
    if call.behaviour.param("single") == Some("true") {
        let (Some(k), Some(v)) = (body_str(call, "key"), body_str(call, "value")) else {
            return exception(
                "net.sf.json.JSONException",
                "JSONObject[\"key\"] not found.",
            );
        };
        set_preference(call, &k, &v);
    } else {
        for (k, v) in m {
            set_preference(call, &k, &plain(&v));
        }
    }
    generic(true, None)
}

/// `GET /providerService/provider/me`: the logged-in provider as a
/// json-lib bean (recorded), 404 `{"error": ...}` when there is none.
pub fn me(call: &mut Call<'_>) -> Outcome {
    let me = call.provider_no();
    match call.read(|d| d.provider(&me).cloned()) {
        Some(p) => Outcome::Raw {
            status: 200,
            content_type: "application/json".into(),
            body: jsonlib::provider_bean(&p).to_string().into_bytes(),
        },
        None => Outcome::Raw {
            status: 404,
            content_type: "application/json".into(),
            body: br#"{"error":"Provider not found"}"#.to_vec(),
        },
    }
}

fn transfer(p: &crate::store::Provider) -> Value {
    let mut v = beans::provider_bean(p);
    v["address"] = json!(p.address);
    v["status"] = json!(p.status);
    v
}

/// `GET /providerService/provider/{id}`: `ProviderTransfer` (XML unless
/// JSON is asked for); an unknown id is 404.
pub fn provider_transfer(call: &mut Call<'_>) -> Outcome {
    let id = call.path.get("id").map(plain).unwrap_or_default();
    match call.read(|d| d.provider(&id).map(transfer)) {
        Some(v) => Outcome::Value(v),
        None => Outcome::Empty(404),
    }
}

/// `GET /providerService/providerjson/{id}`: json-lib text; 404 unknown.
pub fn provider_json(call: &mut Call<'_>) -> Outcome {
    let id = call.path.get("id").map(plain).unwrap_or_default();
    match call.read(|d| d.provider(&id).cloned()) {
        Some(p) => text(call, 200, &jsonlib::provider_bean(&p).to_string()),
        None => Outcome::Empty(404),
    }
}

/// `GET /providerService/providers`: active providers as
/// `OscarSearchResponse<ProviderTransfer>` (XML).
pub fn providers_xml(call: &mut Call<'_>) -> Outcome {
    let items: Vec<Value> = call.read(|d| {
        d.providers
            .iter()
            .filter(|p| p.is_active())
            .map(transfer)
            .collect()
    });
    let total = items.len();
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": items}),
    )
}

/// `POST /providerService/providers/search?startIndex&itemsToReturn`
/// `{searchTerm, active}`: `active` must be a boolean (or its string),
/// otherwise 400.
pub fn search(call: &mut Call<'_>) -> Outcome {
    let active = match call.body.get("active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("true") => Some(true),
        Some(Value::String(s)) if s.trim().eq_ignore_ascii_case("false") => Some(false),
        Some(_) => return Outcome::Empty(400),
    };
    let term: String = body_str(call, "searchTerm")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_alphanumeric() || c.is_whitespace() || *c == '-' || *c == '.' || *c == '_')
        .collect::<String>()
        .trim()
        .to_lowercase();
    if term.chars().count() > 100 {
        return Outcome::Empty(400);
    }
    let start = call.query_id("startIndex").unwrap_or(0).max(0) as usize;
    let count = call.query_id("itemsToReturn").unwrap_or(5000).max(0) as usize;
    let items: Vec<Value> = call.read(|d| {
        d.providers
            .iter()
            .filter(|p| active.is_none_or(|a| p.is_active() == a))
            .filter(|p| {
                term.is_empty()
                    || p.last_name.to_lowercase().starts_with(&term)
                    || p.first_name.to_lowercase().starts_with(&term)
                    || p.provider_no.starts_with(&term)
            })
            .skip(start)
            .take(count)
            .map(beans::provider_bean)
            .collect()
    });
    let total = items.len();
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": items, "query": null}),
    )
}

/// `GET /providerService/getActiveTeams`.
pub fn active_teams(call: &mut Call<'_>) -> Outcome {
    let mut teams: Vec<String> = call.read(|d| {
        d.providers
            .iter()
            .filter(|p| p.is_active() && !p.team.is_empty())
            .map(|p| p.team.to_string())
            .collect()
    });
    teams.sort();
    teams.dedup();
    let total = teams.len();
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": teams, "query": null}),
    )
}

/// `GET /providerService/getRecentDemographicsViewed?startIndex&itemsToReturn`
/// (and `...AfterDateIncluded&date=<epoch ms>`): the charts I opened last,
/// from the request journal.
pub fn recent_demographics(call: &mut Call<'_>) -> Outcome {
    let since = if call.behaviour.param("since") == Some("true") {
        match plain(&call.source("query.date")).parse::<i64>() {
            Ok(ms) => chrono::DateTime::from_timestamp_millis(ms),
            Err(_) => {
                return exception("java.lang.NumberFormatException", "For input string: date")
            }
        }
    } else {
        None
    };
    let me = call.provider_no();
    let start = call.query_id("startIndex").unwrap_or(0).max(0) as usize;
    let n = call.query_id("itemsToReturn").unwrap_or(8).max(0) as usize;
    let mut seen: Vec<(i64, chrono::DateTime<chrono::Utc>)> = Vec::new();
    for e in call.state.journal.entries(None).iter().rev() {
        let Some(auth) = &e.auth else { continue };
        if auth.provider_no != me || !(200..300).contains(&e.status) {
            continue;
        }
        let op = e.operation.as_deref().unwrap_or("");
        if !(op.contains("/demographics/{dataId}")
            || op.contains("/demographic/{dataId}")
            || op.contains("/recordUX/{demographicNo}"))
        {
            continue;
        }
        let id = e
            .path()
            .split('/')
            .filter_map(|s| s.split('?').next()?.parse::<i64>().ok())
            .next_back();
        if let Some(id) = id {
            if since.is_none_or(|s| e.at >= s) && !seen.iter().any(|(x, _)| *x == id) {
                seen.push((id, e.at));
            }
        }
    }
    let patients: Vec<Value> = call.read(|d| {
        seen.into_iter()
            .skip(start)
            .take(n)
            .filter_map(|(id, at)| d.patients().get(Id::try_from(id).ok()?).map(|p| json!({"demographicNo": id, "name": p.display_name(), "date": at.to_rfc3339()})))
            .collect()
    });
    if call.variant == super::super::Variant::Juno {
        let total = patients.len();
        return Outcome::Value(
            json!({"content": patients, "total": total, "page": 1, "perPage": total}),
        );
    }
    Outcome::Value(json!({"patients": patients}))
}

/// `GET /providerService/settings/get` and `POST .../settings/{providerNo}/save`.
pub fn settings(call: &mut Call<'_>) -> Outcome {
    let who = call
        .path
        .get("providerNo")
        .map(plain)
        .unwrap_or_else(|| call.provider_no());
    let now = call.now;
    if call.behaviour.param("save") == Some("true") {
        let Value::Object(patch) = call.body.clone() else {
            return npe("json is null");
        };
        call.write(|d| {
            let existing = d
                .records
                .rows("providerSettings")
                .find(|r| prop(&r.fields, "providerNo") == who)
                .map(|r| r.id);
            match existing {
                Some(id) => {
                    d.records.update("providerSettings", id, now, |m| {
                        for (k, v) in patch {
                            m.insert(k, v);
                        }
                    });
                }
                None => {
                    let mut m = patch;
                    m.insert("providerNo".into(), json!(who));
                    d.records.insert("providerSettings", m, now);
                }
            }
        });
        return generic(true, None);
    }
    let stored = call.read(|d| {
        d.records
            .rows("providerSettings")
            .find(|r| prop(&r.fields, "providerNo") == who)
            .map(|r| r.fields.clone())
    });
    let mut settings = match body_value(call, "@providerSettings") {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    for (k, v) in stored.unwrap_or_default() {
        if k != "id" && k != "providerNo" {
            settings.insert(k, v);
        }
    }
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": 1, "timestamp": call.now_value(), "content": [settings], "query": null}),
    )
}

/// `GET /providerService/suggestProviderNo`: one above the highest numeric
/// provider number.
pub fn suggest_provider_no(call: &mut Call<'_>) -> Outcome {
    let max = call.read(|d| {
        d.providers
            .iter()
            .filter_map(|p| p.provider_no.parse::<i64>().ok())
            .max()
            .unwrap_or(0)
    });
    generic(true, Some((max + 1).to_string()))
}
