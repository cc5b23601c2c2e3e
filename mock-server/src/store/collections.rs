//! Named collections of loosely typed rows: the configuration and
//! workflow records only some dialects have (OSCAR's consent types,
//! scheduled jobs, consultation services, pharmacies, favourites...).
//! Each row is a JSON object keyed by the dialect's property names; the
//! collections and their seed rows are data (`oscar/rest-seed.json`), so a
//! new one needs no code.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value};

use super::{Id, Table, Timestamp};
use crate::record;

/// One row of a collection.
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub id: Id,
    /// The patient the row belongs to, when it has one.
    pub patient: Option<Id>,
    pub fields: Map<String, Value>,
    pub last_update: Timestamp,
}
record!(Row, patient_opt);

/// How a collection names its id and patient properties.
#[derive(Debug, Clone)]
struct Shape {
    id_key: String,
    patient_key: Option<String>,
}

/// Every collection, by name.
#[derive(Debug, Clone, Default)]
pub struct Records {
    tables: BTreeMap<String, Table<Row>>,
    shapes: BTreeMap<String, Shape>,
}

impl Records {
    /// The rows of a collection in id order (none for an unknown one).
    pub fn rows(&self, name: &str) -> impl Iterator<Item = &Row> {
        self.tables.get(name).into_iter().flat_map(|t| t.iter())
    }

    /// A patient's rows of a collection, by its patient index.
    pub fn for_patient(&self, name: &str, patient: Id) -> impl Iterator<Item = &Row> {
        self.tables
            .get(name)
            .into_iter()
            .flat_map(move |t| t.for_patient(patient))
    }

    pub fn get(&self, name: &str, id: Id) -> Option<&Row> {
        self.tables.get(name).and_then(|t| t.get(id))
    }

    pub fn knows(&self, name: &str) -> bool {
        self.shapes.contains_key(name)
    }

    /// The property that holds a collection's id (`id` unless declared).
    pub fn id_key(&self, name: &str) -> &str {
        self.shapes.get(name).map_or("id", |s| s.id_key.as_str())
    }

    /// Adds a row; its id is assigned here and written into its id property.
    pub fn insert(&mut self, name: &str, mut fields: Map<String, Value>, at: Timestamp) -> Id {
        let shape = self.shape(name);
        let table = self.tables.entry(name.to_owned()).or_default();
        let id = table.next_id();
        fields.insert(shape.id_key.clone(), Value::from(id));
        let patient = patient_of(&shape, &fields);
        table.insert(Row {
            id,
            patient,
            fields,
            last_update: at,
        })
    }

    /// Changes a row in place; `None` when there is no such row.
    pub fn update<R>(
        &mut self,
        name: &str,
        id: Id,
        at: Timestamp,
        f: impl FnOnce(&mut Map<String, Value>) -> R,
    ) -> Option<R> {
        let shape = self.shape(name);
        let table = self.tables.get_mut(name)?;
        table.update(id, at, |row| {
            let out = f(&mut row.fields);
            row.fields.insert(shape.id_key.clone(), Value::from(id));
            row.patient = patient_of(&shape, &row.fields);
            out
        })
    }

    pub fn remove(&mut self, name: &str, id: Id) -> Option<Row> {
        self.tables.get_mut(name)?.remove(id)
    }

    fn shape(&mut self, name: &str) -> Shape {
        self.shapes
            .entry(name.to_owned())
            .or_insert_with(|| Shape {
                id_key: "id".into(),
                patient_key: None,
            })
            .clone()
    }

    /// Loads the collections and seed rows of a seed document: `{name:
    /// {"id": key, "patient": key, "rows": [...]}}`. String values `@today`,
    /// `@today+N`, `@today-N` (days) become dates relative to `today`.
    pub fn seed(&mut self, doc: &Value, today: NaiveDate, at: Timestamp) {
        let Value::Object(collections) = doc else {
            return;
        };
        for (name, spec) in collections {
            if name.starts_with('_') {
                continue;
            }
            let id_key = spec
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("id")
                .to_owned();
            let patient_key = spec
                .get("patient")
                .and_then(Value::as_str)
                .map(str::to_owned);
            self.shapes.insert(
                name.clone(),
                Shape {
                    id_key,
                    patient_key,
                },
            );
            self.tables.entry(name.clone()).or_default();
            for row in spec
                .get("rows")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Value::Object(m) = relative_dates(row, today) {
                    self.insert(name, m, at);
                }
            }
        }
    }
}

/// The row's patient, as its patient property names it; a number out
/// of `Id`'s range names no patient.
fn patient_of(shape: &Shape, fields: &Map<String, Value>) -> Option<Id> {
    let key = shape.patient_key.as_ref()?;
    match fields.get(key)? {
        Value::Number(n) => n.as_i64().and_then(|n| Id::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Replaces `@today±N` strings, recursively.
fn relative_dates(v: &Value, today: NaiveDate) -> Value {
    match v {
        Value::String(s) if s.starts_with("@today") => {
            let rest = &s["@today".len()..];
            let (days, time) = match rest.split_once(' ') {
                Some((d, t)) => (d, Some(t)),
                None => (rest, None),
            };
            let offset: i64 = days.trim_start_matches('+').parse().unwrap_or(0);
            let date = today + Duration::days(offset);
            match time {
                Some(t) => Value::String(format!("{date}T{t}Z")),
                None => Value::String(date.to_string()),
            }
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| relative_dates(x, today)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| (k.clone(), relative_dates(x, today)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use serde_json::json;

    #[test]
    fn rows_get_ids_and_relative_dates() {
        let mut r = Records::default();
        let today = NaiveDate::from_ymd_opt(2026, 1, 10).unwrap();
        r.seed(
            &json!({"jobs": {"rows": [{"name": "a", "due": "@today+2"}, {"name": "b", "at": "@today-1 09:30:00"}]},
                    "consults": {"patient": "demographicId", "rows": [{"demographicId": 3}]}}),
            today,
            Utc::now(),
        );
        let rows: Vec<_> = r.rows("jobs").collect();
        assert_eq!(rows[0].fields["id"], 1);
        assert_eq!(rows[0].fields["due"], "2026-01-12");
        assert_eq!(rows[1].fields["at"], "2026-01-09T09:30:00Z");
        assert_eq!(r.rows("consults").next().unwrap().patient, Some(3));
        let id = r.insert("jobs", Map::new(), Utc::now());
        assert_eq!(id, 3);
        r.update("jobs", id, Utc::now(), |m| {
            m.insert("name".into(), json!("c"))
        });
        assert_eq!(r.get("jobs", id).unwrap().fields["name"], "c");
    }
}
