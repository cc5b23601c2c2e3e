//! `DemographicService` (and Juno's `/demographic` and `/demographics`):
//! the chart's patient record, its searches and merges.

use chrono::{Datelike, NaiveDate};
use serde_json::{json, Map, Value};

use std::sync::LazyLock;

use super::super::bean::{self, Bean, Prop, Properties, Snapshot};
use super::super::beans;
use super::super::behaviour::{paged, rows};
use super::super::render::{instant, plain};
use super::super::{Call, Outcome, Variant};
use super::util::{body_i64, body_str, exception, is_active, npe, text};
use crate::store::{Address, Data, Id, Patient};

fn date(v: &Value) -> Option<NaiveDate> {
    instant(v).map(|t| t.date_naive())
}

fn s(b: &Value, k: &str) -> String {
    b.get(k).map(plain).unwrap_or_default()
}

/// `DemographicConverter.getAsDomainObject`: a new record from the body;
/// properties the body leaves out are empty.
fn from_bean(b: &Value, p: &mut Patient, login: &str) {
    p.first_name = s(b, "firstName").into();
    p.last_name = s(b, "lastName").into();
    p.middle_name = s(b, "middleNames").into();
    p.title = s(b, "title").into();
    p.alias = s(b, "alias").into();
    p.sex = s(b, "sex").into();
    p.birth_date = b.get("dateOfBirth").and_then(date).or_else(|| {
        let y = s(b, "dobYear").parse().ok()?;
        let m = s(b, "dobMonth").parse().ok()?;
        let d = s(b, "dobDay").parse().ok()?;
        NaiveDate::from_ymd_opt(y, m, d)
    });
    p.hin = s(b, "hin").into();
    p.hin_version = s(b, "ver").into();
    p.hc_type = s(b, "hcType").into();
    p.hc_renew_date = b.get("hcRenewDate").and_then(date);
    p.chart_no = s(b, "chartNo").into();
    let addr = b.get("address").cloned().unwrap_or(Value::Null);
    p.address = Address {
        street: s(&addr, "address").into(),
        city: s(&addr, "city").into(),
        province: s(&addr, "province").into(),
        postal: s(&addr, "postal").into(),
        country: "CA".into(),
    };
    p.phone_home = s(b, "phone").into();
    p.phone_work = s(b, "alternativePhone").into();
    p.phone_cell = s(b, "cellPhone").into();
    p.email = s(b, "email").into();
    // The converter keeps OSCAR's status codes; anything else is AC.
    let status = s(b, "patientStatus");
    p.status = if matches!(
        status.as_str(),
        "AC" | "IN" | "DE" | "MO" | "FI" | "IC" | "ID"
    ) {
        status.into()
    } else {
        "AC".into()
    };
    p.status_date = b.get("patientStatusDate").and_then(date);
    p.roster_status = s(b, "rosterStatus").into();
    p.roster_date = b.get("rosterDate").and_then(date);
    p.provider_no = s(b, "providerNo").into();
    p.official_language = s(b, "officialLanguage").into();
    p.spoken_language = s(b, "spokenLanguage").into();
    p.date_joined = b.get("dateJoined").and_then(date);
    p.end_date = b.get("endDate").and_then(date);
    p.sin = s(b, "sin").into();
    p.gender = s(b, "gender").into();
    p.pronoun = s(b, "pronoun").into();
    p.last_update_user = login.to_owned().into();
    p.ext.clear();
    for k in [
        "countryOfOrigin",
        "newsletter",
        "citizenship",
        "sourceOfIncome",
        "children",
        "anonymous",
        "pcnIndicator",
        "rosterTerminationReason",
        "phoneComment",
    ] {
        if let Some(v) = b.get(k).filter(|v| !v.is_null()) {
            p.ext.insert(k.into(), plain(v).into());
        }
    }
}

/// The patient as `DemographicTo1`, with the extras rows.
fn bean(call: &Call<'_>, d: &Data, p: &Patient) -> Value {
    bean::to_value(&Demographic::new(call, d, p))
}

/// `DemographicTo1` as `DemographicConverter` fills it: the patient bean,
/// its extension rows and, for `GET /demographics/{dataId}`, the lists the
/// resource sets on it.
struct Demographic<'a> {
    patient: beans::PatientBean<'a>,
    extras: Vec<&'a Map<String, Value>>,
    status_lists: bool,
    referral_doctors: Option<Vec<&'a Map<String, Value>>>,
    contacts: Option<Vec<&'a Map<String, Value>>>,
    /// Lists asked for with `includes[]`, after the bean's own properties.
    included: Vec<(&'static str, Value)>,
}

/// The status choices the resource lists for both statuses.
static STATUS_LIST: LazyLock<Value> = LazyLock::new(|| {
    Value::Array(
        ["RO", "NR", "TE", "FS"]
            .iter()
            .map(|s| json!({"value": s}))
            .collect(),
    )
});

impl<'a> Demographic<'a> {
    fn new(call: &Call<'_>, d: &'a Data, p: &'a Patient) -> Self {
        Demographic {
            patient: beans::PatientBean::new(d, p, call.today()).stamped(call.stamp()),
            extras: d
                .records
                .for_patient("demographicExts", p.id)
                .map(|r| &r.fields)
                .collect(),
            status_lists: false,
            referral_doctors: None,
            contacts: None,
            included: Vec::new(),
        }
    }
}

impl Bean for Demographic<'_> {
    fn properties<'s>(&'s self, out: &mut Properties<'s>) {
        self.patient.properties(out);
        // The rows come from the store the patient was read from.
        let stamp = self.patient.stamp();
        out.set("extras", Prop::Rows(self.extras.clone(), stamp));
        if self.status_lists {
            out.set("patientStatusList", Prop::Json(&STATUS_LIST));
            out.set("rosterStatusList", Prop::Json(&STATUS_LIST));
        }
        if let Some(r) = &self.referral_doctors {
            out.set("referralDoctors", Prop::Rows(r.clone(), stamp));
        }
        if let Some(r) = &self.contacts {
            out.set("demoContacts", Prop::Rows(r.clone(), stamp));
        }
        for (name, v) in &self.included {
            out.put(name, Prop::Json(v));
        }
    }

    /// Without `includes[]` lists the record is a function of the patient
    /// row, rows of the same store and the day: the lists it carries are
    /// the view's flags above the day.
    fn snapshot(&self) -> Option<Snapshot> {
        if !self.included.is_empty() {
            return None;
        }
        let flags = 0b1000
            | u64::from(self.status_lists)
            | u64::from(self.referral_doctors.is_some()) << 1
            | u64::from(self.contacts.is_some()) << 2;
        let patient = self.patient.snapshot()?;
        Some(patient.viewed(flags << 32 | self.patient.day()))
    }
}

/// `GET /demographics`: active patients, XML by default.
pub fn list(call: &mut Call<'_>) -> Outcome {
    let offset = call.query_id("offset").unwrap_or(0);
    let limit = call.query_id("limit").unwrap_or(0);
    let items: Vec<Value> = call.read(|d| {
        d.patients()
            .iter()
            .filter(|p| is_active(p))
            .map(|p| beans::patient(d, p, call.today()))
            .collect()
    });
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(if limit > 0 {
            limit as usize
        } else {
            usize::MAX
        })
        .collect();
    Outcome::Value(
        json!({"offset": offset, "limit": limit, "total": total, "timestamp": call.now_value(), "content": page}),
    )
}

/// `GET /demographics/{dataId}` and `/basic/{dataId}`: the record with its
/// lists. The real resource fills `doctors`, `nurses` and `midwives` from
/// one list it clears in between, so all three end up holding the
/// midwives; the patient and roster status lists share a list the same
/// way and both hold the roster statuses.
pub fn get(call: &mut Call<'_>) -> Outcome {
    let basic = call.behaviour.param("basic") == Some("true");
    let Some(id) = call.path_id("dataId") else {
        return Outcome::Empty(204);
    };
    let includes: Vec<String> = call
        .query
        .get("includes[]")
        .and_then(Value::as_array)
        .map(|a| a.iter().map(plain).collect())
        .unwrap_or_default();
    call.read(|d| {
        let Some(p) = Id::try_from(id).ok().and_then(|id| d.patients().get(id)) else {
            return Outcome::Empty(204);
        };
        let id = p.id;
        let mut v = Demographic::new(call, d, p);
        v.status_lists = true;
        let included = |name: &str| includes.iter().any(|i| i == name);
        if !basic {
            // The shared provider lists (doctors, nurses, midwives) are
            // cleared between roles, so all three stay empty.
            v.referral_doctors = Some(d.records.rows("specialists").map(|r| &r.fields).collect());
            v.contacts = Some(
                d.records
                    .for_patient("demographicContacts", id)
                    .map(|r| &r.fields)
                    .collect(),
            );
            if included("allergies") {
                let a: Vec<Value> = d
                    .allergies
                    .for_patient(id)
                    .filter(|a| !a.archived)
                    .map(beans::allergy)
                    .collect();
                v.included.push(("allergies", Value::Array(a)));
            }
            if included("measurements") {
                let cutoff = call.now - chrono::Duration::days(3 * 365);
                let ms: Vec<Value> = d
                    .measurements
                    .for_patient(id)
                    .filter(|x| x.observed >= cutoff)
                    .map(beans::measurement)
                    .collect();
                v.included.push(("measurements", Value::Array(ms)));
            }
            if included("notes") {
                v.included.push(("encounterNotes", json!([])));
            }
            if included("medications") {
                let meds: Vec<Value> = d
                    .medications
                    .for_patient(id)
                    .filter(|x| !x.archived && x.end_date.is_none_or(|e| e >= call.today()))
                    .map(|x| {
                        Value::String(format!("{} {} {}", x.brand_name, x.dosage, x.frequency))
                    })
                    .collect();
                v.included.push(("medicationSummary", Value::Array(meds)));
            }
        } else if included("contacts") {
            v.contacts = Some(
                d.records
                    .rows("demographicContacts")
                    .filter(|r| {
                        r.patient == Some(id)
                            && r.fields.get("consentToContact") == Some(&Value::Bool(true))
                    })
                    .map(|r| &r.fields)
                    .collect(),
            );
        }
        call.bean(&v)
    })
}

/// `GET /demographics/summary/{demographicNo}` (Open-O): the converter on
/// a missing record throws.
pub fn summary(call: &mut Call<'_>) -> Outcome {
    let id = call.path_id("demographicNo");
    call.read(|d| {
        match id
            .and_then(|id| Id::try_from(id).ok())
            .and_then(|id| d.patients().get(id))
        {
            Some(p) => {
                let mut v = beans::patient(d, p, call.today());
                if let Value::Object(m) = &mut v {
                    m.insert(
                        "alternativePhone".into(),
                        Value::String(p.phone_cell.to_string()),
                    );
                }
                Outcome::Value(v)
            }
            None => npe("demographic is null"),
        }
    })
}

/// `POST /demographics`: a new chart from a `DemographicTo1`.
pub fn create(call: &mut Call<'_>) -> Outcome {
    let login = match call.login() {
        Ok(p) => p.provider_no,
        Err(o) => return o,
    };
    if call.body.is_null() {
        return npe("data is null");
    }
    let body = call.body.clone();
    let now = call.now;
    let created = call.write(|d| {
        let mut p = Patient::default();
        from_bean(&body, &mut p, &login);
        let id = d.insert_patient(p, now);
        for ext in body
            .get("extras")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut m = Map::new();
            m.insert("demographicNo".into(), json!(id));
            m.insert("providerNo".into(), json!(login));
            m.insert("key".into(), ext.get("key").cloned().unwrap_or(Value::Null));
            m.insert(
                "value".into(),
                ext.get("value").cloned().unwrap_or(Value::Null),
            );
            m.insert("dateCreated".into(), Value::String(now.to_rfc3339()));
            m.insert("hidden".into(), json!(false));
            d.records.insert("demographicExts", m, now);
        }
        id
    });
    call.read(|d| match d.patients().get(created) {
        Some(p) => {
            let mut v = bean(call, d, p);
            // The converter's extras echo carries no demographic number yet.
            if let Some(Value::Array(extras)) = v.get_mut("extras") {
                for e in extras {
                    if let Value::Object(m) = e {
                        m.insert("demographicNo".into(), Value::Null);
                    }
                }
            }
            Outcome::Value(v)
        }
        None => npe("demographic"),
    })
}

/// `PUT /demographics`: replaces the record named by `demographicNo` with
/// the body (what the body leaves out is cleared).
pub fn update(call: &mut Call<'_>) -> Outcome {
    let login = match call.login() {
        Ok(p) => p.provider_no,
        Err(o) => return o,
    };
    let Some(id) = body_i64(call, "demographicNo") else {
        return npe("data.getDemographicNo() is null");
    };
    let body = call.body.clone();
    let now = call.now;
    // A number past `Id`'s range is no patient's: not found, as an unknown one.
    let done = call.write(|d| {
        let known = Id::try_from(id).ok()?;
        d.update_patient(known, now, |p| {
            let keep = (
                p.id,
                p.uuid.clone(),
                p.created,
                p.portal_username.clone(),
                p.portal_password.clone(),
            );
            from_bean(&body, p, &login);
            (
                p.id,
                p.uuid,
                p.created,
                p.portal_username,
                p.portal_password,
            ) = keep;
        })
        .ok()
        .map(|()| known)
    });
    let Some(known) = done else {
        return exception(
            "javax.persistence.EntityNotFoundException",
            &format!("Demographic {id}"),
        );
    };
    call.read(|d| {
        d.patients()
            .get(known)
            .map_or_else(|| npe("demographic"), |p| Outcome::Value(bean(call, d, p)))
    })
}

/// `DELETE /demographics/{dataId}`: answers the record as it was and marks
/// it deleted (`DE`); an unknown id is an `IllegalArgumentException`.
pub fn delete(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("dataId") else {
        return exception(
            "java.lang.IllegalArgumentException",
            "Unable to find demographic record with ID null",
        );
    };
    let before = call.read(|d| {
        let p = d.patients().get(Id::try_from(id).ok()?)?;
        Some((p.id, bean(call, d, p)))
    });
    let Some((known, before)) = before else {
        return exception(
            "java.lang.IllegalArgumentException",
            &format!("Unable to find demographic record with ID {id}"),
        );
    };
    let now = call.now;
    let login = call.provider_no();
    let _ = call.write(|d| {
        d.update_patient(known, now, |p| {
            p.status = "DE".into();
            p.status_date = Some(now.date_naive());
            p.last_update_user = login.into();
        })
    });
    Outcome::Value(before)
}

/// The search modes of `DemographicSearchRequest` other than `Name`,
/// which [`search_beans`] finds through the name index.
fn matches(p: &Patient, mode: &str, keyword: &str) -> bool {
    let k = keyword.trim().to_lowercase();
    match mode {
        "Phone" => {
            let digits: String = k.chars().filter(char::is_ascii_digit).collect();
            !digits.is_empty()
                && [&p.phone_home, &p.phone_work, &p.phone_cell]
                    .iter()
                    .any(|x| {
                        x.chars()
                            .filter(char::is_ascii_digit)
                            .collect::<String>()
                            .contains(&digits)
                    })
        }
        "DOB" => p
            .birth_date
            .is_some_and(|b| b.to_string().starts_with(&k) || b.format("%Y%m%d").to_string() == k),
        "Address" => p.address.street.to_lowercase().contains(&k),
        "HIN" => p.hin.starts_with(&k),
        "ChartNo" => p.chart_no.to_lowercase().starts_with(&k),
        "DemographicNo" => p.id.to_string() == k,
        _ => false,
    }
}

/// The patients a search finds, in name order (last, then first name,
/// lower-cased, then id): how many in all, and the beans of `page` of
/// them. A name search walks the name index from the prefix; the other
/// modes read every patient. Only the page is turned into beans.
fn search_beans(
    call: &Call<'_>,
    mode: &str,
    keyword: &str,
    active: bool,
    page: std::ops::Range<usize>,
) -> (usize, Vec<Value>) {
    call.read(|d| {
        let wanted = |p: &&Patient| !active || is_active(p);
        let found: Vec<&Patient> = if mode == "Name" {
            d.search_patients_by_query(keyword).filter(wanted).collect()
        } else {
            let mut found: Vec<&Patient> = d
                .patients()
                .iter()
                .filter(|p| wanted(p) && matches(p, mode, keyword))
                .collect();
            found.sort_by_cached_key(|p| (p.last_name.to_lowercase(), p.first_name.to_lowercase()));
            found
        };
        let beans = found
            .get(page.start.min(found.len())..page.end.min(found.len()))
            .unwrap_or_default()
            .iter()
            .map(|p| beans::patient(d, p, call.today()))
            .collect();
        (found.len(), beans)
    })
}

/// `GET /demographics/quickSearch?query=`: `Last[,First]`, `addr:...` or
/// `chartNo:...`, active patients only, the first 10 of `total`.
pub fn quick_search(call: &mut Call<'_>) -> Outcome {
    let Some(query) = call
        .query
        .get("query")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Outcome::Value(
            json!({"offset": 0, "limit": 0, "total": 0, "content": [], "query": null, "page": 1, "perPage": 0}),
        );
    };
    let (mode, keyword) = if let Some(k) = query.strip_prefix("addr:") {
        ("Address", k)
    } else if let Some(k) = query.strip_prefix("chartNo:") {
        ("ChartNo", k)
    } else {
        ("Name", query.as_str())
    };
    if call.variant == Variant::Juno {
        let page = call.query_id("page").unwrap_or(1).max(1);
        let per = call.query_id("perPage").unwrap_or(10).max(1);
        let start = usize::try_from((page - 1).saturating_mul(per)).unwrap_or(usize::MAX);
        let rows = start..start.saturating_add(usize::try_from(per).unwrap_or(usize::MAX));
        let (total, items) = search_beans(call, mode, keyword, true, rows);
        return Outcome::Value(
            json!({"content": items, "total": total, "page": page, "perPage": per}),
        );
    }
    let (total, items) = search_beans(call, mode, keyword, true, 0..10);
    let mut v = json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": items, "query": null});
    if total > 0 {
        v["query"] = Value::String(query);
    } else {
        v["content"] = json!([]);
    }
    Outcome::Value(v)
}

/// `POST /demographics/search`: `{type, term, active, params}`; a missing
/// `type` fails in `SEARCHMODE.valueOf`.
pub fn search(call: &mut Call<'_>) -> Outcome {
    let Some(mode) = body_str(call, "type") else {
        return npe("Name is null");
    };
    if ![
        "Name",
        "Phone",
        "DOB",
        "Address",
        "HIN",
        "ChartNo",
        "DemographicNo",
    ]
    .contains(&mode.as_str())
    {
        return exception(
            "java.lang.IllegalArgumentException",
            &format!("No enum constant DemographicSearchRequest.SEARCHMODE.{mode}"),
        );
    }
    let term = match body_str(call, "term") {
        Some(t) => t,
        None if call.variant == Variant::Oscar19 => {
            return exception(
                "net.sf.json.JSONException",
                "JSONObject[\"term\"] not found.",
            )
        }
        None => String::new(),
    };
    let active = body_str(call, "active").is_some_and(|a| a == "true");
    if term.is_empty() {
        return Outcome::Value(
            json!({"offset": 0, "limit": 0, "total": 0, "timestamp": call.now_value(), "content": []}),
        );
    }
    let (start, count) = (call.query_id("startIndex"), call.query_id("itemsToReturn"));
    let rows = match (start, count) {
        (Some(start), Some(count)) => {
            let start = usize::try_from(start.max(0)).unwrap_or(usize::MAX);
            start..start.saturating_add(usize::try_from(count.max(0)).unwrap_or(usize::MAX))
        }
        _ => 0..0,
    };
    let (total, items) = search_beans(call, &mode, &term, active, rows);
    if total == 0 {
        return Outcome::Value(
            json!({"offset": 0, "limit": 0, "total": 0, "timestamp": call.now_value(), "content": []}),
        );
    }
    if start.is_none() || count.is_none() {
        return npe("startIndex/itemsToReturn");
    }
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": items}),
    )
}

/// `POST /demographics/searchIntegrator`: without a CAISI Integrator the
/// lookup fails inside and the answer is empty.
pub fn search_integrator(call: &mut Call<'_>) -> Outcome {
    if call.variant == Variant::Oscar19 && body_str(call, "term").is_none() {
        return exception(
            "net.sf.json.JSONException",
            "JSONObject[\"term\"] not found.",
        );
    }
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": 0, "timestamp": call.now_value(), "content": []}),
    )
}

/// OSCAR 19 `POST /demographics/matchDemographic` `{hin, dob}`: the
/// self-booking match by health number and birth date.
pub fn match_demographic(call: &mut Call<'_>) -> Outcome {
    let (Some(hin), Some(dob)) = (body_str(call, "hin"), body_str(call, "dob")) else {
        return exception(
            "net.sf.json.JSONException",
            "JSONObject[\"hin\"] not found.",
        );
    };
    let Ok(dob) = NaiveDate::parse_from_str(&dob, "%Y-%m-%d") else {
        return Outcome::Value(
            json!({"code": "E", "message": "The date of birth could not be correctly read.\nPlease review your information and try again or contact the clinic for further assistance."}),
        );
    };
    let found = call.read(|d| {
        d.search_patients_by_hin(&hin)
            .find(|p| p.hin == hin && p.birth_date == Some(dob))
            .map(|p| p.id)
    });
    Outcome::Value(match found {
        Some(id) => json!({"code": "S", "demographicNo": id}),
        None => json!({"code": "N", "message": "No matching patient record was found."}),
    })
}

/// OSCAR 19 `POST /demographics/matchDemographicPartial` `{lastName,
/// dateOfBirth}`: the matching records, or 400 with a text reason.
pub fn match_partial(call: &mut Call<'_>) -> Outcome {
    let (last, dob) = (
        body_str(call, "lastName").unwrap_or_default(),
        body_str(call, "dateOfBirth").unwrap_or_default(),
    );
    if last.is_empty() || dob.is_empty() {
        return text(
            call,
            400,
            "The attributes lastName and dateOfBirth are both required to match a demographic",
        );
    }
    let Ok(dob) = NaiveDate::parse_from_str(&dob, "%Y-%m-%d") else {
        return text(call, 400, &format!("The date of birth must be a valid date in the format yyyy-MM-dd. There is an issue with {dob}"));
    };
    let found: Vec<Value> = call.read(|d| {
        d.patients()
            .iter()
            .filter(|p| p.last_name.eq_ignore_ascii_case(&last) && p.birth_date == Some(dob))
            .map(|p| beans::patient(d, p, call.today()))
            .collect()
    });
    Outcome::Typed(
        super::super::types::JType::parse("List<DemographicTo1>"),
        Value::Array(found),
    )
}

/// `PUT /demographics/merge?parentId&childId`: records the merge (void).
pub fn merge(call: &mut Call<'_>) -> Outcome {
    let (Some(parent), Some(child)) = (call.query_id("parentId"), call.query_id("childId")) else {
        return npe("parentId/childId");
    };
    let login = call.provider_no();
    let now = call.now;
    let known = |d: &Data, n: i64| Id::try_from(n).is_ok_and(|p| d.patients().get(p).is_some());
    if !call.read(|d| known(d, parent) && known(d, child)) {
        return npe("demographic is null");
    }
    call.write(|d| {
        let mut m = Map::new();
        m.insert("demographicNo".into(), json!(child));
        m.insert("mergedTo".into(), json!(parent));
        m.insert("deleted".into(), json!(0));
        m.insert("lastUpdateUser".into(), json!(login));
        m.insert("lastUpdateDate".into(), Value::String(now.to_rfc3339()));
        d.records.insert("demographicMerged", m, now);
    });
    Outcome::Empty(204)
}

/// `DELETE /demographics/merge?parentId&childsId`: undoes a merge (void).
pub fn unmerge(call: &mut Call<'_>) -> Outcome {
    let (Some(parent), Some(child)) = (call.query_id("parentId"), call.query_id("childsId")) else {
        return npe("parentId/childsId");
    };
    let now = call.now;
    let ids: Vec<Id> = call.read(|d| {
        d.records
            .rows("demographicMerged")
            .filter(|r| {
                r.fields.get("mergedTo").and_then(Value::as_i64) == Some(parent)
                    && r.fields.get("demographicNo").and_then(Value::as_i64) == Some(child)
            })
            .map(|r| r.id)
            .collect()
    });
    call.write(|d| {
        for id in ids {
            d.records.update("demographicMerged", id, now, |m| {
                m.insert("deleted".into(), json!(1));
            });
        }
    });
    Outcome::Empty(204)
}

/// `GET /demographics/merge/{parentId}`: the live merges into a record.
pub fn merged(call: &mut Call<'_>) -> Outcome {
    let parent = call.path_id("parentId");
    let items: Vec<Value> = rows(call, "demographicMerged")
        .into_iter()
        .map(|(_, _, b)| b)
        .filter(|b| {
            b.get("mergedTo").and_then(Value::as_i64) == parent
                && b.get("deleted").and_then(Value::as_i64) == Some(0)
        })
        .collect();
    paged(call, items, 0, None)
}

/// Years since a birth date (for Juno's search listing).
pub fn age_years(b: NaiveDate, today: NaiveDate) -> i32 {
    let mut y = today.year() - b.year();
    if (today.month(), today.day()) < (b.month(), b.day()) {
        y -= 1;
    }
    y
}
