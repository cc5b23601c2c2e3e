//! Beans read from the store's rows. The hot reads (a demographic is some
//! 170 properties with nested beans, polled by every integration) are
//! written as JSON straight from a [`Bean`]'s properties, without building a
//! JSON tree first; [`to_value`] gives the tree form for everything else
//! (XML, lists, handlers that edit a bean before it is written). Both forms
//! come from the same [`Bean::properties`], so they cannot disagree.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

/// A Java bean: named properties, listed in one pass.
pub trait Bean {
    /// Puts every property, in the order the tree form lists them. A
    /// property left out is absent: missing from the tree form, null to
    /// the JSON writer.
    fn properties<'s>(&'s self, out: &mut Properties<'s>);

    /// The one store row the properties are derived from, if that is all
    /// they depend on: the bean's written form can then be kept for as
    /// long as the store keeps its stamp.
    fn snapshot(&self) -> Option<Snapshot> {
        None
    }
}

/// A row of a store as of one stamp ([`crate::store::Store::stamp`]),
/// seen one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    /// The row's address, which identifies it while the stamp holds.
    pub row: usize,
    pub stamp: u64,
    /// What else the written form depends on besides the row (the day an
    /// age is counted to, which lists a resource adds): beans of one row
    /// and class that differ in it are kept apart.
    pub view: u64,
}

impl Snapshot {
    pub fn of<T>(row: &T, stamp: u64) -> Snapshot {
        Snapshot {
            row: std::ptr::from_ref(row) as usize,
            stamp,
            view: 0,
        }
    }

    /// The same row seen as `view`.
    pub fn viewed(self, view: u64) -> Snapshot {
        Snapshot { view, ..self }
    }
}

/// One property's value, borrowed from the store where it can be.
pub enum Prop<'a> {
    Null,
    Str(&'a str),
    Text(String),
    /// `last, first`, as beans spell a name for lists, without
    /// formatting it into a `String` on every read.
    Listed(&'a str, &'a str),
    /// `first last`.
    Spaced(&'a str, &'a str),
    Int(i64),
    /// A number written as text, zero-padded to a width (`"07"`).
    Digits(u32, u8),
    Bool(bool),
    /// A date, which the tree form holds as `yyyy-MM-dd`.
    Date(NaiveDate),
    /// An instant, which the tree form holds as RFC 3339 with milliseconds
    /// (so it is kept to the millisecond here too).
    Instant(DateTime<Utc>),
    Json(&'a Value),
    /// Rows of a records collection, a list of JSON objects, with the
    /// stamp of the store they were read from when there is one (each
    /// row's written form is then kept while the store keeps that stamp).
    Rows(Vec<&'a Map<String, Value>>, Option<u64>),
    Bean(Box<dyn Bean + 'a>),
}

impl<'a> Prop<'a> {
    pub fn opt_str(s: Option<&'a str>) -> Prop<'a> {
        s.map_or(Prop::Null, Prop::Str)
    }

    pub fn opt_date(d: Option<NaiveDate>) -> Prop<'a> {
        d.map_or(Prop::Null, Prop::Date)
    }

    /// `t` to the millisecond, as its RFC 3339 text reads back.
    pub fn instant(t: impl Into<DateTime<Utc>>) -> Prop<'a> {
        let t = t.into();
        Prop::Instant(DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t))
    }

    /// An empty string as null.
    pub fn non_empty(s: &'a str) -> Prop<'a> {
        if s.is_empty() {
            Prop::Null
        } else {
            Prop::Str(s)
        }
    }

    /// The tree form.
    pub fn into_value(self) -> Value {
        match self {
            Prop::Null => Value::Null,
            Prop::Str(s) => Value::String(s.to_owned()),
            Prop::Text(s) => Value::String(s),
            Prop::Listed(a, b) => Value::String([a, ", ", b].concat()),
            Prop::Spaced(a, b) => Value::String([a, " ", b].concat()),
            Prop::Int(n) => Value::from(n),
            Prop::Digits(n, width) => {
                Value::String(format!("{n:0width$}", width = usize::from(width)))
            }
            Prop::Bool(b) => Value::Bool(b),
            Prop::Date(d) => Value::String(d.to_string()),
            Prop::Instant(t) => {
                Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            }
            Prop::Json(v) => v.clone(),
            Prop::Rows(rows, _) => {
                Value::Array(rows.into_iter().map(|m| Value::Object(m.clone())).collect())
            }
            Prop::Bean(b) => to_value(&*b),
        }
    }

    /// The same value, borrowed from this one.
    pub fn reborrow(&self) -> Prop<'_> {
        match self {
            Prop::Null => Prop::Null,
            Prop::Str(s) => Prop::Str(s),
            Prop::Text(s) => Prop::Str(s),
            Prop::Listed(a, b) => Prop::Listed(a, b),
            Prop::Spaced(a, b) => Prop::Spaced(a, b),
            Prop::Int(n) => Prop::Int(*n),
            Prop::Digits(n, width) => Prop::Digits(*n, *width),
            Prop::Bool(b) => Prop::Bool(*b),
            Prop::Date(d) => Prop::Date(*d),
            Prop::Instant(t) => Prop::Instant(*t),
            Prop::Json(v) => Prop::Json(v),
            Prop::Rows(rows, stamp) => Prop::Rows(rows.clone(), *stamp),
            Prop::Bean(b) => Prop::Bean(Box::new(Borrowed(&**b))),
        }
    }
}

/// A bean's properties, as [`Bean::properties`] lists them.
pub struct Properties<'a> {
    entries: Vec<(&'static str, Prop<'a>)>,
}

impl<'a> Properties<'a> {
    /// Every property of `bean`.
    pub fn of(bean: &'a dyn Bean) -> Properties<'a> {
        let mut out = Properties {
            entries: Vec::with_capacity(8),
        };
        bean.properties(&mut out);
        out
    }

    /// Makes room for `n` more properties (a bean that lists many says
    /// so first, rather than growing the list step by step).
    pub fn reserve(&mut self, n: usize) {
        self.entries.reserve(n);
    }

    /// Adds a property.
    pub fn put(&mut self, name: &'static str, value: Prop<'a>) {
        self.entries.push((name, value));
    }

    /// Replaces a property already put, or adds it: a converter's bean
    /// that the resource then changes.
    pub fn set(&mut self, name: &'static str, value: Prop<'a>) {
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = value,
            None => self.put(name, value),
        }
    }

    /// The property names, in order.
    pub fn names(&self) -> impl DoubleEndedIterator<Item = &'static str> + ExactSizeIterator + '_ {
        self.entries.iter().map(|(n, _)| *n)
    }

    /// Whether `names` are these properties' names, compared by address:
    /// the names are literals, so a bean type lists the same addresses on
    /// every read and a cached layout is recognised without comparing text.
    pub fn same_names(&self, names: &[&'static str]) -> bool {
        self.entries.len() == names.len()
            && self
                .entries
                .iter()
                .zip(names)
                .all(|((a, _), b)| std::ptr::eq(a.as_ptr(), b.as_ptr()) && a.len() == b.len())
    }

    /// Property `i`, in [`Bean::properties`] order.
    pub fn get(&self, i: usize) -> Option<&Prop<'a>> {
        self.entries.get(i).map(|(_, p)| p)
    }

    /// The tree form: a JSON object of the properties in order.
    pub fn into_value(self) -> Value {
        let mut m = Map::new();
        for (name, v) in self.entries {
            m.insert(name.to_owned(), v.into_value());
        }
        Value::Object(m)
    }
}

/// A bean as a JSON object, its properties in [`Bean::properties`] order.
pub fn to_value(bean: &dyn Bean) -> Value {
    Properties::of(bean).into_value()
}

/// A small bean given as its properties (an address, a nested object).
pub struct Fields<'a>(pub Vec<(&'static str, Prop<'a>)>);

impl Bean for Fields<'_> {
    fn properties<'s>(&'s self, out: &mut Properties<'s>) {
        for (name, p) in &self.0 {
            out.put(name, p.reborrow());
        }
    }
}

/// A bean lent to a parent's property.
struct Borrowed<'a>(&'a dyn Bean);

impl Bean for Borrowed<'_> {
    fn properties<'s>(&'s self, out: &mut Properties<'s>) {
        self.0.properties(out);
    }

    fn snapshot(&self) -> Option<Snapshot> {
        self.0.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_tree_form_lists_every_property_in_order() {
        let row = json!({"id": 3, "name": "x"});
        let Value::Object(row) = row else {
            unreachable!()
        };
        let nested = Fields(vec![("city", Prop::Str("Toronto")), ("postal", Prop::Null)]);
        let bean = Fields(vec![
            ("b", Prop::Int(2)),
            (
                "a",
                Prop::Date(NaiveDate::from_ymd_opt(2025, 7, 15).unwrap()),
            ),
            (
                "at",
                Prop::instant(DateTime::from_timestamp_micros(1_752_537_600_123_456).unwrap()),
            ),
            ("rows", Prop::Rows(vec![&row], None)),
            ("nested", Prop::Bean(Box::new(nested))),
            ("flag", Prop::Bool(true)),
            ("month", Prop::Digits(7, 2)),
            ("name", Prop::Listed("Smith", "Ann")),
            ("full", Prop::Spaced("Ann", "Smith")),
        ]);
        assert_eq!(
            serde_json::to_string(&to_value(&bean)).unwrap(),
            r#"{"b":2,"a":"2025-07-15","at":"2025-07-15T00:00:00.123Z","rows":[{"id":3,"name":"x"}],"nested":{"city":"Toronto","postal":null},"flag":true,"month":"07","name":"Smith, Ann","full":"Ann Smith"}"#
        );
    }

    #[test]
    fn set_replaces_a_property_in_place_or_adds_it() {
        let bean = Fields(vec![("a", Prop::Int(1)), ("b", Prop::Int(2))]);
        let mut props = Properties::of(&bean);
        props.set("a", Prop::Str("one"));
        props.set("c", Prop::Null);
        assert_eq!(props.names().collect::<Vec<_>>(), ["a", "b", "c"]);
        assert_eq!(props.into_value(), json!({"a": "one", "b": 2, "c": null}));
    }

    #[test]
    fn layouts_are_recognised_by_the_names_of_the_same_bean_type() {
        let one = Fields(vec![("a", Prop::Int(1)), ("b", Prop::Int(2))]);
        let names: Vec<&'static str> = Properties::of(&one).names().collect();
        assert!(Properties::of(&one).same_names(&names));
        assert!(!Properties::of(&one).same_names(&names[..1]));
        let other: &'static str = String::from("a").leak();
        assert!(!Properties::of(&one).same_names(&[other, names[1]]));
    }
}
