//! The FHIR structure check made as a body is parsed, without its tree.
//!
//! A FHIR step built a `serde_json::Value` of every Bundle and NDJSON line
//! only to walk it once, and building it cost more than the walk. This
//! walk follows [`super::check_resource`] rule by rule on serde's events
//! and answers only whether the body passes. What it does not follow (a
//! `resourceType` that is not the first member, or comes twice) counts as
//! a failure, and every failure is checked again on the tree, which says
//! what is wrong: a pass here is a pass there.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{common_of, Element, Elements, Rules, Table, TypeRef, JSON_PRIMITIVES};
use crate::json::{MaybeText, Name, Skip};

/// Whether `body` is a resource that passes the rules; `None` when it is
/// not JSON, or not read to the end here (the tree check decides then).
pub(super) fn passes(rules: &Rules, body: &[u8]) -> Option<bool> {
    let mut ok = true;
    let walk = Walk {
        rules,
        what: What::Named(Cow::Borrowed("Resource")),
        codes: None,
        ok: &mut ok,
    };
    crate::json::walk(body, walk)?;
    Some(ok)
}

/// What the value at hand must be.
enum What<'r> {
    /// A member's value: an array of items if `many`, else one item.
    Member { many: bool, ty: Cow<'r, TypeRef> },
    /// One value of a type the rules name: `Resource`, `Extension`, a
    /// primitive or a datatype.
    Named(Cow<'r, str>),
    /// One object of a backbone element.
    Backbone(Cow<'r, Elements>),
}

/// The walk at one value, and whether everything so far passed.
struct Walk<'r, 'o> {
    rules: &'r Rules,
    what: What<'r>,
    /// The codes a string here must be one of (a resource element's
    /// binding).
    codes: Option<&'r [String]>,
    ok: &'o mut bool,
}

/// A scalar, as the checks tell types apart.
enum Scalar<'a> {
    Null,
    Bool,
    /// A number an `i64` holds (what `Value::as_i64` gives).
    Integer(i64),
    /// An integer beyond an `i64`.
    Wide,
    Decimal,
    Text(&'a str),
}

impl<'r> Walk<'r, '_> {
    fn at(&mut self, what: What<'r>, codes: Option<&'r [String]>) -> Walk<'r, '_> {
        Walk {
            rules: self.rules,
            what,
            codes,
            ok: &mut *self.ok,
        }
    }

    fn fail(&mut self) {
        *self.ok = false;
    }

    fn scalar<E>(mut self, found: Scalar<'_>) -> Result<(), E> {
        // An array, a backbone element or a resource is no scalar.
        let ty = match &self.what {
            What::Named(n) => n.as_ref(),
            What::Member { .. } | What::Backbone(_) => "",
        };
        let passes = match (ty, &found) {
            ("", _) | (_, Scalar::Null) => false,
            ("boolean", s) => matches!(s, Scalar::Bool),
            ("integer" | "positiveInt" | "unsignedInt", s) => match *s {
                Scalar::Integer(n) => {
                    (i64::from(i32::MIN)..=i64::from(i32::MAX)).contains(&n)
                        && (ty != "positiveInt" || n >= 1)
                        && (ty != "unsignedInt" || n >= 0)
                }
                _ => false,
            },
            ("decimal", s) => matches!(s, Scalar::Integer(_) | Scalar::Wide | Scalar::Decimal),
            (_, Scalar::Text(s)) => self
                .rules
                .primitives
                .get(ty)
                .is_some_and(|re| re.is_match(s)),
            _ => false,
        };
        let coded = match (&found, self.codes) {
            (Scalar::Text(s), Some(allowed)) => allowed.iter().any(|a| a == s),
            _ => true,
        };
        if !(passes && coded) {
            self.fail();
        }
        Ok(())
    }

    /// A resource: `resourceType` first, an `id` that is valid text, then
    /// its elements.
    fn resource<'de, A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let kind = match map.next_key::<Name<'de>>()? {
            Some(k) if k.as_str() == "resourceType" => match map.next_value_seed(MaybeText)? {
                Some(kind) => kind,
                None => {
                    self.fail();
                    return skip_members(&mut map);
                }
            },
            Some(_) => {
                self.fail();
                map.next_value_seed(Skip)?;
                return skip_members(&mut map);
            }
            None => {
                self.fail();
                return Ok(());
            }
        };
        let rules = self.rules;
        let kind = kind.as_str();
        let Some(own) = rules.resources.get(kind) else {
            self.fail();
            return skip_members(&mut map);
        };
        let valid_id = |s: &str| {
            rules.primitives.get("id").is_some_and(|re| re.is_match(s))
                || rules
                    .id_exceptions
                    .get(kind)
                    .is_some_and(|re| re.is_match(s))
        };
        let elements = [own, &rules.common.resource];
        let mut members = Members::new(&elements, rules.codes.get(kind));
        members.seen("resourceType");
        while let Some(key) = map.next_key::<Name<'de>>()? {
            let key = key.as_str();
            members.seen(key);
            match key {
                // Again: the tree keeps the last, and this walk the first.
                "resourceType" => {
                    self.fail();
                    map.next_value_seed(Skip)?;
                }
                "id" => {
                    let id = map.next_value_seed(MaybeText)?;
                    if !id.is_some_and(|id| valid_id(id.as_str())) {
                        self.fail();
                    }
                }
                _ => members.value(&mut self, &mut map, key)?,
            }
        }
        if !members.complete() {
            self.fail();
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(mut self, d: D) -> Result<(), D::Error> {
        // A member of cardinality ..1 is walked as its one item.
        if let What::Member { many: false, ty } = &self.what {
            self.what = match ty {
                Cow::Borrowed(TypeRef::Backbone(els)) => What::Backbone(Cow::Borrowed(els)),
                Cow::Borrowed(TypeRef::Named(n)) => What::Named(Cow::Borrowed(n.as_str())),
                Cow::Owned(TypeRef::Backbone(els)) => What::Backbone(Cow::Owned(els.clone())),
                Cow::Owned(TypeRef::Named(n)) => What::Named(Cow::Owned(n.clone())),
            };
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(Scalar::Null)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar(Scalar::Bool)
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<(), E> {
        self.scalar(Scalar::Integer(n))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<(), E> {
        self.scalar(i64::try_from(n).map_or(Scalar::Wide, Scalar::Integer))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar(Scalar::Decimal)
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.scalar(Scalar::Text(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        // Only an element of cardinality 0..* takes an array, of one or
        // more items.
        let What::Member { many: true, ty } = &self.what else {
            self.fail();
            while seq.next_element_seed(Skip)?.is_some() {}
            return Ok(());
        };
        let ty = ty.clone();
        let codes = self.codes;
        let mut items = 0;
        loop {
            let item = What::Member {
                many: false,
                ty: ty.clone(),
            };
            if seq.next_element_seed(self.at(item, codes))?.is_none() {
                break;
            }
            items += 1;
        }
        if items == 0 {
            self.fail();
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        if matches!(&self.what, What::Named(n) if n == "Resource") {
            return self.resource(map);
        }
        // Taken out of the walk, which its members' walks borrow.
        let what = std::mem::replace(&mut self.what, What::Named(Cow::Borrowed("")));
        let rules = self.rules;
        let Some((own, common)) = object(rules, &what) else {
            self.fail();
            return skip_members(&mut map);
        };
        let both = [own, common.unwrap_or(own)];
        let elements = if common.is_some() {
            &both[..]
        } else {
            &both[..1]
        };
        let mut members = Members::new(elements, None);
        let mut count = 0;
        while let Some(key) = map.next_key::<Name<'de>>()? {
            count += 1;
            let key = key.as_str();
            members.seen(key);
            members.value(&mut self, &mut map, key)?;
        }
        if count == 0 || !members.complete() {
            self.fail();
        }
        Ok(())
    }
}

/// The members of one object: the elements they must be, the code
/// bindings of a resource's, and which required elements were seen.
struct Members<'e> {
    elements: &'e [&'e Elements],
    codes: Option<&'e Table<Vec<String>>>,
    required: Vec<(&'e Element, bool)>,
}

impl<'e> Members<'e> {
    fn new(elements: &'e [&'e Elements], codes: Option<&'e Table<Vec<String>>>) -> Self {
        let required = elements
            .iter()
            .flat_map(|els| els.required.iter().map(|&i| (&els.list[i], false)))
            .collect();
        Members {
            elements,
            codes,
            required,
        }
    }

    /// Marks the required element `key` stands for, as the tree check
    /// counts it present.
    fn seen(&mut self, key: &str) {
        for (e, seen) in &mut self.required {
            let name = e.name.as_str();
            let names = if e.choice {
                key.starts_with(name) && key.len() > name.len()
            } else {
                key == name
            };
            *seen |= names;
        }
    }

    fn complete(&self) -> bool {
        self.required.iter().all(|&(_, seen)| seen)
    }

    /// Walks the value of member `key`.
    fn value<'de, 'r: 'e, A: MapAccess<'de>>(
        &self,
        walk: &mut Walk<'r, '_>,
        map: &mut A,
        key: &str,
    ) -> Result<(), A::Error> {
        let all = || self.elements.iter().flat_map(|els| els.iter());
        // `_given` carries a primitive's id and extensions.
        if let Some(base) = key.strip_prefix('_') {
            if !all().any(|e| e.name == base || (e.choice && base.starts_with(e.name.as_str()))) {
                walk.fail();
            }
            return map.next_value_seed(Skip);
        }
        let found = self
            .elements
            .iter()
            .find_map(|els| els.find(walk.rules, key));
        let Some((element, ty)) = found else {
            walk.fail();
            return map.next_value_seed(Skip);
        };
        let codes = self.codes.and_then(|c| c.get(key)).map(Vec::as_slice);
        map.next_value_seed(Walk {
            rules: walk.rules,
            what: What::Member {
                many: element.many,
                ty,
            },
            codes,
            ok: &mut *walk.ok,
        })
    }
}

/// The elements an object must have where `what` is expected (its own,
/// and the common ones if they are apart), as the tree check picks them.
fn object<'a>(
    rules: &'a Rules,
    what: &'a What<'_>,
) -> Option<(&'a Elements, Option<&'a Elements>)> {
    match what {
        What::Backbone(els) => Some((els, Some(&rules.common.backbone))),
        What::Named(n) if n == "Extension" => Some((&rules.common.extension, None)),
        What::Named(n) => {
            let n = n.as_ref();
            // A primitive's value is never an object.
            if rules.primitives.contains_key(n) || JSON_PRIMITIVES.contains(&n) {
                return None;
            }
            Some((rules.types.get(n)?, Some(common_of(rules, n))))
        }
        What::Member { .. } => None,
    }
}

fn skip_members<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    while map.next_key_seed(Skip)?.is_some() {
        map.next_value_seed(Skip)?;
    }
    Ok(())
}
