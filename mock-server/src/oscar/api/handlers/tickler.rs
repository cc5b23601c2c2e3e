//! `TicklerWebService`: reminders, their search, completion and comments.

use serde_json::{json, Value};

use super::super::beans;
use super::super::render::{instant, plain};
use super::super::{Call, Outcome, Variant};
use super::util::{body_i64, body_str, exception, generic, npe};
use crate::store::{Data, Id, Tickler};

/// `CustomFilter`: status, priority, assignee, creator, patient, dates.
#[derive(Default)]
struct Filter {
    status: Option<String>,
    priority: Option<String>,
    assignee: Option<String>,
    creator: Option<String>,
    patient: Option<i64>,
    mrp: Option<String>,
    until: Option<chrono::DateTime<chrono::Utc>>,
    from: Option<chrono::DateTime<chrono::Utc>>,
}

impl Filter {
    fn keeps(&self, d: &Data, t: &Tickler) -> bool {
        let status = self.status.as_deref().unwrap_or("A");
        (status.is_empty() || t.status == status)
            && self
                .priority
                .as_deref()
                .is_none_or(|p| p.is_empty() || t.priority.eq_ignore_ascii_case(p))
            && self.assignee.as_deref().is_none_or(|a| t.assignee == a)
            && self.creator.as_deref().is_none_or(|c| t.creator == c)
            && self
                .patient
                .is_none_or(|p| t.patient.get().map(i64::from) == Some(p))
            && self.mrp.as_deref().is_none_or(|m| {
                t.patient
                    .get()
                    .and_then(|p| d.patients().get(p))
                    .is_some_and(|p| p.provider_no == m)
            })
            && self.until.is_none_or(|u| t.service_date <= u)
            && self.from.is_none_or(|f| t.service_date >= f)
    }
}

fn run(call: &Call<'_>, f: &Filter, offset: usize, limit: Option<usize>) -> (usize, Vec<Value>) {
    call.read(|d| {
        let mut found: Vec<&Tickler> = d.ticklers.iter().filter(|t| f.keeps(d, t)).collect();
        found.sort_by(|a, b| b.service_date.cmp(&a.service_date).then(b.id.cmp(&a.id)));
        let total = found.len();
        let items = found
            .into_iter()
            .skip(offset)
            .take(limit.filter(|l| *l > 0).unwrap_or(usize::MAX))
            .map(|t| beans::tickler(t, d))
            .collect();
        (total, items)
    })
}

fn response(call: &Call<'_>, total: usize, items: Vec<Value>) -> Outcome {
    Outcome::Value(
        json!({"offset": 0, "limit": 0, "total": total, "timestamp": call.now_value(), "content": items, "query": null}),
    )
}

/// `POST /tickler/search?startIndex&limit` `{status, priority, assignee,
/// demographicNo, overdueOnly}`.
pub fn search(call: &mut Call<'_>) -> Outcome {
    if call.body.is_null() {
        return npe("json is null");
    }
    let mut f = Filter {
        status: body_str(call, "status"),
        priority: body_str(call, "priority"),
        assignee: body_str(call, "assignee"),
        patient: body_i64(call, "demographicNo"),
        ..Filter::default()
    };
    if body_str(call, "overdueOnly").as_deref() == Some("property") {
        f.until = Some(call.now);
    }
    let start = call.query_id("startIndex").unwrap_or(0).max(0) as usize;
    let limit = call.query_id("limit").unwrap_or(0).max(0) as usize;
    let (total, items) = run(call, &f, start, Some(limit));
    // The resource counts again only when the page is full.
    let total = if items.len() == limit {
        total
    } else {
        items.len()
    };
    response(call, total, items)
}

/// `GET /tickler/mine?limit`: my active ticklers.
pub fn mine(call: &mut Call<'_>) -> Outcome {
    let f = Filter {
        status: Some("A".into()),
        assignee: Some(call.provider_no()),
        ..Filter::default()
    };
    let limit = call.query_id("limit").unwrap_or(0).max(0) as usize;
    let (_, items) = run(call, &f, 0, Some(limit));
    let n = items.len();
    response(call, n, items)
}

/// `GET /tickler/ticklers?count&page&...`: `count` and `page` are parsed
/// with `Integer.parseInt`, so leaving one out is a 500.
pub fn list(call: &mut Call<'_>) -> Outcome {
    // OSCAR declares count and page as String, Juno as Integer: read both as text.
    let q = |k: &str| {
        Some(call.source(&format!("query.{k}")))
            .filter(|v| !v.is_null())
            .map(|v| plain(&v))
            .filter(|s| !s.is_empty())
    };
    let (Some(count), Some(page)) = (
        q("count").and_then(|c| c.parse::<usize>().ok()),
        q("page").and_then(|p| p.parse::<usize>().ok()),
    ) else {
        return exception("java.lang.NumberFormatException", "null");
    };
    let date = |k: &str| {
        q(k).map(|s| s.trim_matches('"').to_owned())
            .and_then(|s| instant(&Value::String(s)))
    };
    let f = Filter {
        status: Some(q("status").unwrap_or_default()),
        priority: q("priority"),
        assignee: q("taskAssignedTo"),
        creator: q("creator"),
        mrp: q("mrp"),
        patient: q("demographicNo").and_then(|d| d.parse().ok()),
        from: date("serviceStartDate"),
        until: date("serviceEndDate"),
    };
    let (total, items) = run(call, &f, page.saturating_sub(1) * count, Some(count));
    let with_comments = q("includeComments").as_deref() == Some("true");
    let items = items
        .into_iter()
        .map(|mut t| {
            if !with_comments {
                t["ticklerComments"] = json!([]);
            }
            t
        })
        .collect();
    response(call, total, items)
}

/// The ids of `{"ticklers": [..]}`.
fn ids(call: &Call<'_>) -> Option<Vec<i64>> {
    call.body.get("ticklers")?.as_array().map(|a| {
        a.iter()
            .filter_map(|v| v.as_i64().or_else(|| plain(v).parse().ok()))
            .collect()
    })
}

/// `POST /tickler/complete` and `/delete` `{"ticklers": [ids]}`. Open-O
/// walks the Jackson `ArrayNode` casting each element to `Integer`, which
/// throws `ClassCastException` for any id: a non-empty list is a 500.
pub fn set_status(call: &mut Call<'_>) -> Outcome {
    let status = call.behaviour.param("status").unwrap_or("C").to_owned();
    let Some(ids) = ids(call) else {
        return npe("ticklers is null");
    };
    if call.variant == Variant::OpenO && !ids.is_empty() {
        return exception(
            "java.lang.ClassCastException",
            "com.fasterxml.jackson.databind.node.IntNode cannot be cast to java.lang.Integer",
        );
    }
    let login = call.provider_no();
    let now = call.now;
    call.write(|d| {
        // A number past `Id`'s range is skipped, as an unknown one is.
        for id in ids.into_iter().filter_map(|id| Id::try_from(id).ok()) {
            let _ = d.ticklers.update(id, now, |t| {
                t.status = status.clone().into();
                t.comments
                    .push((now, login.clone(), format!("Status changed to {status}")));
            });
        }
    });
    generic(true, None)
}

/// `POST /tickler/update` `{id, taskAssignedTo, status, priority, message,
/// serviceDate, ticklerComments}`: every one of them is required.
pub fn update(call: &mut Call<'_>) -> Outcome {
    let Some(id) = body_i64(call, "id") else {
        return npe("id");
    };
    let known = Id::try_from(id).ok();
    let Some(id) = known.filter(|id| call.read(|d| d.ticklers.get(*id).is_some())) else {
        return exception("java.lang.RuntimeException", "Tickler not found");
    };
    let (Some(assignee), Some(status), Some(priority), Some(message), Some(service)) = (
        body_str(call, "taskAssignedTo"),
        body_str(call, "status"),
        body_str(call, "priority"),
        body_str(call, "message"),
        body_str(call, "serviceDate"),
    ) else {
        return npe("a tickler property is missing");
    };
    let Some(service) = instant(&Value::String(service.clone())) else {
        return exception("java.lang.IllegalArgumentException", &service);
    };
    let comments: Vec<(String, String)> = call
        .body
        .get("ticklerComments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("newComment").is_some())
        .map(|c| {
            (
                c.get("providerNo").map(plain).unwrap_or_default(),
                c.get("message").map(plain).unwrap_or_default(),
            )
        })
        .collect();
    let now = call.now;
    call.write(|d| {
        d.ticklers.update(id, now, |t| {
            t.assignee = assignee.into();
            t.status = status
                .chars()
                .next()
                .map(String::from)
                .unwrap_or_default()
                .into();
            t.priority = priority.into();
            t.message = message.into();
            t.service_date = service.into();
            for (who, text) in comments {
                t.comments.push((now, who, text));
            }
        })
    });
    generic(true, None)
}

/// `POST /tickler/add` (the `Tickler` entity): answers its new id as the
/// message.
pub fn add(call: &mut Call<'_>) -> Outcome {
    if call.body.is_null() {
        return npe("tickler is null");
    }
    let login = call.provider_no();
    let now = call.now;
    let service = call
        .body
        .get("serviceDate")
        .and_then(instant)
        .unwrap_or(now);
    let t = Tickler {
        // Past `Id`'s range, as 0 or a number that does not parse: none.
        patient: body_i64(call, "demographicNo")
            .filter(|d| *d > 0)
            .and_then(|d| Id::try_from(d).ok())
            .into(),
        message: body_str(call, "message").unwrap_or_default().into(),
        status: body_str(call, "status")
            .and_then(|s| s.chars().next().map(String::from))
            .unwrap_or_else(|| "A".into())
            .into(),
        priority: body_str(call, "priority")
            .unwrap_or_else(|| "Normal".into())
            .into(),
        service_date: service.into(),
        creator: login.into(),
        assignee: body_str(call, "taskAssignedTo").unwrap_or_default().into(),
        program_id: 1,
        comments: Vec::new(),
        created: now.into(),
        last_update: now.into(),
        ..Tickler::default()
    };
    let id = call.write(|d| d.ticklers.insert(t));
    generic(true, Some(id.to_string()))
}

/// `GET /tickler/{demographicNo}/count/overdue`: active ticklers due by now.
pub fn overdue(call: &mut Call<'_>) -> Outcome {
    let patient = call.path_id("demographicNo");
    let now = call.now;
    let n = call.read(|d| {
        d.ticklers
            .iter()
            .filter(|t| {
                t.patient.get().map(i64::from) == patient
                    && t.status == "A"
                    && t.service_date <= now
            })
            .count()
    });
    Outcome::Value(json!(n))
}

/// `GET /notes/ticklerGetNote/{ticklerNo}`: the note attached to a tickler.
pub fn note_get(call: &mut Call<'_>) -> Outcome {
    let Some(id) = call.path_id("ticklerNo") else {
        return npe("ticklerNo");
    };
    let note = call.read(|d| {
        d.records
            .rows("ticklerNotes")
            .filter(|r| r.fields.get("ticklerNo").and_then(Value::as_i64) == Some(id))
            .last()
            .map(|r| Value::Object(r.fields.clone()))
    });
    Outcome::Value(json!({"ticklerNote": note}))
}

/// `POST /notes/ticklerSaveNote` `{ticklerId, note}`.
pub fn note_save(call: &mut Call<'_>) -> Outcome {
    let (Some(id), Some(text)) = (body_i64(call, "ticklerId"), body_str(call, "note")) else {
        return npe("ticklerId/note");
    };
    let known = |d: &Data| Id::try_from(id).is_ok_and(|id| d.ticklers.get(id).is_some());
    if !call.read(known) {
        return generic(false, Some("Tickler not found".to_owned()));
    }
    let login = call.provider_no();
    let now = call.now;
    call.write(|d| {
        let revision = d
            .records
            .rows("ticklerNotes")
            .filter(|r| r.fields.get("ticklerNo").and_then(Value::as_i64) == Some(id))
            .count()
            + 1;
        let mut m = serde_json::Map::new();
        m.insert("ticklerNo".into(), json!(id));
        m.insert("note".into(), json!(text));
        m.insert("revision".into(), json!(revision.to_string()));
        m.insert("observationDate".into(), json!(now.to_rfc3339()));
        m.insert("editor".into(), json!(login));
        let nid = d.records.insert("ticklerNotes", m, now);
        d.records.update("ticklerNotes", nid, now, |m| {
            m.insert("noteId".into(), json!(nid));
        });
    });
    generic(true, None)
}
