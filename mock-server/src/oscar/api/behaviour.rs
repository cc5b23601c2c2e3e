//! The behaviour table (`oscar/rest-behaviour.tsv`): for every REST
//! operation of every OSCAR variant, which kind of behaviour answers it and
//! with what parameters. The generic kinds are implemented once here; the
//! `handler` kind names hand-written code for the operations whose
//! behaviour genuinely differs (booking, tickler workflows, uploads...).
//!
//! | kind | does | parameters |
//! |---|---|---|
//! | `const` | a fixed answer | `body` (JSON, or `@name` of a fixture), `type`, `status`, `ct` |
//! | `status` | a status with no body | `status` |
//! | `list` | rows of a collection, wrapped as the response type says | `coll`, `where`, `sort`, `page`, `field`, `echo_page` |
//! | `get` | one row | `coll`, `id`, `where`, `field`, `missing` |
//! | `create` | a new row from the body | `coll`, `from`, `set`, `require`, `reply` |
//! | `update` | a row changed by the body | `coll`, `id`, `from`, `set`, `reply`, `missing` |
//! | `delete` | a row removed | `coll`, `id`, `reply`, `missing` |
//! | `handler` | hand-written | `name`, and the handler's own |
//!
//! Values in `where`, `set`, `id` and `require` are sources: `path.x`,
//! `query.x`, `body.x.y`, `form.x`, `login` (the provider number), `now`,
//! `today`, or a literal.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use serde_json::{json, Map, Value};

use emr_catalog::Catalog;

use super::render::plain;
use super::signature::Signature;
use super::types::{tsv, JType, Registry};
use super::{Call, Outcome, Variant};
use crate::error::Failure;
use crate::store::Id;

/// One row of the table, with the signature of the operation it answers.
#[derive(Debug, Clone)]
pub struct Behaviour {
    pub kind: Kind,
    pub params: BTreeMap<String, String>,
    /// The table line, for error messages.
    pub line: usize,
    pub sig: Signature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Const,
    Status,
    List,
    Get,
    Create,
    Update,
    Delete,
    Handler,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "const" => Kind::Const,
            "status" => Kind::Status,
            "list" => Kind::List,
            "get" => Kind::Get,
            "create" => Kind::Create,
            "update" => Kind::Update,
            "delete" => Kind::Delete,
            "handler" => Kind::Handler,
            _ => return None,
        })
    }
}

impl Behaviour {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

/// A defect of the behaviour table, with its line.
#[derive(Debug, thiserror::Error)]
#[error("oscar/rest-behaviour.tsv:{line}: {message}")]
pub struct TableError {
    pub line: usize,
    pub message: String,
}

/// The behaviours of one variant, by operation id.
#[derive(Debug, Default)]
pub struct Table {
    by_op: HashMap<String, Behaviour, foldhash::fast::RandomState>,
}

impl Table {
    /// The variant's table, parsed once.
    pub fn of(v: Variant) -> &'static Table {
        static TABLES: OnceLock<[Table; 3]> = OnceLock::new();
        let all = TABLES.get_or_init(|| {
            // Compiled-in data, checked by the tests below.
            [Variant::Oscar19, Variant::OpenO, Variant::Juno]
                .map(|v| Table::load(v).unwrap_or_else(|e| panic!("{e}")))
        });
        &all[v as usize]
    }

    pub fn get(&self, op: &str) -> Option<&Behaviour> {
        self.by_op.get(op)
    }

    fn load(v: Variant) -> Result<Table, TableError> {
        let text = emr_catalog::data_file("oscar/rest-behaviour.tsv").unwrap_or_default();
        let catalog = Catalog::of(v.profile());
        let mut t = Table::default();
        for (line, cells) in tsv(text) {
            let err = |message: String| TableError { line, message };
            let [variants, op, kind, params] = cells[..] else {
                return Err(err(format!("expected 4 cells, found {}", cells.len())));
            };
            let applies = variants
                .split(',')
                .map(str::trim)
                .any(|x| Variant::parse(x) == Some(v));
            for x in variants.split(',') {
                if Variant::parse(x.trim()).is_none() {
                    return Err(err(format!("unknown variant `{x}`")));
                }
            }
            if !applies {
                continue;
            }
            let kind = Kind::parse(kind).ok_or_else(|| err(format!("unknown kind `{kind}`")))?;
            let params = parse_params(params).map_err(err)?;
            let sig = catalog
                .get(op)
                .map(Signature::of)
                .ok_or_else(|| err(format!("`{op}` is not an operation of {v:?}")))?;
            let behaviour = Behaviour {
                kind,
                params,
                line,
                sig,
            };
            if t.by_op.insert(op.to_owned(), behaviour).is_some() {
                return Err(err(format!("`{op}` has two behaviours for {v:?}")));
            }
        }
        Ok(t)
    }
}

/// `a=1; b={"x": 1; "y": 2}` → pairs, splitting on `;` outside brackets
/// and quotes.
fn parse_params(cell: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    if cell == "-" || cell.is_empty() {
        return Ok(out);
    }
    let mut depth = 0i32;
    let mut quoted = false;
    let mut start = 0;
    let mut pieces = Vec::new();
    let bytes = cell.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => quoted = !quoted,
            b'{' | b'[' if !quoted => depth += 1,
            b'}' | b']' if !quoted => depth -= 1,
            b';' if !quoted && depth == 0 => {
                pieces.push(&cell[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    pieces.push(&cell[start..]);
    for p in pieces {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| format!("parameter `{p}` is not key=value"))?;
        out.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    Ok(out)
}

/// Runs a generic behaviour.
pub fn run(call: &mut Call<'_>) -> Outcome {
    let b = call.behaviour;
    match b.kind {
        Kind::Const => constant(call),
        Kind::Status => Outcome::Empty(
            b.param("status")
                .and_then(|s| s.parse().ok())
                .unwrap_or(204),
        ),
        Kind::List => list(call),
        Kind::Get => get(call),
        Kind::Create => create(call),
        Kind::Update => update(call),
        Kind::Delete => delete(call),
        Kind::Handler => super::handlers::run(call),
    }
}

/// The fixtures a `const` body may name (`@recordMenu`), from the seed file.
fn fixture(name: &str) -> Option<&'static Value> {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        emr_catalog::data_file("oscar/rest-seed.json")
            .and_then(|t| serde_json::from_str(t).ok())
            .unwrap_or(Value::Null)
    })
    .get("_fixtures")
    .and_then(|f| f.get(name))
}

/// A `const` body, with `{{source}}` placeholders filled.
pub fn body_value(call: &Call<'_>, spec: &str) -> Value {
    let raw = match spec.strip_prefix('@') {
        Some(name) => fixture(name).cloned().unwrap_or(Value::Null),
        None => serde_json::from_str(spec).unwrap_or_else(|_| Value::String(spec.to_owned())),
    };
    fill(call, &raw)
}

fn fill(call: &Call<'_>, v: &Value) -> Value {
    match v {
        Value::String(s)
            if s.starts_with("{{") && s.ends_with("}}") && s.matches("{{").count() == 1 =>
        {
            call.source(&s[2..s.len() - 2])
        }
        Value::String(s) if s.contains("{{") => {
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find("{{") {
                out.push_str(&rest[..i]);
                match rest[i..].find("}}") {
                    Some(j) => {
                        out.push_str(&plain(&call.source(&rest[i + 2..i + j])));
                        rest = &rest[i + j + 2..];
                    }
                    None => {
                        out.push_str(&rest[i..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            Value::String(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| fill(call, x)).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), fill(call, x))).collect())
        }
        other => other.clone(),
    }
}

fn constant(call: &mut Call<'_>) -> Outcome {
    let b = call.behaviour;
    let value = b.param("body").map_or(Value::Null, |s| body_value(call, s));
    let status: u16 = b
        .param("status")
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    if let Some(ct) = b.param("ct") {
        return Outcome::Raw {
            status,
            content_type: ct.to_owned(),
            body: plain(&value).into_bytes(),
        };
    }
    let out = match b.param("type") {
        Some(t) => Outcome::Typed(JType::parse(t), value),
        None => Outcome::Value(value),
    };
    if status == 200 {
        out
    } else {
        Outcome::WithStatus(status, Box::new(out))
    }
}

/// A row of a collection: its id, patient and bean.
pub type RowBean = (Id, Option<Id>, Value);

/// The rows of a collection: a typed part of the store or a records table.
pub fn rows(call: &Call<'_>, coll: &str) -> Vec<RowBean> {
    call.read(|d| {
        super::beans::typed(d, coll, call.today()).unwrap_or_else(|| {
            d.records
                .rows(coll)
                .map(|r| (r.id, r.patient, Value::Object(r.fields.clone())))
                .collect()
        })
    })
}

/// Whether a bean passes the `where` filters: `prop:source` equals,
/// `prop~source` contains (case-insensitive), `prop!source` differs,
/// `prop>source` / `prop<source` compare (dates and numbers as text).
fn passes(call: &Call<'_>, bean: &Value, filters: &str) -> bool {
    filters
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .all(|f| {
            let Some(i) = f.find([':', '~', '!', '>', '<']) else {
                return true;
            };
            let (prop, op, src) = (&f[..i], &f[i..=i], &f[i + 1..]);
            let want = call.source(src);
            if want.is_null() && op != "!" {
                // An absent optional parameter does not filter.
                return true;
            }
            let have = lookup(bean, prop);
            let (h, w) = (plain(&have), plain(&want));
            match op {
                ":" => h.eq_ignore_ascii_case(&w),
                "~" => h.to_lowercase().contains(&w.to_lowercase()),
                "!" => !h.eq_ignore_ascii_case(&w),
                ">" => h.as_str() >= w.as_str(),
                "<" => h.as_str() <= w.as_str(),
                _ => true,
            }
        })
}

/// `a.b.c` inside a bean.
pub fn lookup(v: &Value, path: &str) -> Value {
    path.split('.')
        .try_fold(v, |cur, k| cur.get(k))
        .cloned()
        .unwrap_or(Value::Null)
}

fn list(call: &mut Call<'_>) -> Outcome {
    let b = call.behaviour;
    let Some(coll) = b.param("coll") else {
        return Outcome::Error(Failure::Internal(format!(
            "behaviour line {}: list without coll",
            b.line
        )));
    };
    let filters = b.param("where").unwrap_or("");
    let mut items: Vec<Value> = rows(call, coll)
        .into_iter()
        .map(|(_, _, bean)| bean)
        .filter(|bean| passes(call, bean, filters))
        .collect();
    if let Some(join) = b.param("join") {
        for j in join.split(',') {
            join_into(call, &mut items, j.trim());
        }
    }
    if let Some(sort) = b.param("sort") {
        let (prop, desc) = match sort.split_once(':') {
            Some((p, d)) => (p, d == "desc"),
            None => (sort, false),
        };
        items.sort_by(|x, y| {
            let o = plain(&lookup(x, prop)).cmp(&plain(&lookup(y, prop)));
            if desc {
                o.reverse()
            } else {
                o
            }
        });
    }
    if let Some(prop) = b.param("pluck") {
        items = items
            .iter()
            .map(|i| lookup(i, prop))
            .filter(|v| !v.is_null())
            .collect();
        if b.param("distinct") == Some("true") {
            let mut seen = Vec::new();
            items.retain(|v| {
                let fresh = !seen.contains(v);
                if fresh {
                    seen.push(v.clone());
                }
                fresh
            });
        }
    }
    let (offset, limit) = match b.param("page") {
        Some(p) => {
            let (o, l) = p.split_once(':').unwrap_or((p, ""));
            let num = |s: &str| call.source(s).as_i64().filter(|n| *n > 0);
            (num(o).unwrap_or(0), num(l))
        }
        None => (0, None),
    };
    paged(call, items, offset, limit)
}

/// Wraps a list the way the operation's response type says, after
/// applying the page.
pub fn paged(call: &Call<'_>, items: Vec<Value>, offset: i64, limit: Option<i64>) -> Outcome {
    let total = items.len();
    let page: Vec<Value> = items
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.map_or(usize::MAX, |l| l.max(0) as usize))
        .collect();
    let echo = call.behaviour.param("echo_page") == Some("true");
    Outcome::Value(wrap_list(
        call,
        call.response_type(),
        page,
        total,
        if echo {
            (offset, limit.unwrap_or(0))
        } else {
            (0, 0)
        },
    ))
}

/// A list as the value of `ty`: a paged wrapper, a bare array, or the one
/// list property of a response class.
pub fn wrap_list(
    call: &Call<'_>,
    ty: &JType,
    items: Vec<Value>,
    total: usize,
    (offset, limit): (i64, i64),
) -> Value {
    let reg = Registry::get();
    match ty {
        JType::Class(n, args) if n == "RestResponse" => match args.first() {
            Some(inner) => wrap_list(call, inner, items, total, (offset, limit)),
            None => Value::Array(items),
        },
        JType::Class(n, _)
            if n == "AbstractSearchResponse"
                || n == "OscarSearchResponse"
                || n == "RestSearchResponse"
                || reg.extends(n, "AbstractSearchResponse") =>
        {
            let per_page = call
                .query
                .get("perPage")
                .and_then(Value::as_i64)
                .unwrap_or(items.len() as i64);
            let page = call.query.get("page").and_then(Value::as_i64).unwrap_or(1);
            json!({
                "offset": offset, "limit": limit, "total": total, "timestamp": call.now_value(),
                "content": items, "query": null, "page": page, "perPage": per_page,
            })
        }
        JType::Class(n, args) => {
            let field = call
                .behaviour
                .param("field")
                .map(str::to_owned)
                .or_else(|| {
                    let lists: Vec<String> = reg
                        .fields(n, args, call.variant)
                        .into_iter()
                        .filter(|f| f.ty.is_list())
                        .map(|f| f.name)
                        .collect();
                    (lists.len() == 1).then(|| lists[0].clone())
                });
            match field {
                Some(f) => {
                    let mut m = Map::new();
                    m.insert(f, Value::Array(items));
                    if reg.extends(n, "GenericRESTResponse") {
                        m.insert("success".into(), Value::Bool(true));
                    }
                    Value::Object(m)
                }
                None => Value::Array(items),
            }
        }
        _ => match call.behaviour.param("field") {
            Some(f) => json!({ f: items }),
            None => Value::Array(items),
        },
    }
}

/// `prop:coll:key` — sets `prop` of each item to the row of `coll` whose id
/// is the item's `key`.
fn join_into(call: &Call<'_>, items: &mut [Value], spec: &str) {
    let parts: Vec<&str> = spec.split(':').collect();
    let [prop, coll, key] = parts[..] else {
        return;
    };
    let others = rows(call, coll);
    for item in items.iter_mut() {
        let want = plain(&lookup(item, key));
        let found = others
            .iter()
            .find(|(id, _, _)| id.to_string() == want)
            .map(|(_, _, b)| b.clone());
        if let Value::Object(m) = item {
            m.insert(prop.to_owned(), found.unwrap_or(Value::Null));
        }
    }
}

/// What a missing row turns into (`missing=`): the resource's
/// NullPointerException (500) unless the table says otherwise.
pub fn missing(call: &Call<'_>, what: &str) -> Outcome {
    match call.behaviour.param("missing").unwrap_or("500") {
        "204" => Outcome::Empty(204),
        "404" => Outcome::Empty(404),
        "null" => Outcome::Value(Value::Null),
        spec if spec.starts_with("generic:") => {
            Outcome::Value(json!({"success": false, "message": &spec["generic:".len()..]}))
        }
        spec if spec.starts_with("body:") => {
            Outcome::Value(body_value(call, &spec["body:".len()..]))
        }
        _ => Outcome::Error(Failure::Internal(format!(
            "java.lang.NullPointerException: no {what}"
        ))),
    }
}

fn find(call: &Call<'_>) -> Result<(String, Id, Value), Outcome> {
    let b = call.behaviour;
    let coll = b.param("coll").unwrap_or_default().to_owned();
    let filters = b.param("where").unwrap_or("");
    if b.param("id").is_none() && !filters.is_empty() {
        // No id: the first row the filters keep.
        return match rows(call, &coll)
            .into_iter()
            .find(|(_, _, bean)| passes(call, bean, filters))
        {
            Some((id, _, bean)) => Ok((coll, id, bean)),
            None => Err(missing(call, &coll)),
        };
    }
    let id_src = b.param("id").unwrap_or("path.id");
    let id = call.source(id_src);
    let Some(id) = id.as_i64().or_else(|| plain(&id).parse().ok()) else {
        return Err(missing(call, &coll));
    };
    // Compared as sent: a number past `Id`'s range is no row's.
    match rows(call, &coll)
        .into_iter()
        .find(|(rid, _, bean)| i64::from(*rid) == id && passes(call, bean, filters))
    {
        Some((rid, _, bean)) => Ok((coll, rid, bean)),
        None => Err(missing(call, &coll)),
    }
}

fn get(call: &mut Call<'_>) -> Outcome {
    match find(call) {
        Ok((_, _, bean)) => reply_value(call, bean),
        Err(o) => o,
    }
}

/// The bean as the response: wrapped in `field` when the response class
/// carries it in one property.
fn reply_value(call: &Call<'_>, bean: Value) -> Outcome {
    match call.behaviour.param("field") {
        Some(f) => {
            let mut m = Map::new();
            m.insert(f.to_owned(), bean);
            if Registry::get().extends(
                call.response_type().class().unwrap_or(""),
                "GenericRESTResponse",
            ) {
                m.insert("success".into(), Value::Bool(true));
            }
            Outcome::Value(Value::Object(m))
        }
        None => Outcome::Value(bean),
    }
}

/// The incoming bean: the JSON body, or form fields (`from=form`,
/// `from=form:product.` strips a prefix).
fn incoming(call: &Call<'_>) -> Map<String, Value> {
    let from = call.behaviour.param("from").unwrap_or("body");
    if let Some(prefix) = from.strip_prefix("form") {
        let prefix = prefix.trim_start_matches(':');
        return call
            .form
            .iter()
            .filter(|(k, _)| !k.starts_with("oauth_"))
            .filter_map(|(k, v)| {
                k.strip_prefix(prefix)
                    .map(|k| (k.to_owned(), Value::String(v.clone())))
            })
            .collect();
    }
    match &call.body {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    }
}

fn assignments(call: &Call<'_>, m: &mut Map<String, Value>) {
    if let Some(set) = call.behaviour.param("set") {
        for a in set.split(',') {
            if let Some((k, src)) = a.split_once(':') {
                m.insert(k.trim().to_owned(), call.source(src.trim()));
            }
        }
    }
}

/// `require=body.name,query.x`: a missing value is the resource's NPE.
fn required(call: &Call<'_>) -> Result<(), Outcome> {
    if let Some(req) = call.behaviour.param("require") {
        for src in req.split(',') {
            let v = call.source(src.trim());
            if v.is_null() || v == Value::String(String::new()) {
                return Err(Outcome::Error(Failure::Internal(format!(
                    "java.lang.NullPointerException: {} is required",
                    src.trim()
                ))));
            }
        }
    }
    Ok(())
}

fn reply(call: &Call<'_>, coll: &str, bean: Value) -> Outcome {
    match call.behaviour.param("reply").unwrap_or("echo") {
        "echo" => reply_value(call, bean),
        "list" => {
            let items: Vec<Value> = rows(call, coll).into_iter().map(|(_, _, b)| b).collect();
            let total = items.len();
            Outcome::Value(wrap_list(call, call.response_type(), items, total, (0, 0)))
        }
        "204" | "void" => Outcome::Empty(204),
        "200" => Outcome::Empty(200),
        "id" => Outcome::Value(lookup(&bean, &call.records_id_key(coll))),
        spec if spec.starts_with("generic:") => {
            let message = &spec["generic:".len()..];
            Outcome::Value(
                json!({"success": true, "message": (!message.is_empty()).then_some(message)}),
            )
        }
        spec if spec.starts_with("body:") => {
            Outcome::Value(body_value(call, &spec["body:".len()..]))
        }
        other => Outcome::Value(body_value(call, other)),
    }
}

fn create(call: &mut Call<'_>) -> Outcome {
    if let Err(o) = required(call) {
        return o;
    }
    let coll = call.behaviour.param("coll").unwrap_or_default().to_owned();
    let mut m = incoming(call);
    assignments(call, &mut m);
    let now = call.now;
    let key = call.records_id_key(&coll);
    let existing = (call.behaviour.param("upsert") == Some("true"))
        .then(|| {
            m.get(&key)
                .and_then(|v| v.as_i64().or_else(|| plain(v).parse().ok()))
        })
        .flatten()
        // An unknown id (past `Id`'s range too) makes a new row.
        .and_then(|id| Id::try_from(id).ok())
        .filter(|id| *id > 0 && call.read(|d| d.records.get(&coll, *id).is_some()));
    let id = match existing {
        Some(id) => {
            m.remove(&key);
            call.write(|d| {
                d.records.update(&coll, id, now, |row| {
                    for (k, v) in m {
                        row.insert(k, v);
                    }
                })
            });
            id
        }
        None => {
            m.remove(&key);
            call.write(|d| d.records.insert(&coll, m, now))
        }
    };
    let bean = call.read(|d| {
        d.records
            .get(&coll, id)
            .map(|r| Value::Object(r.fields.clone()))
    });
    reply(call, &coll, bean.unwrap_or(Value::Null))
}

fn update(call: &mut Call<'_>) -> Outcome {
    if let Err(o) = required(call) {
        return o;
    }
    let (coll, id, _) = match find(call) {
        Ok(x) => x,
        Err(o) => return o,
    };
    let mut patch = incoming(call);
    patch.remove(&call.records_id_key(&coll));
    assignments(call, &mut patch);
    let now = call.now;
    call.write(|d| {
        d.records.update(&coll, id, now, |m| {
            for (k, v) in patch {
                m.insert(k, v);
            }
        })
    });
    let bean = call.read(|d| {
        d.records
            .get(&coll, id)
            .map(|r| Value::Object(r.fields.clone()))
    });
    reply(call, &coll, bean.unwrap_or(Value::Null))
}

fn delete(call: &mut Call<'_>) -> Outcome {
    let (coll, id, bean) = match find(call) {
        Ok(x) => x,
        Err(o) => return o,
    };
    call.write(|d| d.records.remove(&coll, id));
    reply(call, &coll, bean)
}

#[cfg(test)]
mod tests {
    use super::*;
    use emr_catalog::{Api, Catalog, ProfileId};

    #[test]
    fn params_split_outside_json() {
        let p = parse_params(r#"coll=x; body={"a": 1; "b": [1; 2]}; reply=generic:Done"#).unwrap();
        assert_eq!(p["coll"], "x");
        assert_eq!(p["body"], r#"{"a": 1; "b": [1; 2]}"#);
        assert!(parse_params("nokey").is_err());
    }

    /// Every operation of every OSCAR variant's catalogue has exactly one
    /// behaviour, and every behaviour names an operation of its variant.
    #[test]
    fn the_table_covers_the_catalogues() {
        for (profile, v) in [
            (ProfileId::Oscar, Variant::Oscar19),
            (ProfileId::OpenO, Variant::OpenO),
            (ProfileId::Juno, Variant::Juno),
        ] {
            let table = Table::load(v).unwrap();
            let catalog = Catalog::of(profile);
            let mut missing = Vec::new();
            for op in catalog.operations().iter().filter(|o| o.api == Api::Rest) {
                if table.get(&op.id).is_none() {
                    missing.push(op.id.clone());
                }
            }
            assert!(
                missing.is_empty(),
                "{profile}: {} operations without a behaviour: {missing:#?}",
                missing.len()
            );
            for (op, b) in &table.by_op {
                assert!(
                    catalog.get(op).is_some(),
                    "{profile}: line {}: `{op}` is not in the catalogue",
                    b.line
                );
                if b.kind == Kind::Handler {
                    let name = b.param("name").unwrap_or_default();
                    assert!(
                        super::super::handlers::exists(name),
                        "{profile}: line {}: no handler `{name}`",
                        b.line
                    );
                }
            }
        }
    }
}
