//! The operations whose behaviour is their own (`custom` in
//! `behaviour.tsv`), each as the real `*Ws` method does it, against the
//! shared store.

use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};

use super::booking;
use super::dispatch::{limit, Call, Outcome, MAX_LIST_RETURN_SIZE};
use super::fault::SoapFault;
use super::transfer::{self, list, MY_OSCAR_USER_NAME};
use super::xml::{instant, server_zone, zone, Obj, Val};
use crate::oscar::wss;
use crate::store::*;

type Handler = fn(&mut Call) -> Outcome;

/// The handlers, by operation id.
const HANDLERS: &[(&str, Handler)] = &[
    ("SystemInfoService.helloWorld", hello_world),
    ("SystemInfoService.isAlive", |_| Ok(Some("alive".into()))),
    ("SystemInfoService.getMaxListReturnSize", |_| {
        Ok(Some(Val::from(MAX_LIST_RETURN_SIZE)))
    }),
    ("SystemInfoService.getServerTime", |c| {
        Ok(Some(instant(c.now(), false)))
    }),
    ("SystemInfoService.getServerTimeGmtOffset", |_| {
        Ok(Some(Val::Int(
            i64::from(server_zone().local_minus_utc()) * 1000,
        )))
    }),
    ("LoginService.login", |c| login(c, false)),
    ("LoginService.login2", |c| login(c, true)),
    ("ScheduleService.getScheduleTemplateCodes", |c| {
        Ok(Some(c.read(|d| {
            list(d.schedule_codes.iter().map(transfer::schedule_code))
        })))
    }),
    ("ScheduleService.getAppointmentsForProvider", |c| {
        appointments_for_provider(c, false)
    }),
    ("ScheduleService.getAppointmentsForProvider2", |c| {
        let gmt = c.flag(2);
        appointments_for_provider(c, gmt)
    }),
    ("ScheduleService.getAppointmentsForPatient", |c| {
        appointments_for_patient(c, false)
    }),
    ("ScheduleService.getAppointmentsForPatient2", |c| {
        let gmt = c.flag(3);
        appointments_for_patient(c, gmt)
    }),
    ("ScheduleService.getDayWorkSchedule", day_work_schedule),
    ("ScheduleService.getAppointmentTypes", |c| {
        Ok(Some(c.read(|d| {
            list(d.appointment_types.iter().map(transfer::appointment_type))
        })))
    }),
    ("ScheduleService.addAppointment", add_appointment),
    ("ScheduleService.updateAppointment", update_appointment),
    (
        "ScheduleService.getAppointmentsForDateRangeAndProvider",
        |c| appointments_in_range(c, false),
    ),
    (
        "ScheduleService.getAppointmentsForDateRangeAndProvider2",
        |c| {
            let gmt = c.flag(3);
            appointments_in_range(c, gmt)
        },
    ),
    (
        "ScheduleService.testTimeZone_1492_05_12_18_26_32",
        test_time_zone,
    ),
    (
        "ScheduleService.getAllDemographicIdByProgramProvider",
        |c| {
            let program = c.int(0);
            let provider = c.string(1).map(str::to_owned);
            Ok(Some(c.read(|d| {
                let mut ids: Vec<Id> = d
                    .appointments()
                    .iter()
                    .filter(|a| program.is_none_or(|p| i64::from(a.program_id) == p))
                    .filter(|a| provider.as_deref().is_none_or(|p| a.provider_no == p))
                    .filter_map(|a| a.patient.get())
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ints(ids)
            })))
        },
    ),
    (
        "ScheduleService.getProviderAvailability",
        provider_availability,
    ),
    (
        "ScheduleService.addAvailableProviderAppointment",
        add_available_provider_appointment,
    ),
    (
        "ScheduleService.getValidProviderScheduleSlots",
        valid_provider_schedule_slots,
    ),
    (
        "ScheduleService.addAppointmentValidated",
        add_appointment_validated,
    ),
    ("ScheduleService.cancelAppointment", cancel_appointment),
    ("ScheduleService.confirmAppointment", |c| {
        let t = c.obj(0).cloned();
        Ok(Some(Val::Bool(confirm(c, t.as_ref()))))
    }),
    ("ScheduleService.confirmAppointments", |c| {
        let items: Vec<Obj> = c
            .list(0)
            .into_iter()
            .filter_map(|v| match v {
                Val::Obj(o) => Some(o.clone()),
                _ => None,
            })
            .collect();
        for t in &items {
            confirm(c, Some(t));
        }
        Ok(None)
    }),
    (
        "BookingService.getAppointmentTypesByProvider",
        booking::types_by_provider,
    ),
    (
        "BookingService.getExternalAppointmentTypes",
        booking::external_types,
    ),
    ("BookingService.findAppointment", booking::find),
    ("BookingService.bookAppointment", booking::book),
    ("ProviderService.getLoggedInProviderTransfer", |c| {
        let no = c.provider_no();
        Ok(c.read(|d| d.provider(&no).map(|p| Val::Obj(transfer::provider(p)))))
    }),
    ("ProviderService.getProviders", |c| {
        let active = c.flag(0);
        providers(c, Some(active))
    }),
    ("ProviderService.getProviders2", |c| {
        let active = c.boxed_flag(0);
        providers(c, active)
    }),
    ("ProviderService.getProviderProperties", provider_properties),
    ("DemographicService.getDemographicByMyOscarUserName", |c| {
        let name = c.string(0).unwrap_or_default().to_owned();
        Ok(c.read(|d| {
            d.patients()
                .iter()
                .find(|p| {
                    !name.is_empty() && p.ext.get(MY_OSCAR_USER_NAME).is_some_and(|v| *v == name)
                })
                .map(|p| Val::Obj(transfer::demographic(p, false)))
        }))
    }),
    ("DemographicService.searchDemographicByName", search_by_name),
    (
        "DemographicService.getLatestPhrVerificationByDemographic",
        phr_verification,
    ),
    ("DemographicService.isPhrVerifiedToSendMessages", |c| {
        phr_level_at_least(c, 2)
    }),
    ("DemographicService.isPhrVerifiedToSendMedicalData", |c| {
        phr_level_at_least(c, 3)
    }),
    (
        "DemographicService.searchDemographicsByAttributes",
        search_by_attributes,
    ),
    (
        "DemographicService.getAdmittedDemographicIdsByProgramProvider",
        |c| {
            let program = c.int(0);
            let provider = c.string(1).map(str::to_owned);
            Ok(Some(c.read(|d| {
                let known = |p: i64| Id::try_from(p).is_ok_and(|p| d.programs.get(p).is_some());
                if program.is_some_and(|p| !known(p)) {
                    return ints(Vec::new());
                }
                ints(
                    d.patients()
                        .iter()
                        .filter(|p| provider.as_deref().is_none_or(|no| p.provider_no == no))
                        .map(|p| p.id)
                        .collect(),
                )
            })))
        },
    ),
    (
        "DemographicService.getDemographicIdsWithMyOscarAccounts",
        |c| {
            let start = c.int(0).unwrap_or(0);
            let n = limit(c.int(1));
            Ok(Some(c.read(|d| {
                ints(
                    d.patients()
                        .iter()
                        .filter(|p| {
                            i64::from(p.id) > start && p.ext.contains_key(MY_OSCAR_USER_NAME)
                        })
                        .take(n)
                        .map(|p| p.id)
                        .collect(),
                )
            })))
        },
    ),
    ("DemographicService.getDemographics", |c| {
        let ids: Vec<i64> = c
            .list(0)
            .into_iter()
            .filter_map(|v| match v {
                Val::Int(i) => Some(*i),
                _ => None,
            })
            .collect();
        Ok(Some(c.read(|d| {
            list(
                ids.iter()
                    .filter_map(|id| d.patients().get(Id::try_from(*id).ok()?))
                    .map(|p| transfer::demographic(p, false)),
            )
        })))
    }),
    ("DemographicService.getActiveDemographicsAfter", |c| {
        active_after(c, false)
    }),
    ("DemographicService.getActiveDemographicsAfter2", |c| {
        active_after(c, true)
    }),
    ("DemographicService.writePHRId", write_phr_id),
    (
        "DemographicService.getConsentedDemographicIdsAfter",
        consented_after,
    ),
    ("DemographicService.getDemographicsByHealthNum", |c| {
        let hin = c.string(0).unwrap_or_default().trim().to_owned();
        Ok(Some(c.read(|d| {
            list(
                d.search_patients_by_hin(&hin)
                    .filter(|p| !hin.is_empty() && p.hin == hin)
                    .map(|p| transfer::demographic(p, false)),
            )
        })))
    }),
    ("DemographicService.getDemographicByHealthNumber", |c| {
        let hin = c.string(0).unwrap_or_default().trim().to_owned();
        let card = c.string(1).map(|s| s.trim().to_owned());
        if hin.is_empty() {
            return Err(SoapFault::declared(
                "Exception",
                "null or empty health numbers are not permitted",
            ));
        }
        Ok(c.read(|d| {
            d.search_patients_by_hin(&hin)
                .find(|p| {
                    p.hin == hin
                        && card
                            .as_deref()
                            .is_none_or(|t| t.is_empty() || p.hc_type.eq_ignore_ascii_case(t))
                })
                .map(|p| Val::Obj(transfer::demographic(p, false)))
        }))
    }),
    ("DemographicService.addDemographic", add_demographic),
    ("DemographicService.updateDemographic", update_demographic),
    (
        "DemographicService.getDemographicContact",
        demographic_contacts,
    ),
    ("DemographicService.checkEligibility", check_eligibility),
    ("FacilityService.getDefaultFacilities", default_facility),
    ("FacilityService.getDefaultFacility", default_facility),
    ("FacilityService.getAllFacilities", |c| {
        let active = c.boxed_flag(0);
        Ok(Some(c.read(|d| {
            list(
                d.facilities
                    .iter()
                    .filter(|f| active.is_none_or(|a| f.active == a))
                    .map(transfer::facility),
            )
        })))
    }),
    ("ProgramService.getAllPrograms", |c| {
        Ok(Some(c.read(|d| {
            list(d.programs.iter().map(|p| {
                let facility = d
                    .facilities
                    .get(p.facility_id)
                    .map(|f| f.name.clone())
                    .unwrap_or_default();
                let members = d
                    .patients()
                    .iter()
                    .filter(|x| p.provider_nos.iter().any(|n| *n == x.provider_no))
                    .count();
                transfer::program(p, &facility, members)
            }))
        })))
    }),
    ("ProgramService.getAllProgramProviders", |c| {
        Ok(Some(c.read(|d| {
            Val::List(
                d.programs
                    .iter()
                    .flat_map(|p| transfer::program_providers(p, &d.providers))
                    .collect(),
            )
        })))
    }),
    ("MeasurementService.getMeasurementMaps", |_| {
        Ok(Some(list(
            transfer::MEASUREMENT_MAPS
                .iter()
                .map(transfer::measurement_map),
        )))
    }),
    ("MeasurementService.addMeasurement", add_measurement),
    (
        "DocumentService.getProvidersThatHaveAcknowledgedDocument",
        |c| {
            let id = c.int(0).unwrap_or(0);
            Ok(Some(c.read(|d| {
                let Some(doc) = Id::try_from(id).ok().and_then(|id| d.documents.get(id)) else {
                    return Val::List(Vec::new());
                };
                list(
                    doc.acknowledged_by
                        .iter()
                        .filter_map(|no| d.provider(no))
                        .map(transfer::provider),
                )
            })))
        },
    ),
    ("DocumentService.addDocument", add_document),
    ("DashboardService.addBillingRecord", |c| {
        let t = c.obj(0).cloned();
        Ok(Some(Val::Str(add_billing(c, t.as_ref())?)))
    }),
    ("DashboardService.addBillingRecords", |c| {
        let items: Vec<Obj> = c
            .list(0)
            .into_iter()
            .filter_map(|v| match v {
                Val::Obj(o) => Some(o.clone()),
                _ => None,
            })
            .collect();
        let mut ids = Vec::new();
        for t in &items {
            ids.push(Val::Str(add_billing(c, Some(t))?));
        }
        Ok(Some(Val::List(ids)))
    }),
    ("IntegrationService.updateIntegration", |c| {
        let Some(t) = c.obj(0).cloned() else {
            return Err(SoapFault::server(""));
        };
        let key = format!(
            "{}|{}",
            t.str("siteName").unwrap_or_default(),
            t.str("integrationType").unwrap_or_default()
        );
        c.state.soap.integrations.lock().insert(key, t);
        Ok(None)
    }),
];

/// Whether an operation id has a handler here.
pub fn handles(key: &str) -> bool {
    HANDLERS.iter().any(|(k, _)| *k == key)
}

pub fn run(key: &str, call: &mut Call) -> Outcome {
    match HANDLERS.iter().find(|(k, _)| *k == key) {
        Some((_, h)) => h(call),
        None => Err(SoapFault::server(format!("no handler for {key}"))),
    }
}

fn ints(ids: Vec<Id>) -> Val {
    Val::List(ids.into_iter().map(Val::from).collect())
}

fn not_found(kind: &str, id: impl std::fmt::Display) -> SoapFault {
    SoapFault::server(format!("no {kind} with id {id}"))
}

fn store_fault(e: StoreError) -> SoapFault {
    SoapFault::server(e.to_string())
}

// ---- SystemInfoService, LoginService -------------------------------------

fn hello_world(c: &mut Call) -> Outcome {
    // java.util.Date.toString(): `EEE MMM dd HH:mm:ss zzz yyyy`.
    let now = c.now().with_timezone(&server_zone());
    Ok(Some(Val::Str(format!(
        "Hello World! the configuration works! and your client works! :) {}",
        now.format("%a %b %d %H:%M:%S EST %Y")
    ))))
}

/// `login`/`login2`: the security record of a user name, checked as the
/// WS-Security validator checks it (the password or a token).
fn login(c: &mut Call, two: bool) -> Outcome {
    let user = c.string(0).unwrap_or_default().to_owned();
    let secret = c.string(1).unwrap_or_default().to_owned();
    let refused = || SoapFault::declared("NotAuthorisedException", "Invalid Username/Password");
    let Some(login) = c.read(|d| d.login_by_name(&user).cloned()) else {
        return Err(refused());
    };
    match wss::credentials_match(c.state, &login, &secret) {
        Some(true) => {}
        Some(false) => {
            c.delay = true;
            return Err(refused());
        }
        None => return Err(refused()),
    }
    let mut o = Obj::new(if two {
        "loginResultTransfer2"
    } else {
        "loginResultTransfer"
    });
    o.set("securityId", login.id)
        .set("securityTokenKey", c.state.soap.wss.security_token(&login));
    if two {
        let provider = c.read(|d| d.provider(&login.provider_no).map(transfer::provider));
        o.opt("provider", provider);
    }
    Ok(Some(Val::Obj(o)))
}

// ---- ScheduleService -----------------------------------------------------

fn appointments_for_provider(c: &mut Call, gmt: bool) -> Outcome {
    let provider = c.string(0).unwrap_or_default().to_owned();
    let Some(day) = c.time(1) else {
        return Err(SoapFault::server(""));
    };
    let date = day.with_timezone(&server_zone()).date_naive();
    Ok(Some(c.read(|d| {
        list(
            d.appointments_on(&provider, date)
                .map(|a| transfer::appointment(a, gmt)),
        )
    })))
}

fn appointments_for_patient(c: &mut Call, gmt: bool) -> Outcome {
    let patient = c.int(0).unwrap_or(0);
    let start = usize::try_from(c.int(1).unwrap_or(0)).unwrap_or(0);
    let n = limit(c.int(2));
    // A number past `Id`'s range is no patient's: no appointments.
    let patient = Id::try_from(patient).ok();
    Ok(Some(c.read(|d| {
        let mut rows: Vec<&Appointment> = patient
            .into_iter()
            .flat_map(|p| d.appointments().for_patient(p))
            .collect();
        // Newest first, as the DAO orders them.
        rows.sort_by_key(|a| std::cmp::Reverse((a.date, a.start)));
        list(
            rows.into_iter()
                .skip(start)
                .take(n)
                .map(|a| transfer::appointment(a, gmt)),
        )
    })))
}

fn day_work_schedule(c: &mut Call) -> Outcome {
    let provider = c.string(0).unwrap_or_default().to_owned();
    let Some(day) = c.time(1) else {
        return Err(SoapFault::server(""));
    };
    let date = day.with_timezone(&server_zone()).date_naive();
    Ok(c.read(|d| {
        d.schedule_day(&provider, date)
            .map(|s| Val::Obj(transfer::day_work_schedule(s)))
    }))
}

fn appointments_in_range(c: &mut Call, gmt: bool) -> Outcome {
    let (Some(from), Some(to)) = (c.time(0), c.time(1)) else {
        return Err(SoapFault::server(""));
    };
    let provider = c.string(2).unwrap_or_default().to_owned();
    let zone = server_zone();
    let (from, to) = (
        from.with_timezone(&zone).naive_local(),
        to.with_timezone(&zone).naive_local(),
    );
    Ok(Some(c.read(|d| {
        let mut out = Vec::new();
        let mut date = from.date();
        while date <= to.date() && out.len() < MAX_LIST_RETURN_SIZE {
            for a in d.appointments_on(&provider, date) {
                let start = date.and_time(a.start);
                if start >= from && start <= to {
                    out.push(Val::Obj(transfer::appointment(a, gmt)));
                }
            }
            date += Duration::days(1);
        }
        Val::List(out)
    })))
}

/// The name OSCAR puts on an appointment of a patient.
fn patient_name(d: &Data, patient: Option<Id>) -> Option<String> {
    patient
        .and_then(|p| d.patients().get(p))
        .map(Patient::display_name)
}

fn add_appointment(c: &mut Call) -> Outcome {
    let Some(t) = c.obj(0).cloned() else {
        return Err(SoapFault::server(""));
    };
    let id = insert_appointment(c, &t, false)?;
    Ok(Some(Val::from(id)))
}

/// Adds an appointment from a transfer; OSCAR's `addAppointment` does not
/// look for conflicts, the booking paths do (`require_free`).
fn insert_appointment(c: &Call, t: &Obj, require_free: bool) -> Result<Id, SoapFault> {
    let mut a = Appointment::default();
    transfer::apply_appointment(&mut a, t)?;
    let me = c.provider_no();
    if a.last_update_user.is_empty() {
        a.last_update_user = me.clone().into();
    }
    if a.creator.is_empty() {
        a.creator = me.into();
    }
    let now = c.now();
    c.write(|d| {
        if let Some(name) = patient_name(d, a.patient.get()) {
            a.name = name.into();
        }
        d.insert_appointment(a, now, require_free)
    })
    .map_err(store_fault)
}

fn update_appointment(c: &mut Call) -> Outcome {
    let Some(t) = c.obj(0).cloned() else {
        return Err(SoapFault::server(""));
    };
    let Some(id) = t.int("id") else {
        return Err(SoapFault::server(""));
    };
    let now = c.now();
    let me = c.provider_no();
    c.write(|d| {
        // A number past `Id`'s range is no appointment's.
        let Some(id) = Id::try_from(id)
            .ok()
            .filter(|id| d.appointments().get(*id).is_some())
        else {
            return Err(not_found("appointment", id));
        };
        let mut changed = d.appointments().get(id).cloned().unwrap_or_default();
        transfer::apply_appointment(&mut changed, &t)?;
        if t.str("lastUpdateUser").is_none() {
            changed.last_update_user = me.into();
        }
        if let Some(p) = changed.patient.get() {
            d.patient(p).map_err(store_fault)?;
        }
        d.update_appointment(id, now, |a| *a = changed)
            .map_err(store_fault)
    })?;
    Ok(None)
}

/// `new GregorianCalendar(1492, 05, 12, 18, 26, 32)`: months count from 0.
fn test_time_zone(c: &mut Call) -> Outcome {
    let gmt = c.flag(0);
    let wall = NaiveDate::from_ymd_opt(1492, 6, 12)
        .and_then(|d| d.and_hms_opt(18, 26, 32))
        .ok_or_else(|| SoapFault::server(""))?;
    let at = server_zone()
        .from_local_datetime(&wall)
        .single()
        .ok_or_else(|| SoapFault::server(""))?;
    Ok(Some(Val::Time(at.with_timezone(&zone(gmt)))))
}

/// Juno's `templateDurations`: `[{"schedule_template_id":"A","appointment_duration":15}]`.
fn template_durations(json: Option<&str>) -> Result<Vec<(char, u32)>, SoapFault> {
    let v: serde_json::Value = serde_json::from_str(json.unwrap_or("")).map_err(parse_exception)?;
    let items = v
        .as_array()
        .ok_or_else(|| SoapFault::declared("ParseException", "Unexpected token at position 0."))?;
    Ok(items
        .iter()
        .filter_map(|i| {
            let code = i.get("schedule_template_id")?.as_str()?.chars().next()?;
            let minutes = u32::try_from(i.get("appointment_duration")?.as_u64()?).ok()?;
            Some((code, minutes))
        })
        .collect())
}

/// json-simple's `ParseException` message for a JSON error.
fn parse_exception(e: serde_json::Error) -> SoapFault {
    SoapFault::declared(
        "ParseException",
        format!(
            "Unexpected character at position {}.",
            e.column().saturating_sub(1)
        ),
    )
}

/// Booking rules (`jsonRules`): a JSON array; absent means none.
fn booking_rules(json: Option<&str>) -> Result<(), SoapFault> {
    match json.map(str::trim).filter(|j| !j.is_empty()) {
        None => Ok(()),
        Some(j) => serde_json::from_str::<Vec<serde_json::Value>>(j)
            .map(|_| ())
            .map_err(parse_exception),
    }
}

/// Free slots of `provider` between two days whose template code has a
/// duration in `durations`: (date, start, minutes).
fn available_slots(
    d: &Data,
    provider: &str,
    from: NaiveDate,
    to: NaiveDate,
    durations: &[(char, u32)],
) -> Vec<(NaiveDate, NaiveTime, u32)> {
    let mut out = Vec::new();
    let mut date = from;
    while date <= to && out.len() < MAX_LIST_RETURN_SIZE {
        if let Some(day) = d.schedule_day(provider, date) {
            if !day.holiday && day.slot_min > 0 {
                for (i, code) in day.timecode.chars().enumerate() {
                    let Some(&(_, minutes)) = durations.iter().find(|(c, _)| *c == code) else {
                        continue;
                    };
                    let m = i as u32 * day.slot_min;
                    let Some(start) = NaiveTime::from_hms_opt(m / 60, m % 60, 0) else {
                        continue;
                    };
                    let end = transfer::slot_end(start, minutes);
                    if end > start && d.slot_is_free(provider, date, start, end, None) {
                        out.push((date, start, minutes));
                    }
                }
            }
        }
        date += Duration::days(1);
    }
    out
}

fn iso_date(s: Option<&str>) -> Result<NaiveDate, SoapFault> {
    let s = s.unwrap_or_default().trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| {
        SoapFault::client(format!(
            "Unmarshalling Error: Text '{s}' could not be parsed at index 0"
        ))
    })
}

fn provider_availability(c: &mut Call) -> Outcome {
    let providers: Vec<String> = c
        .list(0)
        .into_iter()
        .filter_map(|v| match v {
            Val::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let from = iso_date(c.string(1))?;
    let to = iso_date(c.string(2))?;
    let durations = template_durations(c.string(3))?;
    booking_rules(c.string(5))?;
    Ok(Some(c.read(|d| {
        let mut slots: Vec<(NaiveDate, NaiveTime, u32)> = providers
            .iter()
            .flat_map(|p| available_slots(d, p, from, to, &durations))
            .collect();
        slots.sort();
        slots.dedup();
        Val::List(
            slots
                .into_iter()
                .map(|(date, start, minutes)| {
                    let mut o = Obj::new("scheduleSlotDto");
                    o.set("date", date.to_string())
                        .set("startTime", start.format("%H:%M:%S").to_string())
                        .set("duration", minutes);
                    Val::Obj(o)
                })
                .collect(),
        )
    })))
}

/// `ValidatedAppointmentBookingTransfer` for a booking or its refusal.
fn validated(id: Option<Id>, violations: &str) -> Val {
    let mut o = Obj::new("validatedAppointmentBookingTransfer");
    o.opt("appointmentID", id)
        .set("validated", id.is_some())
        .set("ruleViolations", violations);
    Val::Obj(o)
}

/// Books the appointment with the first listed provider for whom its start
/// is a free slot of the template (`templateDurations` gives each code's
/// length, which sets the end).
fn add_available_provider_appointment(c: &mut Call) -> Outcome {
    let providers: Vec<String> = c
        .list(0)
        .into_iter()
        .filter_map(|v| match v {
            Val::Str(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    let Some(t) = c.obj(1).cloned() else {
        return Err(SoapFault::server(""));
    };
    let durations = template_durations(c.string(2))?;
    booking_rules(c.string(3))?;
    let Some(start) = t.time("appointmentStartDateTime") else {
        return Err(SoapFault::server(transfer::missing_column("startTime")));
    };
    let start = start.with_timezone(&server_zone()).naive_local();
    for provider in &providers {
        let slot = c.read(|d| {
            available_slots(d, provider, start.date(), start.date(), &durations)
                .into_iter()
                .find(|(_, s, _)| *s == start.time())
        });
        let Some((date, begin, minutes)) = slot else {
            continue;
        };
        let end = transfer::slot_end(begin, minutes);
        let mut attempt = t.clone();
        attempt.set("providerNo", provider.as_str()).set(
            "appointmentEndDateTime",
            super::xml::local(date, end, false),
        );
        match insert_appointment(c, &attempt, true) {
            Ok(id) => return Ok(Some(validated(Some(id), "[]"))),
            Err(SoapFault::Server { message, .. }) if message.contains("already booked") => {
                continue
            }
            Err(e) => return Err(e),
        }
    }
    Ok(Some(validated(
        None,
        "[{\"type\":\"available\",\"message\":\"No listed provider is free at that time\"}]",
    )))
}

/// Juno computes the slots into a `HashMap`, which JAXB writes as an empty
/// element; a bad `templateDurations` is logged and the empty map returned.
fn valid_provider_schedule_slots(c: &mut Call) -> Outcome {
    let provider = c.string(0).unwrap_or_default().to_owned();
    let from = iso_date(c.string(1))?;
    let to = iso_date(c.string(2))?;
    let mut map = Obj::new("hashMap");
    if let Ok(durations) = template_durations(c.string(3)) {
        let slots = c.read(|d| available_slots(d, &provider, from, to, &durations));
        for (date, start, minutes) in slots {
            map.set(format!("{date}T{start}"), minutes);
        }
    }
    Ok(Some(Val::Obj(map)))
}

fn add_appointment_validated(c: &mut Call) -> Outcome {
    let Some(t) = c.obj(0).cloned() else {
        return Err(SoapFault::server(""));
    };
    booking_rules(c.string(1))?;
    let id = insert_appointment(c, &t, false)?;
    Ok(Some(validated(Some(id), "[]")))
}

fn cancel_appointment(c: &mut Call) -> Outcome {
    let Some(id) = c.int(0) else {
        return Err(SoapFault::server(""));
    };
    let now = c.now();
    let me = c.provider_no();
    c.write(|d| {
        d.update_appointment(id_from("appointment", id)?, now, |a| {
            a.status = "C".into();
            a.last_update_user = me.into();
        })
    })
    // The real code dereferences the missing appointment.
    .map_err(|_| SoapFault::server(""))?;
    Ok(None)
}

/// Records a patient's confirmation; `false` for an unknown appointment.
fn confirm(c: &Call, t: Option<&Obj>) -> bool {
    let Some(t) = t else {
        return false;
    };
    let id = t.int("appointmentNo").unwrap_or(0);
    let now = c.now();
    let at = t.time("confirmedAt").map_or(now, |x| x.with_timezone(&Utc));
    let by = t.str("confirmedBy").unwrap_or_default().to_owned();
    let by_type = t.str("confirmedByType").unwrap_or_default().to_owned();
    c.write(|d| {
        let Ok(id) = Id::try_from(id) else {
            return false;
        };
        d.update_appointment(id, now, |a| {
            a.confirmed_at = Some(at.into());
            a.confirmed_by = by.into();
            a.confirmed_by_type = by_type.into();
        })
        .is_ok()
    })
}

// ---- ProviderService -----------------------------------------------------

fn providers(c: &mut Call, active: Option<bool>) -> Outcome {
    Ok(Some(c.read(|d| {
        list(
            d.providers
                .iter()
                .filter(|p| active.is_none_or(|a| p.is_active() == a))
                .map(transfer::provider),
        )
    })))
}

/// `getProviderProperties(providerNo, propertyName)`: a list, or in Juno
/// the first one.
fn provider_properties(c: &mut Call) -> Outcome {
    let provider = c.string(0).unwrap_or_default().to_owned();
    let name = c.string(1).map(str::to_owned);
    let props = c.read(|d| {
        d.provider(&provider)
            .map(|p| transfer::provider_properties(p, name.as_deref()))
            .unwrap_or_default()
    });
    if c.sig.ret.as_ref().is_some_and(|r| r.many) {
        Ok(Some(Val::List(props)))
    } else {
        Ok(props.into_iter().next())
    }
}

// ---- DemographicService ----------------------------------------------------

/// `searchDemographicByName("last,first", startIndex, itemsToReturn)`.
fn search_by_name(c: &mut Call) -> Outcome {
    let query = c.string(0).unwrap_or_default();
    let start = usize::try_from(c.int(1).unwrap_or(0)).unwrap_or(0);
    let n = limit(c.int(2));
    Ok(Some(c.read(|d| {
        list(
            d.search_patients_by_query(query)
                .skip(start)
                .take(n)
                .map(|p| transfer::demographic(p, false)),
        )
    })))
}

fn search_by_attributes(c: &mut Call) -> Outcome {
    let text = |i: usize| {
        c.string(i)
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
    };
    let (hin, first, last) = (text(0), text(1), text(2));
    let gender = c.string(3).map(str::to_owned);
    let dob = c
        .time(4)
        .map(|t| t.with_timezone(&server_zone()).date_naive());
    let (city, province, phone, email, alias) = (text(5), text(6), text(7), text(8), text(9));
    let start = usize::try_from(c.int(10).unwrap_or(0)).unwrap_or(0);
    let n = limit(c.int(11));
    let starts = |value: &str, prefix: &Option<String>| {
        prefix
            .as_deref()
            .is_none_or(|p| value.to_lowercase().starts_with(p))
    };
    Ok(Some(c.read(|d| {
        list(
            d.patients()
                .iter()
                .filter(|p| {
                    starts(&p.hin, &hin)
                        && starts(&p.first_name, &first)
                        && starts(&p.last_name, &last)
                        && gender.as_deref().is_none_or(|g| p.sex == g)
                        && dob.is_none_or(|b| p.birth_date == Some(b))
                        && starts(&p.address.city, &city)
                        && starts(&p.address.province, &province)
                        && (starts(&p.phone_home, &phone) || starts(&p.phone_cell, &phone))
                        && starts(&p.email, &email)
                        && starts(&p.alias, &alias)
                })
                .skip(start)
                .take(n)
                .map(|p| transfer::demographic(p, false)),
        )
    })))
}

/// PHR verifications are kept on the patient (`phrVerification.*`).
fn phr_verification(c: &mut Call) -> Outcome {
    let id = c.int(0).unwrap_or(0);
    Ok(c.read(|d| {
        let p = d.patients().get(Id::try_from(id).ok()?)?;
        let level = p.ext.get("phrVerification.level")?;
        let mut o = Obj::new("phrVerificationTransfer");
        o.set("demographicNo", p.id)
            .set("verificationLevel", level)
            .opt("phrUserName", p.ext.get(MY_OSCAR_USER_NAME).cloned())
            .opt("verificationBy", p.ext.get("phrVerification.by").cloned())
            .set("archived", false);
        Some(Val::Obj(o))
    }))
}

/// OSCAR's levels are `+1` (phone), `+2` (in person, no photo id), `+3`.
fn phr_level_at_least(c: &mut Call, level: u32) -> Outcome {
    let id = c.int(0).unwrap_or(0);
    Ok(Some(Val::Bool(c.read(|d| {
        Id::try_from(id)
            .ok()
            .and_then(|id| d.patients().get(id))
            .and_then(|p| p.ext.get("phrVerification.level"))
            .and_then(|l| l.trim_start_matches('+').parse::<u32>().ok())
            .is_some_and(|l| l >= level)
    }))))
}

fn active_after(c: &mut Call, two: bool) -> Outcome {
    let after = c.time(0).map(|t| t.with_timezone(&Utc));
    let fields: Option<Vec<String>> = c
        .string(1)
        .map(|f| f.split(',').map(|x| x.trim().to_owned()).collect());
    Ok(Some(c.read(|d| {
        let rows: Box<dyn Iterator<Item = &Patient>> = match after {
            Some(a) => Box::new(d.patients().updated_after(a)),
            None => Box::new(d.patients().iter()),
        };
        list(rows.filter(|p| p.is_active()).map(|p| {
            let o = transfer::demographic(p, two);
            match &fields {
                Some(f) => {
                    let names: Vec<&str> = f.iter().map(String::as_str).collect();
                    transfer::keep_fields(o, &names)
                }
                None => o,
            }
        }))
    })))
}

fn write_phr_id(c: &mut Call) -> Outcome {
    let (Some(id), Some(phr)) = (c.int(0), c.string(1).map(str::to_owned)) else {
        return Ok(Some("fail".into()));
    };
    let now = c.now();
    let me = c.provider_no();
    c.write(|d| {
        d.update_patient(id_from("patient", id)?, now, |p| {
            p.ext.insert(MY_OSCAR_USER_NAME.into(), phr.into());
            p.last_update_user = me.into();
        })
    })
    // `demo.setMyOscarUserName` on a missing patient: a NullPointerException.
    .map_err(|_| SoapFault::server(""))?;
    Ok(Some("success".into()))
}

/// Patients whose provider-specific consent was edited after the date
/// (kept on the patient as `consent.editDate`, RFC 3339).
fn consented_after(c: &mut Call) -> Outcome {
    let Some(after) = c.time(0) else {
        return Err(SoapFault::server(""));
    };
    Ok(Some(c.read(|d| {
        ints(
            d.patients()
                .iter()
                .filter(|p| {
                    p.ext
                        .get("consent.editDate")
                        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                        .is_some_and(|t| t > after)
                })
                .map(|p| p.id)
                .collect(),
        )
    })))
}

fn add_demographic(c: &mut Call) -> Outcome {
    let Some(t) = c.obj(0).cloned() else {
        return Err(SoapFault::server(""));
    };
    if t.int("demographicNo").is_some() {
        return Err(SoapFault::declared(
            "Exception",
            "Demographic number can not be specified on creation. It is automatically generated.",
        ));
    }
    let mut p = Patient {
        status: "AC".into(),
        ..Patient::default()
    };
    transfer::apply_demographic(&mut p, &t);
    validate_demographic(&p)?;
    if p.last_update_user.is_empty() {
        p.last_update_user = c.provider_no().into();
    }
    if let Some(integration) = c.obj(1) {
        for name in [
            "remoteId",
            "integrationType",
            "createdBySource",
            "createdByremoteId",
        ] {
            if let Some(v) = integration.str(name) {
                p.ext
                    .insert(format!("integration.{name}").into(), v.to_owned().into());
            }
        }
    }
    let now = c.now();
    let id = c.write(|d| d.insert_patient(p, now));
    Ok(Some(Val::from(id)))
}

/// `addDemographicWithValidation`: the fields a chart cannot be without.
fn validate_demographic(p: &Patient) -> Result<(), SoapFault> {
    let missing: Vec<&str> = [
        ("lastName", p.last_name.is_empty()),
        ("firstName", p.first_name.is_empty()),
        ("sex", p.sex.is_empty()),
    ]
    .iter()
    .filter(|(_, m)| *m)
    .map(|(n, _)| *n)
    .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(SoapFault::declared(
            "Exception",
            format!(
                "Demographic is missing required fields: {}",
                missing.join(", ")
            ),
        ))
    }
}

fn update_demographic(c: &mut Call) -> Outcome {
    let Some(t) = c.obj(0).cloned() else {
        return Err(SoapFault::server(""));
    };
    let Some(id) = t.int("demographicNo") else {
        return Err(SoapFault::declared(
            "Exception",
            "You must specify a demographic number.",
        ));
    };
    let now = c.now();
    let me = c.provider_no();
    let updated = c.write(|d| {
        // A number past `Id`'s range is no patient's.
        let known = Id::try_from(id).ok()?;
        let mut p = d.patients().get(known)?.clone();
        transfer::apply_demographic(&mut p, &t);
        if t.str("lastUpdateUser").is_none() {
            p.last_update_user = me.into();
        }
        Some(validate_demographic(&p).map(|()| d.update_patient(known, now, |x| *x = p)))
    });
    match updated {
        None => Err(SoapFault::declared(
            "Exception",
            format!("Demographic {id} doesn't exist."),
        )),
        Some(Err(e)) => Err(e),
        Some(Ok(r)) => r.map(|_| None).map_err(store_fault),
    }
}

/// `DemographicContact.TYPE_*`.
const CONTACT_TYPES: &[(i64, &str)] = &[
    (0, "Provider"),
    (1, "Demographic"),
    (2, "Contact"),
    (3, "Professional Specialist"),
];

/// A patient's contacts of a type. The store has no contact table yet, so
/// a valid request finds none; the validation is the real one.
fn demographic_contacts(c: &mut Call) -> Outcome {
    let id = c.int(0).unwrap_or(0);
    let kind = c.int(1).unwrap_or(0);
    let exists = c.read(|d| Id::try_from(id).is_ok_and(|id| d.patients().get(id).is_some()));
    if !exists {
        return Err(SoapFault::declared(
            "Exception",
            format!("Demographic {id} doesn't exist."),
        ));
    }
    if !CONTACT_TYPES.iter().any(|(t, _)| *t == kind) {
        let expected: Vec<String> = CONTACT_TYPES
            .iter()
            .map(|(t, n)| format!("{t} ({n})"))
            .collect();
        return Err(SoapFault::declared(
            "Exception",
            format!(
                "Input type {kind} doesn't match any of the expected types: {}",
                expected.join(", ")
            ),
        ));
    }
    Ok(Some(Val::List(Vec::new())))
}

/// Health-card eligibility: the mock checks the number itself (Ontario
/// numbers carry a check digit); other provinces cannot be checked.
fn check_eligibility(c: &mut Call) -> Outcome {
    let t = c.obj(0).cloned().unwrap_or_default();
    let hin = t.str("hin").unwrap_or_default().trim().to_owned();
    let province = t.str("hcType").unwrap_or("ON").to_owned();
    let mut o = Obj::new("eligibilityCheckTransfer");
    if hin.is_empty() {
        o.set("eligible", false)
            .set("validationStatus", "INCOMPLETE")
            .set("error", "No health number");
    } else if province != "ON" {
        o.set("eligible", false)
            .set("validationStatus", "UNAVAILABLE")
            .set(
                "message",
                format!("Eligibility checks are not available for {province}"),
            );
    } else {
        let ok = crate::store::seed::ontario_hin_is_valid(&hin);
        o.set("eligible", ok)
            .set("validationStatus", "COMPLETE")
            .set("result", if ok { "Valid" } else { "Invalid health number" });
    }
    Ok(Some(Val::Obj(o)))
}

fn default_facility(c: &mut Call) -> Outcome {
    Ok(c.read(|d| {
        d.facilities
            .iter()
            .find(|f| f.primary)
            .or_else(|| d.facilities.iter().next())
            .map(|f| Val::Obj(transfer::facility(f)))
    }))
}

// ---- MeasurementService, DocumentService, DashboardService ---------------

fn add_measurement(c: &mut Call) -> Outcome {
    let Some(t) = c.obj(0).cloned() else {
        return Err(SoapFault::server(""));
    };
    let now = c.now();
    let mut m = transfer::new_measurement(&t, now)?;
    if m.provider_no.is_empty() {
        m.provider_no = c.provider_no().into();
    }
    let id = c.write(|d| {
        d.patient(m.patient_id)?;
        let at = d.stamp(now);
        m.created = at.into();
        m.last_update = at.into();
        Ok::<_, StoreError>(d.measurements.insert(m))
    });
    id.map(|id| Some(Val::from(id))).map_err(store_fault)
}

/// Juno `addDocument(fileName, base64 contents, providerNo, demographicNo)`:
/// files the document to the patient and returns its number.
fn add_document(c: &mut Call) -> Outcome {
    use base64::Engine as _;
    let file_name = c.string(0).unwrap_or_default().to_owned();
    let contents = c.string(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(contents.trim())
        .map_err(|_| SoapFault::declared("IOException", "Illegal base64 character"))?;
    let provider_no = c.string(2).unwrap_or_default().to_owned();
    // Any number is looked up: one past `Id`'s range is refused as an
    // unknown patient is; text that is not a number files to no one.
    let patient = c.string(3).and_then(|p| p.trim().parse::<i64>().ok());
    if file_name.is_empty() {
        return Err(SoapFault::declared("IOException", "No file name"));
    }
    let content_type = if bytes.starts_with(b"%PDF-") {
        "application/pdf"
    } else {
        "application/octet-stream"
    };
    let now = c.now();
    let id = c.write(|d| {
        let patient = patient.map(|p| id_from("patient", p)).transpose()?;
        if let Some(p) = patient {
            d.patient(p)?;
        }
        let at = d.stamp(now);
        Ok::<_, StoreError>(d.documents.insert(Document {
            patient: patient.into(),
            file_name: file_name.clone().into(),
            content_type: content_type.into(),
            description: file_name.clone().into(),
            category: "others".into(),
            source: "DocumentWs".into(),
            observed: Some(now.with_timezone(&server_zone()).date_naive()),
            provider_no: provider_no.clone().into(),
            responsible_no: provider_no.clone().into(),
            status: "A".into(),
            content: bytes::Bytes::from(bytes),
            created: at.into(),
            last_update: at.into(),
            ..Document::default()
        }))
    });
    id.map(|id| Some(Val::Str(id.to_string())))
        .map_err(|e| SoapFault::declared("IOException", e.to_string()))
}

/// Stores a Clinicaid billing row; its id is the answer.
fn add_billing(c: &Call, t: Option<&Obj>) -> Result<String, SoapFault> {
    let Some(t) = t else {
        return Err(SoapFault::server(""));
    };
    let mut fields = crate::store::Ext::new();
    for (k, v) in &t.fields {
        let text = match v {
            Val::Str(s) => s.clone(),
            Val::Int(i) => i.to_string(),
            Val::Time(x) => super::xml::format_time(x),
            other => format!("{other:?}"),
        };
        fields.insert(k.as_ref().into(), text.into());
    }
    let now = c.now();
    let record = BillingRecord {
        patient: transfer::reference(t, "demographicNo")?.into(),
        appointment_id: transfer::reference(t, "appointmentNo")?.into(),
        practitioner_no: t
            .str("practitionerNo")
            .unwrap_or_default()
            .to_owned()
            .into(),
        billing_code: t.str("billingCode").unwrap_or_default().to_owned().into(),
        amount: t.str("billAmount").unwrap_or_default().to_owned().into(),
        service_date: t.str("serviceDate").unwrap_or_default().to_owned().into(),
        status: t.str("billingStatus").unwrap_or_default().to_owned().into(),
        fields,
        ..BillingRecord::default()
    };
    let id = c.write(|d| {
        let at = d.stamp(now);
        d.billings.insert(BillingRecord {
            created: at.into(),
            last_update: at.into(),
            ..record
        })
    });
    Ok(id.to_string())
}
