//! The WADL CXF 2.7 generates for `GET /ws/rs?_wadl` (OSCAR 19 only:
//! Open-O's build excludes CXF's service-description module), built from
//! the same catalogue rows the router uses.

use std::collections::BTreeMap;

use emr_catalog::{Api, Catalog};

use super::input::declared;
use super::types::JType;
use crate::error::xml_escape;

/// The XML Schema type WADL gives a parameter.
fn xs(ty: &JType) -> &'static str {
    use super::types::Scalar;
    match ty {
        JType::Primitive(Scalar::Int) | JType::Boxed(Scalar::Int) => "xs:int",
        JType::Primitive(Scalar::Float) | JType::Boxed(Scalar::Float) => "xs:double",
        JType::Primitive(Scalar::Bool) | JType::Boxed(Scalar::Bool) => "xs:boolean",
        JType::Date => "xs:dateTime",
        _ => "xs:string",
    }
}

/// The WADL of the `/ws/rs` server at `base` (`http://host/oscar/ws/rs`).
pub fn document(catalog: &Catalog, base: &str) -> String {
    // Root resource (first path segment) → its operations.
    let mut roots: BTreeMap<String, Vec<&emr_catalog::Operation>> = BTreeMap::new();
    for op in catalog.operations().iter().filter(|o| o.api == Api::Rest) {
        let Some(rest) = op.path.as_str().strip_prefix("/ws/rs/") else {
            continue;
        };
        let root = rest.split('/').next().unwrap_or("").to_owned();
        roots.entry(root).or_default().push(op);
    }
    let mut out = String::from(
        "<application xmlns=\"http://wadl.dev.java.net/2009/02\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\"><grammars></grammars>",
    );
    out.push_str(&format!("<resources base=\"{}\">", xml_escape(base)));
    for (root, ops) in roots {
        out.push_str(&format!("<resource path=\"/{}\">", xml_escape(&root)));
        let mut by_path: BTreeMap<String, Vec<&emr_catalog::Operation>> = BTreeMap::new();
        for op in ops {
            let sub = op.path.as_str()["/ws/rs/".len() + root.len()..].to_owned();
            by_path.entry(sub).or_default().push(op);
        }
        for (sub, ops) in by_path {
            let open = !sub.is_empty();
            if open {
                out.push_str(&format!("<resource path=\"{}\">", xml_escape(&sub)));
                for p in declared(ops[0].column("path_params")) {
                    out.push_str(&format!(
                        "<param name=\"{}\" style=\"template\" type=\"{}\"/>",
                        xml_escape(&p.name),
                        xs(&p.ty)
                    ));
                }
            }
            for op in ops.iter().filter(|o| o.callable()) {
                out.push_str(&format!("<method name=\"{}\"><request>", op.method));
                for p in declared(op.column("query_params")) {
                    let default = p
                        .default
                        .as_ref()
                        .map(|d| format!(" default=\"{}\"", xml_escape(d)))
                        .unwrap_or_default();
                    out.push_str(&format!(
                        "<param name=\"{}\" style=\"query\" type=\"{}\"{default}/>",
                        xml_escape(&p.name),
                        xs(&p.ty)
                    ));
                }
                let consumes = op.column("consumes");
                if !matches!(op.column("request_body_type"), "" | "-") {
                    for mt in consumes.split(',').filter(|m| *m != "-") {
                        out.push_str(&format!(
                            "<representation mediaType=\"{}\"/>",
                            xml_escape(mt.trim())
                        ));
                    }
                }
                out.push_str("</request><response>");
                for mt in op.column("produces").split(',').filter(|m| *m != "-") {
                    out.push_str(&format!(
                        "<representation mediaType=\"{}\"/>",
                        xml_escape(mt.trim())
                    ));
                }
                out.push_str("</response></method>");
            }
            if open {
                out.push_str("</resource>");
            }
        }
        out.push_str("</resource>");
    }
    out.push_str("</resources></application>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use emr_catalog::ProfileId;

    #[test]
    fn every_rs_operation_is_described() {
        let c = Catalog::of(ProfileId::Oscar);
        let doc = document(&c, "http://localhost/oscar/ws/rs");
        let parsed = roxmltree::Document::parse(&doc).unwrap();
        let methods = parsed
            .descendants()
            .filter(|n| n.has_tag_name("method"))
            .count();
        let rs = c
            .operations()
            .iter()
            .filter(|o| {
                o.api == Api::Rest && o.callable() && o.path.as_str().starts_with("/ws/rs/")
            })
            .count();
        assert_eq!(methods, rs);
    }
}
