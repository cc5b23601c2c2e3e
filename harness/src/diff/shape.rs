//! The shape of a body: for JSON, every path (`$.content[*].firstName`)
//! with the types seen there; for XML, every element and attribute path
//! (`/Envelope/Body/getDemographicResponse/return/firstName`) with its
//! kind and namespace. Values never matter, only structure.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// What was seen at one path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Node {
    /// JSON: `null`, `boolean`, `number`, `string`, `array`, `object`.
    /// XML: `text`, `element` (has child elements), `empty`, `attribute`.
    pub types: BTreeSet<&'static str>,
    /// XML namespaces of the element.
    pub namespaces: BTreeSet<String>,
    /// JSON arrays: whether any element was seen, so the fields below it
    /// can be compared at all.
    pub has_elements: bool,
}

/// Every path of a body.
pub type Shape = BTreeMap<String, Node>;

/// The shape of a JSON document; arrays merge the shapes of their
/// elements under `[*]`.
pub fn of_json(v: &Value) -> Shape {
    let mut shape = Shape::new();
    walk_json(v, "$", &mut shape);
    shape
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn walk_json(v: &Value, path: &str, shape: &mut Shape) {
    let node = shape.entry(path.to_owned()).or_default();
    node.types.insert(json_type(v));
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let child = if k.chars().all(|c| c.is_alphanumeric() || c == '_') && !k.is_empty() {
                    format!("{path}.{k}")
                } else {
                    format!("{path}['{}']", k.replace('\'', "\\'"))
                };
                walk_json(x, &child, shape);
            }
        }
        Value::Array(a) => {
            if !a.is_empty() {
                node.has_elements = true;
            }
            let child = format!("{path}[*]");
            for x in a {
                walk_json(x, &child, shape);
            }
        }
        _ => {}
    }
}

/// The shape of an XML document; `None` if it does not parse.
pub fn of_xml(text: &str) -> Option<Shape> {
    let doc = roxmltree::Document::parse(text.trim_start()).ok()?;
    let mut shape = Shape::new();
    walk_xml(doc.root_element(), "", &mut shape);
    Some(shape)
}

fn walk_xml(node: roxmltree::Node, parent: &str, shape: &mut Shape) {
    let path = format!("{parent}/{}", node.tag_name().name());
    let children: Vec<roxmltree::Node> = node.children().filter(|c| c.is_element()).collect();
    let kind = if !children.is_empty() {
        "element"
    } else if node.text().is_some_and(|t| !t.trim().is_empty()) {
        "text"
    } else {
        "empty"
    };
    let entry = shape.entry(path.clone()).or_default();
    entry.types.insert(kind);
    if let Some(ns) = node.tag_name().namespace() {
        entry.namespaces.insert(ns.to_owned());
    }
    for a in node.attributes() {
        // Namespace declarations are not attributes in roxmltree.
        let e = shape.entry(format!("{path}/@{}", a.name())).or_default();
        e.types.insert("attribute");
    }
    for c in children {
        walk_xml(c, &path, shape);
    }
}

/// The parent of a path (`$.a.b` → `$.a`, `$.a[*]` → `$.a`, `/a/b` → `/a`).
pub fn parent(path: &str) -> Option<&str> {
    if let Some(p) = path.strip_suffix("[*]") {
        return Some(p);
    }
    let cut = path.rfind(['.', '[', '/'])?;
    (cut > 0).then(|| &path[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_shapes_merge_array_elements() {
        let s = of_json(
            &json!({"content": [{"id": 1, "mid": null}, {"id": 2, "mid": "x"}], "total": 2, "tags": []}),
        );
        let types = |p: &str| s[p].types.iter().copied().collect::<Vec<_>>();
        assert_eq!(types("$"), ["object"]);
        assert_eq!(types("$.content[*].id"), ["number"]);
        assert_eq!(types("$.content[*].mid"), ["null", "string"]);
        assert!(s["$.content"].has_elements);
        assert!(!s["$.tags"].has_elements);
        assert_eq!(parent("$.content[*].id"), Some("$.content[*]"));
        assert_eq!(parent("$.content[*]"), Some("$.content"));
        assert_eq!(parent("$"), None);
    }

    #[test]
    fn xml_shapes_know_kinds_attributes_and_namespaces() {
        let s = of_xml(r#"<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><ns2:getDemographicResponse xmlns:ns2="http://ws.oscarehr.org/"><return id="7"><firstName>J</firstName><middleName/></return></ns2:getDemographicResponse></soap:Body></soap:Envelope>"#).unwrap();
        let r = "/Envelope/Body/getDemographicResponse";
        assert!(s[r].namespaces.contains("http://ws.oscarehr.org/"));
        assert!(s[&format!("{r}/return")].types.contains("element"));
        assert!(s[&format!("{r}/return/firstName")].types.contains("text"));
        assert!(s[&format!("{r}/return/middleName")].types.contains("empty"));
        assert!(s.contains_key(&format!("{r}/return/@id")));
        assert_eq!(parent("/a/b/@id"), Some("/a/b"));
        assert!(of_xml("<a>").is_none());
    }
}
