//! The store's invariants under concurrency, over the wire (SOAP) and at
//! the store itself:
//!
//! - one free slot booked by many at once: exactly one booking, the others
//!   get the real system's conflict answer;
//! - many creates at once: as many records, unique ids, all readable;
//! - many updates of one record at once: the record is one writer's
//!   version, never a mix, and every version is archived whole;
//! - a delta-sync reader that polls while others write misses nothing.
//!
//! Each invariant also has a test that runs the same race against a
//! deliberately broken write (the check, the id, the fields or the stamp
//! taken outside the write's lock) and shows the checker catches it: the
//! invariant tests would fail if the store's lock did not provide it.
//!
//! OSCAR REST `POST /ws/rs/schedule/add`, OpenEMR's appointment route and
//! FHIR `_lastUpdated` are raced over the wire too (the two REST routes
//! book a slot as often as asked, as the real resources do, so their
//! invariant is the "many creates" one).
//! Another route takes the same `race` + `exactly_one` in a few lines (see
//! `support/race.rs`).

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{NaiveDate, NaiveTime, Utc};
use emr_catalog::ProfileId;
use emr_mock::store::{Allergy, Appointment, Data, Id, Record, Store, StoreError};
use emr_mock::{MockConfig, MockServer};
use support::race::{exactly_one, race, race_threads, Answer};
use support::{openemr, oscar, soap};

async fn mock(profile: ProfileId) -> MockServer {
    let mut c = MockConfig::new(profile);
    c.wss_failure_delay = Duration::ZERO;
    MockServer::start_local(c).await.unwrap()
}

fn data() -> Data {
    emr_mock::store::seed::generate(&emr_mock::store::SeedConfig {
        patients: 10,
        ..Default::default()
    })
}

fn slot(date: NaiveDate) -> Appointment {
    Appointment {
        provider_no: "100001".into(),
        date,
        start: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
        end: NaiveTime::from_hms_opt(9, 15, 0).unwrap(),
        status: "t".into(),
        ..Appointment::default()
    }
}

// ---- one slot, many bookings ---------------------------------------------

#[tokio::test]
async fn one_free_slot_booked_by_sixteen_soap_clients_is_booked_once() {
    for profile in [ProfileId::Oscar, ProfileId::OpenO] {
        let server = mock(profile).await;
        let today = Utc::now().date_naive();
        let find = soap::call(
            &server,
            "findAppointment",
            &format!("<arg0>1</arg0><arg1>1</arg1><arg2>{today}T00:00:00-05:00</arg2>"),
        );
        let (_, found) = soap::send(&server, "BookingService", find).await;
        let slot = soap::texts(&found, "encString")
            .into_iter()
            .next()
            .expect("a free slot");
        let book = soap::call(
            &server,
            "bookAppointment",
            &format!("<arg0>{slot}</arg0><arg1>race</arg1>"),
        );
        let before = server
            .state()
            .default_site()
            .store
            .read(|d| d.appointments().len());
        let client = reqwest::Client::new();
        let answers = race(16, |_| {
            soap::request(&client, &server, "BookingService", book.clone())
        })
        .await;
        exactly_one(
            &answers,
            |a: &Answer| a.status == 200 && a.body.contains("<appointmentTime>"),
            |a: &Answer| a.status == 200 && a.body.contains("<code>DOUBLE_BOOKED</code>"),
        )
        .unwrap_or_else(|e| panic!("{profile}: {e}"));
        let after = server
            .state()
            .default_site()
            .store
            .read(|d| d.appointments().len());
        assert_eq!(after, before + 1, "{profile}");
    }
}

#[test]
fn one_free_slot_booked_by_sixteen_threads_is_booked_once() {
    let store = std::sync::Arc::new(Store::new(data()));
    let date = NaiveDate::from_ymd_opt(2031, 1, 6).unwrap();
    let s = store.clone();
    let results = race_threads(16, move |_, _| {
        s.write(|d| d.insert_appointment(slot(date), Utc::now(), true))
    });
    exactly_one(
        &results,
        |r| r.is_ok(),
        |r| matches!(r, Err(StoreError::SlotTaken { .. })),
    )
    .unwrap();
    assert_eq!(store.read(|d| d.appointments_on("100001", date).count()), 1);
}

#[test]
fn a_check_made_outside_the_booking_lock_is_caught() {
    // The broken way: ask whether the slot is free under one lock, book
    // under another. Every thread sees the slot free before any books.
    let store = std::sync::Arc::new(Store::new(data()));
    let date = NaiveDate::from_ymd_opt(2031, 1, 6).unwrap();
    let s = store.clone();
    let results = race_threads(8, move |_, barrier| {
        let a = slot(date);
        let free = s.read(|d| d.slot_is_free(&a.provider_no, a.date, a.start, a.end, None));
        barrier.wait();
        if free {
            s.write(|d| d.insert_appointment(a, Utc::now(), false))
        } else {
            Err(StoreError::Invalid("taken".into()))
        }
    });
    let verdict = exactly_one(&results, |r| r.is_ok(), |r| r.is_err());
    assert!(verdict.is_err(), "the checker must catch a double booking");
    assert_eq!(store.read(|d| d.appointments_on("100001", date).count()), 8);
}

// ---- many creates ----------------------------------------------------------

#[tokio::test]
async fn thirty_two_concurrent_soap_creates_get_unique_readable_ids() {
    let server = mock(ProfileId::Oscar).await;
    let client = reqwest::Client::new();
    let answers = race(32, |i| {
        let env = soap::call(
            &server,
            "addAppointment",
            &format!(
                "<arg0><appointmentEndDateTime>2031-03-04T09:15:00-05:00</appointmentEndDateTime>\
                 <appointmentStartDateTime>2031-03-04T09:00:00-05:00</appointmentStartDateTime>\
                 <demographicNo>1</demographicNo><notes>writer {i}</notes><providerNo>100001</providerNo>\
                 <status>t</status></arg0>"
            ),
        );
        soap::request(&client, &server, "ScheduleService", env)
    })
    .await;
    let ids: Vec<String> = answers
        .iter()
        .map(|a| {
            assert_eq!(a.status, 200, "{}", a.body);
            soap::texts(&a.body, "return").remove(0)
        })
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 32, "{ids:?}");
    for (i, id) in ids.iter().enumerate() {
        let read = soap::call(
            &server,
            "getAppointment2",
            &format!("<arg0>{id}</arg0><arg1>true</arg1>"),
        );
        let (status, body) = soap::send(&server, "ScheduleService", read).await;
        assert_eq!(status, 200);
        assert_eq!(soap::texts(&body, "id"), std::slice::from_ref(id));
        assert_eq!(soap::texts(&body, "notes"), [format!("writer {i}")]);
    }
}

fn allergy(i: usize) -> Allergy {
    Allergy {
        patient_id: 1,
        description: format!("writer {i}").into(),
        ..Allergy::default()
    }
}

#[test]
fn concurrent_inserts_get_unique_ids() {
    let store = std::sync::Arc::new(Store::new(data()));
    let s = store.clone();
    let ids = race_threads(32, move |i, _| s.write(|d| d.allergies.insert(allergy(i))));
    let unique: BTreeSet<Id> = ids.iter().copied().collect();
    assert_eq!(unique.len(), 32);
    for (i, id) in ids.iter().enumerate() {
        let desc = store.read(|d| d.allergies.get(*id).map(|a| a.description.to_string()));
        assert_eq!(desc, Some(format!("writer {i}")));
    }
}

#[test]
fn an_id_taken_outside_the_insert_lock_is_caught() {
    // The broken way: read the next id, then insert under it later.
    let store = std::sync::Arc::new(Store::new(data()));
    let s = store.clone();
    let ids = race_threads(8, move |i, barrier| {
        let id = s.read(|d| d.allergies.next_id());
        barrier.wait();
        let mut a = allergy(i);
        a.set_id(id);
        s.write(|d| d.allergies.put(a));
        id
    });
    let unique: BTreeSet<Id> = ids.iter().copied().collect();
    assert!(unique.len() < 8, "the race must show: {ids:?}");
}

// ---- many updates of one record -------------------------------------------

#[tokio::test]
async fn sixteen_concurrent_soap_updates_never_mix() {
    let server = mock(ProfileId::OpenO).await;
    let id = server
        .state()
        .default_site()
        .store
        .read(|d| d.appointments().iter().next().map(|a| a.id))
        .unwrap();
    let archived_before = server
        .state()
        .default_site()
        .store
        .read(|d| d.appointment_archives.len());
    let client = reqwest::Client::new();
    let answers = race(16, |i| {
        let env = soap::call(
            &server,
            "updateAppointment",
            &format!(
                "<arg0><id>{id}</id><notes>writer {i}</notes><reason>writer {i}</reason>\
                 <remarks>writer {i}</remarks><location>room {i}</location></arg0>"
            ),
        );
        soap::request(&client, &server, "ScheduleService", env)
    })
    .await;
    assert!(answers.iter().all(|a| a.status == 200), "{answers:#?}");
    let (notes, reason, remarks, location) = server.state().default_site().store.read(|d| {
        let a = d.appointments().get(id).unwrap();
        (
            a.notes.clone(),
            a.reason.clone(),
            a.remarks.clone(),
            a.location.clone(),
        )
    });
    assert_eq!(notes, reason);
    assert_eq!(notes, remarks);
    assert_eq!(location, notes.replace("writer", "room"));
    // Every update archived the version before it, whole.
    let archives = server.state().default_site().store.read(|d| {
        d.appointment_archives
            .iter()
            .skip(archived_before)
            .map(|a| (a.appointment.notes.clone(), a.appointment.reason.clone()))
            .collect::<Vec<_>>()
    });
    assert_eq!(archives.len(), 16);
    for (i, (n, r)) in archives.iter().enumerate().skip(1) {
        assert_eq!(n, r, "archive {i} mixes two writes");
    }
}

fn write_all_fields(a: &mut Appointment, i: usize) {
    a.notes = format!("writer {i}").into();
    a.reason = format!("writer {i}").into();
    a.remarks = format!("writer {i}").into();
}

fn consistent(a: &Appointment) -> bool {
    a.notes == a.reason && a.reason == a.remarks
}

#[test]
fn concurrent_updates_under_the_lock_never_mix() {
    let store = std::sync::Arc::new(Store::new(data()));
    let id = store.read(|d| d.appointments().iter().next().map(|a| a.id).unwrap());
    let s = store.clone();
    race_threads(16, move |i, _| {
        s.write(|d| d.update_appointment(id, Utc::now(), |a| write_all_fields(a, i)))
            .unwrap();
    });
    assert!(store.read(|d| consistent(d.appointments().get(id).unwrap())));
}

#[test]
fn field_by_field_updates_outside_one_lock_are_caught() {
    // The broken way: each field written under its own lock acquisition.
    let store = std::sync::Arc::new(Store::new(data()));
    let id = store.read(|d| d.appointments().iter().next().map(|a| a.id).unwrap());
    let s = store.clone();
    race_threads(2, move |i, barrier| {
        let set = |f: &dyn Fn(&mut Appointment)| {
            s.write(|d| d.update_appointment(id, Utc::now(), |a| f(a)))
                .unwrap();
        };
        let mine = format!("writer {i}");
        if i == 0 {
            // Writer 0 writes its notes, then its reason after writer 1
            // has written both of its fields.
            set(&|a| a.notes = mine.clone().into());
            barrier.wait();
            barrier.wait();
            set(&|a| a.reason = mine.clone().into());
        } else {
            barrier.wait();
            set(&|a| a.notes = mine.clone().into());
            set(&|a| a.reason = mine.clone().into());
            barrier.wait();
        }
    });
    let a = store.read(|d| d.appointments().get(id).cloned().unwrap());
    assert_ne!(a.notes, a.reason, "the race must show a mixed record");
}

// ---- delta sync -------------------------------------------------------------

#[tokio::test]
async fn a_soap_delta_sync_during_writes_misses_nothing() {
    let server = std::sync::Arc::new(mock(ProfileId::Oscar).await);
    let client = reqwest::Client::new();
    let start = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let writers = {
        let server = server.clone();
        let client = client.clone();
        tokio::spawn(async move {
            let mut created = Vec::new();
            for round in 0..8 {
                let answers = race(6, |i| {
                    let env = soap::call(
                        &server,
                        "addAppointment",
                        &format!(
                            "<arg0><appointmentEndDateTime>2031-03-05T09:15:00-05:00</appointmentEndDateTime>\
                             <appointmentStartDateTime>2031-03-05T09:00:00-05:00</appointmentStartDateTime>\
                             <demographicNo>1</demographicNo><notes>{round}/{i}</notes><providerNo>100001</providerNo></arg0>"
                        ),
                    );
                    soap::request(&client, &server, "ScheduleService", env)
                })
                .await;
                created.extend(
                    answers
                        .iter()
                        .map(|a| soap::texts(&a.body, "return").remove(0)),
                );
            }
            created
        })
    };
    // The client's loop: everything changed after the newest stamp seen.
    let mut cursor = start;
    let mut seen = BTreeSet::new();
    let poll = |cursor: String| {
        let server = server.clone();
        async move {
            let env = soap::call(
                &server,
                "getAppointmentsUpdatedAfterDate",
                &format!("<arg0>{cursor}</arg0><arg1>1000</arg1><arg2>true</arg2>"),
            );
            soap::send(&server, "ScheduleService", env).await.1
        }
    };
    while !writers.is_finished() {
        let body = poll(cursor.clone()).await;
        seen.extend(soap::texts(&body, "id"));
        if let Some(last) = soap::texts(&body, "updateDateTime").pop() {
            cursor = last;
        }
    }
    let created = writers.await.unwrap();
    let body = poll(cursor).await;
    seen.extend(soap::texts(&body, "id"));
    let missed: Vec<&String> = created.iter().filter(|id| !seen.contains(*id)).collect();
    assert!(missed.is_empty(), "delta sync missed {missed:?}");
    assert_eq!(created.len(), 48);
}

/// A reader's pass: what changed after `after`, and the newest stamp.
fn read_after(store: &Store, after: chrono::DateTime<Utc>) -> (Vec<Id>, chrono::DateTime<Utc>) {
    store.read(|d| {
        let rows: Vec<&Allergy> = d.allergies.updated_after(after).collect();
        let newest = rows.last().map_or(after, |r| r.last_update());
        (rows.iter().map(|r| r.id).collect(), newest)
    })
}

#[test]
fn delta_sync_under_the_lock_misses_nothing() {
    let store = std::sync::Arc::new(Store::new(data()));
    let start = store.read(|d| d.allergies.iter().map(|a| a.last_update()).max().unwrap());
    let s = store.clone();
    let reader = std::thread::spawn({
        let s = store.clone();
        move || {
            let mut cursor = start;
            let mut seen = BTreeSet::new();
            for _ in 0..2000 {
                let (ids, newest) = read_after(&s, cursor);
                seen.extend(ids);
                cursor = newest;
            }
            (seen, cursor)
        }
    });
    let created: Vec<Id> = race_threads(8, move |i, _| {
        (0..50)
            .map(|k| {
                s.write(|d| {
                    let at = d.stamp(Utc::now());
                    let mut a = allergy(i * 100 + k);
                    a.last_update = at.into();
                    d.allergies.insert(a)
                })
            })
            .collect::<Vec<_>>()
    })
    .into_iter()
    .flatten()
    .collect();
    let (mut seen, cursor) = reader.join().unwrap();
    seen.extend(read_after(&store, cursor).0);
    let missed: Vec<Id> = created
        .into_iter()
        .filter(|id| !seen.contains(id))
        .collect();
    assert!(missed.is_empty(), "missed {missed:?}");
}

#[test]
fn a_stamp_taken_outside_the_insert_lock_is_caught() {
    // The broken way: take the change time, then insert later. A reader
    // that has already seen a newer row never looks back for it.
    let store = std::sync::Arc::new(Store::new(data()));
    let start = store.read(|d| d.allergies.iter().map(|a| a.last_update()).max().unwrap());
    let s = store.clone();
    let results = race_threads(2, move |i, barrier| {
        if i == 0 {
            // The slow writer: stamp now, insert after the reader ran.
            let at = s.write(|d| d.stamp(Utc::now()));
            barrier.wait();
            barrier.wait();
            let id = s.write(|d| {
                let mut a = allergy(0);
                a.last_update = at.into();
                d.allergies.insert(a)
            });
            (vec![id], Vec::new(), start)
        } else {
            // A second writer and the reader run in between.
            barrier.wait();
            let id = s.write(|d| {
                let at = d.stamp(Utc::now());
                let mut a = allergy(1);
                a.last_update = at.into();
                d.allergies.insert(a)
            });
            let (seen, cursor) = read_after(&s, start);
            barrier.wait();
            (vec![id], seen, cursor)
        }
    });
    let created: Vec<Id> = results.iter().flat_map(|r| r.0.clone()).collect();
    let (mut seen, cursor) = (results[1].1.clone(), results[1].2);
    // The slow write has landed: read on from the cursor.
    seen.extend(read_after(&store, cursor).0);
    let missed: Vec<&Id> = created.iter().filter(|id| !seen.contains(id)).collect();
    assert_eq!(missed.len(), 1, "the race must show a missed write");
}

// ---- OpenEMR ------------------------------------------------------------------

/// One appointment request body for the seeded calendar (category 5
/// "Office Visit", facility 1), with the writer's number in the comment.
fn openemr_appointment(date: &str, i: usize) -> serde_json::Value {
    serde_json::json!({
        "pc_catid": "5", "pc_title": "Office Visit", "pc_duration": "900",
        "pc_hometext": format!("writer {i}"), "pc_apptstatus": "-",
        "pc_eventDate": date, "pc_startTime": "09:00",
        "pc_facility": "1", "pc_billing_location": "1", "pc_aid": "1",
    })
}

/// OpenEMR's `AppointmentService::insert` checks no slot (the calendar
/// screen, not the API, is where OpenEMR warns of a double booking), so
/// the real API books one slot as often as it is asked. The invariant
/// over its API is therefore the "many creates" one: every booking lands
/// with its own `pc_eid`, readable whole.
#[tokio::test]
async fn sixteen_openemr_bookings_of_one_slot_all_land_with_unique_ids() {
    let server = mock(ProfileId::OpenEmr).await;
    let token = openemr::user_token(
        &server,
        "openid api:oemr user/appointment.write user/appointment.read",
    )
    .await;
    let client = reqwest::Client::new();
    let url = format!(
        "{}/apis/default/api/patient/1/appointment",
        server.base_url()
    );
    let answers = race(16, |i| {
        client
            .post(&url)
            .bearer_auth(&token)
            .json(&openemr_appointment("2031-03-06", i))
    })
    .await;
    let mut ids = BTreeSet::new();
    for a in &answers {
        assert_eq!(a.status, 200, "{}", a.body);
        let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
        let id = v["id"].as_i64().unwrap_or_else(|| panic!("no id in {v}"));
        assert!(ids.insert(id), "id {id} given twice: {answers:?}");
        let (status, read) = openemr::get(&server, &token, &format!("/api/appointment/{id}")).await;
        assert_eq!(status, 200, "{read}");
        assert_eq!(
            read[0]["pc_eid"].as_str(),
            Some(id.to_string().as_str()),
            "{read}"
        );
        assert_eq!(
            read[0]["pc_hometext"],
            format!("writer {}", a.index),
            "{read}"
        );
    }
    let (_, all) = openemr::get(&server, &token, "/api/patient/1/appointment").await;
    let on_the_day = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["pc_eventDate"] == "2031-03-06")
        .count();
    assert_eq!(on_the_day, 16, "{all}");
}

/// A FHIR client's delta sync: `_lastUpdated=ge<newest lastUpdated seen>`
/// (`ge`, because `meta.lastUpdated` has whole seconds, and a set of ids
/// already seen), polled while Standard API clients create patients.
/// A write is either in the read's snapshot or stamped after it, so
/// nothing is missed.
#[tokio::test]
async fn a_fhir_last_updated_delta_sync_during_writes_misses_nothing() {
    let server = std::sync::Arc::new(mock(ProfileId::OpenEmr).await);
    let token = openemr::user_token(
        &server,
        "openid api:oemr api:fhir user/patient.write user/Patient.read",
    )
    .await;
    let start = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let writers = {
        let server = server.clone();
        let token = token.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let url = format!("{}/apis/default/api/patient", server.base_url());
            let mut created = Vec::new();
            for round in 0..8 {
                let answers = race(6, |i| {
                    client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&serde_json::json!({
                            "fname": format!("Writer{i}"), "lname": format!("Round{round}"),
                            "sex": "Female", "DOB": "1980-01-01",
                        }))
                })
                .await;
                for a in answers {
                    assert_eq!(a.status, 201, "{}", a.body);
                    let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
                    created.push(v["data"]["uuid"].as_str().unwrap().to_owned());
                }
            }
            created
        })
    };
    let poll = |cursor: String| {
        let server = server.clone();
        let token = token.clone();
        async move {
            let path = format!("/fhir/Patient?_lastUpdated=ge{cursor}");
            let (status, bundle) = openemr::get(&server, &token, &path).await;
            assert_eq!(status, 200, "{bundle}");
            let entries = bundle["entry"].as_array().cloned().unwrap_or_default();
            let ids: Vec<String> = entries
                .iter()
                .filter_map(|e| e["resource"]["id"].as_str().map(str::to_owned))
                .collect();
            let newest = entries
                .iter()
                .filter_map(|e| e["resource"]["meta"]["lastUpdated"].as_str())
                .max()
                .map(str::to_owned);
            (ids, newest)
        }
    };
    let mut cursor = start;
    let mut seen = BTreeSet::new();
    let mut polls = 0;
    while !writers.is_finished() {
        let (ids, newest) = poll(cursor.clone()).await;
        seen.extend(ids);
        cursor = newest.unwrap_or(cursor);
        polls += 1;
    }
    let created = writers.await.unwrap();
    let (ids, _) = poll(cursor).await;
    seen.extend(ids);
    let missed: Vec<&String> = created.iter().filter(|id| !seen.contains(*id)).collect();
    assert!(
        missed.is_empty(),
        "delta sync missed {missed:?} after {polls} polls"
    );
    assert_eq!(created.len(), 48);
}

// ---- OSCAR REST -------------------------------------------------------------

/// OSCAR's REST `POST /schedule/add` saves without looking at the slot
/// (the resource's own "TODO: Need to add some more validation"), so, as
/// over OpenEMR's API, every booking of one slot lands: 16 unique ids,
/// each readable with its own notes, all on the day sheet.
#[tokio::test]
async fn sixteen_oscar_rest_bookings_of_one_slot_all_land_with_unique_ids() {
    for profile in [ProfileId::Oscar, ProfileId::OpenO] {
        let server = mock(profile).await;
        let client = oscar::session(&server).await;
        let base = format!("{}/oscar", server.base_url());
        let url = format!("{base}/ws/rs/schedule/add");
        let answers = race(16, |i| {
            client.post(&url).json(&serde_json::json!({
                "providerNo": "100001", "appointmentDate": "2031-03-07", "startTime": "08:00",
                "duration": 15, "demographicNo": 1, "notes": format!("writer {i}"), "reason": "race",
            }))
        })
        .await;
        let mut ids = BTreeSet::new();
        for a in &answers {
            assert_eq!(a.status, 200, "{profile:?}: {}", a.body);
            let v: serde_json::Value = serde_json::from_str(&a.body).unwrap();
            let id = v["appointment"]["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("no id in {v}"));
            assert!(ids.insert(id), "{profile:?}: id {id} given twice");
            let read: serde_json::Value = client
                .post(format!("{base}/ws/rs/schedule/getAppointment"))
                .json(&serde_json::json!({"id": id}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                read["appointment"]["notes"],
                format!("writer {}", a.index),
                "{read}"
            );
        }
        let day: serde_json::Value = client
            .get(format!("{base}/ws/rs/schedule/100001/day/2031-03-07"))
            .header("Accept", "application/json")
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let on_the_sheet = day
            .as_array()
            .unwrap_or_else(|| panic!("{profile:?}: {day}"))
            .iter()
            .filter(|a| {
                a["appointmentNo"]
                    .as_i64()
                    .is_some_and(|id| ids.contains(&id))
            })
            .count();
        assert_eq!(on_the_sheet, 16, "{profile:?}: {day}");
    }
}
