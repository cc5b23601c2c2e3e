//! Juno's own resources: the calendar and appointment API, sites,
//! preferences, fax and integration settings, the provider editor, and the
//! external API under `/ws/services/v1` (demographics, documents,
//! ticklers) with its bean validation (400) and missing-argument (412)
//! answers.

use base64::Engine;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Weekday};
use serde_json::{json, Map, Value};

use super::super::beans;
use super::super::render::{instant, plain};
use super::super::{juno_headers, Call, Outcome};
use super::util::{body_i64, body_str, known_patient, record};
use crate::store::{id_from, Appointment, Data, Document, Id, Patient, Provider, Text, Tickler};

/// A Juno error `RestResponse` with its status.
fn jerr(status: u16, message: &str) -> Outcome {
    Outcome::Raw {
        status,
        content_type: "application/json".into(),
        body: json!({"headers": juno_headers(), "body": null, "error": {"message": message}, "status": "ERROR"})
            .to_string()
            .into_bytes(),
    }
}

/// Juno's validation error: the field messages in `data`.
fn invalid(errors: Vec<(String, String)>) -> Outcome {
    let data: Map<String, Value> = errors
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    Outcome::Raw {
        status: 400,
        content_type: "application/json".into(),
        body: json!({"headers": juno_headers(), "body": null, "error": {"message": "Validation Error", "data": data}, "status": "ERROR"})
            .to_string()
            .into_bytes(),
    }
}

fn ldt(d: NaiveDate, t: NaiveTime) -> Value {
    Value::String(
        NaiveDateTime::new(d, t)
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string(),
    )
}

// ---- providers ---------------------------------------------------------------------

/// `GET /providerService/provider/me` and `/providerjson/{id}` in Juno: a
/// `ProviderTo1`, not json-lib text.
pub fn provider_me(call: &mut Call<'_>) -> Outcome {
    let me = call.provider_no();
    call.read(|d| {
        d.provider(&me).map_or(Outcome::Empty(404), |p| {
            Outcome::Value(beans::provider_bean(p))
        })
    })
}

pub fn provider(call: &mut Call<'_>) -> Outcome {
    let id = call.path.get("id").map(plain).unwrap_or_default();
    call.read(|d| {
        d.provider(&id).map_or(Outcome::Empty(404), |p| {
            Outcome::Value(beans::provider_bean(p))
        })
    })
}

/// `GET /providers`: the logged-in provider.
pub fn provider_self(call: &mut Call<'_>) -> Outcome {
    provider_me(call)
}

pub fn provider_billing(call: &mut Call<'_>) -> Outcome {
    let id = call.path.get("id").map(plain).unwrap_or_default();
    call.read(|d| match d.provider(&id) {
        Some(p) => Outcome::Value(json!({"providerNo": p.provider_no, "billingNo": p.billing_no, "ohipNo": p.ohip_no, "rmaNo": "", "hsoNo": "", "billingRegion": "ON", "defaultServiceType": "MFP", "defaultVisitType": "00"})),
        None => jerr(500, "System error"),
    })
}

fn edit_form(p: &Provider) -> Value {
    json!({"providerNo": p.provider_no, "firstName": p.first_name, "lastName": p.last_name, "type": p.provider_type,
           "speciality": p.specialty, "sex": p.sex, "email": p.email, "homePhone": p.phone, "workPhone": p.work_phone,
           "address": p.address, "ohipNo": p.ohip_no, "billingNo": p.billing_no, "practitionerNo": p.practitioner_no,
           "team": p.team, "status": p.status, "userRoles": [p.provider_type]})
}

pub fn provider_edit_form(call: &mut Call<'_>) -> Outcome {
    let id = call.path.get("id").map(plain).unwrap_or_default();
    call.read(|d| {
        d.provider(&id).map_or_else(
            || jerr(500, "System error"),
            |p| Outcome::Value(edit_form(p)),
        )
    })
}

/// `POST /providerService/provider/new` and `/{id}/edit`
/// (`ProviderEditFormTo1`): first and last name are required.
pub fn provider_save(call: &mut Call<'_>) -> Outcome {
    let update = call.behaviour.param("update") == Some("true");
    let (first, last) = (
        body_str(call, "firstName").unwrap_or_default(),
        body_str(call, "lastName").unwrap_or_default(),
    );
    let mut errors = Vec::new();
    if first.is_empty() {
        errors.push(("firstName".to_owned(), "may not be empty".to_owned()));
    }
    if last.is_empty() {
        errors.push(("lastName".to_owned(), "may not be empty".to_owned()));
    }
    if !errors.is_empty() {
        return invalid(errors);
    }
    let now = call.now;
    // The editor's fields as (ProviderEditFormTo1 name, setter); absent fields stay as they are.
    let body = call.body.clone();
    let fill = move |p: &mut Provider| {
        let f = |k: &str| body.get(k).filter(|v| !v.is_null()).map(plain);
        let fields: [(&str, &mut Text); 10] = [
            ("type", &mut p.provider_type),
            ("email", &mut p.email),
            ("homePhone", &mut p.phone),
            ("workPhone", &mut p.work_phone),
            ("speciality", &mut p.specialty),
            ("address", &mut p.address),
            ("ohipNo", &mut p.ohip_no),
            ("billingNo", &mut p.billing_no),
            ("practitionerNo", &mut p.practitioner_no),
            ("team", &mut p.team),
        ];
        for (k, slot) in fields {
            if let Some(v) = f(k) {
                *slot = v.into();
            }
        }
        if let Some(v) = f("sex") {
            p.sex = v.into();
        }
    };
    let result = if update {
        let id = call.path.get("id").map(plain).unwrap_or_default();
        call.write(|d| {
            let row = d
                .providers
                .iter()
                .find(|p| p.provider_no == id)
                .map(|p| p.id)?;
            d.providers.update(row, now, |p| {
                p.first_name = first.into();
                p.last_name = last.into();
                fill(p);
            })?;
            Some(id)
        })
    } else {
        call.write(|d| {
            let next = d
                .providers
                .iter()
                .filter_map(|p| p.provider_no.parse::<i64>().ok())
                .filter(|n| *n < 999_990)
                .max()
                .unwrap_or(100_000)
                + 1;
            let no = next.to_string();
            let mut p = Provider {
                provider_no: no.clone().into(),
                first_name: first.into(),
                last_name: last.into(),
                provider_type: "doctor".into(),
                status: "1".into(),
                last_update: now.into(),
                ..Provider::default()
            };
            fill(&mut p);
            d.providers.insert(p);
            Some(no)
        })
    };
    match result {
        Some(no) => Outcome::Value(json!({"providerNo": no, "securityRecords": []})),
        None => jerr(500, "System error"),
    }
}

/// `POST /providerService/provider/{id}/update_status` (a JSON boolean).
pub fn provider_status(call: &mut Call<'_>) -> Outcome {
    let id = call.path.get("id").map(plain).unwrap_or_default();
    let Some(active) = call
        .body
        .as_bool()
        .or_else(|| call.text.trim().parse::<bool>().ok())
    else {
        return jerr(400, "Invalid format: expected true or false");
    };
    let now = call.now;
    let ok = call.write(|d| {
        let row = d
            .providers
            .iter()
            .find(|p| p.provider_no == id)
            .map(|p| p.id)?;
        d.providers.update(row, now, |p| {
            p.status = if active { "1".into() } else { "0".into() }
        })
    });
    match ok {
        Some(()) => Outcome::Value(json!(active)),
        None => jerr(500, "System error"),
    }
}

/// `PUT /providerSettings/{providerNo}/{key}` (a text value).
pub fn provider_setting(call: &mut Call<'_>) -> Outcome {
    let key = call.path.get("key").map(plain).unwrap_or_default();
    let who = call.path.get("providerNo").map(plain).unwrap_or_default();
    let value = call.text.trim().trim_matches('"').to_owned();
    let now = call.now;
    call.write(|d| {
        let existing = d
            .records
            .rows("providerSettings")
            .find(|r| r.fields.get("providerNo").map(plain).as_deref() == Some(who.as_str()))
            .map(|r| r.id);
        match existing {
            Some(id) => {
                d.records.update("providerSettings", id, now, |m| {
                    m.insert(key.clone(), json!(value));
                });
            }
            None => {
                let mut m = Map::new();
                m.insert("providerNo".into(), json!(who));
                m.insert(key.clone(), json!(value));
                d.records.insert("providerSettings", m, now);
            }
        }
    });
    Outcome::Value(json!(value))
}

// ---- system preferences ------------------------------------------------------------

/// `GET /systemPreference/{key}[/enabled]` and `/property/{key}[/enabled]`:
/// a stored preference (or `oscar.properties` value), else the `default`
/// query parameter.
pub fn preference(call: &mut Call<'_>) -> Outcome {
    let key = call.path.get("key").map(plain).unwrap_or_default();
    let scope = call.behaviour.param("scope").unwrap_or("system");
    let stored = call.read(|d| {
        d.records
            .rows(if scope == "property" {
                "systemProperties"
            } else {
                "systemPreferences"
            })
            .find(|r| r.fields.get("name").map(plain).as_deref() == Some(key.as_str()))
            .and_then(|r| r.fields.get("value").map(plain))
    });
    let default = call.source("query.default");
    if call.behaviour.param("enabled") == Some("true") {
        let on = stored.as_deref().map_or_else(
            || default.as_bool().unwrap_or(false) || plain(&default) == "true",
            |v| matches!(v, "true" | "on" | "yes" | "1"),
        );
        return Outcome::Value(json!(on));
    }
    Outcome::Value(stored.map_or(
        if default.is_null() {
            Value::Null
        } else {
            Value::String(plain(&default))
        },
        Value::String,
    ))
}

/// `PUT /systemPreference/{key}` (a text value): the row id.
pub fn preference_set(call: &mut Call<'_>) -> Outcome {
    let key = call.path.get("key").map(plain).unwrap_or_default();
    let value = call.text.trim().trim_matches('"').to_owned();
    let now = call.now;
    let id = call.write(|d| {
        let existing = d
            .records
            .rows("systemPreferences")
            .find(|r| r.fields.get("name").map(plain).as_deref() == Some(key.as_str()))
            .map(|r| r.id);
        match existing {
            Some(id) => {
                d.records.update("systemPreferences", id, now, |m| {
                    m.insert("value".into(), json!(value));
                });
                id
            }
            None => {
                let mut m = Map::new();
                m.insert("name".into(), json!(key));
                m.insert("value".into(), json!(value));
                d.records.insert("systemPreferences", m, now)
            }
        }
    });
    Outcome::Value(json!(id))
}

/// `POST /user_metrics` (a list of metrics): stored; answers "ok".
pub fn user_metrics(call: &mut Call<'_>) -> Outcome {
    let Some(list) = call.body.as_array().cloned() else {
        return jerr(400, "JSON parse error: expected an array");
    };
    let now = call.now;
    call.write(|d| {
        for m in list {
            if let Value::Object(m) = m {
                d.records.insert("userMetrics", m, now);
            }
        }
    });
    Outcome::Value(json!("ok"))
}

// ---- demographics ------------------------------------------------------------------

/// `GET /demographics/search?jsonData={...}&page&perPage`: the JSON search
/// from a query parameter.
pub fn demographic_search(call: &mut Call<'_>) -> Outcome {
    let raw = plain(&call.source("query.jsonData"));
    let Ok(req) = serde_json::from_str::<Value>(&raw) else {
        return jerr(400, "JSON parse error: jsonData");
    };
    call.body = req;
    let term = body_str(call, "term").unwrap_or_default().to_lowercase();
    let mode = body_str(call, "type").unwrap_or_else(|| "Name".into());
    let page = call.query_id("page").unwrap_or(1).max(1);
    let per = call.query_id("perPage").unwrap_or(10).max(1);
    let today = call.today();
    let all: Vec<Value> = call.read(|d| {
        d.patients()
            .iter()
            .filter(|p| super::util::is_active(p))
            .filter(|p| match mode.as_str() {
                "HIN" => p.hin.starts_with(&term),
                "Phone" => p.phone_home.contains(&term),
                "ChartNo" => p.chart_no.starts_with(&term),
                _ => p
                    .last_name
                    .to_lowercase()
                    .starts_with(term.split(',').next().unwrap_or("").trim()),
            })
            .map(|p| beans::patient(d, p, today))
            .collect()
    });
    super::util::page(all, page, per)
}

/// `GET /demographics/statusList?type=patient|roster`.
pub fn status_list(call: &mut Call<'_>) -> Outcome {
    let kind = plain(&call.source("query.type"));
    let values: &[&str] = if kind == "roster" {
        &["RO", "NR", "TE", "FS"]
    } else {
        &["AC", "IN", "DE", "MO", "FI"]
    };
    Outcome::Value(Value::Array(
        values.iter().map(|v| json!({"value": v})).collect(),
    ))
}

/// The numbers as sent: one past `Id`'s range fails as an unknown one.
fn ids(call: &Call<'_>) -> Vec<i64> {
    call.body
        .get("demographicNos")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_i64().or_else(|| plain(v).parse().ok()))
        .collect()
}

/// `POST /batch/activate_demographics` and `deactivate_demographics`
/// `{demographicNos: [...]}`.
pub fn batch_status(call: &mut Call<'_>) -> Outcome {
    let status = call.behaviour.param("status").unwrap_or("AC").to_owned();
    let list = ids(call);
    if list.is_empty() {
        return jerr(412, "Missing argument: demographicNos");
    }
    let now = call.now;
    let ok = call.write(|d| {
        list.iter().all(|id| {
            Id::try_from(*id).is_ok_and(|id| {
                d.update_patient(id, now, |p| p.status = status.clone().into())
                    .is_ok()
            })
        })
    });
    Outcome::Value(json!(ok))
}

/// `POST /batch/set_dx_code` `{demographicNos, dxCode, dxCodingSystem}`.
pub fn batch_dx(call: &mut Call<'_>) -> Outcome {
    let list = ids(call);
    let Some(code) = body_str(call, "dxCode") else {
        return jerr(412, "Missing argument: dxCode");
    };
    let system = body_str(call, "dxCodingSystem").unwrap_or_else(|| "icd9".into());
    let now = call.now;
    let login = call.provider_no();
    let ok = call.write(|d| {
        list.iter().all(|p| {
            let Some(p) = Id::try_from(*p)
                .ok()
                .filter(|p| d.patients().get(*p).is_some())
            else {
                return false;
            };
            d.problems.insert(crate::store::Problem {
                patient_id: p,
                kind: "medical_problem".into(),
                title: code.clone().into(),
                diagnosis: format!("{}:{code}", system.to_uppercase()).into(),
                begin: Some(now.date_naive()),
                provider_no: login.clone().into(),
                created: now.into(),
                last_update: now.into(),
                ..Default::default()
            });
            true
        })
    });
    Outcome::Value(json!(ok))
}

// ---- appointments and the calendar ---------------------------------------------------

/// An appointment as Juno's `CalendarAppointment`.
fn calendar_appt(d: &Data, a: &Appointment) -> Value {
    let p = a.patient.get().and_then(|id| d.patients().get(id));
    json!({
        "appointmentNo": a.id, "providerNo": a.provider_no, "demographicNo": a.patient.get().unwrap_or(0),
        "startTime": ldt(a.date, a.start), "endTime": ldt(a.date, a.end), "eventStatusCode": a.status,
        "eventStatusModifier": null, "reason": a.reason, "notes": a.notes, "location": a.location,
        "resources": a.resources, "appointmentName": a.name, "type": a.kind, "urgency": a.urgency,
        "site": null, "tagNames": null, "tagSystemCodes": null, "isVirtual": a.kind == "Telehealth",
        "doNotBook": false, "confirmed": false, "userName": a.last_update_user,
        "demographicPatientName": p.map(Patient::display_name), "demographicPatientDob": p.and_then(|x| x.birth_date).map(|b| b.to_string()),
        "demographicPatientPhone": p.map(|x| x.phone_home.clone()), "demographicPatientStatus": p.map(|x| x.status.clone()),
    })
}

fn parse_ldt(v: &Value) -> Option<(NaiveDate, NaiveTime)> {
    instant(v).map(|t| (t.date_naive(), t.time()))
}

/// `POST /appointment` and `PUT /appointment` (`CalendarAppointment`):
/// Juno refuses a start after the end (400) and books overlapping slots
/// (the calendar shows them side by side).
pub fn appointment_save(call: &mut Call<'_>) -> Outcome {
    let update = call.behaviour.param("update") == Some("true");
    let (Some((date, start)), Some((edate, end))) = (
        call.body.get("startTime").and_then(parse_ldt),
        call.body.get("endTime").and_then(parse_ldt),
    ) else {
        return invalid(vec![
            ("startTime".into(), "may not be null".into()),
            ("endTime".into(), "may not be null".into()),
        ]);
    };
    if edate != date || end <= start {
        return jerr(400, "Appointment end time must be after start time");
    }
    let Some(provider) = body_str(call, "providerNo") else {
        return invalid(vec![("providerNo".into(), "may not be null".into())]);
    };
    let s = |k: &str| -> Text { body_str(call, k).unwrap_or_default().into() };
    // A number past `Id`'s range is no patient's: refused where booking
    // an unknown patient is (an update cannot keep it as a dangling link,
    // so it fails as an update does).
    let patient = body_i64(call, "demographicNo")
        .filter(|p| *p > 0)
        .map(|p| id_from("patient", p))
        .transpose();
    let login = call.provider_no();
    let now = call.now;
    let fields = (
        s("reason"),
        s("notes"),
        s("location"),
        s("resources"),
        s("type"),
        body_str(call, "eventStatusCode").map_or_else(|| "t".into(), Text::from),
        s("appointmentName"),
        s("urgency"),
    );
    let id = if update {
        let Some(id) = body_i64(call, "appointmentNo") else {
            return jerr(412, "Missing argument: appointmentNo");
        };
        // Either refusal is the same "System error".
        let r = call.write(|d| {
            let patient = patient?;
            d.update_appointment(id_from("appointment", id)?, now, |a| {
                a.date = date;
                a.start = start;
                a.end = end;
                a.provider_no = provider.into();
                a.patient = patient.into();
                (
                    a.reason,
                    a.notes,
                    a.location,
                    a.resources,
                    a.kind,
                    a.status,
                    a.name,
                    a.urgency,
                ) = fields;
                a.last_update_user = login.clone().into();
            })
        });
        if r.is_err() {
            return jerr(500, "System error");
        }
        call.write(|d| {
            let mut m = Map::new();
            m.insert("appointmentNo".into(), json!(id));
            m.insert("action".into(), json!("update"));
            m.insert("updateUser".into(), json!(login));
            m.insert("updateDateTime".into(), json!(now.to_rfc3339()));
            d.records.insert("appointmentEdits", m, now);
        });
        id
    } else {
        let name = call.read(|d| {
            let p = *patient.as_ref().ok()?;
            d.patients().get(p?).map(Patient::display_name)
        });
        let (reason, notes, location, resources, kind, status, appt_name, urgency) = fields;
        let r = call.write(|d| {
            d.insert_appointment(
                Appointment {
                    provider_no: provider.into(),
                    patient: patient?.into(),
                    date,
                    start,
                    end,
                    name: if appt_name.is_empty() {
                        name.unwrap_or_default().into()
                    } else {
                        appt_name
                    },
                    notes,
                    reason,
                    location,
                    resources,
                    kind,
                    status,
                    urgency,
                    program_id: 1,
                    booking_source: "OSCAR".into(),
                    creator: login.clone().into(),
                    last_update_user: login.clone().into(),
                    ..Appointment::default()
                },
                now,
                false,
            )
        });
        match r {
            Ok(id) => i64::from(id),
            Err(e) => return jerr(400, &e.to_string()),
        }
    };
    call.read(|d| {
        Id::try_from(id)
            .ok()
            .and_then(|id| d.appointments().get(id))
            .map_or_else(
                || jerr(500, "System error"),
                |a| Outcome::Value(calendar_appt(d, a)),
            )
    })
}

/// `POST /appointment/repeating`: the first occurrence, and copies
/// `frequency` days (`interval`) apart until `endDate`.
pub fn appointment_repeating(call: &mut Call<'_>) -> Outcome {
    let Some(first) = call.body.get("appointment").cloned() else {
        return jerr(412, "Missing argument: appointment");
    };
    let interval = body_i64(call, "interval").unwrap_or(7).max(1);
    let until = call
        .body
        .get("endDate")
        .and_then(instant)
        .map(|t| t.date_naive());
    call.body = first;
    let out = appointment_save(call);
    let Outcome::Value(v) = &out else {
        return out;
    };
    let (Some((date, start)), Some((_, end))) = (
        v.get("startTime").and_then(parse_ldt),
        v.get("endTime").and_then(parse_ldt),
    ) else {
        return out;
    };
    if let Some(until) = until {
        let template = call.read(|d| {
            v.get("appointmentNo")
                .and_then(Value::as_i64)
                .and_then(|id| Id::try_from(id).ok())
                .and_then(|id| d.appointments().get(id).cloned())
        });
        if let Some(t) = template {
            let now = call.now;
            let mut day = date + Duration::days(interval);
            let mut n = 0;
            while day <= until && n < 52 {
                let copy = Appointment {
                    id: 0,
                    date: day,
                    start,
                    end,
                    ..t.clone()
                };
                let _ = call.write(|d| d.insert_appointment(copy, now, false));
                day += Duration::days(interval);
                n += 1;
            }
        }
    }
    out
}

pub fn appointment_get(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("appointmentNo");
    call.read(
        |d| match id.and_then(|i| d.appointments().get(Id::try_from(i).ok()?)) {
            Some(a) => Outcome::Value(beans::appointment(d, a)),
            None => jerr(500, "System error"),
        },
    )
}

/// `DELETE /appointment/{appointmentNo}`: Juno keeps the row and sets
/// status `D`; answers the id.
pub fn appointment_delete(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("appointmentNo") else {
        return jerr(412, "Missing argument: appointmentNo");
    };
    let now = call.now;
    match call.write(|d| {
        d.update_appointment(id_from("appointment", id)?, now, |a| a.status = "D".into())
    }) {
        Ok(()) => Outcome::Value(json!(id)),
        Err(_) => jerr(500, "System error"),
    }
}

pub fn appointment_history(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("appointmentNo");
    let items: Vec<Value> = call.read(|d| {
        d.records
            .rows("appointmentEdits")
            .filter(|r| r.fields.get("appointmentNo").and_then(Value::as_i64) == id)
            .map(|r| Value::Object(r.fields.clone()))
            .collect()
    });
    let total = items.len();
    Outcome::Value(json!({"content": items, "total": total, "page": 1, "perPage": total}))
}

/// The status cycle of the schedule's status button.
const CYCLE: &[&str] = &["t", "T", "H", "P", "E", "N", "C", "B"];

pub fn appointment_rotate(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("appointmentNo") else {
        return jerr(412, "Missing argument: appointmentNo");
    };
    let now = call.now;
    let r = call.write(|d| {
        d.update_appointment(id_from("appointment", id)?, now, |a| {
            let i = CYCLE
                .iter()
                .position(|s| *s == a.status)
                .map_or(0, |i| (i + 1) % CYCLE.len());
            a.status = CYCLE[i].to_owned().into();
            a.status.clone()
        })
    });
    match r {
        Ok(s) => Outcome::Value(json!(s)),
        Err(_) => jerr(500, "System error"),
    }
}

/// `PUT /appointment/{appointmentNo}/set_status` (the status code as text).
pub fn appointment_set_status(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("appointmentNo") else {
        return jerr(412, "Missing argument: appointmentNo");
    };
    let status = call.text.trim().trim_matches('"').to_owned();
    if status.is_empty() || status.len() > 2 {
        return jerr(400, "Invalid appointment status");
    }
    let now = call.now;
    match call.write(|d| {
        d.update_appointment(id_from("appointment", id)?, now, |a| {
            a.status = status.clone().into()
        })
    }) {
        Ok(()) => Outcome::Value(json!(status)),
        Err(_) => jerr(500, "System error"),
    }
}

/// `GET /schedule/calendar?scheduleId&startDate&endDate...`: a provider's
/// appointments and working hours over a range (`CalendarSchedule`).
pub fn calendar(call: &mut Call<'_>) -> Outcome {
    let provider = plain(&call.source("query.scheduleId"));
    let day = |k: &str| {
        NaiveDate::parse_from_str(&plain(&call.source(&format!("query.{k}"))), "%Y-%m-%d").ok()
    };
    let (Some(start), Some(end)) = (day("startDate"), day("endDate")) else {
        return jerr(400, "Invalid format: startDate/endDate must be yyyy-MM-dd");
    };
    if provider.is_empty() {
        return jerr(412, "Missing argument: scheduleId");
    }
    call.read(|d| {
        let events: Vec<Value> = d
            .appointments()
            .iter()
            .filter(|a| a.provider_no == provider && a.date >= start && a.date <= end && a.status != "D")
            .map(|a| calendar_appt(d, a))
            .collect();
        let mut hours = Vec::new();
        let mut date = start;
        while date <= end {
            if let Some(s) = d.schedule_day(&provider, date) {
                hours.push(json!({"date": date.to_string(), "startTime": "09:00", "endTime": "17:00", "slotMinutes": s.slot_min, "holiday": s.holiday}));
            }
            date += Duration::days(1);
        }
        Outcome::Value(json!({"visibleSchedules": [{"providerNo": provider, "hours": hours}], "eventList": events}))
    })
}

pub fn calendar_statuses(call: &mut Call<'_>) -> Outcome {
    let items: Vec<Value> = call.read(|d| {
        d.records
            .rows("appointmentStatuses")
            .map(|r| {
                let f = &r.fields;
                json!({"displayLetter": f.get("shortLetters"), "color": f.get("color"), "icon": f.get("icon"), "name": f.get("description"),
                       "code": f.get("status"), "active": f.get("active") == Some(&json!(1)), "editable": f.get("editable") == Some(&json!(1)),
                       "rotates": f.get("active") == Some(&json!(1)), "sortOrder": r.id})
            })
            .collect()
    });
    let total = items.len();
    Outcome::Value(json!({"content": items, "total": total, "page": 1, "perPage": total}))
}

/// `GET /schedule/groups`: one group per provider (and the clinic's team).
pub fn schedule_groups(call: &mut Call<'_>) -> Outcome {
    let items: Vec<Value> = call.read(|d| {
        d.providers
            .iter()
            .filter(|p| p.provider_type == "doctor")
            .map(|p| json!({"identifier": p.provider_no, "identifierType": "PROVIDER", "name": format!("{}, {}", p.last_name, p.first_name), "providerNos": [p.provider_no]}))
            .collect()
    });
    let total = items.len();
    Outcome::Value(json!({"content": items, "total": total, "page": 1, "perPage": total}))
}

/// `GET /schedule/search/available?providerNo&dayOfWeek&startTime&endTime&code&resultCount=8`:
/// free template slots from today on.
pub fn available(call: &mut Call<'_>) -> Outcome {
    let provider = plain(&call.source("query.providerNo"));
    if provider.is_empty() {
        return jerr(412, "Missing argument: providerNo");
    }
    let want: usize = call.query_id("resultCount").unwrap_or(8).max(1) as usize;
    let dow = plain(&call.source("query.dayOfWeek")).to_lowercase();
    let from = NaiveTime::parse_from_str(&plain(&call.source("query.startTime")), "%H:%M").ok();
    let to = NaiveTime::parse_from_str(&plain(&call.source("query.endTime")), "%H:%M").ok();
    let today = call.today();
    let items: Vec<Value> = call.read(|d| {
        let mut out = Vec::new();
        for offset in 0..60 {
            let date = today + Duration::days(offset);
            if !dow.is_empty() && !weekday_name(date.weekday()).starts_with(&dow) {
                continue;
            }
            for (s, e) in d.free_slots(&provider, date, 15) {
                if from.is_some_and(|f| s < f) || to.is_some_and(|t| e > t) {
                    continue;
                }
                out.push(json!({"providerNo": provider, "date": date.to_string(), "startTime": s.format("%H:%M").to_string(), "endTime": e.format("%H:%M").to_string(), "code": "A"}));
                if out.len() >= want {
                    return out;
                }
            }
        }
        out
    });
    let total = items.len();
    Outcome::Value(json!({"content": items, "total": total, "page": 1, "perPage": total}))
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

// ---- sites and clinic ---------------------------------------------------------------

fn site(f: &crate::store::Facility) -> Value {
    json!({"siteId": f.id, "name": f.name, "shortName": "MGFHT", "address": f.address.street, "city": f.address.city,
           "province": f.address.province, "postal": f.address.postal, "phone": f.phone, "fax": f.fax, "bgColor": "#CCCCFF", "status": 1})
}

/// Multisite is off: the clinic is the only site.
pub fn sites(call: &mut Call<'_>) -> Outcome {
    let items: Vec<Value> = call.read(|d| d.facilities.iter().map(site).collect());
    let total = items.len();
    Outcome::Value(json!({"content": items, "total": total, "page": 1, "perPage": total}))
}

pub fn one_site(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("siteId").unwrap_or(1);
    call.read(|d| {
        Id::try_from(id)
            .ok()
            .and_then(|id| d.facilities.get(id))
            .map_or_else(|| jerr(500, "System error"), |f| Outcome::Value(site(f)))
    })
}

pub fn site_billing(call: &mut Call<'_>) -> Outcome {
    let no = call.path.get("providerNo").map(plain).unwrap_or_default();
    call.read(|d| match d.provider(&no) {
        Some(p) => Outcome::Value(json!({"siteId": call.path_id("siteId"), "providerNo": p.provider_no, "billingNo": p.billing_no, "groupNo": "0000"})),
        None => jerr(500, "System error"),
    })
}

/// `GET /clinic`: the clinic record (`ClinicTransfer`).
pub fn clinic(call: &mut Call<'_>) -> Outcome {
    call.read(|d| match d.facilities.iter().next() {
        Some(f) => Outcome::Value(json!({"clinicId": f.id, "clinicName": f.name, "clinicAddress": f.address.street, "clinicCity": f.address.city,
                                           "clinicProvince": f.address.province, "clinicPostal": f.address.postal, "clinicPhone": f.phone,
                                           "clinicFax": f.fax, "clinicEmail": f.email})),
        None => jerr(500, "System error"),
    })
}

// ---- consultations ------------------------------------------------------------------

pub fn consult_e_send(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("requestId");
    if id.is_none_or(|i| call.read(|d| record(d, "consultRequests", i).is_none())) {
        return jerr(500, "System error");
    }
    jerr(400, "Integration error: Ocean eReferral is not configured")
}

pub fn letterheads(call: &mut Call<'_>) -> Outcome {
    let items: Vec<Value> = call.read(|d| {
        d.providers
            .iter()
            .filter(|p| p.provider_type == "doctor")
            .map(|p| json!({"id": p.provider_no, "name": format!("{}, {}", p.last_name, p.first_name), "address": p.address, "phone": p.work_phone}))
            .collect()
    });
    let total = items.len();
    Outcome::Value(json!({"content": items, "total": total, "page": 1, "perPage": total}))
}

/// `GET /consults/searchRequests`, `/searchResponses`, `/getTotalRequests`
/// with query parameters and Juno paging.
pub fn consult_search(call: &mut Call<'_>) -> Outcome {
    let coll = if call.behaviour.param("responses") == Some("true") {
        "consultResponses"
    } else {
        "consultRequests"
    };
    let patient = call.query_id("demographicNo");
    let status = call.query_id("status");
    let page = call.query_id("page").unwrap_or(1).max(1);
    let per = call.query_id("perPage").unwrap_or(10).max(1);
    let all: Vec<Value> = call.read(|d| {
        d.records
            .rows(coll)
            .filter(|r| {
                let p = r
                    .patient
                    .map(i64::from)
                    .or_else(|| r.fields.get("demographicNo").and_then(Value::as_i64));
                patient.is_none_or(|x| p == Some(x))
                    && status
                        .is_none_or(|s| r.fields.get("status").map(plain) == Some(s.to_string()))
            })
            .map(|r| {
                let mut v = Value::Object(r.fields.clone());
                v["id"] = json!(r.id);
                v
            })
            .collect()
    });
    if call.behaviour.param("total") == Some("true") {
        return Outcome::Value(json!(all.len()));
    }
    super::util::page(all, page, per)
}

/// `GET /specialists` and `/referralDoctors?searchName&searchRefNo&page&perPage`.
pub fn specialist_search(call: &mut Call<'_>) -> Outcome {
    let name = plain(&call.source("query.searchName")).to_lowercase();
    let refno = plain(&call.source("query.searchRefNo"));
    let items: Vec<Value> = call.read(|d| {
        d.records
            .rows("specialists")
            .filter(|r| {
                name.is_empty()
                    || r.fields
                        .get("lastName")
                        .map(plain)
                        .unwrap_or_default()
                        .to_lowercase()
                        .starts_with(&name)
            })
            .filter(|r| {
                refno.is_empty()
                    || r.fields.get("referralNo").map(plain).as_deref() == Some(refno.as_str())
            })
            .map(|r| Value::Object(r.fields.clone()))
            .collect()
    });
    Outcome::Value(Value::Array(items))
}

// ---- e-forms and forms ----------------------------------------------------------------

/// `POST /eform/json` and `PUT /eform/{dataId}/json`: the e-form as JSON
/// text in the body.
pub fn eform_json(call: &mut Call<'_>) -> Outcome {
    let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(&call.text) else {
        return jerr(400, "JSON parse error: the body is not an e-form");
    };
    let now = call.now;
    if call.behaviour.param("update") == Some("true") {
        let Some(id) = call.path_id("dataId") else {
            return jerr(412, "Missing argument: dataId");
        };
        m.remove("id");
        let ok = Id::try_from(id).ok().and_then(|id| {
            call.write(|d| d.records.update("eforms", id, now, |row| row.extend(m)))
        });
        return match ok {
            Some(()) => call.read(|d| {
                Outcome::Value(
                    record(d, "eforms", id)
                        .map_or(Value::Null, |r| Value::Object(r.fields.clone())),
                )
            }),
            None => jerr(500, "System error"),
        };
    }
    m.insert("creator".into(), json!(call.provider_no()));
    m.insert("current".into(), json!(true));
    let id = call.write(|d| d.records.insert("eforms", m, now));
    call.read(|d| {
        Outcome::Value(
            d.records
                .get("eforms", id)
                .map_or(Value::Null, |r| Value::Object(r.fields.clone())),
        )
    })
}

/// `GET /forms/allForms`: every encounter form and e-form.
pub fn all_forms(call: &mut Call<'_>) -> Outcome {
    let list: Vec<Value> = call.read(|d| {
        let mut l: Vec<Value> = d.records.rows("encounterForms").map(|r| json!({"id": r.id, "formId": r.id, "type": "form", "name": r.fields.get("formName"), "subject": ""})).collect();
        l.extend(d.records.rows("eforms").map(|r| json!({"id": r.id, "formId": r.id, "type": "eform", "name": r.fields.get("formName"), "subject": r.fields.get("subject")})));
        l
    });
    Outcome::Value(json!({"name": "All", "list": list}))
}

pub fn forms_deleted(call: &mut Call<'_>) -> Outcome {
    let p = call.path_id("demographicNo");
    let list: Vec<Value> = call.read(|d| {
        d.records
            .rows("eformData")
            .filter(|r| r.patient.map(i64::from) == p && r.fields.get("status").map(plain).as_deref() == Some("deleted"))
            .map(|r| json!({"id": r.id, "demographicNo": p, "formId": r.fields.get("formId"), "type": "eform", "name": r.fields.get("formName"), "status": "deleted", "date": r.fields.get("date")}))
            .collect()
    });
    Outcome::Value(json!({"name": "Deleted", "list": list}))
}

pub fn form_status(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("id") else {
        return jerr(412, "Missing argument: id");
    };
    let status = call
        .behaviour
        .param("status")
        .unwrap_or("deleted")
        .to_owned();
    let now = call.now;
    let ok = call
        .write(|d| {
            d.records
                .update("eformData", Id::try_from(id).ok()?, now, |m| {
                    m.insert("status".into(), json!(status))
                })
        })
        .is_some();
    Outcome::Value(json!(ok))
}

// ---- fax ------------------------------------------------------------------------------

pub fn fax_enabled(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("id");
    call.read(|d| match id.and_then(|i| record(d, "faxAccounts", i)) {
        Some(r) => Outcome::Value(json!(r.fields.get("enabled") == Some(&json!(true)))),
        None => jerr(500, "System error"),
    })
}

/// The next fax pull/push: every five minutes.
pub fn fax_next_time(call: &mut Call<'_>) -> Outcome {
    let next = call.now + Duration::minutes(5 - i64::from(call.now.time().minute() % 5));
    Outcome::Value(json!(next.format("%Y-%m-%dT%H:%M:00").to_string()))
}

pub fn fax_download(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("id");
    match call.read(|d| {
        id.and_then(|i| record(d, "faxOutbox", i))
            .map(|r| r.fields.get("fileName").map(plain).unwrap_or_default())
    }) {
        Some(name) => super::util::pdf_outcome("Fax", &[name]),
        None => jerr(500, "System error"),
    }
}

pub fn fax_notification(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("id") else {
        return jerr(412, "Missing argument: id");
    };
    let status = call.text.trim().trim_matches('"').to_owned();
    if !matches!(status.as_str(), "NOTIFY" | "SILENT") {
        return jerr(
            400,
            "Invalid format: notification status must be NOTIFY or SILENT",
        );
    }
    let now = call.now;
    match call.write(|d| {
        d.records
            .update("faxOutbox", Id::try_from(id).ok()?, now, |m| {
                m.insert("notificationStatus".into(), json!(status))
            })
    }) {
        Some(_) => call.read(|d| {
            Outcome::Value(
                record(d, "faxOutbox", id).map_or(Value::Null, |r| Value::Object(r.fields.clone())),
            )
        }),
        None => jerr(500, "System error"),
    }
}

// ---- integrations ---------------------------------------------------------------------

/// MyHealthAccess, IceFall sends, iMDHealth: no integration is configured,
/// so Juno's integration exception answers 400.
pub fn no_integration(call: &mut Call<'_>) -> Outcome {
    let id = call
        .path
        .get("integrationId")
        .map(plain)
        .unwrap_or_default();
    jerr(
        400,
        &format!(
            "Integration error: no integration configured{}",
            if id.is_empty() {
                String::new()
            } else {
                format!(" with id {id}")
            }
        ),
    )
}

pub fn ice_fall_settings(call: &mut Call<'_>) -> Outcome {
    let now = call.now;
    if call.behaviour.param("save") == Some("true") {
        let Value::Object(m) = call.body.clone() else {
            return jerr(400, "JSON parse error: settings");
        };
        call.write(|d| {
            let id = d.records.rows("iceFallSettings").next().map(|r| r.id);
            match id {
                Some(id) => {
                    d.records
                        .update("iceFallSettings", id, now, |row| row.extend(m));
                }
                None => {
                    d.records.insert("iceFallSettings", m, now);
                }
            }
        });
    }
    let v = call.read(|d| {
        d.records
            .rows("iceFallSettings")
            .next()
            .map(|r| r.fields.clone())
    });
    let mut out = json!({"visible": false, "enabled": false, "clinicId": null, "apiKey": null, "email": null});
    if let (Value::Object(o), Some(m)) = (&mut out, v) {
        for (k, x) in m {
            if k != "id" {
                o.insert(k, x);
            }
        }
    }
    Outcome::Value(out)
}

/// `POST /integrations/aqs/queue/{queueId}/appointment/{appointmentId}/book`:
/// a queued appointment becomes a real one for the given provider now.
pub fn book_queued(call: &mut Call<'_>) -> Outcome {
    let Some(qid) = call.path_id("appointmentId") else {
        return jerr(412, "Missing argument: appointmentId");
    };
    let Some(provider) = body_str(call, "providerNo") else {
        return invalid(vec![("providerNo".into(), "may not be null".into())]);
    };
    let queued = call.read(|d| record(d, "aqsAppointments", qid).map(|r| (r.id, r.fields.clone())));
    let Some((qid, q)) = queued else {
        return jerr(500, "System error");
    };
    // A number past `Id`'s range is no patient's: refused as an unknown one.
    let patient = match q
        .get("demographicNo")
        .and_then(Value::as_i64)
        .map(|p| id_from("patient", p))
        .transpose()
    {
        Ok(p) => p,
        Err(e) => return jerr(400, &e.to_string()),
    };
    let now = call.now;
    let start = now.time().with_second(0).unwrap_or(now.time());
    let appt = Appointment {
        provider_no: provider.into(),
        patient: patient.into(),
        date: now.date_naive(),
        start,
        end: start + Duration::minutes(15),
        reason: q.get("reason").map(plain).unwrap_or_default().into(),
        kind: "Telehealth".into(),
        status: "t".into(),
        program_id: 1,
        booking_source: "OSCAR".into(),
        creator: call.provider_no().into(),
        ..Appointment::default()
    };
    match call.write(|d| d.insert_appointment(appt, now, false)) {
        Ok(id) => {
            call.write(|d| d.records.remove("aqsAppointments", qid));
            call.read(|d| {
                d.appointments().get(id).map_or_else(
                    || jerr(500, "System error"),
                    |a| Outcome::Value(beans::appointment(d, a)),
                )
            })
        }
        Err(e) => jerr(400, &e.to_string()),
    }
}

// ---- inbox and labs -------------------------------------------------------------------

/// `GET /inbox/{providerId}/{reportStatus}/count`.
pub fn inbox_count(call: &mut Call<'_>) -> Outcome {
    let who = call.path.get("providerId").map(plain).unwrap_or_default();
    let status = call.path.get("reportStatus").map(plain).unwrap_or_default();
    let n = call.read(|d| {
        d.labs
            .iter()
            .filter(|l| l.provider_no == who && (status == "all" || l.status == status))
            .count()
    });
    Outcome::Value(json!(n))
}

pub fn lab_routing(call: &mut Call<'_>) -> Outcome {
    let (Some(lab), who) = (
        call.path_id("labID"),
        call.path.get("providerID").map(plain).unwrap_or_default(),
    ) else {
        return jerr(412, "Missing argument: labID");
    };
    call.read(|d| match Id::try_from(lab).ok().and_then(|l| d.labs.get(l)) {
        Some(l) => Outcome::Value(json!({"labId": lab, "labType": "HL7", "providerNo": who, "status": l.status, "comment": "", "timestamp": l.last_update.get().to_rfc3339()})),
        None => jerr(500, "System error"),
    })
}

// ---- the external API (/ws/services/v1) ------------------------------------------------

/// Juno's v1 demographic (`DemographicTransferOutbound`).
fn v1_demographic(p: &Patient) -> Value {
    json!({
        "firstName": p.first_name, "lastName": p.last_name, "title": p.title, "sex": p.sex, "hin": p.hin, "sin": p.sin,
        "hcType": p.hc_type, "hcVersion": p.hin_version, "hcRenewDate": p.hc_renew_date.map(|d| d.to_string()),
        "hcEffectiveDate": null, "dateJoined": p.date_joined.map(|d| d.to_string()), "endDate": p.end_date.map(|d| d.to_string()),
        "dateOfBirth": p.birth_date.map(|d| d.to_string()), "patientStatus": p.status,
        "patientStatusDate": p.status_date.map(|d| d.to_string()), "veteranNo": null, "email": p.email,
        "address": p.address.street, "city": p.address.city, "postal": p.address.postal, "province": p.address.province,
        "previousAddress": null, "primaryPhone": p.phone_home, "secondaryPhone": p.phone_work, "cellPhone": p.phone_cell,
        "pcnIndicator": null, "rosterStatus": p.roster_status, "rosterTerminationReason": null,
        "rosterDate": p.roster_date.map(|d| d.to_string()), "rosterTerminationDate": null, "providerNo": p.provider_no,
        "resident": null, "nurse": null, "midwife": null, "referralDoctorName": null, "referralDoctorNo": null,
        "familyDoctorName": null, "familyDoctorNo": null, "chartNo": p.chart_no, "alias": p.alias, "children": null,
        "sourceOfIncome": null, "citizenship": null, "countryOfOrigin": null, "spokenLanguage": p.spoken_language,
        "officialLanguage": p.official_language, "newsletter": null, "anonymous": null, "nameOfMother": null,
        "nameOfFather": null, "notes": null, "alert": null, "lastUpdateDate": p.last_update.get().date_naive().to_string(),
    })
}

/// The bean validation of `DemographicTransferBasic`.
fn validate_demographic(b: &Value) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let s = |k: &str| b.get(k).filter(|v| !v.is_null()).map(plain);
    for k in ["firstName", "lastName", "sex", "dateJoined", "dateOfBirth"] {
        if s(k).is_none_or(|v| v.is_empty()) {
            errors.push((k.to_owned(), "may not be null".to_owned()));
        }
    }
    for (k, max) in [
        ("firstName", 30),
        ("lastName", 30),
        ("hin", 12),
        ("hcVersion", 3),
        ("postal", 9),
        ("providerNo", 6),
    ] {
        if s(k).is_some_and(|v| v.chars().count() > max) {
            errors.push((k.to_owned(), format!("size must be between 0 and {max}")));
        }
    }
    if s("sex").is_some_and(|v| !["M", "F", "T", "O", "U"].contains(&v.as_str())) {
        errors.push(("sex".to_owned(), "must be one of M, F, T, O, U".to_owned()));
    }
    if s("patientStatus").is_some_and(|v| !["AC", "IN", "DE", "FI", "MO"].contains(&v.as_str())) {
        errors.push((
            "patientStatus".to_owned(),
            "must be one of AC, IN, DE, FI, MO".to_owned(),
        ));
    }
    errors
}

/// `POST /ws/services/v1/demographic` (the new id) and `PUT .../{id}`
/// (the record), with Juno's bean validation.
pub fn v1_demographic_save(call: &mut Call<'_>) -> Outcome {
    let update = call.behaviour.param("update") == Some("true");
    let errors = validate_demographic(&call.body);
    if !errors.is_empty() {
        return invalid(errors);
    }
    let b = call.body.clone();
    let s = |k: &str| {
        b.get(k)
            .filter(|v| !v.is_null())
            .map(plain)
            .unwrap_or_default()
    };
    let date = |k: &str| b.get(k).and_then(instant).map(|t| t.date_naive());
    let login = call.provider_no();
    let fill = |p: &mut Patient| {
        p.first_name = s("firstName").into();
        p.last_name = s("lastName").into();
        p.title = s("title").into();
        p.sex = s("sex").into();
        p.hin = s("hin").into();
        p.hin_version = s("hcVersion").into();
        p.hc_type = s("hcType").into();
        p.hc_renew_date = date("hcRenewDate");
        p.date_joined = date("dateJoined");
        p.end_date = date("endDate");
        p.birth_date = date("dateOfBirth");
        p.status = if s("patientStatus").is_empty() {
            "AC".into()
        } else {
            s("patientStatus").into()
        };
        p.email = s("email").into();
        p.address.street = s("address").into();
        p.address.city = s("city").into();
        p.address.postal = s("postal").into();
        p.address.province = s("province").into();
        p.phone_home = s("primaryPhone").into();
        p.phone_work = s("secondaryPhone").into();
        p.phone_cell = s("cellPhone").into();
        p.roster_status = s("rosterStatus").into();
        p.provider_no = s("providerNo").into();
        p.chart_no = s("chartNo").into();
        p.alias = s("alias").into();
        p.spoken_language = s("spokenLanguage").into();
        p.official_language = s("officialLanguage").into();
        p.last_update_user = login.clone().into();
    };
    let now = call.now;
    if update {
        let Some(id) = call.path_id("demographicId") else {
            return jerr(412, "Missing argument: demographicId");
        };
        let Ok(id) = Id::try_from(id) else {
            // No patient's number: as an unknown one.
            return jerr(500, "System error");
        };
        if call
            .write(|d| d.update_patient(id, now, |p| fill(p)))
            .is_err()
        {
            return jerr(500, "System error");
        }
        return call.read(|d| {
            d.patients().get(id).map_or_else(
                || jerr(500, "System error"),
                |p| Outcome::Value(v1_demographic(p)),
            )
        });
    }
    let mut p = Patient::default();
    fill(&mut p);
    let id = call.write(|d| d.insert_patient(p, now));
    Outcome::Value(json!(id))
}

pub fn v1_demographic_get(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("demographicId");
    call.read(
        |d| match id.and_then(|i| d.patients().get(Id::try_from(i).ok()?)) {
            Some(p) => Outcome::Value(v1_demographic(p)),
            None => jerr(500, "System error"),
        },
    )
}

/// `GET /ws/services/v1/demographics/search?...&page&perPage&exactMatch`.
pub fn v1_demographic_search(call: &mut Call<'_>) -> Outcome {
    let q = |k: &str| plain(&call.source(&format!("query.{k}"))).to_lowercase();
    let exact = call
        .query
        .get("exactMatch")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let (first, last, hin, sex, dob, phone, provider) = (
        q("firstName"),
        q("lastName"),
        q("hin"),
        q("sex"),
        q("dateOfBirth"),
        q("phone"),
        q("providerNo"),
    );
    if [
        &first,
        &last,
        &hin,
        &sex,
        &dob,
        &phone,
        &provider,
        &q("address"),
        &q("charNo"),
    ]
    .iter()
    .all(|v| v.is_empty())
    {
        return jerr(
            412,
            "Missing argument: at least one search parameter is required",
        );
    }
    let like = |have: &str, want: &str| {
        want.is_empty()
            || if exact {
                have.eq_ignore_ascii_case(want)
            } else {
                have.to_lowercase().starts_with(want)
            }
    };
    let page = call.query_id("page").unwrap_or(1).max(1);
    let per = call.query_id("perPage").unwrap_or(10).max(1);
    let all: Vec<Value> = call.read(|d| {
        d.patients()
            .iter()
            .filter(|p| like(&p.first_name, &first) && like(&p.last_name, &last) && like(&p.hin, &hin) && like(&p.sex, &sex) && like(&p.phone_home, &phone) && like(&p.provider_no, &provider))
            .filter(|p| dob.is_empty() || p.birth_date.is_some_and(|b| b.to_string() == dob))
            .map(|p| json!({"demographicNo": p.id, "firstName": p.first_name, "lastName": p.last_name, "sex": p.sex,
                            "dateOfBirth": p.birth_date.map(|b| b.to_string()), "hin": p.hin, "phone": p.phone_home,
                            "status": p.status, "providerNo": p.provider_no, "chartNo": p.chart_no}))
            .collect()
    });
    super::util::page(all, page, per)
}

/// `POST /ws/services/v1/document` (`DocumentTransferInbound`): a document
/// not yet filed to a chart; answers its id.
pub fn v1_document_create(call: &mut Call<'_>) -> Outcome {
    let mut errors = Vec::new();
    for k in ["documentName", "documentType", "base64EncodedFile"] {
        if body_str(call, k).is_none_or(|v| v.is_empty()) {
            errors.push((k.to_owned(), "may not be null".to_owned()));
        }
    }
    if !errors.is_empty() {
        return invalid(errors);
    }
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(
        body_str(call, "base64EncodedFile")
            .unwrap_or_default()
            .trim(),
    ) else {
        return jerr(400, "Invalid format: base64EncodedFile");
    };
    let now = call.now;
    let doc = Document {
        patient: None.into(),
        file_name: body_str(call, "documentName").unwrap_or_default().into(),
        content_type: body_str(call, "fileType")
            .unwrap_or_else(|| "application/pdf".into())
            .into(),
        description: body_str(call, "description").unwrap_or_default().into(),
        category: body_str(call, "documentType").unwrap_or_default().into(),
        source: body_str(call, "source")
            .unwrap_or_else(|| "External API".into())
            .into(),
        observed: body_str(call, "observationDate")
            .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
            .or(Some(now.date_naive())),
        provider_no: call.provider_no().into(),
        status: "A".into(),
        content: bytes::Bytes::from(bytes),
        created: now.into(),
        last_update: now.into(),
        ..Document::default()
    };
    let id = call.write(|d| d.documents.insert(doc));
    Outcome::Value(json!(id))
}

/// `POST /ws/services/v1/demographic/{demographicId}/chart/document/{documentId}`:
/// files an unfiled document to the chart.
pub fn v1_chart_document(call: &mut Call<'_>) -> Outcome {
    let (Some(p), Some(doc)) = (call.path_id("demographicId"), call.path_id("documentId")) else {
        return jerr(412, "Missing argument: demographicId/documentId");
    };
    let now = call.now;
    let ok = call.write(|d| {
        let p = d.patients().get(Id::try_from(p).ok()?)?.id;
        d.documents
            .update(Id::try_from(doc).ok()?, now, |x| x.patient = Some(p).into())
    });
    match ok {
        Some(()) => Outcome::Value(json!(doc)),
        None => jerr(500, "System error"),
    }
}

/// `POST /ws/services/v1/demographic/{demographicId}/chart/eform`
/// (`EFormTransferInbound`): submitted e-form data for the chart.
pub fn v1_chart_eform(call: &mut Call<'_>) -> Outcome {
    let Some(p) = call.path_id("demographicId") else {
        return jerr(412, "Missing argument: demographicId");
    };
    let Some(form) = body_i64(call, "formId") else {
        return invalid(vec![("formId".into(), "may not be null".into())]);
    };
    let now = call.now;
    let login = call.provider_no();
    let values = call.body.get("formValues").cloned().unwrap_or(json!({}));
    let id = call.write(|d| {
        d.patients().get(Id::try_from(p).ok()?)?;
        let eform = record(d, "eforms", form)?.fields.clone();
        let mut m = Map::new();
        m.insert("demographicNo".into(), json!(p));
        m.insert("formId".into(), json!(form));
        m.insert(
            "formName".into(),
            eform.get("formName").cloned().unwrap_or(Value::Null),
        );
        m.insert(
            "subject".into(),
            eform.get("subject").cloned().unwrap_or(Value::Null),
        );
        m.insert("status".into(), json!("Completed"));
        m.insert("date".into(), json!(now.to_rfc3339()));
        m.insert("providerNo".into(), json!(login));
        m.insert("values".into(), values);
        Some(d.records.insert("eformData", m, now))
    });
    match id {
        Some(id) => Outcome::Value(json!(id)),
        None => jerr(500, "System error"),
    }
}

/// `POST /ws/services/v1/document/{documentId}/inbox/{general | provider/{providerId}}`:
/// routes the document to an inbox; answers the document id.
pub fn v1_document_inbox(call: &mut Call<'_>) -> Outcome {
    let Some(doc) = call.path_id("documentId") else {
        return jerr(412, "Missing argument: documentId");
    };
    let who = call
        .path
        .get("providerId")
        .map(plain)
        .unwrap_or_else(|| "0".into());
    let now = call.now;
    let ok = call.write(|d| {
        if who != "0" && d.provider(&who).is_none() {
            return None;
        }
        d.documents.update(Id::try_from(doc).ok()?, now, |x| {
            x.status = "P".into();
            x.responsible_no = who.clone().into();
        })
    });
    match ok {
        Some(()) => Outcome::Value(json!(doc)),
        None => jerr(500, "System error"),
    }
}

/// Juno's v1 tickler (`TicklerTransferOutbound`).
fn v1_tickler(t: &Tickler) -> Value {
    json!({"demographicNo": t.patient, "programId": t.program_id, "message": t.message, "status": t.status,
           "serviceDate": t.service_date.get().format("%Y-%m-%dT%H:%M:%S").to_string(), "creator": t.creator, "priority": t.priority,
           "taskAssignedTo": t.assignee, "categoryId": null, "id": t.id, "updateDate": t.last_update.get().format("%Y-%m-%dT%H:%M:%S").to_string()})
}

/// `POST /ws/services/v1/tickler` and `PUT .../{id}`
/// (`TicklerTransferInbound`), validated as the transfer class says.
pub fn v1_tickler_save(call: &mut Call<'_>) -> Outcome {
    let update = call.behaviour.param("update") == Some("true");
    let mut errors = Vec::new();
    for k in [
        "demographicNo",
        "message",
        "status",
        "serviceDate",
        "taskAssignedTo",
    ] {
        if body_str(call, k).is_none_or(|v| v.is_empty()) {
            errors.push((k.to_owned(), "may not be null".to_owned()));
        }
    }
    let status = body_str(call, "status").unwrap_or_default();
    if !status.is_empty() && !["A", "C", "D"].contains(&status.as_str()) {
        errors.push(("status".to_owned(), "must be one of A, C, D".to_owned()));
    }
    let priority = body_str(call, "priority").unwrap_or_else(|| "Normal".into());
    if !["High", "Normal", "Low"].contains(&priority.as_str()) {
        errors.push((
            "priority".to_owned(),
            "must be one of High, Normal, Low".to_owned(),
        ));
    }
    let patient = body_i64(call, "demographicNo");
    let assignee = body_str(call, "taskAssignedTo").unwrap_or_default();
    // A number past `Id`'s range is no patient's, as an unknown one.
    let known = patient.and_then(|p| known_patient(call, p));
    let known_provider = call.read(|d| d.provider(&assignee).is_some());
    if patient.is_some() && known.is_none() {
        errors.push((
            "demographicNo".to_owned(),
            "demographic does not exist".to_owned(),
        ));
    }
    if !assignee.is_empty() && !known_provider {
        errors.push((
            "taskAssignedTo".to_owned(),
            "provider does not exist".to_owned(),
        ));
    }
    if !errors.is_empty() {
        return invalid(errors);
    }
    let service = call
        .body
        .get("serviceDate")
        .and_then(instant)
        .unwrap_or(call.now);
    let message = body_str(call, "message").unwrap_or_default();
    let creator = body_str(call, "creator").unwrap_or_else(|| call.provider_no());
    let now = call.now;
    let id = if update {
        let Some(id) = call.path_id("id") else {
            return jerr(412, "Missing argument: id");
        };
        let r = call.write(|d| {
            d.ticklers.update(Id::try_from(id).ok()?, now, |t| {
                t.patient = known.into();
                t.message = message.into();
                t.status = status.into();
                t.priority = priority.into();
                t.service_date = service.into();
                t.assignee = assignee.into();
            })
        });
        if r.is_none() {
            return jerr(500, "System error");
        }
        id
    } else {
        call.write(|d| {
            i64::from(d.ticklers.insert(Tickler {
                patient: known.into(),
                message: message.into(),
                status: status.into(),
                priority: priority.into(),
                service_date: service.into(),
                creator: creator.into(),
                assignee: assignee.into(),
                program_id: 1,
                comments: Vec::new(),
                created: now.into(),
                last_update: now.into(),
                ..Tickler::default()
            }))
        })
    };
    call.read(|d| {
        Id::try_from(id)
            .ok()
            .and_then(|id| d.ticklers.get(id))
            .map_or_else(
                || jerr(500, "System error"),
                |t| Outcome::Value(v1_tickler(t)),
            )
    })
}

pub fn v1_tickler_get(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("id");
    call.read(
        |d| match id.and_then(|i| d.ticklers.get(Id::try_from(i).ok()?)) {
            Some(t) => Outcome::Value(v1_tickler(t)),
            None => jerr(500, "System error"),
        },
    )
}
