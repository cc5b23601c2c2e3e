//! `ScheduleService`: day sheets, booking and appointment changes.

use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use serde_json::{json, Value};

use super::super::beans;
use super::super::render::{instant, plain};
use super::super::{Call, Outcome, Variant};
use super::util::{body_i64, body_str, npe, text};
use crate::store::{id_from, Appointment, Data, Id};

fn provider_param(call: &Call<'_>) -> String {
    call.path
        .get("providerNo")
        .map(plain)
        .unwrap_or_else(|| call.provider_no())
}

/// `yyyy-MM-dd` (ant's `parseIso8601Date`) or `today`.
fn day(call: &Call<'_>, raw: &str) -> Option<NaiveDate> {
    if raw == "today" {
        return Some(call.today());
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

/// A day-sheet row (`PatientListApptItemBean`): start time as `hh:mm AM`.
fn item(d: &Data, a: &Appointment) -> Value {
    let name = match a.patient.get().and_then(|id| d.patients().get(id)) {
        Some(p) => p.display_name(),
        None => a.name.to_string(),
    };
    json!({
        "demographicNo": a.patient.get().unwrap_or(0), "name": name, "status": a.status,
        "startTime": a.start.format("%I:%M %p").to_string(), "reason": a.reason,
        "appointmentNo": a.id, "date": format!("{}T{}Z", a.date, a.start.format("%H:%M:%S")),
        "duration": (a.end - a.start).num_minutes().to_string(), "type": a.kind, "notes": a.notes,
    })
}

/// `GET /schedule/day/{date}` and `/schedule/{providerNo}/day/{date}`: the
/// provider's appointments that day, as a bare array. `today` is today;
/// a bad date is a `RuntimeException`. (The javadoc promises `me` for the
/// provider, but only an empty provider is replaced.)
pub fn day_sheet(call: &mut Call<'_>) -> Outcome {
    let provider = provider_param(call);
    let raw = call.path.get("date").map(plain).unwrap_or_default();
    let Some(date) = day(call, &raw) else {
        return super::util::exception(
            "java.lang.RuntimeException",
            "Invalid Date sent, use yyyy-MM-dd format",
        );
    };
    let items: Vec<Value> = call.read(|d| {
        d.appointments_on(&provider, date)
            .map(|a| item(d, a))
            .collect()
    });
    if call.variant == Variant::Juno {
        let total = items.len();
        return Outcome::Value(
            json!({"content": items, "total": total, "page": 1, "perPage": total}),
        );
    }
    Outcome::Value(Value::Array(items))
}

fn time_of(v: &Value) -> Option<NaiveTime> {
    let s = plain(v);
    let s = s.trim();
    for f in ["%H:%M:%S", "%H:%M", "%I:%M %p", "%I:%M%p"] {
        if let Ok(t) = NaiveTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    instant(v).map(|t| t.time())
}

/// The `SchedulingResponse` holding one appointment.
fn one(d: &Data, a: &Appointment) -> Outcome {
    Outcome::Value(json!({"appointment": beans::appointment(d, a)}))
}

/// `POST /schedule/add` (`NewAppointmentTo1`): books without checking the
/// slot, as the resource does ("TODO: Need to add some more validation").
pub fn add(call: &mut Call<'_>) -> Outcome {
    let login = call.provider_no();
    let b = call.body.clone();
    if b.is_null() {
        return npe("appointmentTo is null");
    }
    let Some(date) = b
        .get("appointmentDate")
        .and_then(instant)
        .map(|t| t.date_naive())
    else {
        return super::util::exception(
            "java.text.ParseException",
            "Unparseable date: appointmentDate",
        );
    };
    let Some(start) = b.get("startTime").and_then(time_of) else {
        return super::util::exception("java.text.ParseException", "Unparseable date: startTime");
    };
    let duration = body_i64(call, "duration").filter(|d| *d > 0).unwrap_or(15);
    // A number past `Id`'s range is no patient's: refused as booking an
    // unknown patient is.
    let patient = match body_i64(call, "demographicNo")
        .filter(|d| *d > 0)
        .map(|p| id_from("patient", p))
        .transpose()
    {
        Ok(p) => p,
        Err(e) => {
            return super::util::exception("javax.persistence.PersistenceException", &e.to_string())
        }
    };
    let now = call.now;
    let s = |k: &str| body_str(call, k).unwrap_or_default();
    let appt = Appointment {
        provider_no: body_str(call, "providerNo")
            .unwrap_or_else(|| login.clone())
            .into(),
        patient: patient.into(),
        date,
        start,
        end: start + Duration::minutes(duration),
        name: s("name").into(),
        notes: s("notes").into(),
        reason: s("reason").into(),
        location: s("location").into(),
        resources: s("resources").into(),
        kind: s("type").into(),
        status: body_str(call, "status")
            .filter(|x| !x.is_empty())
            .unwrap_or_else(|| "t".into())
            .into(),
        urgency: s("urgency").into(),
        program_id: 1,
        facility_id: Some(1).into(),
        booking_source: "OSCAR".into(),
        creator: login.clone().into(),
        last_update_user: login.into(),
        ..Appointment::default()
    };
    let result = call.write(|d| {
        let name = appt
            .patient
            .get()
            .and_then(|id| d.patients().get(id))
            .map(|p| p.display_name());
        let mut appt = appt;
        if appt.name.is_empty() {
            appt.name = name.unwrap_or_default().into();
        }
        d.insert_appointment(appt, now, false)
    });
    match result {
        Ok(id) => call.read(|d| {
            d.appointments()
                .get(id)
                .map_or_else(|| npe("appointment"), |a| one(d, a))
        }),
        Err(e) => super::util::exception("javax.persistence.PersistenceException", &e.to_string()),
    }
}

fn appointment_id(call: &Call<'_>) -> Option<i64> {
    call.path_id("id").or_else(|| body_i64(call, "id"))
}

/// `POST /schedule/getAppointment` `{id}`.
pub fn get(call: &mut Call<'_>) -> Outcome {
    let id = appointment_id(call);
    call.read(
        |d| match id.and_then(|id| d.appointments().get(Id::try_from(id).ok()?)) {
            Some(a) => one(d, a),
            None => npe("appointment is null"),
        },
    )
}

/// `POST /schedule/deleteAppointment` `{id}`: 200 with no body.
pub fn delete(call: &mut Call<'_>) -> Outcome {
    let Some(id) = appointment_id(call) else {
        return npe("id is null");
    };
    match call.write(|d| d.remove_appointment(id_from("appointment", id)?)) {
        Ok(_) => Outcome::Empty(200),
        Err(_) => npe("appointment is null"),
    }
}

/// `POST /schedule/updateAppointment` (`AppointmentTo1`): the appointment
/// rebuilt from the body.
pub fn update(call: &mut Call<'_>) -> Outcome {
    let Some(id) = appointment_id(call) else {
        return npe("id is null");
    };
    let b = call.body.clone();
    let login = call.provider_no();
    let now = call.now;
    let r = call.write(|d| {
        let id = id_from("appointment", id)?;
        d.update_appointment(id, now, |a| {
            if let Some(t) = b.get("appointmentDate").and_then(instant) {
                a.date = t.date_naive();
            }
            if let Some(t) = b.get("startTime").and_then(time_of) {
                let len = a.end - a.start;
                a.start = t;
                a.end = t + len;
            }
            if let Some(t) = b.get("endTime").and_then(time_of) {
                if t > a.start {
                    a.end = t;
                }
            }
            for (k, f) in [
                ("notes", &mut a.notes),
                ("reason", &mut a.reason),
                ("location", &mut a.location),
                ("resources", &mut a.resources),
                ("type", &mut a.kind),
                ("status", &mut a.status),
                ("urgency", &mut a.urgency),
                ("name", &mut a.name),
                ("remarks", &mut a.remarks),
            ] {
                if let Some(v) = b.get(k).filter(|v| !v.is_null()) {
                    *f = plain(v).into();
                }
            }
            // Past `Id`'s range, as a number that does not parse: kept.
            let number = b.get("demographicNo").and_then(Value::as_i64);
            if let Some(p) = number.and_then(|p| Id::try_from(p).ok()) {
                a.patient = (p > 0).then_some(p).into();
            }
            a.last_update_user = login.into();
        })
        .map(|()| id)
    });
    match r {
        Ok(id) => call.read(|d| {
            d.appointments()
                .get(id)
                .map_or_else(|| npe("appointment"), |a| one(d, a))
        }),
        Err(_) => npe("appointment is null"),
    }
}

/// `POST /schedule/appointment/{id}/updateStatus`, `/updateType` (and the
/// locator `/updateUrgency`): one property changed.
pub fn set_field(call: &mut Call<'_>) -> Outcome {
    let field = call.behaviour.param("field").unwrap_or("status").to_owned();
    let Some(id) = call.path_id("id") else {
        return npe("id");
    };
    if call.body.is_null() {
        // `appt.getStatus()` on the missing body.
        return npe("appointmentTo is null");
    }
    let value = body_str(call, &field);
    let login = call.provider_no();
    let now = call.now;
    let r = call.write(|d| {
        let id = id_from("appointment", id)?;
        d.update_appointment(id, now, |a| {
            let v = value.unwrap_or_default();
            match field.as_str() {
                "type" => a.kind = v.into(),
                "urgency" => a.urgency = v.into(),
                _ => a.status = v.into(),
            }
            a.last_update_user = login.into();
        })
        .map(|()| id)
    });
    let Ok(id) = r else {
        return npe("appointment is null");
    };
    if call.op.method == "LOCATOR" {
        // A sub-resource locator: CXF calls it, then looks for a resource
        // method on the returned SchedulingResponse, finds none, and
        // answers 404 (after the change was made).
        return Outcome::Empty(404);
    }
    call.read(|d| {
        d.appointments()
            .get(id)
            .map_or_else(|| npe("appointment"), |a| one(d, a))
    })
}

/// `POST /schedule/{demographicNo}/appointmentHistory`: the patient's
/// appointments (not deleted), newest first.
pub fn history(call: &mut Call<'_>) -> Outcome {
    let Some(patient) = call.path_id("demographicNo") else {
        return npe("demographicNo");
    };
    call.read(|d| {
        let mut list: Vec<&Appointment> = d
            .appointments()
            .iter()
            .filter(|a| a.patient.get().map(i64::from) == Some(patient) && a.status != "D")
            .collect();
        list.sort_by_key(|a| std::cmp::Reverse((a.date, a.start)));
        let items: Vec<Value> = list.into_iter().map(|a| beans::appointment(d, a)).collect();
        Outcome::Value(json!({"appointments": items}))
    })
}

/// `GET /schedule/fetchMonthly/{providerNo}/{year}/{month}`.
pub fn monthly(call: &mut Call<'_>) -> Outcome {
    let provider = provider_param(call);
    let (Some(year), Some(month)) = (call.path_id("year"), call.path_id("month")) else {
        return npe("year/month");
    };
    call.read(|d| {
        let mut list: Vec<&Appointment> = d
            .appointments()
            .iter()
            .filter(|a| a.provider_no == provider && i64::from(a.date.year()) == year && i64::from(a.date.month()) == month)
            .collect();
        list.sort_by_key(|a| (a.date, a.start));
        Outcome::Value(json!({"appointments": list.into_iter().map(|a| beans::appointment(d, a)).collect::<Vec<_>>()}))
    })
}

/// A period's dates from path parameters; a bad one is answered 500
/// "Internal server error" (the resource's own 400 is caught by its
/// generic catch and rethrown as 500).
fn period(call: &Call<'_>) -> Result<(NaiveDate, NaiveDate), Outcome> {
    let get = |k: &str| {
        call.path
            .get(k)
            .map(plain)
            .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
    };
    match (get("sDate"), get("eDate")) {
        (Some(s), Some(e)) => Ok((s, e)),
        _ => Err(text(call, 500, "Internal server error")),
    }
}

/// `GET /schedule/fetchDays/{sDate}/{eDate}/{providers}`: reminder-system
/// rows (patient contact details) for comma-separated providers.
pub fn fetch_days(call: &mut Call<'_>) -> Outcome {
    let (s, e) = match period(call) {
        Ok(p) => p,
        Err(o) => return o,
    };
    let providers: Vec<String> = call
        .path
        .get("providers")
        .map(plain)
        .unwrap_or_default()
        .split(',')
        .map(|p| p.trim().to_owned())
        .collect();
    call.read(|d| {
        let mut list: Vec<&Appointment> = d
            .appointments()
            .iter()
            .filter(|a| a.date >= s && a.date <= e && providers.iter().any(|p| *p == a.provider_no) && !a.is_cancelled())
            .collect();
        list.sort_by_key(|a| (a.date, a.start, a.id));
        let items: Vec<Value> = list.into_iter().map(|a| beans::appointment(d, a)).collect();
        let total = items.len();
        Outcome::Value(json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": if total == 0 { Value::Null } else { Value::Array(items) }}))
    })
}

/// `GET /schedule/fetchProvidersApptsCount/{sDate}/{eDate}`: providers with
/// at least one appointment in the period.
pub fn provider_counts(call: &mut Call<'_>) -> Outcome {
    let (s, e) = match period(call) {
        Ok(p) => p,
        Err(o) => return o,
    };
    call.read(|d| {
        let items: Vec<Value> = d
            .providers
            .iter()
            .filter_map(|p| {
                let n = d.appointments().iter().filter(|a| a.provider_no == p.provider_no && a.date >= s && a.date <= e).count();
                (n > 0).then(|| json!({"providerNo": p.provider_no, "providerName": format!("{}, {}", p.last_name, p.first_name), "appointmentCount": n}))
            })
            .collect();
        let total = items.len();
        Outcome::Value(json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": if total == 0 { Value::Null } else { Value::Array(items) }}))
    })
}

/// `GET /schedule/fetchProviderAppts/{providerNo}/{sDate}/{eDate}`.
pub fn provider_period(call: &mut Call<'_>) -> Outcome {
    let provider = provider_param(call);
    let (s, e) = match period(call) {
        Ok(p) => p,
        Err(o) => return o,
    };
    call.read(|d| {
        let mut list: Vec<&Appointment> = d.appointments().iter().filter(|a| a.provider_no == provider && a.date >= s && a.date <= e).collect();
        list.sort_by_key(|a| (a.date, a.start));
        let items: Vec<Value> = list.into_iter().map(|a| beans::appointment(d, a)).collect();
        let total = items.len();
        Outcome::Value(json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": if total == 0 { Value::Null } else { Value::Array(items) }}))
    })
}

/// `GET /schedule/types`: the appointment types, in a `SchedulingResponse`.
pub fn types(call: &mut Call<'_>) -> Outcome {
    let items: Vec<Value> = call.read(|d| {
        d.appointment_types
            .iter()
            .map(beans::appointment_type)
            .collect()
    });
    if call.variant == Variant::Juno {
        let total = items.len();
        return Outcome::Value(
            json!({"content": items, "total": total, "page": 1, "perPage": total}),
        );
    }
    Outcome::Value(json!({"types": items}))
}
