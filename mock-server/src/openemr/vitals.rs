//! Vital signs: the store keeps one [`Measurement`] per value (OSCAR's
//! model); OpenEMR's vitals form is the measurements of one encounter
//! taken at one instant, and FHIR serves each as a vital-signs
//! Observation with its LOINC code. One table says how a store kind maps
//! to each.

use std::collections::BTreeMap;

use crate::store::{Data, Id, Measurement, Timestamp};

/// A kind of vital sign.
#[derive(Debug, Clone, Copy)]
pub struct Vital {
    /// The store's measurement kind (OSCAR's type code).
    pub kind: &'static str,
    /// OpenEMR `form_vitals` column.
    pub field: &'static str,
    pub loinc: &'static str,
    pub display: &'static str,
    /// The unit OpenEMR's form uses, and the store's unit for values it writes.
    pub openemr_unit: &'static str,
}

/// Blood pressure is one measurement (`120/80`) with two form columns.
pub const BP_PANEL: (&str, &str) = ("85354-9", "Blood pressure panel with all children optional");
pub const SYSTOLIC: (&str, &str) = ("8480-6", "Systolic blood pressure");
pub const DIASTOLIC: (&str, &str) = ("8462-4", "Diastolic blood pressure");

pub const VITALS: &[Vital] = &[
    Vital {
        kind: "WT",
        field: "weight",
        loinc: "29463-7",
        display: "Body weight",
        openemr_unit: "lb",
    },
    Vital {
        kind: "HT",
        field: "height",
        loinc: "8302-2",
        display: "Body height",
        openemr_unit: "in",
    },
    Vital {
        kind: "TEMP",
        field: "temperature",
        loinc: "8310-5",
        display: "Body temperature",
        openemr_unit: "F",
    },
    Vital {
        kind: "HR",
        field: "pulse",
        loinc: "8867-4",
        display: "Heart rate",
        openemr_unit: "/min",
    },
    Vital {
        kind: "RESP",
        field: "respiration",
        loinc: "9279-1",
        display: "Respiratory rate",
        openemr_unit: "/min",
    },
    Vital {
        kind: "O2SAT",
        field: "oxygen_saturation",
        loinc: "59408-5",
        display: "Oxygen saturation in Arterial blood by Pulse oximetry",
        openemr_unit: "%",
    },
    Vital {
        kind: "WAIST",
        field: "waist_circ",
        loinc: "8280-0",
        display: "Waist Circumference at umbilicus by Tape measure",
        openemr_unit: "in",
    },
    Vital {
        kind: "HC",
        field: "head_circ",
        loinc: "9843-4",
        display: "Head Occipital-frontal circumference",
        openemr_unit: "in",
    },
    Vital {
        kind: "BMI",
        field: "BMI",
        loinc: "39156-5",
        display: "Body mass index (BMI) [Ratio]",
        openemr_unit: "kg/m2",
    },
];

pub fn by_kind(kind: &str) -> Option<&'static Vital> {
    VITALS.iter().find(|v| v.kind == kind)
}

pub fn is_vital(kind: &str) -> bool {
    kind == "BP" || by_kind(kind).is_some()
}

/// `value` in `from` expressed in `to` (kg/lb, cm/in, C/F); `None` when
/// the units do not convert.
pub fn convert(value: f64, from: &str, to: &str) -> Option<f64> {
    let norm = |u: &str| match u {
        "bpm" | "/min" | "beats/min" => "/min".to_owned(),
        "C" | "Cel" | "°C" => "C".to_owned(),
        "F" | "[degF]" | "°F" => "F".to_owned(),
        "lb" | "[lb_av]" | "lbs" => "lb".to_owned(),
        "in" | "[in_i]" => "in".to_owned(),
        other => other.to_owned(),
    };
    let (from, to) = (norm(from), norm(to));
    if from == to {
        return Some(value);
    }
    Some(match (from.as_str(), to.as_str()) {
        ("kg", "lb") => value / 0.453_592_37,
        ("lb", "kg") => value * 0.453_592_37,
        ("cm", "in") => value / 2.54,
        ("in", "cm") => value * 2.54,
        ("C", "F") => value * 9.0 / 5.0 + 32.0,
        ("F", "C") => (value - 32.0) * 5.0 / 9.0,
        _ => return None,
    })
}

/// The UCUM code of a store unit, for FHIR quantities.
pub fn ucum(unit: &str) -> &str {
    match unit {
        "lb" => "[lb_av]",
        "in" => "[in_i]",
        "F" => "[degF]",
        "C" => "Cel",
        "bpm" => "/min",
        "kg/m2" => "kg/m2",
        other => other,
    }
}

/// One vitals form: the vital measurements of one encounter taken at one
/// instant. Its id (`vid`) is its first measurement's id.
#[derive(Debug, Clone)]
pub struct Form<'a> {
    pub vid: Id,
    pub patient: Id,
    pub encounter: Id,
    pub observed: Timestamp,
    pub rows: Vec<&'a Measurement>,
}

/// The vitals forms of one encounter, oldest first.
pub fn forms(d: &Data, patient: Id, encounter: Id) -> Vec<Form<'_>> {
    let mut groups: BTreeMap<Timestamp, Vec<&Measurement>> = BTreeMap::new();
    for m in d.measurements.for_patient(patient) {
        if m.encounter_id == Some(encounter) && is_vital(&m.kind) {
            groups.entry(m.observed.get()).or_default().push(m);
        }
    }
    groups
        .into_iter()
        .map(|(observed, rows)| Form {
            vid: rows.iter().map(|m| m.id).min().unwrap_or_default(),
            patient,
            encounter,
            observed,
            rows,
        })
        .collect()
}

/// A number as OpenEMR's decimal columns print it (`70.00`, `98.6`): at
/// most two decimals, trailing zeros of whole numbers kept short.
pub fn number(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

/// The value of a form column, in OpenEMR's unit.
pub fn field_value(form: &Form<'_>, field: &str) -> String {
    if field == "bps" || field == "bpd" {
        let Some(bp) = form.rows.iter().find(|m| m.kind == "BP") else {
            return String::new();
        };
        let (s, d) = bp.value.split_once('/').unwrap_or((&bp.value, ""));
        return if field == "bps" { s.trim() } else { d.trim() }.to_owned();
    }
    let Some(v) = VITALS.iter().find(|v| v.field == field) else {
        return String::new();
    };
    let Some(m) = form.rows.iter().find(|m| m.kind == v.kind) else {
        return String::new();
    };
    match m.value.trim().parse::<f64>() {
        Ok(x) => convert(x, &m.unit, v.openemr_unit)
            .map(number)
            .unwrap_or_else(|| m.value.to_string()),
        Err(_) => m.value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_convert_both_ways() {
        let lb = convert(100.0, "kg", "lb").unwrap();
        assert!((lb - 220.462).abs() < 0.01);
        assert!((convert(lb, "lb", "kg").unwrap() - 100.0).abs() < 1e-9);
        assert_eq!(convert(37.0, "C", "F").map(number).as_deref(), Some("98.6"));
        assert_eq!(convert(1.0, "kg", "cm"), None);
        assert_eq!(number(70.0), "70");
    }
}
