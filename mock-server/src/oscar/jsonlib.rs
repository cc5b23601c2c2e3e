//! JSON as OSCAR's hand-built `net.sf.json` (json-lib) responses write
//! it: bean properties in the order json-lib emitted them in the recorded
//! `GET /providerService/provider/me`, and `java.util.Date` as an object
//! of its deprecated getters. The mock's server time zone is UTC.

use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde_json::{json, Value};

use crate::store::Provider;

/// A `java.util.Date` / `java.sql.Timestamp` as json-lib serialises it.
pub fn date(at: DateTime<Utc>) -> Value {
    json!({
        "date": at.day(),
        "hours": at.hour(),
        "seconds": at.second(),
        "month": at.month0(),
        "nanos": 0,
        "timezoneOffset": 0,
        "year": at.year() - 1900,
        "minutes": at.minute(),
        "time": at.timestamp_millis(),
        "day": at.weekday().num_days_from_sunday(),
    })
}

/// OSCAR's "no date" (`0001-01-01`) as a `java.util.Date`: Java counts it
/// on the Julian calendar, hence the epoch value.
fn no_date() -> Value {
    json!({
        "date": 1, "hours": 0, "seconds": 0, "month": 0, "nanos": 0,
        "timezoneOffset": 0, "year": -1899, "minutes": 0,
        "time": -62_135_769_600_000_i64, "day": 6,
    })
}

/// The provider's birth date in the shape the recording shows.
fn dob(d: Option<NaiveDate>) -> Value {
    let (year, month0, day) = d.map_or((1, 0, 1), |d| (d.year(), d.month0(), d.day()));
    json!({
        "year": year, "month": month0, "day": day,
        "hours": 0, "minutes": 0, "seconds": 0, "milliseconds": 0,
    })
}

/// The `Provider` entity as a json-lib bean.
pub fn provider_bean(p: &Provider) -> Value {
    let ext = |k: &str, default: &str| {
        p.ext
            .get(k)
            .cloned()
            .unwrap_or_else(|| default.to_owned().into())
    };
    json!({
        "lastName": p.last_name,
        "providerActivity": ext("provider_activity", ""),
        "specialty": p.specialty,
        "lastUpdateDate": date(p.last_update.get()),
        "formattedName": format!("{}, {}", p.last_name, p.first_name),
        "hsoNo": ext("hso_no", ""),
        "title": p.title,
        "practitionerNoType": ext("practitioner_no_type", "CPSO"),
        "providerType": p.provider_type,
        "id": p.provider_no,
        "persistent": true,
        "email": p.email,
        "rmaNo": ext("rma_no", ""),
        "address": p.address,
        "comments": p.comments,
        "practitionerNo": p.practitioner_no,
        "sex": p.sex,
        "providerNo": p.provider_no,
        "billingNo": p.billing_no,
        "fullName": format!("{} {}", p.first_name, p.last_name),
        "team": p.team,
        "signedConfidentiality": no_date(),
        "firstName": p.first_name,
        "ohipNo": p.ohip_no,
        "phone": p.phone,
        "dob": dob(p.birth_date),
        "lastUpdateUser": ext("last_update_user", &p.provider_no),
        "workPhone": p.work_phone,
        "supervisor": ext("supervisor", ""),
        "status": p.status,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_are_java_date_getters() {
        let at = Utc.with_ymd_and_hms(2024, 5, 23, 5, 57, 52).unwrap();
        let v = date(at);
        assert_eq!(v["year"], 124);
        assert_eq!(v["month"], 4);
        assert_eq!(v["date"], 23);
        assert_eq!(v["day"], 4, "a Thursday");
        assert_eq!(v["time"], 1_716_443_872_000_i64);
    }

    #[test]
    fn provider_keys_keep_the_recorded_order() {
        let p = Provider {
            provider_no: "999998".into(),
            first_name: "doctor".into(),
            last_name: "oscardoc".into(),
            ..Provider::default()
        };
        let v = provider_bean(&p);
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys[..3], ["lastName", "providerActivity", "specialty"]);
        assert_eq!(v["formattedName"], "oscardoc, doctor");
        assert_eq!(v["fullName"], "doctor oscardoc");
    }
}
