//! `BookingService`: the external booking flow. `findAppointment` offers
//! the store's real free slots, each as an opaque slot reference (OSCAR
//! encrypts a `TimeSlot` with the clinic's search configuration; the mock
//! signs its fields), and `bookAppointment` books one under the store's
//! write lock, so a slot taken meanwhile is refused as `DOUBLE_BOOKED`.

use base64::Engine as _;
use chrono::{Datelike, Duration, NaiveDate, NaiveTime};
use sha1::{Digest, Sha1};

use super::dispatch::{Call, Outcome};
use super::transfer::slot_end;
use super::xml::{local, Obj, Val};
use crate::store::*;

/// How many options `findAppointment` returns at most.
pub const OPTIONS_TO_RETURN: usize = 10;
/// How many days ahead it searches from the start date.
pub const DAYS_TO_SEARCH_AHEAD: i64 = 14;
/// The clinic's booking title, returned as the confirmation's location.
const TITLE: &str = "Maple Grove Family Health Team";

/// A slot offered to a patient, as its reference carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub provider_no: String,
    pub date: NaiveDate,
    pub start: NaiveTime,
    pub appointment_type: Id,
    pub patient: Id,
}

/// Signs and encodes slot references with a key of this mock's.
#[derive(Debug, Clone)]
pub struct SlotSigner {
    key: [u8; 20],
}

impl SlotSigner {
    pub fn new(secret: &[u8]) -> SlotSigner {
        SlotSigner {
            key: Sha1::digest(secret).into(),
        }
    }

    fn mac(&self, payload: &str) -> String {
        let mut h = Sha1::new();
        h.update(self.key);
        h.update(payload.as_bytes());
        h.finalize()
            .iter()
            .take(10)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn seal(&self, payload: &str) -> String {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload);
        format!("{b64}.{}", self.mac(payload))
    }

    fn open(&self, token: &str) -> Option<String> {
        let (b64, mac) = token.trim().split_once('.')?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .ok()?;
        let payload = String::from_utf8(bytes).ok()?;
        (self.mac(&payload) == mac).then_some(payload)
    }

    pub fn encode(&self, s: &Slot) -> String {
        self.seal(&format!(
            "slot|{}|{}|{}|{}|{}",
            s.provider_no,
            s.date,
            s.start.format("%H:%M"),
            s.appointment_type,
            s.patient
        ))
    }

    pub fn decode(&self, token: &str) -> Option<Slot> {
        let payload = self.open(token)?;
        let parts: Vec<&str> = payload.split('|').collect();
        let ["slot", provider, date, start, kind, patient] = parts.as_slice() else {
            return None;
        };
        Some(Slot {
            provider_no: (*provider).to_owned(),
            date: date.parse().ok()?,
            start: NaiveTime::parse_from_str(start, "%H:%M").ok()?,
            appointment_type: kind.parse().ok()?,
            patient: patient.parse().ok()?,
        })
    }

    /// `nextStartDateEncrypted`: the date to continue a search from.
    pub fn encode_date(&self, d: NaiveDate) -> String {
        self.seal(&format!("next|{d}"))
    }
}

/// Doctors the clinic offers for booking: providers with a schedule.
pub fn booking_providers(d: &Data) -> Vec<String> {
    let mut out: Vec<String> = d
        .providers
        .iter()
        .filter(|p| {
            p.is_active()
                && d.schedule_days
                    .iter()
                    .any(|s| s.provider_no == p.provider_no)
        })
        .map(|p| p.provider_no.to_string())
        .collect();
    out.sort();
    out
}

fn booking_type(t: &AppointmentType) -> Val {
    let mut o = Obj::new("bookingType");
    o.set("id", t.id.to_string()).set("name", t.name.as_str());
    Val::Obj(o)
}

fn bookable_types(d: &Data) -> Vec<Val> {
    d.appointment_types
        .iter()
        .filter(|t| t.bookable)
        .map(booking_type)
        .collect()
}

/// `getAppointmentTypesByProvider(providerNo)`.
pub fn types_by_provider(call: &mut Call) -> Outcome {
    let provider = call.string(0).unwrap_or_default().to_owned();
    Ok(Some(Val::List(call.read(|d| {
        if booking_providers(d).contains(&provider) {
            bookable_types(d)
        } else {
            Vec::new()
        }
    }))))
}

/// `getExternalAppointmentTypes(demographicNo)`.
pub fn external_types(call: &mut Call) -> Outcome {
    let patient = call.int(0);
    Ok(Some(Val::List(call.read(|d| {
        match patient.and_then(|p| d.patients().get(Id::try_from(p).ok()?)) {
            Some(_) => bookable_types(d),
            None => Vec::new(),
        }
    }))))
}

fn booking_error(code: &str, description: &str) -> Obj {
    let mut e = Obj::new("bookingError");
    e.set("code", code).set("description", description);
    e
}

/// `findAppointment(demographicNo, appointmentType, startDate)`.
pub fn find(call: &mut Call) -> Outcome {
    let system_error = || {
        let mut r = Obj::new("appointmentResults");
        r.set("bookingError", booking_error("ERROR", "System Error"));
        Ok(Some(Val::Obj(r)))
    };
    // A number past `Id`'s range is no type's: the same error as an unknown one.
    let Some(type_id) = call.string(1).and_then(|t| t.trim().parse::<Id>().ok()) else {
        return system_error();
    };
    let (Some(patient), Some(start)) = (call.int(0), call.time(2)) else {
        return system_error();
    };
    let now = call.now();
    let zone = super::xml::server_zone();
    let now_local = now.with_timezone(&zone).naive_local();
    let from = start
        .with_timezone(&zone)
        .date_naive()
        .max(now_local.date());
    let signer = &call.state.soap.slots;
    let found = call.read(|d| {
        let kind = d.appointment_types.get(type_id).filter(|t| t.bookable)?;
        let patient = d.patients().get(Id::try_from(patient).ok()?)?.id;
        let providers = booking_providers(d);
        let mut options: Vec<(NaiveDate, NaiveTime, String)> = Vec::new();
        let mut last_day = None;
        for offset in 0..DAYS_TO_SEARCH_AHEAD {
            let date = from + Duration::days(offset);
            let mut day: Vec<(NaiveDate, NaiveTime, String)> = providers
                .iter()
                .flat_map(|p| {
                    d.free_slots(p, date, kind.duration_min)
                        .into_iter()
                        .filter(move |(s, _)| date.and_time(*s) > now_local)
                        .map(move |(s, _)| (date, s, p.clone()))
                })
                .collect();
            day.sort();
            options.extend(day);
            if options.len() > OPTIONS_TO_RETURN {
                last_day = Some(date);
                break;
            }
        }
        options.truncate(OPTIONS_TO_RETURN);
        let names: Vec<(String, String)> = d
            .providers
            .iter()
            .map(|p| {
                (
                    p.provider_no.to_string(),
                    format!("{}, {}", p.last_name, p.first_name),
                )
            })
            .collect();
        Some((options, last_day, names, kind.id, patient))
    });
    let Some((options, last_day, names, kind_id, patient)) = found else {
        return system_error();
    };
    let items: Vec<Val> = options
        .iter()
        .map(|(date, start, provider)| {
            let slot = Slot {
                provider_no: provider.clone(),
                date: *date,
                start: *start,
                appointment_type: kind_id,
                patient,
            };
            let mut o = Obj::new("appointmentOptionTransfer");
            o.set("availableTime", local(*date, *start, false))
                .set("timeDisplay", start.format("%I:%M %p").to_string())
                .set(
                    "providerName",
                    names
                        .iter()
                        .find(|(n, _)| n == provider)
                        .map(|(_, name)| name.clone())
                        .unwrap_or_default(),
                )
                .set("encString", signer.encode(&slot))
                .set("cancelled", false);
            Val::Obj(o)
        })
        .collect();
    let next = match last_day {
        Some(d) => d + Duration::days(1),
        None => from + Duration::days(DAYS_TO_SEARCH_AHEAD),
    };
    let mut r = Obj::new("appointmentResults");
    r.set("appointmentOptions", items)
        .set("nextStartDateEncrypted", signer.encode_date(next));
    Ok(Some(Val::Obj(r)))
}

/// `bookAppointment(encryptedAppointmentTimeSlot, notes)`.
pub fn book(call: &mut Call) -> Outcome {
    let failed = || {
        let mut c = Obj::new("appointmentConfirmationTransfer");
        c.set(
            "bookingError",
            booking_error("ERROR", "Unable to create appointment"),
        );
        Ok(Some(Val::Obj(c)))
    };
    let Some(slot) = call.string(0).and_then(|t| call.state.soap.slots.decode(t)) else {
        return failed();
    };
    let notes = call.string(1).unwrap_or_default().to_owned();
    let now = call.now();
    let creator = call.provider_no();
    let booked = call.write(|d| {
        let kind = d.appointment_types.get(slot.appointment_type)?.clone();
        let patient = d.patients().get(slot.patient)?.clone();
        let provider = d.provider(&slot.provider_no)?;
        let provider_name = format!("{}, {}", provider.last_name, provider.first_name);
        let end = slot_end(slot.start, kind.duration_min);
        let appt = Appointment {
            provider_no: slot.provider_no.clone().into(),
            patient: Some(patient.id).into(),
            date: slot.date,
            start: slot.start,
            end,
            name: patient.display_name().into(),
            notes: notes.clone().into(),
            reason: kind.name.clone(),
            kind: kind.name.clone(),
            location: TITLE.into(),
            status: "t".into(),
            program_id: 1,
            booking_source: "OSCAR".into(),
            creator: creator.clone().into(),
            last_update_user: creator.clone().into(),
            ..Appointment::default()
        };
        Some((d.insert_appointment(appt, now, true), end, provider_name))
    });
    match booked {
        None => failed(),
        Some((Err(StoreError::SlotTaken { .. }), _, _)) => {
            let mut c = Obj::new("appointmentConfirmationTransfer");
            c.set(
                "bookingError",
                booking_error(
                    "DOUBLE_BOOKED",
                    "Booking conflict, some one else may have taken that time slot just now.",
                ),
            );
            Ok(Some(Val::Obj(c)))
        }
        Some((Err(_), _, _)) => failed(),
        Some((Ok(_), end, provider_name)) => {
            let start = slot.date.and_time(slot.start);
            let mut c = Obj::new("appointmentConfirmationTransfer");
            c.set("appointmentTime", local(slot.date, slot.start, false))
                .set("appointmentEndTime", local(slot.date, end, false))
                .set(
                    "appointmentDescription",
                    format!(
                        "{}, {}, {}",
                        start.date().weekday_name(),
                        start.date(),
                        start.time().format("%I:%M %p")
                    ),
                )
                .set("providerName", provider_name)
                .set("location", TITLE);
            Ok(Some(Val::Obj(c)))
        }
    }
}

trait WeekdayName {
    fn weekday_name(&self) -> &'static str;
}

impl WeekdayName for NaiveDate {
    fn weekday_name(&self) -> &'static str {
        match self.weekday() {
            chrono::Weekday::Mon => "Monday",
            chrono::Weekday::Tue => "Tuesday",
            chrono::Weekday::Wed => "Wednesday",
            chrono::Weekday::Thu => "Thursday",
            chrono::Weekday::Fri => "Friday",
            chrono::Weekday::Sat => "Saturday",
            chrono::Weekday::Sun => "Sunday",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slot_references_round_trip_and_refuse_tampering() {
        let s = SlotSigner::new(b"k");
        let slot = Slot {
            provider_no: "100001".into(),
            date: NaiveDate::from_ymd_opt(2030, 1, 7).unwrap(),
            start: NaiveTime::from_hms_opt(9, 15, 0).unwrap(),
            appointment_type: 1,
            patient: 3,
        };
        let token = s.encode(&slot);
        assert_eq!(s.decode(&token), Some(slot.clone()));
        let other = SlotSigner::new(b"other");
        assert_eq!(other.decode(&token), None, "another mock's reference");
        let (b64, mac) = token.split_once('.').unwrap();
        let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode("slot|100001|2030-01-07|09:30|1|3");
        assert_eq!(s.decode(&format!("{forged}.{mac}")), None);
        assert_eq!(s.decode(b64), None);
        assert_eq!(s.decode("garbage"), None);
    }
}
