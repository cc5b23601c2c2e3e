//! Writing a bean (a JSON object keyed by Java property names) as each
//! variant's serialiser would: Open-O's Jackson 2 with the JAXB
//! introspector, OSCAR 19's Jackson 1 bean mapping, Juno's Jackson 2 with
//! ISO dates, and JAXB XML. The Java type drives everything: primitives are
//! never null, dates become epoch milliseconds or ISO strings, characters
//! are code points in XML.

use std::collections::HashMap;
use std::sync::OnceLock;

use base64::Engine;
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, Timelike, Utc};
use parking_lot::RwLock;
use serde_json::{Map, Value};

use smallvec::{smallvec, SmallVec};

use super::bean::{self, Bean, Prop, Properties, Snapshot};
use super::types::{decapitalize, JType, Registry, Scalar};
use super::Variant;
use crate::error::xml_escape;
use crate::json_out;

/// Reads the instants beans carry: RFC 3339, `yyyy-MM-dd HH:mm:ss`,
/// `yyyy-MM-dd`, or epoch milliseconds.
pub fn instant(v: &Value) -> Option<DateTime<Utc>> {
    match v {
        Value::Number(n) => n.as_i64().and_then(DateTime::from_timestamp_millis),
        Value::String(s) => parse_instant(s),
        _ => None,
    }
}

pub fn parse_instant(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    plain_date_time(s).or_else(|| any_instant(s))
}

/// Every shape `parse_instant` reads, tried in turn.
fn any_instant(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    }
    s.parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_millis)
}

/// The two shapes the store writes, `yyyy-MM-dd` and `yyyy-MM-dd HH:mm:ss`,
/// read without trying every pattern in turn; anything else (or an
/// impossible date) is left to the general path, which answers the same.
fn plain_date_time(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b.get(r)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(5..7)?, num(8..10)?)?;
    match b.len() {
        10 => date.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
        19 if b[10] == b' ' && b[13] == b':' && b[16] == b':' => date
            .and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)
            .map(|t| t.and_utc()),
        _ => None,
    }
}

/// Writes a value of `ty` as JSON in a variant's dialect, straight to
/// `out`: a demographic is some sixty properties with nested beans, read on
/// every poll of an integration, so no intermediate tree is built.
/// Property names are unique per class and variant (checked by a test),
/// so each field is written once, in the serialiser's order.
pub fn write_json(out: &mut Vec<u8>, ty: &JType, v: &Value, variant: Variant) {
    match ty {
        // The shapes the store holds, written without a converted copy.
        JType::Primitive(Scalar::Int) | JType::Boxed(Scalar::Int)
            if v.as_i64().is_some() && v.is_number() =>
        {
            json_out::int(out, v.as_i64().unwrap_or_default())
        }
        JType::Primitive(Scalar::Bool) | JType::Boxed(Scalar::Bool) if v.is_boolean() => {
            json_out::bool(out, v.as_bool().unwrap_or_default())
        }
        JType::Primitive(s) | JType::Boxed(s) => match scalar(*s, v) {
            Some(x) => value(out, &x),
            None if matches!(ty, JType::Primitive(_)) => value(out, &zero(*s)),
            None => null(out),
        },
        JType::Str => match v {
            Value::Null => null(out),
            Value::String(s) => string(out, s),
            other => string(out, &plain(other)),
        },
        JType::Char { primitive } => match v {
            Value::Null if *primitive => string(out, "\u{0}"),
            Value::Null => null(out),
            other => string(out, &plain(other).chars().take(1).collect::<String>()),
        },
        JType::Date | JType::LocalDate | JType::LocalDateTime => {
            write_instant(out, ty, instant(v), variant)
        }
        JType::Bytes => match v {
            Value::Null => null(out),
            Value::String(s) => string(out, s),
            other => string(
                out,
                &base64::engine::general_purpose::STANDARD.encode(plain(other)),
            ),
        },
        JType::List(inner) => match v {
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_json(out, inner, item, variant);
                }
                out.push(b']');
            }
            Value::Null => null(out),
            single => {
                out.push(b'[');
                write_json(out, inner, single, variant);
                out.push(b']');
            }
        },
        JType::Map(inner) => match v {
            Value::Object(m) => {
                out.push(b'{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    string(out, k);
                    out.push(b':');
                    write_json(out, inner, x, variant);
                }
                out.push(b'}');
            }
            _ => null(out),
        },
        JType::Class(name, args) => write_class(out, name, args, v, variant),
        JType::Var(_) | JType::Any => value(out, v),
    }
}

/// A value of `ty` as a JSON document.
pub fn json_bytes(ty: &JType, v: &Value, variant: Variant) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write_json(&mut out, ty, v, variant);
    out
}

/// An instant as a date type of the variant (`None` is null).
fn write_instant(out: &mut Vec<u8>, ty: &JType, t: Option<DateTime<Utc>>, variant: Variant) {
    let Some(t) = t else {
        return null(out);
    };
    if !json_out::plain_year(t) {
        return match (ty, variant) {
            (JType::Date, Variant::Juno) => string(out, &juno_date(t)),
            (JType::Date, _) => json_out::int(out, t.timestamp_millis()),
            (JType::LocalDate, _) => string(out, &iso_date(t)),
            _ => string(out, &iso_date_time(t)),
        };
    }
    match (ty, variant) {
        (JType::Date, Variant::Juno) => {
            out.push(b'"');
            json_out::date_time(out, t);
            out.push(b'.');
            json_out::millis(out, t);
            out.extend_from_slice(b"+0000\"");
        }
        (JType::Date, _) => json_out::int(out, t.timestamp_millis()),
        (JType::LocalDate, _) => {
            out.push(b'"');
            json_out::date(out, t);
            out.push(b'"');
        }
        _ => {
            out.push(b'"');
            json_out::date_time(out, t);
            out.push(b'"');
        }
    }
}

fn write_class(out: &mut Vec<u8>, name: &str, args: &[JType], v: &Value, variant: Variant) {
    match v {
        Value::Object(bean) => write_object(out, name, args, bean, variant),
        other => value(out, other),
    }
}

fn write_object(
    out: &mut Vec<u8>,
    name: &str,
    args: &[JType],
    bean: &Map<String, Value>,
    variant: Variant,
) {
    let Some(plan) = JsonPlan::of(name, args, variant) else {
        let _ = serde_json::to_writer(out, bean);
        return;
    };
    let mut slots: SmallVec<[Option<&Value>; 64]> = smallvec![None; plan.slots.len()];
    match plan.row_layout.get().filter(|l| l.fits(bean)) {
        Some(layout) => {
            for ((_, v), &slot) in bean.iter().zip(layout.slots.iter()) {
                if let Some(s) = slots.get_mut(slot as usize) {
                    *s = Some(v);
                }
            }
        }
        None => {
            for (k, v) in bean {
                if let Some(&i) = plan.slots.get(k.as_str()) {
                    slots[i] = Some(v);
                }
            }
            if plan.row_layout.get().is_none() {
                let _ = plan.row_layout.set(RowLayout::of(&plan, bean));
            }
        }
    }
    out.push(b'{');
    for (i, p) in plan.props.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&p.key);
        write_json(out, &p.ty, slots[p.slot].unwrap_or(&Value::Null), variant);
    }
    out.push(b'}');
}

/// A row of a store snapshot (stamp) written as a class of the shared
/// plans always comes out the same: its text is kept, per thread, for as
/// long as the store keeps that stamp. Reference rows (the clinic's
/// specialists, contacts) are part of every demographic a client reads.
fn write_row(
    out: &mut Vec<u8>,
    name: &str,
    args: &[JType],
    row: &Map<String, Value>,
    variant: Variant,
    stamp: Option<u64>,
) {
    let (Some(stamp), Some(PlanRef::Shared(plan))) = (stamp, JsonPlan::of(name, args, variant))
    else {
        return write_object(out, name, args, row, variant);
    };
    let snapshot = Snapshot::of(row, stamp);
    kept(out, snapshot, plan, |out| {
        write_object(out, name, args, row, variant)
    });
}

/// Writes what `write` writes for a row of a store snapshot with a shared
/// plan, or the text kept from the last time ([`crate::kept`]).
fn kept(
    out: &mut Vec<u8>,
    snapshot: Snapshot,
    plan: &'static JsonPlan,
    write: impl FnOnce(&mut Vec<u8>),
) {
    let key = (
        snapshot.row,
        std::ptr::from_ref(plan) as usize,
        snapshot.view,
    );
    crate::kept::write(out, snapshot.stamp, key, write);
}

/// Writes a [`Bean`] as a value of `ty`: the bean lists its properties
/// once, and the class plan writes them in the serialiser's order through
/// the bean's layout (no JSON tree is built).
pub fn write_bean(out: &mut Vec<u8>, ty: &JType, bean: &dyn Bean, variant: Variant) {
    let JType::Class(name, args) = ty else {
        return write_json(out, ty, &bean::to_value(bean), variant);
    };
    let Some(plan) = JsonPlan::of(name, args, variant) else {
        return value(out, &bean::to_value(bean));
    };
    match (&plan, bean.snapshot()) {
        (PlanRef::Shared(shared), Some(snapshot)) => kept(out, snapshot, shared, |out| {
            write_bean_with(out, shared, bean, variant)
        }),
        _ => write_bean_with(out, &plan, bean, variant),
    }
}

/// [`write_bean`] with the class's plan.
fn write_bean_with(out: &mut Vec<u8>, plan: &JsonPlan, bean: &dyn Bean, variant: Variant) {
    let props = Properties::of(bean);
    let first = plan.layout.get().filter(|l| props.same_names(&l.names));
    let others = match first {
        Some(_) => None,
        None => Some(plan.more_layouts.read_recursive()),
    };
    let cached = first.or_else(|| {
        others
            .as_ref()
            .and_then(|o| o.iter().find(|l| props.same_names(&l.names)))
    });
    let built = cached.is_none().then(|| plan.layout(&props));
    let at: &[u32] = match (cached, &built) {
        (Some(l), _) | (None, Some(l)) => &l.at,
        (None, None) => &[],
    };
    out.push(b'{');
    for (i, p) in plan.props.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&p.key);
        let prop = at.get(p.slot).and_then(|&j| props.get(j as usize));
        match prop {
            Some(prop) => write_prop(out, &p.ty, prop, variant),
            None => write_json(out, &p.ty, &Value::Null, variant),
        }
    }
    out.push(b'}');
    drop(others);
    if let Some(layout) = built {
        plan.remember(layout);
    }
}

/// A property as a value of `ty`: the shapes the store holds are written
/// directly, anything else through its tree form (the same bytes, since
/// the tree form is what [`write_json`] reads).
fn write_prop(out: &mut Vec<u8>, ty: &JType, prop: &Prop<'_>, variant: Variant) {
    use JType as J;
    let in_range = |d: NaiveDate| (0..=9999).contains(&d.year());
    match (ty, prop) {
        (_, Prop::Json(v)) => write_json(out, ty, v, variant),
        (_, Prop::Null) => write_json(out, ty, &Value::Null, variant),
        (J::Str, Prop::Str(s)) => string(out, s),
        (J::Str, Prop::Text(s)) => string(out, s),
        (J::Str, Prop::Listed(a, b)) => json_out::string_of(out, &[a, ", ", b]),
        (J::Str, Prop::Digits(n, width)) => json_out::padded(out, *n, *width),
        (J::Str, Prop::Spaced(a, b)) => json_out::string_of(out, &[a, " ", b]),
        (J::Primitive(Scalar::Int) | J::Boxed(Scalar::Int), Prop::Int(n)) => json_out::int(out, *n),
        (J::Primitive(Scalar::Bool) | J::Boxed(Scalar::Bool), Prop::Bool(b)) => {
            json_out::bool(out, *b)
        }
        (J::Date | J::LocalDate | J::LocalDateTime, Prop::Date(d)) if in_range(*d) => {
            write_instant(
                out,
                ty,
                d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()),
                variant,
            )
        }
        (J::Date | J::LocalDate | J::LocalDateTime, Prop::Instant(t))
            if in_range(t.date_naive()) =>
        {
            write_instant(out, ty, Some(*t), variant)
        }
        (J::Class(..), Prop::Bean(b)) => write_bean(out, ty, &**b, variant),
        (J::List(inner), Prop::Rows(rows, stamp)) => {
            out.push(b'[');
            for (i, row) in rows.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match &**inner {
                    J::Class(name, args) => write_row(out, name, args, row, variant, *stamp),
                    other => write_json(out, other, &Value::Object((*row).clone()), variant),
                }
            }
            out.push(b']');
        }
        (_, other) => write_json(out, ty, &other.reborrow().into_value(), variant),
    }
}

/// How a class is written as JSON in one variant: its properties in the
/// serialiser's order, each key already escaped, and an index from bean
/// property to slot, so a JSON-object bean is read in one pass over its
/// entries (rows often lack many of the class's properties, and looking
/// each one up in turn was quadratic).
struct JsonPlan {
    props: Vec<Property>,
    /// Bean property name to slot (distinct names; two JSON names may read
    /// one property).
    slots: HashMap<Box<str>, usize, foldhash::fast::RandomState>,
    /// Where the first [`Bean`] layout written with this plan keeps each
    /// slot. A bean type lists its properties the same way every time, so
    /// this is found, not rebuilt, per read, and read without a lock.
    layout: OnceLock<Layout>,
    /// Other layouts (a bean type whose property list varies).
    more_layouts: RwLock<Vec<Layout>>,
    /// The slots of the entries of the first JSON row written with this
    /// plan. Rows of one collection are built by one piece of code, so
    /// their keys come in one order: comparing them with these is cheaper
    /// than hashing each.
    row_layout: OnceLock<RowLayout>,
}

/// Where the entries of a JSON row go, by position.
struct RowLayout {
    keys: Box<[Box<str>]>,
    /// Entry to slot; [`ABSENT`] for a key the class does not have.
    slots: Box<[u32]>,
}

impl RowLayout {
    fn of(plan: &JsonPlan, row: &Map<String, Value>) -> RowLayout {
        RowLayout {
            keys: row.keys().map(|k| k.as_str().into()).collect(),
            slots: row
                .keys()
                .map(|k| {
                    plan.slots
                        .get(k.as_str())
                        .and_then(|&s| u32::try_from(s).ok())
                        .unwrap_or(ABSENT)
                })
                .collect(),
        }
    }

    /// Whether `row` has exactly these keys, in this order.
    fn fits(&self, row: &Map<String, Value>) -> bool {
        row.len() == self.keys.len() && row.keys().zip(self.keys.iter()).all(|(a, b)| **a == **b)
    }
}

/// Where a bean layout keeps each slot of a plan.
struct Layout {
    /// The bean's property names, in its order (compared by address).
    names: Box<[&'static str]>,
    /// Slot to index in the bean's list; [`ABSENT`] when the bean has no
    /// such property.
    at: Box<[u32]>,
}

const ABSENT: u32 = u32::MAX;

/// Layouts kept per plan; a bean built with varying property lists past
/// that is still written, through a layout built for it.
const MAX_LAYOUTS: usize = 16;

struct Property {
    /// `"name":`, escaped as serde_json escapes it.
    key: Box<[u8]>,
    ty: JType,
    /// The slot of the bean property it reads in [`JsonPlan::slots`].
    slot: usize,
}

/// A class's plan: the shared one of a class used without type
/// arguments, or one built for a use with bound type variables.
enum PlanRef {
    Shared(&'static JsonPlan),
    Bound(Box<JsonPlan>),
}

impl std::ops::Deref for PlanRef {
    type Target = JsonPlan;

    fn deref(&self) -> &JsonPlan {
        match self {
            PlanRef::Shared(p) => p,
            PlanRef::Bound(p) => p,
        }
    }
}

/// Every described class's plans, one per variant, each built on first
/// use. The map is complete from the start, so finding a plan takes no
/// lock: the serving threads never contend for it.
type Plans = HashMap<&'static str, [OnceLock<JsonPlan>; 3], foldhash::fast::RandomState>;

impl JsonPlan {
    /// The plan of `name<args>`, or `None` for a class the tables do not
    /// describe (JPA entities written as beans, json-lib objects, manager
    /// beans), which is written as given.
    fn of(name: &str, args: &[JType], variant: Variant) -> Option<PlanRef> {
        static PLANS: OnceLock<Plans> = OnceLock::new();
        let plans = PLANS.get_or_init(|| {
            let reg = Registry::get();
            reg.class_names()
                .filter(|n| {
                    reg.class(n)
                        .is_some_and(|c| !c.fields.is_empty() || c.extends.is_some())
                })
                .map(|n| (n, Default::default()))
                .collect()
        });
        let per_variant = plans.get(name)?;
        if !args.is_empty() {
            // Bound type variables: built for this use.
            return Some(PlanRef::Bound(Box::new(JsonPlan::build(
                name, args, variant,
            ))));
        }
        Some(PlanRef::Shared(
            per_variant[variant as usize].get_or_init(|| JsonPlan::build(name, args, variant)),
        ))
    }

    fn build(name: &str, args: &[JType], variant: Variant) -> JsonPlan {
        let mut slots: HashMap<Box<str>, usize, _> = HashMap::default();
        let props = Registry::get()
            .fields(name, args, variant)
            .into_iter()
            .filter_map(|f| {
                let mut key = serde_json::to_vec(f.json_name(variant)?).unwrap_or_default();
                key.push(b':');
                let next = slots.len();
                let slot = *slots.entry(f.name.as_str().into()).or_insert(next);
                Some(Property {
                    key: key.into(),
                    ty: f.ty,
                    slot,
                })
            })
            .collect();
        JsonPlan {
            props,
            slots,
            layout: OnceLock::new(),
            more_layouts: RwLock::default(),
            row_layout: OnceLock::new(),
        }
    }

    /// Where `props` keeps each slot.
    fn layout(&self, props: &Properties<'_>) -> Layout {
        let mut at = vec![ABSENT; self.slots.len()];
        for (i, name) in props.names().enumerate().rev() {
            if let Some(&slot) = self.slots.get(name) {
                at[slot] = u32::try_from(i).unwrap_or(ABSENT);
            }
        }
        Layout {
            names: props.names().collect(),
            at: at.into(),
        }
    }

    /// Keeps a layout for the next bean of its type: as the first, or
    /// with the others unless another thread holds their lock (this one
    /// may be writing a bean nested in a bean of the same class) or enough
    /// are kept already.
    fn remember(&self, layout: Layout) {
        let Err(layout) = self.layout.set(layout) else {
            return;
        };
        if let Some(mut more) = self.more_layouts.try_write() {
            let known = self.layout.get().is_some_and(|l| l.names == layout.names)
                || more.iter().any(|l| l.names == layout.names);
            if more.len() < MAX_LAYOUTS && !known {
                more.push(layout);
            }
        }
    }
}

/// Any JSON value, as serde_json writes it.
fn value(out: &mut Vec<u8>, v: &Value) {
    // Writing to a Vec cannot fail, and a Value always serialises.
    let _ = serde_json::to_writer(out, v);
}

use crate::json_out::{null, string};

fn scalar(s: Scalar, v: &Value) -> Option<Value> {
    match (s, v) {
        (_, Value::Null) => None,
        (Scalar::Bool, Value::Bool(_)) => Some(v.clone()),
        (Scalar::Bool, Value::String(x)) => {
            Some(Value::Bool(matches!(x.as_str(), "true" | "1" | "Y" | "y")))
        }
        (Scalar::Bool, Value::Number(n)) => Some(Value::Bool(n.as_i64() != Some(0))),
        (Scalar::Int, Value::Number(n)) => Some(n.as_i64().map_or_else(
            || Value::from(n.as_f64().unwrap_or(0.0) as i64),
            Value::from,
        )),
        (Scalar::Int, Value::String(x)) => x.trim().parse::<i64>().ok().map(Value::from),
        (Scalar::Int, Value::Bool(b)) => Some(Value::from(i64::from(*b))),
        (Scalar::Float, Value::Number(n)) => n.as_f64().map(Value::from),
        (Scalar::Float, Value::String(x)) => x.trim().parse::<f64>().ok().map(Value::from),
        _ => None,
    }
}

fn zero(s: Scalar) -> Value {
    match s {
        Scalar::Int => Value::from(0),
        Scalar::Float => Value::from(0.0),
        Scalar::Bool => Value::Bool(false),
    }
}

/// A scalar as text.
pub fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A row's or bean's property as text ([`plain`]; absent is empty).
pub fn prop(m: &serde_json::Map<String, Value>, key: &str) -> String {
    m.get(key).map(plain).unwrap_or_default()
}

/// Jackson 2.9's `StdDateFormat` in UTC, as Juno writes `java.util.Date`.
pub fn juno_date(t: DateTime<Utc>) -> String {
    if !(0..=9999).contains(&t.year()) {
        return t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string();
    }
    format!(
        "{}.{:03}+0000",
        iso_date_time(t),
        t.timestamp_subsec_millis() % 1000
    )
}

/// `yyyy-MM-dd` (chrono's `%Y-%m-%d`, without parsing a format string on
/// every value).
pub fn iso_date(t: DateTime<Utc>) -> String {
    if !(0..=9999).contains(&t.year()) {
        return t.format("%Y-%m-%d").to_string();
    }
    format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
}

/// `yyyy-MM-ddTHH:mm:ss` (chrono's `%Y-%m-%dT%H:%M:%S`).
pub fn iso_date_time(t: DateTime<Utc>) -> String {
    if !(0..=9999).contains(&t.year()) {
        return t.format("%Y-%m-%dT%H:%M:%S").to_string();
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// JAXB's `xs:dateTime` in the server zone (UTC): milliseconds only when
/// not zero.
pub fn xml_date(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
        .replace(".000Z", "Z")
}

/// Why a value cannot be written as XML: CXF finds no writer for the type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoXmlWriter(pub String);

/// A whole XML document for a value of `ty`, as CXF's JAXBElementProvider
/// writes it: only JAXB root classes (and lists of them) have a writer.
pub fn xml_document(ty: &JType, v: &Value, variant: Variant) -> Result<String, NoXmlWriter> {
    let reg = Registry::get();
    let head = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;
    match ty {
        JType::Class(name, args) => {
            let root = reg
                .class(name)
                .and_then(|c| c.xml_root.clone())
                .ok_or_else(|| NoXmlWriter(name.clone()))?;
            let mut out = String::from(head);
            element(&mut out, &root, ty, v, variant, false);
            let _ = args;
            Ok(out)
        }
        JType::List(inner) => {
            let Some(name) = inner.class() else {
                return Err(NoXmlWriter(java_name(ty)));
            };
            let root = reg
                .class(name)
                .and_then(|c| c.xml_root.clone())
                .ok_or_else(|| NoXmlWriter(java_name(ty)))?;
            let mut out = format!("{head}<{root}s>");
            if let Value::Array(items) = v {
                for i in items {
                    element(&mut out, &root, inner, i, variant, false);
                }
            }
            out.push_str(&format!("</{root}s>"));
            Ok(out)
        }
        other => Err(NoXmlWriter(java_name(other))),
    }
}

/// The Java class name CXF puts in "No message body writer" messages.
pub fn java_name(ty: &JType) -> String {
    match ty {
        JType::Primitive(Scalar::Int) | JType::Boxed(Scalar::Int) => "java.lang.Integer".into(),
        JType::Primitive(Scalar::Float) | JType::Boxed(Scalar::Float) => "java.lang.Double".into(),
        JType::Primitive(Scalar::Bool) | JType::Boxed(Scalar::Bool) => "java.lang.Boolean".into(),
        JType::Str => "java.lang.String".into(),
        JType::List(_) => "java.util.ArrayList".into(),
        JType::Map(_) => "java.util.HashMap".into(),
        JType::Class(n, _) => n.clone(),
        _ => "java.lang.Object".into(),
    }
}

/// Appends `<name>...</name>` for a value of `ty`; nulls are omitted.
fn element(out: &mut String, name: &str, ty: &JType, v: &Value, variant: Variant, typed: bool) {
    if v.is_null() && !matches!(ty, JType::Primitive(_) | JType::Char { primitive: true }) {
        return;
    }
    match ty {
        JType::List(inner) => {
            if let Value::Array(items) = v {
                for i in items {
                    element(out, name, inner, i, variant, typed);
                }
            }
        }
        JType::Class(cname, args) if Registry::get().class(cname).is_some() => {
            let Value::Object(bean) = v else {
                return;
            };
            let reg = Registry::get();
            let mut fields: Vec<_> = reg
                .fields(cname, args, variant)
                .into_iter()
                .filter_map(|f| f.xml.clone().map(|x| (x, f)))
                .collect();
            // JAXB writes the superclass's properties first; each class's own
            // getter-bound ones sorted, field-bound ones as declared.
            if reg.class(cname).is_some_and(|c| c.xml_alphabetical) {
                let own: std::collections::HashSet<String> = reg
                    .class(cname)
                    .map(|c| c.fields.iter().map(|f| f.name.clone()).collect())
                    .unwrap_or_default();
                let (mine, inherited): (Vec<_>, Vec<_>) =
                    fields.into_iter().partition(|(_, f)| own.contains(&f.name));
                let mut inherited = inherited;
                let mut mine = mine;
                inherited.sort_by(|a, b| a.0.cmp(&b.0));
                mine.sort_by(|a, b| a.0.cmp(&b.0));
                fields = inherited.into_iter().chain(mine).collect();
            }
            if typed {
                out.push_str(&format!(
                    "<{name} xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"{}\">",
                    decapitalize(cname)
                ));
            } else {
                out.push_str(&format!("<{name}>"));
            }
            for (xml_name, f) in fields {
                let value = bean.get(&f.name).unwrap_or(&Value::Null);
                let typed_items = matches!(&f.ty, JType::List(_)) && xml_name == "Item";
                element(out, &xml_name, &f.ty, value, variant, typed_items);
            }
            out.push_str(&format!("</{name}>"));
        }
        JType::Class(..) | JType::Any | JType::Var(_) | JType::Map(_) => {
            free_element(out, name, v);
        }
        _ => {
            let text = xml_scalar(ty, v);
            if text.is_empty() {
                out.push_str(&format!("<{name}></{name}>"));
            } else {
                out.push_str(&format!("<{name}>{}</{name}>", xml_escape(&text)));
            }
        }
    }
}

/// An untyped JSON value as XML elements (classes the tables do not describe).
fn free_element(out: &mut String, name: &str, v: &Value) {
    match v {
        Value::Null => {}
        Value::Array(items) => items.iter().for_each(|i| free_element(out, name, i)),
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for k in keys {
                free_element(out, k, &m[k]);
            }
            out.push_str(&format!("</{name}>"));
        }
        other => out.push_str(&format!("<{name}>{}</{name}>", xml_escape(&plain(other)))),
    }
}

fn xml_scalar(ty: &JType, v: &Value) -> String {
    match ty {
        JType::Date => instant(v).map(xml_date).unwrap_or_default(),
        JType::LocalDate => instant(v).map(iso_date).unwrap_or_default(),
        JType::LocalDateTime => instant(v).map(iso_date_time).unwrap_or_default(),
        JType::Char { .. } => plain(v)
            .chars()
            .next()
            .map_or_else(|| "0".to_owned(), |c| (c as u32).to_string()),
        JType::Primitive(s) | JType::Boxed(s) => match scalar(*s, v).unwrap_or_else(|| zero(*s)) {
            Value::Number(n) if *s == Scalar::Float => {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 {
                    format!("{f:.1}")
                } else {
                    f.to_string()
                }
            }
            other => plain(&other),
        },
        JType::Bytes => match v {
            Value::String(s) => s.clone(),
            other => base64::engine::general_purpose::STANDARD.encode(plain(other)),
        },
        _ => plain(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json(ty: &JType, v: &Value, variant: Variant) -> Value {
        serde_json::from_slice(&json_bytes(ty, v, variant)).expect("written JSON parses")
    }

    #[test]
    fn the_fast_date_shapes_read_as_the_general_parser_does() {
        for s in [
            "2025-07-15",
            "2025-07-15 10:20:30",
            "2024-02-29",
            "2025-02-29",
            "2025-13-01",
            "2025-07-15 24:00:00",
            "2025-07-15 23:59:60",
            "2025-7-15",
            "2025-07-15T10:20:30",
            "2025-07-15T10:20:30.5Z",
            "0001-01-01",
            "2025-07-1x",
            "1752537600000",
        ] {
            assert_eq!(parse_instant(s), any_instant(s), "{s}");
        }
        assert!(parse_instant("2025-07-15 10:20:30").is_some());
    }

    #[test]
    fn date_writers_match_chrono_formats() {
        for t in [
            DateTime::from_timestamp_millis(1_752_537_600_000),
            DateTime::from_timestamp_millis(1_752_581_234_567),
            DateTime::from_timestamp_millis(-62_135_596_800_000),
            DateTime::from_timestamp_millis(253_402_300_799_999),
        ] {
            let t = t.expect("in range");
            assert_eq!(
                juno_date(t),
                t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
            );
            assert_eq!(iso_date(t), t.format("%Y-%m-%d").to_string());
            assert_eq!(iso_date_time(t), t.format("%Y-%m-%dT%H:%M:%S").to_string());
        }
    }

    /// The writer puts each property once, where the serialiser would:
    /// that holds because no class has two properties of one JSON name.
    #[test]
    fn json_property_names_are_unique_per_class_and_variant() {
        let reg = Registry::get();
        for variant in [Variant::Oscar19, Variant::OpenO, Variant::Juno] {
            for name in reg.class_names() {
                let fields = reg.fields(name, &[], variant);
                let mut seen = std::collections::HashSet::new();
                for f in &fields {
                    if let Some(k) = f.json_name(variant) {
                        assert!(seen.insert(k), "{name} writes `{k}` twice in {variant:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn lists_maps_and_singletons_are_written_as_jackson_does() {
        let list = JType::parse("List<GenericRESTResponse>");
        let bean = json!({"success": true, "message": "é\"\n"});
        assert_eq!(
            String::from_utf8(json_bytes(&list, &bean, Variant::OpenO)).unwrap(),
            r#"[{"success":true,"message":"é\"\n"}]"#
        );
        assert_eq!(json_bytes(&list, &Value::Null, Variant::OpenO), b"null");
        let map = JType::parse("Map<String,Integer>");
        assert_eq!(
            json_bytes(&map, &json!({"b": "2", "a": 1.0}), Variant::Juno),
            br#"{"b":2,"a":1}"#
        );
    }

    #[test]
    fn primitives_are_never_null_and_dates_follow_the_variant() {
        let bean = json!({"success": null, "message": "x"});
        let t = JType::parse("GenericRESTResponse");
        assert_eq!(
            json(&t, &bean, Variant::OpenO),
            json!({"success": false, "message": "x"})
        );
        let d = JType::Date;
        let v = json!("2025-07-15");
        assert_eq!(json(&d, &v, Variant::OpenO), json!(1_752_537_600_000_i64));
        assert_eq!(
            json(&d, &v, Variant::Juno),
            json!("2025-07-15T00:00:00.000+0000")
        );
    }

    #[test]
    fn oscar_search_response_is_a_list_of_typed_items() {
        let t = JType::parse("OscarSearchResponse<DemographicMergedTo1>");
        let v = json!({"offset": 0, "limit": 0, "total": 0, "timestamp": "2025-09-11T12:53:20.208Z", "content": []});
        let x = xml_document(&t, &v, Variant::OpenO).unwrap();
        assert!(x.ends_with("<List><limit>0</limit><offset>0</offset><timestamp>2025-09-11T12:53:20.208Z</timestamp><total>0</total></List>"), "{x}");
    }

    #[test]
    fn a_character_is_its_code_point_in_xml() {
        let t = JType::parse("PharmacyInfoTo1");
        let v = json!({"id": 8, "name": "HealthShield Pharmacy", "status": "0"});
        let x = xml_document(&t, &v, Variant::OpenO).unwrap();
        assert!(x.contains("<status>48</status>"), "{x}");
        assert!(x.contains("<pharmacyInfoTo1><id>8</id><name>"), "{x}");
    }

    #[test]
    fn no_writer_for_a_bare_integer_in_xml() {
        assert_eq!(
            xml_document(&JType::parse("int"), &json!(3), Variant::OpenO),
            Err(NoXmlWriter("java.lang.Integer".into()))
        );
    }
}
