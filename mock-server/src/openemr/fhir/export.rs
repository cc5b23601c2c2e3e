//! FHIR Bulk Data export (`FhirOperationExportRestController`): the
//! `$export` kick-off at system, Patient and Group level, the
//! `$bulkdata-status` manifest and its DELETE, and the NDJSON files,
//! stored as documents and served by `Binary/<id>`.
//!
//! As in OpenEMR the files are written during the kick-off (so the export
//! is one consistent snapshot); the job reports complete once the site's
//! `export_delay_seconds` (mock clock, default 0) have passed, so a client
//! sees 202 while "running" and 200 with the manifest afterwards.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::IntoResponse;
use serde_json::{json, Value};

use super::resources::{self, Bound, Build};
use super::{outcome, Answer, Call, JSON};
use crate::openemr::acl;
use crate::openemr::api::json_response;
use crate::openemr::scopes::{Context, Need};
use crate::store::{Data, Document, ExportJob, Id, Stamp, Timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    System,
    Patient,
    Group,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::System => "System",
            Level::Patient => "Patient",
            Level::Group => "Group",
        }
    }
}

/// The category export files are filed under.
const CATEGORY: &str = "Bulk Export";

/// Types a level exports: every type with system read scopes at system
/// level; the patient-compartment types at Patient and Group level.
fn supported(level: Level) -> Vec<&'static str> {
    resources::RESOURCES
        .iter()
        .filter(|d| d.name != "Binary")
        .filter(|d| level == Level::System || d.search_bound == Bound::Compartment)
        .map(|d| d.name)
        .collect()
}

fn grants_read(c: &Call<'_>, resource: &str) -> bool {
    c.principal.is_some_and(|p| {
        p.resource_scopes
            .iter()
            .any(|s| s.allows(Context::System, resource, &Need::Letter('r')))
    })
}

pub fn kickoff(c: &Call<'_>, level: Level) -> Answer {
    if c.header("accept") != Some("application/fhir+json") {
        return Err(outcome(
            c,
            StatusCode::BAD_REQUEST,
            "'Accept' header invalid",
        ));
    }
    if c.header("prefer") != Some("respond-async") {
        return Err(outcome(
            c,
            StatusCode::BAD_REQUEST,
            "'Prefer' header invalid",
        ));
    }
    let format = c.q("_outputFormat").unwrap_or("application/fhir+ndjson");
    if !matches!(
        format,
        "application/fhir+ndjson" | "application/ndjson" | "ndjson"
    ) {
        return Err(outcome(
            c,
            StatusCode::BAD_REQUEST,
            &format!("_outputFormat {format} is not supported"),
        ));
    }
    let since = match c.q("_since") {
        Some(v) => Some(
            chrono::DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| {
                    outcome(
                        c,
                        StatusCode::BAD_REQUEST,
                        "_since must be a valid FHIR instant",
                    )
                })?,
        ),
        None => None,
    };
    let supported = supported(level);
    // OpenEMR reads `type`; the Bulk Data specification says `_type`.
    let requested: Option<Vec<String>> = c.q("_type").or_else(|| c.q("type")).map(|t| {
        t.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    let types: Vec<String> = match requested {
        Some(list) => {
            for t in &list {
                if !supported.contains(&t.as_str()) {
                    return Err(outcome(
                        c,
                        StatusCode::BAD_REQUEST,
                        &format!("Resource type {t} is not supported for this export"),
                    ));
                }
                if !grants_read(c, t) {
                    return Err(outcome(
                        c,
                        StatusCode::BAD_REQUEST,
                        &format!("AccessToken does not grant access to resource {t}"),
                    ));
                }
            }
            list
        }
        None => supported
            .iter()
            .filter(|t| grants_read(c, t))
            .map(|t| (*t).to_owned())
            .collect(),
    };
    let now = c.now();
    let delay = c.site.oauth2.settings().export_delay_seconds;
    let request = if c.raw_query.is_empty() {
        c.url()
    } else {
        format!("{}?{}", c.url(), c.raw_query)
    };
    let client = c.principal.map(|p| p.client_id.clone()).unwrap_or_default();
    let user = c.principal.map(|p| p.user.clone()).unwrap_or_default();
    let job_uuid = c.state.rng.uuid();
    let base = c.fhir_base();
    let group = (level == Level::Group).then(|| c.param("id").to_owned());
    c.site.store.write(|d| {
        acl::check(d, c.principal, "admin/users")?;
        let b = Build {
            d,
            base: base.clone(),
        };
        let members: Option<Vec<Id>> = match &group {
            Some(g) => match resources::group_members(&b, g) {
                Some(m) => Some(m),
                None => return Ok(json_response(StatusCode::NOT_FOUND, JSON, &json!([]))),
            },
            None => None,
        };
        let mut files: Vec<(String, String)> = Vec::new();
        for t in &types {
            let Some(def) = resources::def(t) else {
                continue;
            };
            let lines: Vec<String> = (def.items)(&b, None)
                .into_iter()
                .filter(|i| level == Level::System || i.patient.is_some())
                .filter(|i| {
                    members
                        .as_ref()
                        .is_none_or(|m| i.patient.is_some_and(|p| m.contains(&p)))
                })
                .filter(|i| since.is_none_or(|s| i.last_updated >= s))
                .map(|i| i.resource.to_string())
                .collect();
            if lines.is_empty() {
                continue;
            }
            files.push((t.clone(), lines.join("\n") + "\n"));
        }
        let mut output = Vec::new();
        for (t, text) in files {
            let uuid = c.state.rng.uuid();
            d.documents.insert(Document {
                uuid: uuid.clone().into(),
                patient: None.into(),
                file_name: format!("{t}.ndjson").into(),
                content_type: "application/fhir+ndjson".into(),
                description: format!("Bulk export {job_uuid}").into(),
                category: CATEGORY.into(),
                source: "export".into(),
                status: "A".into(),
                content: bytes::Bytes::from(text.into_bytes()),
                created: now.into(),
                last_update: now.into(),
                ..Document::default()
            });
            output.push((t, uuid));
        }
        d.export_jobs.insert(ExportJob {
            uuid: job_uuid.clone().into(),
            client_id: client.into(),
            user: user.into(),
            level: level.as_str().into(),
            group,
            types,
            since: since.map(Stamp::from),
            request: request.into(),
            started: now.into(),
            ready_at: (now
                + chrono::Duration::seconds(i64::try_from(delay).unwrap_or(i64::MAX / 2)))
            .into(),
            output,
            last_update: now.into(),
            ..ExportJob::default()
        });
        let location = format!("{base}/$bulkdata-status?job={job_uuid}");
        let mut r = (
            StatusCode::ACCEPTED,
            [(header::CONTENT_TYPE, "application/json")],
            "",
        )
            .into_response();
        if let Ok(v) = HeaderValue::from_str(&location) {
            r.headers_mut().insert(header::CONTENT_LOCATION, v);
        }
        Ok(r)
    })
}

/// The job of the `job` parameter, if it is this client's.
fn job_of<'d>(c: &Call<'_>, d: &'d Data) -> Option<&'d ExportJob> {
    let id = c.q("job")?;
    let client = c.principal.map(|p| p.client_id.as_str()).unwrap_or("");
    d.export_jobs.by_uuid(id).filter(|j| j.client_id == client)
}

pub fn status(c: &Call<'_>) -> Answer {
    let now = c.now();
    let base = c.fhir_base();
    c.site.store.read(|d| {
        acl::check(d, c.principal, "admin/users")?;
        let Some(job) = job_of(c, d) else {
            return Err(outcome(
                c,
                StatusCode::BAD_REQUEST,
                "The job id you submitted was invalid",
            ));
        };
        if now < job.ready_at.get() {
            return Ok((
                StatusCode::ACCEPTED,
                [(header::CONTENT_TYPE, "application/json")],
                "",
            )
                .into_response());
        }
        let output: Vec<Value> = job
            .output
            .iter()
            .map(|(t, uuid)| json!({"type": t, "url": format!("{base}/Binary/{uuid}")}))
            .collect();
        Ok(json_response(
            StatusCode::OK,
            "application/json",
            &json!({
                "transactionTime": resources::instant(job.started),
                "request": job.request,
                "requiresAccessToken": true,
                "output": output,
                "error": [],
            }),
        ))
    })
}

pub fn delete(c: &Call<'_>) -> Answer {
    c.site.store.write(|d| {
        acl::check(d, c.principal, "admin/users")?;
        let Some(job) = job_of(c, d).cloned() else {
            return Ok((
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "application/json")],
                "",
            )
                .into_response());
        };
        for (_, uuid) in &job.output {
            if let Some(id) = d.documents.by_uuid(uuid).map(|x| x.id) {
                d.documents.remove(id);
            }
        }
        d.export_jobs.remove(job.id);
        Ok((
            StatusCode::ACCEPTED,
            [(header::CONTENT_TYPE, "application/json")],
            "",
        )
            .into_response())
    })
}

fn esc(s: &str) -> String {
    crate::error::xml_escape(s)
}

/// A C-CDA Continuity of Care Document of a patient: the header, and the
/// problem, allergy and medication sections with their narrative.
pub fn ccd(d: &Data, pid: Id, now: &Timestamp) -> String {
    let Some(p) = d.patients().get(pid) else {
        return String::new();
    };
    let items = |rows: Vec<String>| -> String {
        if rows.is_empty() {
            "<paragraph>None recorded</paragraph>".into()
        } else {
            format!(
                "<list>{}</list>",
                rows.iter()
                    .map(|r| format!("<item>{}</item>", esc(r)))
                    .collect::<String>()
            )
        }
    };
    let problems = items(
        d.problems
            .for_patient(pid)
            .filter(|x| x.kind == "medical_problem")
            .map(|x| format!("{} ({})", x.title, x.diagnosis))
            .collect(),
    );
    let allergies = items(
        d.allergies
            .for_patient(pid)
            .filter(|a| !a.archived)
            .map(|a| format!("{}: {}", a.description, a.reaction))
            .collect(),
    );
    let meds = items(
        d.medications
            .for_patient(pid)
            .filter(|m| !m.archived)
            .map(|m| {
                format!(
                    "{} {} {}",
                    crate::openemr::standard::wire::medication_title(m),
                    m.dosage,
                    m.frequency
                )
            })
            .collect(),
    );
    let gender = match p.sex.as_str() {
        "M" => "M",
        "F" => "F",
        _ => "UN",
    };
    let section = |template: &str, code: &str, title: &str, text: &str| {
        format!(
            "<component><section><templateId root=\"{template}\"/><code code=\"{code}\" codeSystem=\"2.16.840.1.113883.6.1\"/><title>{title}</title><text>{text}</text></section></component>"
        )
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<ClinicalDocument xmlns=\"urn:hl7-org:v3\">\
<realmCode code=\"US\"/><typeId root=\"2.16.840.1.113883.1.3\" extension=\"POCD_HD000040\"/>\
<templateId root=\"2.16.840.1.113883.10.20.22.1.1\" extension=\"2015-08-01\"/>\
<templateId root=\"2.16.840.1.113883.10.20.22.1.2\" extension=\"2015-08-01\"/>\
<id root=\"{uuid}\"/><code code=\"34133-9\" codeSystem=\"2.16.840.1.113883.6.1\" displayName=\"Summary of episode note\"/>\
<title>Continuity of Care Document</title><effectiveTime value=\"{ts}\"/>\
<confidentialityCode code=\"N\" codeSystem=\"2.16.840.1.113883.5.25\"/><languageCode code=\"en-US\"/>\
<recordTarget><patientRole><id extension=\"{pid}\" root=\"2.16.840.1.113883.4.1\"/>\
<patient><name><given>{given}</given><family>{family}</family></name>\
<administrativeGenderCode code=\"{gender}\" codeSystem=\"2.16.840.1.113883.5.1\"/><birthTime value=\"{birth}\"/></patient>\
</patientRole></recordTarget>\
<component><structuredBody>{s1}{s2}{s3}</structuredBody></component></ClinicalDocument>\n",
        uuid = p.uuid,
        ts = now.format("%Y%m%d%H%M%S+0000"),
        pid = p.id,
        given = esc(&p.first_name),
        family = esc(&p.last_name),
        birth = p.birth_date.map(|b| b.format("%Y%m%d").to_string()).unwrap_or_default(),
        s1 = section("2.16.840.1.113883.10.20.22.2.5.1", "11450-4", "Problems", &problems),
        s2 = section("2.16.840.1.113883.10.20.22.2.6.1", "48765-2", "Allergies", &allergies),
        s3 = section("2.16.840.1.113883.10.20.22.2.1.1", "10160-0", "Medications", &meds),
    )
}
