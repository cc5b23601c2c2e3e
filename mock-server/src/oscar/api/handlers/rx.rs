//! `RxWebService` and `RxLookupService`: a patient's drug profile,
//! prescribing, printing, and the drug database lookup.

use chrono::Duration;
use serde_json::{json, Value};

use super::super::beans;
use super::super::render::{instant, plain, prop};
use super::super::{Call, Outcome};
use super::util::{body_i64, exception, generic, known_patient, npe, of_patient, pdf_outcome, PNG};
use crate::store::{Data, Id, Medication, Prescription};

/// The patient number of the request, as sent.
fn patient(call: &Call<'_>) -> Option<i64> {
    call.path_id("demographicNo")
        .or_else(|| call.query_id("demographicNo"))
}

/// The patient number as a row id for a row that will refer to it
/// unchecked: one past `Id`'s range cannot, and counts as missing.
fn patient_ref(call: &Call<'_>) -> Option<Id> {
    patient(call).and_then(|p| Id::try_from(p).ok())
}

fn list(call: &Call<'_>, items: Vec<Value>) -> Outcome {
    let total = items.len();
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": items, "query": null}),
    )
}

/// `GET /rx/drugs[/{status}/{demographicNo}]`: `all`, `current`,
/// `archived` or `longterm`; another status is an
/// `IllegalArgumentException`.
pub fn drugs(call: &mut Call<'_>) -> Outcome {
    let status = call
        .behaviour
        .param("status")
        .map(str::to_owned)
        .or_else(|| call.path.get("status").map(plain))
        .unwrap_or_else(|| "current".into());
    let status = status.trim_start_matches('/').to_owned();
    let status = if status.is_empty() {
        "current".to_owned()
    } else {
        status
    };
    if !["all", "current", "archived", "longterm"].contains(&status.as_str()) {
        return exception(
            "java.lang.IllegalArgumentException",
            &format!("unknown drug status {status}"),
        );
    }
    let Some(p) = patient(call) else {
        return list(call, Vec::new());
    };
    let today = call.today();
    let p = Id::try_from(p).ok();
    let items = call.read(|d| {
        of_patient(&d.medications, p)
            .filter(|m| match status.as_str() {
                "current" => !m.archived && (m.long_term || m.end_date.is_none_or(|e| e >= today)),
                "archived" => m.archived,
                "longterm" => m.long_term && !m.archived,
                _ => true,
            })
            .map(beans::drug)
            .collect()
    });
    list(call, items)
}

/// `GET /rx/history?id&demographicNo`: every drug of the patient with the
/// same ATC (or brand) as drug `id`.
pub fn history(call: &mut Call<'_>) -> Outcome {
    let (Some(id), Some(p)) = (call.query_id("id"), patient(call)) else {
        return list(call, Vec::new());
    };
    let items = call.read(|d| {
        let Some(m) = Id::try_from(id).ok().and_then(|id| d.medications.get(id)) else {
            return Vec::new();
        };
        let key = if m.atc.is_empty() {
            m.brand_name.clone()
        } else {
            m.atc.clone()
        };
        of_patient(&d.medications, Id::try_from(p).ok())
            .filter(|x| x.atc == key || x.brand_name == key)
            .map(beans::drug)
            .collect()
    });
    list(call, items)
}

/// A `DrugTo1` body as a medication.
fn medication(call: &Call<'_>, b: &Value, p: Id) -> Medication {
    let s = |k: &str| {
        b.get(k)
            .filter(|v| !v.is_null())
            .map(plain)
            .unwrap_or_default()
    };
    let strength = s("strength");
    let unit = s("strengthUnit");
    let dosage = match (strength.is_empty(), unit.is_empty()) {
        (false, false) => format!("{} {unit}", strength.trim_end_matches(".0")),
        (false, true) => strength,
        _ => String::new(),
    };
    let start = b
        .get("rxDate")
        .and_then(instant)
        .map(|t| t.date_naive())
        .or(Some(call.today()));
    let end = b
        .get("endDate")
        .and_then(instant)
        .map(|t| t.date_naive())
        .or_else(|| {
            let days = b.get("duration").and_then(Value::as_i64).unwrap_or(0);
            start.map(|st| st + Duration::days(days))
        });
    Medication {
        patient_id: p,
        provider_no: b
            .get("providerNo")
            .map(plain)
            .filter(|x| !x.is_empty())
            .unwrap_or_else(|| call.provider_no())
            .into(),
        brand_name: s("brandName").into(),
        generic_name: s("genericName").into(),
        din: s("regionalIdentifier").into(),
        atc: s("atc").into(),
        dosage: dosage.into(),
        route: s("route").into(),
        frequency: s("frequency").into(),
        quantity: s("quantity").into(),
        repeats: b.get("repeats").and_then(Value::as_u64).unwrap_or(0) as u32,
        instructions: s("instructions").into(),
        start_date: start,
        end_date: end,
        long_term: b.get("longTerm").and_then(Value::as_bool).unwrap_or(false),
        archived: b.get("archived").and_then(Value::as_bool).unwrap_or(false),
        archived_reason: s("archivedReason").into(),
        created: call.now.into(),
        last_update: call.now.into(),
        ..Medication::default()
    }
}

/// The converter's echo of a `DrugTo1` the resource just saved: the body's
/// own values, with the id the store gave it.
fn echo(body: &Value, id: Id, p: Id) -> Value {
    let mut v = body.clone();
    if let Value::Object(m) = &mut v {
        m.insert("drugId".into(), json!(id));
        m.insert("demographicNo".into(), json!(p));
    }
    json!({"success": true, "message": null, "drug": v})
}

/// `POST /rx/new?demographicNo` (`DrugTo1`).
pub fn new(call: &mut Call<'_>) -> Outcome {
    let Some(p) = patient(call) else {
        return npe("demographicNo");
    };
    if call.body.is_null() {
        return npe("drug is null");
    }
    let Some(p) = known_patient(call, p) else {
        return generic(false, Some("Demographic not found".to_owned()));
    };
    let m = medication(call, &call.body, p);
    let id = call.write(|d| d.medications.insert(m));
    Outcome::Value(echo(&call.body, id, p))
}

/// `POST /rx/update?demographicNo` (`DrugTo1` with `drugId`).
pub fn update(call: &mut Call<'_>) -> Outcome {
    let Some(p) = patient_ref(call) else {
        return npe("demographicNo");
    };
    let Some(id) = body_i64(call, "drugId") else {
        return npe("drugId");
    };
    let fresh = medication(call, &call.body, p);
    let now = call.now;
    let known = Id::try_from(id).ok();
    let r = known.and_then(|id| {
        call.write(|d| {
            d.medications.update(id, now, |m| {
                let created = m.created;
                let script = m.script_no;
                *m = fresh;
                m.id = id;
                m.created = created;
                m.script_no = script;
            })
        })
        .map(|()| id)
    });
    let Some(id) = r else {
        return generic(false, Some(format!("Drug {id} not found")));
    };
    Outcome::Value(echo(&call.body, id, p))
}

/// `POST /rx/drug/{drugId}`: represcribes a drug as a new one from today.
pub fn represcribe(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("drugId") else {
        return npe("drugId");
    };
    let today = call.today();
    let now = call.now;
    let login = call.provider_no();
    let copy = call.write(|d| {
        let m = d.medications.get(Id::try_from(id).ok()?)?.clone();
        let days = m
            .end_date
            .zip(m.start_date)
            .map_or(30, |(e, s)| (e - s).num_days());
        let fresh = Medication {
            id: 0,
            script_no: None.into(),
            start_date: Some(today),
            end_date: Some(today + Duration::days(days)),
            archived: false,
            archived_reason: String::new().into(),
            provider_no: login.into(),
            created: now.into(),
            last_update: now.into(),
            ..m
        };
        Some(d.medications.insert(fresh))
    });
    match copy {
        Some(new_id) => call.read(|d| {
            d.medications.get(new_id).map_or_else(
                || npe("drug"),
                |m| {
                    Outcome::Value(
                        json!({"success": true, "message": null, "drug": beans::drug(m)}),
                    )
                },
            )
        }),
        None => npe("drug is null"),
    }
}

/// `POST /rx/discontinue?drugId&reason&demographicNo`: archives the drug.
pub fn discontinue(call: &mut Call<'_>) -> Outcome {
    let (Some(id), p) = (call.query_id("drugId"), patient(call)) else {
        return generic(false, Some("drugId is required".to_owned()));
    };
    let reason = plain(&call.source("query.reason"));
    let now = call.now;
    let ok = call.write(|d| {
        let Some(id) = Id::try_from(id).ok() else {
            return false;
        };
        if d.medications
            .get(id)
            .is_none_or(|m| Some(i64::from(m.patient_id)) != p)
        {
            return false;
        }
        d.medications
            .update(id, now, |m| {
                m.archived = true;
                m.archived_reason = reason.into();
                m.end_date = Some(now.date_naive());
            })
            .is_some()
    });
    generic(
        ok,
        (!ok).then(|| "Drug not found for this patient".to_owned()),
    )
}

/// `POST /rx/prescribe?demographicNo` (`List<DrugTo1>`): one script for
/// all the drugs.
pub fn prescribe(call: &mut Call<'_>) -> Outcome {
    let Some(p) = patient_ref(call) else {
        return npe("demographicNo");
    };
    let Some(list) = call.body.as_array().cloned() else {
        return npe("drugs is null");
    };
    if list.is_empty() {
        return generic(false, Some("No drugs to prescribe".to_owned()));
    }
    let meds: Vec<Medication> = list.iter().map(|b| medication(call, b, p)).collect();
    let now = call.now;
    let login = call.provider_no();
    let text = meds
        .iter()
        .map(|m| format!("{} {} {}", m.brand_name, m.dosage, m.frequency))
        .collect::<Vec<_>>()
        .join("\n");
    let (script, ids) = call.write(|d| {
        let script = d.prescriptions.insert(Prescription {
            patient_id: p,
            provider_no: login.into(),
            date_prescribed: Some(now.date_naive()),
            text: text.into(),
            created: now.into(),
            last_update: now.into(),
            ..Prescription::default()
        });
        let ids: Vec<Id> = meds
            .into_iter()
            .map(|mut m| {
                m.script_no = Some(script).into();
                d.medications.insert(m)
            })
            .collect();
        (script, ids)
    });
    call.read(|d| {
        let drugs: Vec<Value> = ids
            .iter()
            .filter_map(|i| d.medications.get(*i))
            .map(beans::drug)
            .collect();
        let rx = d.prescriptions.get(script).map(beans::prescription);
        Outcome::Value(
            json!({"success": true, "message": null, "drugs": drugs, "prescription": rx}),
        )
    })
}

/// `GET /rx/prescriptions?demographicNo`.
pub fn prescriptions(call: &mut Call<'_>) -> Outcome {
    let p = patient(call);
    let items: Vec<Value> = call.read(|d| {
        d.prescriptions
            .iter()
            .filter(|x| Some(i64::from(x.patient_id)) == p)
            .map(beans::prescription)
            .collect()
    });
    Outcome::Value(Value::Array(items))
}

/// `GET /rx/recordPrescriptionPrint/{scriptNo}`: stamps the print date.
pub fn record_print(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("scriptNo") else {
        return npe("scriptNo");
    };
    let now = call.now;
    let r = call.write(|d| {
        let id = Id::try_from(id).ok()?;
        d.prescriptions
            .update(id, now, |x| x.printed = Some(now.into()))
            .map(|()| id)
    });
    let Some(id) = r else {
        return npe("prescription is null");
    };
    call.read(|d| {
        d.prescriptions.get(id).map_or_else(
            || npe("prescription"),
            |x| Outcome::Value(beans::prescription(x)),
        )
    })
}

/// The script's lines, by the numbers in the path (none for numbers no
/// row has, past `Id`'s range too).
fn script_lines(d: &Data, patient: i64, script: i64) -> Option<Vec<String>> {
    let p = d.patients().get(Id::try_from(patient).ok()?)?;
    let rx = d
        .prescriptions
        .get(Id::try_from(script).ok()?)
        .filter(|x| x.patient_id == p.id)?;
    let mut lines = vec![
        format!("Patient: {} (HIN {})", p.display_name(), p.hin),
        format!(
            "Date: {}",
            rx.date_prescribed
                .map(|x| x.to_string())
                .unwrap_or_default()
        ),
    ];
    lines.extend(rx.text.lines().map(str::to_owned));
    if let Some(doc) = d.provider(&rx.provider_no) {
        lines.push(format!(
            "Prescriber: Dr. {} {} (CPSO {})",
            doc.first_name, doc.last_name, doc.practitioner_no
        ));
    }
    Some(lines)
}

/// `POST /rx/{demographicNo}/print/{rxNo}` (`PrintRxTo1`): the script as PDF.
pub fn print(call: &mut Call<'_>) -> Outcome {
    let (Some(p), Some(rx)) = (call.path_id("demographicNo"), call.path_id("rxNo")) else {
        return npe("demographicNo/rxNo");
    };
    match call.read(|d| script_lines(d, p, rx)) {
        Some(lines) => pdf_outcome("Prescription", &lines),
        None => npe("prescription is null"),
    }
}

/// `GET /rx/{demographicNo}/watermark/{rxNo}`: the watermark image.
pub fn watermark(call: &mut Call<'_>) -> Outcome {
    let (Some(p), Some(rx)) = (call.path_id("demographicNo"), call.path_id("rxNo")) else {
        return npe("demographicNo/rxNo");
    };
    if call.read(|d| script_lines(d, p, rx).is_none()) {
        return npe("prescription is null");
    }
    Outcome::Raw {
        status: 200,
        content_type: "image/png".into(),
        body: PNG.to_vec(),
    }
}

/// `GET /rxlookup/search?string`: drug database names containing the
/// string (case-insensitive), as `DrugSearchTo1`.
pub fn lookup_search(call: &mut Call<'_>) -> Outcome {
    let s = plain(&call.source("query.string")).to_lowercase();
    let items: Vec<Value> = call.read(|d| {
        d.records
            .rows("drugDatabase")
            .filter(|r| !s.is_empty() && prop(&r.fields, "name").to_lowercase().contains(&s))
            .map(|r| {
                let mut v = Value::Object(r.fields.clone());
                v["id"] = r.fields.get("drugId").cloned().unwrap_or(Value::Null);
                v
            })
            .collect()
    });
    Outcome::Value(json!({"success": true, "message": null, "drugs": items}))
}

/// `GET /rxlookup/details?id`: one drug of the database.
pub fn lookup_details(call: &mut Call<'_>) -> Outcome {
    let id = call.query_id("id");
    let found = call.read(|d| {
        d.records
            .rows("drugDatabase")
            .find(|r| r.fields.get("drugId").and_then(Value::as_i64) == id)
            .map(|r| r.fields.clone())
    });
    match found {
        Some(f) => {
            let mut v = Value::Object(f);
            v["id"] = v["drugId"].clone();
            Outcome::Value(json!({"success": true, "message": null, "drugs": [v]}))
        }
        None => Outcome::Value(json!({"success": false, "message": "Drug not found", "drugs": []})),
    }
}

/// `POST /rxlookup/parse?input`: OSCAR's sig parser (`1 tab BID x 30 days`).
pub fn parse(call: &mut Call<'_>) -> Outcome {
    let input = plain(&call.source("query.input"));
    let words: Vec<String> = input.split_whitespace().map(str::to_uppercase).collect();
    let take = words
        .first()
        .and_then(|w| w.parse::<f64>().ok())
        .unwrap_or(0.0);
    let freq = words
        .iter()
        .find(|w| {
            [
                "OD", "BID", "TID", "QID", "QHS", "PRN", "DAILY", "Q4H", "Q6H", "Q8H",
            ]
            .contains(&w.as_str())
        })
        .cloned()
        .unwrap_or_default();
    let duration = words
        .windows(2)
        .find(|w| w[1].starts_with("DAY") || w[1].starts_with("WEEK") || w[1].starts_with("MONTH"))
        .and_then(|w| {
            w[0].parse::<i64>()
                .ok()
                .map(|n| (n, w[1].chars().next().unwrap_or('D')))
        });
    let route = words
        .iter()
        .find(|w| ["PO", "IM", "SC", "IV", "SL", "TOP", "INH"].contains(&w.as_str()))
        .cloned()
        .unwrap_or_default();
    let method = words
        .iter()
        .find(|w| ["TAKE", "APPLY", "INHALE", "INSERT", "USE"].contains(&w.as_str()))
        .map(|w| {
            let mut c = w.to_lowercase();
            if let Some(f) = c.get_mut(0..1) {
                f.make_ascii_uppercase();
            }
            c
        });
    Outcome::Value(json!({"success": true, "message": null, "drug": {
        "takeMin": take, "takeMax": take, "frequency": freq, "duration": duration.map_or(0, |d| d.0),
        "durationUnit": duration.map(|d| d.1.to_string()).unwrap_or_default(), "route": route,
        "method": method.unwrap_or_default(), "prn": words.iter().any(|w| w == "PRN"),
    }}))
}
