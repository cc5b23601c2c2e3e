//! SOAP on the wire: reading request envelopes safely, the values the
//! transfer objects hold, and writing them as JAXB does, typed by the
//! catalogue's SOAP type table.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;

use super::dom::{Document, Limits, Node, ParseError};
use base64::Engine as _;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use emr_catalog::{Field, SoapTypes, TypeRef, Xsd};

pub const SOAP11_ENV: &str = "http://schemas.xmlsoap.org/soap/envelope/";
pub const SOAP12_ENV: &str = "http://www.w3.org/2003/05/soap-envelope";
pub const WSSE: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd";
pub const WSU: &str =
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd";
pub const WSS4J: &str = "http://ws.apache.org/wss4j";
pub const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Elements a request may hold: enough for the largest batch call, small
/// enough that a hostile envelope costs little memory.
const MAX_NODES: usize = 200_000;
/// Nesting deeper than any transfer object needs is refused.
const MAX_DEPTH: usize = 64;

/// Why a request envelope cannot be used; CXF answers each with a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Not well-formed, a DTD, an entity, too large or too deep.
    Malformed(String),
    /// A SOAP 1.2 envelope (or another root) on a SOAP 1.1 endpoint.
    VersionMismatch(String),
    /// No `Body` or an empty one.
    NoBody,
}

/// Parses a request body, refusing DTDs (so no external entities and no
/// entity expansion), bounding the node count and the nesting depth.
pub fn parse(text: &str) -> Result<Document<'_>, EnvelopeError> {
    let limits = Limits {
        nodes: MAX_NODES,
        depth: MAX_DEPTH,
    };
    Document::parse(text, limits).map_err(|e| {
        EnvelopeError::Malformed(match e {
            ParseError::Dtd => {
                "Received a document type declaration (DTD); DTDs are not allowed".to_owned()
            }
            ParseError::TooManyNodes(n) => format!("The request has more than {n} XML nodes"),
            ParseError::TooDeep(n) => {
                format!("The request nests elements more than {n} levels deep")
            }
            ParseError::Malformed(m) => format!("Unmarshalling Error: {m}"),
        })
    })
}

/// The parts of a SOAP 1.1 envelope the server reads.
#[derive(Debug)]
pub struct Envelope<'a, 'input> {
    pub header: Option<Node<'a, 'input>>,
    /// The body's first element: the operation's wrapper.
    pub wrapper: Node<'a, 'input>,
}

pub fn envelope<'a, 'input>(
    doc: &'a Document<'input>,
) -> Result<Envelope<'a, 'input>, EnvelopeError> {
    let root = doc.root_element();
    let name = root.tag_name();
    if name.name() != "Envelope" || name.namespace() != Some(SOAP11_ENV) {
        let ns = name.namespace().unwrap_or("");
        return Err(EnvelopeError::VersionMismatch(if ns == SOAP12_ENV {
            "A SOAP 1.2 message is not valid when sent to a SOAP 1.1 only endpoint.".to_owned()
        } else {
            format!("Invalid SOAP version: {{{ns}}}{}", name.name())
        }));
    }
    let child = |local: &str| {
        root.children()
            .find(|c| c.has_tag_name((SOAP11_ENV, local)))
    };
    let body = child("Body").ok_or(EnvelopeError::NoBody)?;
    let wrapper = body.children().next().ok_or(EnvelopeError::NoBody)?;
    Ok(Envelope {
        header: child("Header"),
        wrapper,
    })
}

/// An element child in no namespace (JAXB's unqualified elements).
pub fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    local: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
    node.children().filter(move |c| {
        c.tag_name().namespace().is_none_or(str::is_empty) && c.tag_name().name() == local
    })
}

// ---- values ------------------------------------------------------------

/// A value of a transfer object, a parameter or a return. Null is the
/// absence of a value (`Option<Val>`).
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Float(f64),
    /// An instant in the zone it is written in (server zone, or UTC for
    /// the `useGMTTime` operations).
    Time(DateTime<FixedOffset>),
    /// A Java `char`: written as its code point.
    Char(u32),
    Bytes(Vec<u8>),
    Obj(Obj),
    List(Vec<Val>),
}

/// An instance of a complex type: its schema name and its non-null fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Obj {
    pub ty: String,
    /// Field names are mostly the writers' literals: borrowed, not copied.
    /// A hash map: transfer objects are built field by field and written
    /// in schema order, one lookup per schema field, and hashing a name
    /// is cheaper than comparing it down a tree.
    pub fields: HashMap<Cow<'static, str>, Val, foldhash::fast::RandomState>,
}

impl Obj {
    pub fn new(ty: &str) -> Obj {
        Obj::with_capacity(ty, 0)
    }

    /// An object that will hold about `fields` fields (a large transfer
    /// object is built without growing its map step by step).
    pub fn with_capacity(ty: &str, fields: usize) -> Obj {
        Obj {
            ty: ty.to_owned(),
            fields: HashMap::with_capacity_and_hasher(fields, Default::default()),
        }
    }

    /// Sets a field.
    pub fn set(&mut self, name: impl Into<Cow<'static, str>>, v: impl Into<Val>) -> &mut Obj {
        self.fields.insert(name.into(), v.into());
        self
    }

    /// Sets a field when there is a value; `None` leaves it null.
    pub fn opt<T: Into<Val>>(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        v: Option<T>,
    ) -> &mut Obj {
        if let Some(v) = v {
            self.fields.insert(name.into(), v.into());
        }
        self
    }

    pub fn get(&self, name: &str) -> Option<&Val> {
        self.fields.get(name)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.fields.get(name) {
            Some(Val::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.fields.get(name) {
            Some(Val::Int(i)) => Some(*i),
            Some(Val::Char(c)) => Some(i64::from(*c)),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.fields.get(name) {
            Some(Val::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn time(&self, name: &str) -> Option<DateTime<FixedOffset>> {
        match self.fields.get(name) {
            Some(Val::Time(t)) => Some(*t),
            _ => None,
        }
    }

    pub fn list(&self, name: &str) -> Vec<&Val> {
        match self.fields.get(name) {
            Some(Val::List(items)) => items.iter().collect(),
            Some(one) => vec![one],
            None => Vec::new(),
        }
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Str(s.to_owned())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Str(s)
    }
}
impl From<&String> for Val {
    fn from(s: &String) -> Val {
        Val::Str(s.clone())
    }
}
impl From<crate::store::Text> for Val {
    fn from(s: crate::store::Text) -> Val {
        Val::Str(s.into())
    }
}

impl From<&crate::store::Text> for Val {
    fn from(s: &crate::store::Text) -> Val {
        Val::Str(s.to_string())
    }
}

impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::Int(i)
    }
}
impl From<i32> for Val {
    fn from(i: i32) -> Val {
        Val::Int(i64::from(i))
    }
}
impl From<u32> for Val {
    fn from(i: u32) -> Val {
        Val::Int(i64::from(i))
    }
}
impl From<usize> for Val {
    fn from(i: usize) -> Val {
        Val::Int(i64::try_from(i).unwrap_or(i64::MAX))
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Val {
        Val::Bool(b)
    }
}
impl From<DateTime<FixedOffset>> for Val {
    fn from(t: DateTime<FixedOffset>) -> Val {
        Val::Time(t)
    }
}
impl From<Obj> for Val {
    fn from(o: Obj) -> Val {
        Val::Obj(o)
    }
}
impl From<char> for Val {
    fn from(c: char) -> Val {
        Val::Char(u32::from(c))
    }
}
impl From<Vec<Val>> for Val {
    fn from(v: Vec<Val>) -> Val {
        Val::List(v)
    }
}
/// A string field that OSCAR stores as `''` rather than null.
pub fn s(v: &str) -> Val {
    Val::Str(v.to_owned())
}

// ---- time --------------------------------------------------------------

/// The zone the mock's clinic runs in: Eastern Standard Time. The real
/// servers use the JVM's zone (Toronto, with daylight saving time); the
/// mock keeps one fixed offset so answers do not depend on the season.
pub fn server_zone() -> FixedOffset {
    // -05:00 is a valid offset.
    FixedOffset::west_opt(5 * 3600).unwrap_or(Utc.fix())
}

/// The zone an operation writes calendars in.
pub fn zone(gmt: bool) -> FixedOffset {
    if gmt {
        Utc.fix()
    } else {
        server_zone()
    }
}

pub fn instant(t: impl Into<DateTime<Utc>>, gmt: bool) -> Val {
    Val::Time(t.into().with_timezone(&zone(gmt)))
}

/// A date or a date and time of day on the clinic's wall clock.
pub fn local(date: NaiveDate, time: NaiveTime, gmt: bool) -> Val {
    let wall = NaiveDateTime::new(date, time);
    let at = server_zone()
        .from_local_datetime(&wall)
        .single()
        .unwrap_or_else(|| server_zone().from_utc_datetime(&wall));
    Val::Time(at.with_timezone(&zone(gmt)))
}

/// A date as the midnight it starts with, on the clinic's clock.
pub fn day(date: NaiveDate) -> Val {
    local(date, NaiveTime::MIN, false)
}

/// OSCAR's "no date": `0001-01-01` on the clinic's clock.
pub fn no_date() -> Val {
    day(NaiveDate::from_ymd_opt(1, 1, 1).unwrap_or(NaiveDate::MIN))
}

/// xs:dateTime as JAXB prints it: seconds, milliseconds only when not
/// zero, `Z` for UTC and `±hh:mm` otherwise.
pub fn format_time(t: &DateTime<FixedOffset>) -> String {
    let mut out = String::with_capacity(29);
    write_time(&mut out, t);
    out
}

/// [`format_time`], appended to `out`. Four-digit years are written digit
/// by digit (chrono's `format` interprets its pattern on every call, a
/// measurable share of a SOAP response); others as chrono writes them.
fn write_time(out: &mut String, t: &DateTime<FixedOffset>) {
    use chrono::{Datelike, Timelike};
    let millis = t.timestamp_subsec_millis();
    let local = t.naive_local();
    if (0..=9999).contains(&local.year()) {
        // In range: every part fits its width.
        let year = local.year().unsigned_abs();
        digits(out, year, 4);
        out.push('-');
        digits(out, local.month(), 2);
        out.push('-');
        digits(out, local.day(), 2);
        out.push('T');
        digits(out, local.hour(), 2);
        out.push(':');
        digits(out, local.minute(), 2);
        out.push(':');
        digits(out, local.second(), 2);
    } else {
        let _ = write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%S"));
    }
    if millis != 0 {
        // A leap second's are 1000 and over: written whole.
        let _ = write!(out, ".{millis:03}");
    }
    let offset = t.offset().local_minus_utc();
    if offset == 0 {
        out.push('Z');
    } else {
        out.push(if offset < 0 { '-' } else { '+' });
        let minutes = offset.unsigned_abs() / 60;
        digits(out, minutes / 60, 2);
        out.push(':');
        digits(out, minutes % 60, 2);
    }
}

/// `n` zero-padded to `width` digits (`n` has at most `width` digits).
fn digits(out: &mut String, n: u32, width: u32) {
    for i in (0..width).rev() {
        let d = (n / 10u32.pow(i)) % 10;
        out.push(char::from(b'0' + d as u8));
    }
}

/// Parses xs:dateTime (or xs:date); without a zone, the clinic's zone.
pub fn parse_time(s: &str) -> Result<DateTime<FixedOffset>, String> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t);
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(s, fmt) {
            if let Some(t) = server_zone().from_local_datetime(&naive).single() {
                return Ok(t);
            }
        }
    }
    let (date, zone) = match s
        .find(['Z', '+'])
        .or_else(|| s.get(10..).and_then(|r| r.find('-').map(|i| i + 10)))
    {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, ""),
    };
    if let Ok(d) = NaiveDate::parse_from_str(date, "%Y-%m-%d") {
        let offset = if zone.is_empty() {
            Some(server_zone())
        } else if zone == "Z" {
            Some(Utc.fix())
        } else {
            DateTime::parse_from_rfc3339(&format!("{date}T00:00:00{zone}"))
                .ok()
                .map(|t| *t.offset())
        };
        if let Some(t) =
            offset.and_then(|o| o.from_local_datetime(&d.and_time(NaiveTime::MIN)).single())
        {
            return Ok(t);
        }
    }
    Err(format!("Unmarshalling Error: Not a valid dateTime: {s}"))
}

// ---- writing -----------------------------------------------------------

/// Writes values as JAXB marshals them, typed by the variant's table.
pub struct Writer<'a> {
    types: &'a SoapTypes,
    /// The prefix bound to the target namespace on the response wrapper.
    tns_prefix: &'a str,
    pub out: String,
}

impl<'a> Writer<'a> {
    pub fn new(types: &'a SoapTypes, tns_prefix: &'a str) -> Writer<'a> {
        Writer {
            types,
            tns_prefix,
            out: String::new(),
        }
    }

    /// A property, parameter or `return`: repeated for arrays, omitted
    /// when null unless it is a primitive (then its Java default).
    pub fn field(&mut self, field: &Field, value: Option<&Val>) {
        match value {
            None if field.primitive && !field.many => {
                let default = match field.ty {
                    TypeRef::Xs(Xsd::Boolean) => Val::Bool(false),
                    TypeRef::Xs(Xsd::Float) => Val::Float(0.0),
                    _ => Val::Int(0),
                };
                self.element(&field.name, &field.ty, &default);
            }
            None => {}
            Some(Val::List(items)) if field.many => {
                for item in items {
                    self.element(&field.name, &field.ty, item);
                }
            }
            Some(v) => self.element(&field.name, &field.ty, v),
        }
    }

    fn element(&mut self, name: &str, ty: &TypeRef, v: &Val) {
        match (ty, v) {
            (TypeRef::Complex(t), Val::Obj(o)) => {
                self.open(name, None);
                self.object(t, o);
                self.close(name);
            }
            (TypeRef::Xs(Xsd::AnyType), Val::Obj(o)) => {
                let xsi = format!(
                    " xmlns:xsi=\"{XSI}\" xsi:type=\"{}:{}\"",
                    self.tns_prefix, o.ty
                );
                self.open(name, Some(&xsi));
                self.object(&o.ty, o);
                self.close(name);
            }
            (_, Val::List(items)) => {
                // A list where one value was declared: JAXB writes each.
                for item in items {
                    self.element(name, ty, item);
                }
            }
            (_, scalar) => {
                self.open(name, None);
                scalar_text(&mut self.out, ty, scalar);
                self.close(name);
            }
        }
    }

    fn object(&mut self, ty: &str, o: &Obj) {
        let Some(complex) = self.types.complex(ty) else {
            return;
        };
        for f in &complex.fields {
            self.field(f, o.fields.get(f.name.as_str()));
        }
    }

    fn open(&mut self, name: &str, attrs: Option<&str>) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(attrs.unwrap_or(""));
        self.out.push('>');
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }
}

/// Appends the text of a simple value of a schema type, escaped.
fn scalar_text(out: &mut String, ty: &TypeRef, v: &Val) {
    match (ty, v) {
        (_, Val::Time(t)) => write_time(out, t),
        (_, Val::Bytes(b)) => base64::engine::general_purpose::STANDARD.encode_string(b, out),
        (_, Val::Char(c)) => {
            let _ = write!(out, "{c}");
        }
        (TypeRef::Xs(Xsd::UnsignedShort), Val::Str(s)) => {
            if let Some(c) = s.chars().next() {
                let _ = write!(out, "{}", u32::from(c));
            }
        }
        (_, Val::Str(s)) => crate::error::escape_into(out, s),
        (_, Val::Int(i)) => out.push_str(itoa::Buffer::new().format(*i)),
        (_, Val::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        (_, Val::Float(f)) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                let _ = write!(out, "{f:.1}");
            } else {
                let _ = write!(out, "{f}");
            }
        }
        (_, Val::Obj(_) | Val::List(_)) => {}
    }
}

// ---- reading -----------------------------------------------------------

/// Reads an element as a value of `field`'s type. `Ok(None)` for
/// `xsi:nil`; a text that does not parse is JAXB's unmarshalling error.
pub fn read(node: Node, field: &Field, types: &SoapTypes) -> Result<Option<Val>, String> {
    read_typed(node, &field.ty, types, 0)
}

fn read_typed(
    node: Node,
    ty: &TypeRef,
    types: &SoapTypes,
    depth: usize,
) -> Result<Option<Val>, String> {
    if node
        .attribute((XSI, "nil"))
        .is_some_and(|v| v == "true" || v == "1")
    {
        return Ok(None);
    }
    let raw = node.text();
    let t = raw.trim();
    let bad = |what: &str| format!("Unmarshalling Error: Not a {what}: {t}");
    Ok(Some(match ty {
        TypeRef::Complex(name) => {
            let Some(complex) = types.complex(name) else {
                return Ok(None);
            };
            let mut obj = Obj::new(name);
            if depth > 16 {
                return Ok(Some(Val::Obj(obj)));
            }
            for f in &complex.fields {
                let mut items = Vec::new();
                for child in children(node, &f.name) {
                    if let Some(v) = read_typed(child, &f.ty, types, depth + 1)? {
                        items.push(v);
                    }
                }
                if f.many {
                    if !items.is_empty() {
                        obj.fields.insert(f.name.clone().into(), Val::List(items));
                    }
                } else if let Some(v) = items.pop() {
                    obj.fields.insert(f.name.clone().into(), v);
                }
            }
            Val::Obj(obj)
        }
        TypeRef::Enum(name) => {
            let allowed = types
                .enumeration(name)
                .is_some_and(|e| e.values.iter().any(|v| v == t));
            if !allowed {
                return Err(format!(
                    "Unmarshalling Error: No enum constant for {name}: {t}"
                ));
            }
            Val::Str(t.to_owned())
        }
        TypeRef::Xs(x) => match x {
            Xsd::String | Xsd::AnyType => Val::Str(raw.to_owned()),
            Xsd::Int | Xsd::Long => {
                if t.is_empty() {
                    return Ok(None);
                }
                Val::Int(t.parse().map_err(|_| bad("number"))?)
            }
            Xsd::UnsignedShort => Val::Char(t.parse().map_err(|_| bad("number"))?),
            Xsd::Float | Xsd::Decimal => Val::Float(t.parse().map_err(|_| bad("number"))?),
            Xsd::Boolean => match t {
                "true" | "1" => Val::Bool(true),
                "false" | "0" => Val::Bool(false),
                "" => return Ok(None),
                _ => return Err(bad("boolean")),
            },
            Xsd::DateTime => {
                if t.is_empty() {
                    return Ok(None);
                }
                Val::Time(parse_time(t)?)
            }
            Xsd::Base64Binary => {
                let compact: String = t.chars().filter(|c| !c.is_whitespace()).collect();
                Val::Bytes(
                    base64::engine::general_purpose::STANDARD
                        .decode(compact)
                        .map_err(|_| bad("base64 value"))?,
                )
            }
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtds_entities_and_deep_nesting_are_refused() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>"#;
        assert!(matches!(parse(xxe), Err(EnvelopeError::Malformed(m)) if m.contains("DTD")));
        let lol =
            r#"<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><l>&b;</l>"#;
        assert!(parse(lol).is_err());
        assert!(parse("<x>&undefined;</x>").is_err());
        let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
        assert!(matches!(parse(&deep), Err(EnvelopeError::Malformed(m)) if m.contains("levels")));
        let shallow = format!("{}{}", "<a>".repeat(10), "</a>".repeat(10));
        assert!(parse(&shallow).is_ok());
        let many = format!("<a>{}</a>", "<b/>".repeat(MAX_NODES + 1));
        assert!(matches!(parse(&many), Err(EnvelopeError::Malformed(m)) if m.contains("nodes")));
    }

    #[test]
    fn envelopes_need_soap_11_and_a_body() {
        let text = format!(
            "<s:Envelope xmlns:s='{SOAP11_ENV}'><s:Body><x:op xmlns:x='urn:x'/></s:Body></s:Envelope>"
        );
        let doc = parse(&text).unwrap();
        let e = envelope(&doc).unwrap();
        assert_eq!(e.wrapper.tag_name().name(), "op");
        let text = format!("<s:Envelope xmlns:s='{SOAP12_ENV}'><s:Body/></s:Envelope>");
        let doc = parse(&text).unwrap();
        assert!(matches!(
            envelope(&doc),
            Err(EnvelopeError::VersionMismatch(_))
        ));
        let text = format!("<s:Envelope xmlns:s='{SOAP11_ENV}'><s:Body/></s:Envelope>");
        let doc = parse(&text).unwrap();
        assert_eq!(envelope(&doc).unwrap_err(), EnvelopeError::NoBody);
    }

    #[test]
    fn times_print_as_jaxb_prints_them() {
        let t = parse_time("2025-06-27T00:00:00.000-05:00").unwrap();
        assert_eq!(format_time(&t), "2025-06-27T00:00:00-05:00");
        let t = parse_time("2025-06-27T05:00:00.250Z").unwrap();
        assert_eq!(format_time(&t), "2025-06-27T05:00:00.250Z");
        let t = parse_time("2025-06-27").unwrap();
        assert_eq!(format_time(&t), "2025-06-27T00:00:00-05:00");
        let t = parse_time("2025-06-27T09:30:00").unwrap();
        assert_eq!(format_time(&t), "2025-06-27T09:30:00-05:00");
        assert!(parse_time("yesterday").is_err());
        let d = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        let nine = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let Val::Time(gmt) = local(d, nine, true) else {
            panic!()
        };
        assert_eq!(format_time(&gmt), "2026-01-05T14:00:00Z");
        let Val::Time(no) = no_date() else { panic!() };
        assert_eq!(format_time(&no), "0001-01-01T00:00:00-05:00");
        // Written by hand as chrono would: offsets east and west, halves.
        for s in [
            "2025-06-27T05:00:00.250+05:30",
            "2025-06-27T05:00:00-09:30",
            "9999-12-31T23:59:59.999+14:00",
        ] {
            let t = parse_time(s).unwrap();
            let chrono = t.format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string();
            let expect = chrono.replace(".000", "");
            assert_eq!(format_time(&t), expect, "{s}");
        }
    }

    #[test]
    fn objects_are_written_alphabetically_without_nulls() {
        let types = SoapTypes::of("open-o");
        let mut o = Obj::new("scheduleTemplateCodeTransfer");
        o.set("id", 1)
            .set("code", 'A')
            .set("description", "Academic");
        let field = Field {
            name: "return".into(),
            java: "ScheduleTemplateCodeTransfer".into(),
            ty: TypeRef::Complex("scheduleTemplateCodeTransfer".into()),
            many: false,
            primitive: false,
        };
        let mut w = Writer::new(types, "ns2");
        w.field(&field, Some(&Val::Obj(o)));
        // bookinglimit is an `int`: written with its default.
        assert_eq!(
            w.out,
            "<return><bookinglimit>0</bookinglimit><code>65</code><description>Academic</description><id>1</id></return>"
        );
    }

    #[test]
    fn values_are_read_by_their_declared_type() {
        let types = SoapTypes::of("oscar19");
        let doc =
            parse("<arg0><demographicNo>5</demographicNo><programId>x</programId></arg0>").unwrap();
        let field = Field {
            name: "arg0".into(),
            java: "AppointmentTransfer".into(),
            ty: TypeRef::Complex("appointmentTransfer".into()),
            many: false,
            primitive: false,
        };
        let err = read(doc.root_element(), &field, types).unwrap_err();
        assert!(err.contains("Not a number: x"), "{err}");
        let text = format!("<arg0 xmlns:xsi='{XSI}' xsi:nil='true'/>");
        let doc = parse(&text).unwrap();
        assert_eq!(read(doc.root_element(), &field, types).unwrap(), None);
    }
}
