//! OSCAR SOAP as data: the transfer types of each variant
//! (`data/oscar/soap-types.yaml`) and each operation's signature, read from
//! the operation table's Java columns. The mock serialises, parses and
//! documents (`?wsdl`) with these, and the harness orders request
//! arguments by them, so wire, WSDL and scenarios agree.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::table::{Api, Catalog, Operation};

const TYPES_YAML: &str = include_str!("../data/oscar/soap-types.yaml");

/// The variants the types file describes (the catalogue's variant names).
pub const SOAP_VARIANTS: [&str; 3] = ["oscar19", "open-o", "juno"];

/// A built-in XML Schema type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Xsd {
    String,
    Int,
    Long,
    Boolean,
    DateTime,
    /// Java `char`/`Character`: the code point.
    UnsignedShort,
    Base64Binary,
    Float,
    Decimal,
    /// A raw `java.util.List` element: the item carries `xsi:type`.
    AnyType,
}

impl Xsd {
    /// The name after `xs:`.
    pub fn name(self) -> &'static str {
        match self {
            Xsd::String => "string",
            Xsd::Int => "int",
            Xsd::Long => "long",
            Xsd::Boolean => "boolean",
            Xsd::DateTime => "dateTime",
            Xsd::UnsignedShort => "unsignedShort",
            Xsd::Base64Binary => "base64Binary",
            Xsd::Float => "float",
            Xsd::Decimal => "decimal",
            Xsd::AnyType => "anyType",
        }
    }
}

/// The type of a field, a parameter or a return value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef {
    Xs(Xsd),
    /// A complex type of the variant, by its schema name (`demographicTransfer`).
    Complex(String),
    /// An enumeration of the variant (`gender`).
    Enum(String),
}

/// A property of a complex type, a wrapper parameter or a `return`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The element name: the property, `arg0`, a `@WebParam` name, `return`.
    pub name: String,
    /// The Java type as the source declares it.
    pub java: String,
    pub ty: TypeRef,
    /// An array or list: repeated elements.
    pub many: bool,
    /// A Java primitive (`int`, `boolean`): never null, so always written.
    pub primitive: bool,
}

/// A complex type of one variant; fields are in element (alphabetical) order.
#[derive(Debug, Clone)]
pub struct ComplexType {
    pub name: String,
    pub class: String,
    pub fields: Vec<Field>,
}

impl ComplexType {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// An enumeration of one variant.
#[derive(Debug, Clone)]
pub struct EnumType {
    pub name: String,
    pub values: Vec<String>,
}

/// Every SOAP type of one variant.
#[derive(Debug, Clone, Default)]
pub struct SoapTypes {
    complex: BTreeMap<String, ComplexType>,
    enums: BTreeMap<String, EnumType>,
}

/// A type table that does not load: a build defect, named precisely.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SoapDataError {
    #[error("data/oscar/soap-types.yaml: {0}")]
    Types(String),
    #[error("{op}: {message}")]
    Signature { op: String, message: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypesDoc {
    types: Vec<TypeDoc>,
    enums: Vec<EnumDoc>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TypeDoc {
    name: String,
    class: String,
    #[serde(default)]
    only: Option<Vec<String>>,
    properties: BTreeMap<String, PropertyDoc>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum PropertyDoc {
    Java(String),
    Restricted { java: String, only: Vec<String> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EnumDoc {
    name: String,
    #[allow(dead_code)]
    class: String,
    values: BTreeMap<String, Vec<String>>,
}

impl SoapTypes {
    /// The types of a catalogue variant (`oscar19`, `open-o`, `juno`);
    /// empty for any other.
    pub fn of(variant: &str) -> &'static SoapTypes {
        static ALL: OnceLock<BTreeMap<String, SoapTypes>> = OnceLock::new();
        static EMPTY: OnceLock<SoapTypes> = OnceLock::new();
        let all = ALL.get_or_init(|| {
            // Compiled-in data, checked by the unit tests below.
            load().expect("data/oscar/soap-types.yaml is valid")
        });
        all.get(variant)
            .unwrap_or_else(|| EMPTY.get_or_init(SoapTypes::default))
    }

    pub fn complex(&self, name: &str) -> Option<&ComplexType> {
        self.complex.get(name)
    }

    pub fn enumeration(&self, name: &str) -> Option<&EnumType> {
        self.enums.get(name)
    }

    pub fn complex_types(&self) -> impl Iterator<Item = &ComplexType> {
        self.complex.values()
    }

    /// The type of a Java type name as it appears in the source.
    pub fn resolve(&self, java: &str) -> Result<(TypeRef, bool), String> {
        java_type(java, |name| {
            if self.complex.contains_key(name) {
                Some(TypeRef::Complex(name.to_owned()))
            } else if self.enums.contains_key(name) {
                Some(TypeRef::Enum(name.to_owned()))
            } else {
                None
            }
        })
    }

    /// `name` and every complex or enum type reachable from it, each once.
    pub fn closure<'a>(&'a self, roots: impl IntoIterator<Item = &'a TypeRef>) -> Vec<&'a TypeRef> {
        let mut seen: Vec<&TypeRef> = Vec::new();
        let mut todo: Vec<&TypeRef> = roots.into_iter().collect();
        while let Some(t) = todo.pop() {
            if matches!(t, TypeRef::Xs(_)) || seen.contains(&t) {
                continue;
            }
            seen.push(t);
            if let TypeRef::Complex(name) = t {
                if let Some(c) = self.complex.get(name) {
                    todo.extend(c.fields.iter().map(|f| &f.ty));
                }
            }
        }
        seen.sort_by_key(|t| match t {
            TypeRef::Complex(n) | TypeRef::Enum(n) => n.clone(),
            TypeRef::Xs(x) => x.name().to_owned(),
        });
        seen
    }
}

fn load() -> Result<BTreeMap<String, SoapTypes>, SoapDataError> {
    let doc: TypesDoc =
        serde_yaml::from_str(TYPES_YAML).map_err(|e| SoapDataError::Types(e.to_string()))?;
    let mut out = BTreeMap::new();
    for variant in SOAP_VARIANTS {
        let mut types = SoapTypes::default();
        for e in &doc.enums {
            if let Some(values) = e.values.get(variant) {
                types.enums.insert(
                    e.name.clone(),
                    EnumType {
                        name: e.name.clone(),
                        values: values.clone(),
                    },
                );
            }
        }
        let present: Vec<&TypeDoc> = doc
            .types
            .iter()
            .filter(|t| {
                t.only
                    .as_ref()
                    .is_none_or(|o| o.iter().any(|v| v == variant))
            })
            .collect();
        let names: Vec<&str> = present.iter().map(|t| t.name.as_str()).collect();
        for t in &present {
            let mut fields = Vec::new();
            for (prop, spec) in &t.properties {
                let java = match spec {
                    PropertyDoc::Java(j) => j,
                    PropertyDoc::Restricted { java, only } => {
                        if !only.iter().any(|v| v == variant) {
                            continue;
                        }
                        java
                    }
                };
                let (ty, many) = java_type(java, |name| {
                    if names.contains(&name) {
                        Some(TypeRef::Complex(name.to_owned()))
                    } else if types.enums.contains_key(name) {
                        Some(TypeRef::Enum(name.to_owned()))
                    } else {
                        None
                    }
                })
                .map_err(|m| SoapDataError::Types(format!("{}.{prop}: {m}", t.name)))?;
                fields.push(Field {
                    name: prop.clone(),
                    java: java.clone(),
                    primitive: is_primitive(java),
                    ty,
                    many,
                });
            }
            types.complex.insert(
                t.name.clone(),
                ComplexType {
                    name: t.name.clone(),
                    class: t.class.clone(),
                    fields,
                },
            );
        }
        out.insert(variant.to_owned(), types);
    }
    Ok(out)
}

/// `int`, `boolean`, `char`, `float`, `long`: never null.
fn is_primitive(java: &str) -> bool {
    matches!(
        java,
        "int" | "long" | "boolean" | "char" | "float" | "double" | "short" | "byte"
    )
}

/// Maps a Java type to its schema type and whether it repeats. `lookup`
/// resolves the decapitalised name of a non-built-in class.
fn java_type(
    java: &str,
    lookup: impl Fn(&str) -> Option<TypeRef>,
) -> Result<(TypeRef, bool), String> {
    let java = java.trim();
    if java == "byte[]" {
        return Ok((TypeRef::Xs(Xsd::Base64Binary), false));
    }
    if let Some(inner) = java.strip_suffix("[]") {
        return java_type(inner, lookup).map(|(t, _)| (t, true));
    }
    if let Some(inner) = java.strip_prefix("List<").and_then(|s| s.strip_suffix('>')) {
        return java_type(inner, lookup).map(|(t, _)| (t, true));
    }
    if java == "List" {
        return Ok((TypeRef::Xs(Xsd::AnyType), true));
    }
    // A generic map is bound by its raw class: `HashMap<K, V>` is `hashMap`.
    let raw = java.split('<').next().unwrap_or(java);
    let xs = match raw {
        "String" | "LocalDate" => Some(Xsd::String),
        "Integer" | "int" => Some(Xsd::Int),
        "Long" | "long" => Some(Xsd::Long),
        "Boolean" | "boolean" => Some(Xsd::Boolean),
        "Date" | "Calendar" => Some(Xsd::DateTime),
        "Character" | "char" => Some(Xsd::UnsignedShort),
        "Float" | "float" => Some(Xsd::Float),
        "BigDecimal" => Some(Xsd::Decimal),
        "Object" => Some(Xsd::AnyType),
        _ => None,
    };
    if let Some(x) = xs {
        return Ok((TypeRef::Xs(x), false));
    }
    let simple = raw.rsplit('.').next().unwrap_or(raw);
    let mut chars = simple.chars();
    let name = match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect::<String>(),
        None => return Err("empty type".into()),
    };
    lookup(&name)
        .map(|t| (t, false))
        .ok_or_else(|| format!("`{java}` is not a built-in type nor a type of the table"))
}

/// One SOAP operation as a client and the WSDL see it.
#[derive(Debug, Clone)]
pub struct Signature {
    /// `DemographicService`.
    pub service: String,
    /// `getDemographic`.
    pub operation: String,
    /// The implementing class, which names the portType (`DemographicWs`).
    pub class: String,
    pub params: Vec<Field>,
    /// `None` for a void operation (an empty response wrapper).
    pub ret: Option<Field>,
    /// Checked exceptions the method declares (`NotAuthorisedException`).
    pub faults: Vec<String>,
    /// Whether the service carries the WS-Security interceptor.
    pub auth: bool,
}

impl Signature {
    pub fn param(&self, name: &str) -> Option<&Field> {
        self.params.iter().find(|p| p.name == name)
    }
}

/// The signature of a SOAP operation of the catalogue, typed with the
/// operation's variant.
pub fn signature(op: &Operation) -> Result<Signature, SoapDataError> {
    let err = |message: String| SoapDataError::Signature {
        op: op.id.clone(),
        message,
    };
    if op.api != Api::Soap {
        return Err(err("not a SOAP operation".into()));
    }
    let types = SoapTypes::of(op.column("variant"));
    let mut params = Vec::new();
    for part in split_params(op.column("params")) {
        let (name, java) = part
            .split_once(':')
            .ok_or_else(|| err(format!("parameter `{part}` has no type")))?;
        let (ty, many) = types.resolve(java).map_err(&err)?;
        params.push(Field {
            name: name.trim().to_owned(),
            java: java.trim().to_owned(),
            primitive: is_primitive(java.trim()),
            ty,
            many,
        });
    }
    let ret_java = op.column("return_type");
    let ret = if ret_java == "void" || ret_java.is_empty() {
        None
    } else {
        let (ty, many) = types.resolve(ret_java).map_err(&err)?;
        Some(Field {
            name: "return".into(),
            java: ret_java.to_owned(),
            primitive: is_primitive(ret_java),
            ty,
            many,
        })
    };
    Ok(Signature {
        service: op.group.clone(),
        operation: op.name.clone(),
        class: op.column("implementor_class").to_owned(),
        params,
        ret,
        faults: op
            .column("declared_faults")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        auth: op.column("auth_required").starts_with("yes"),
    })
}

/// `arg0:String, arg1:HashMap<String, X[]>`: commas inside `<>` do not split.
fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = s[start..].trim();
    if !last.is_empty() {
        out.push(last);
    }
    out
}

impl Catalog {
    /// The SOAP services of the profile, by name (`DemographicService`),
    /// each with its operations in table order.
    pub fn soap_services(&self) -> BTreeMap<&str, Vec<&Operation>> {
        let mut out: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
        for op in self.operations().iter().filter(|o| o.api == Api::Soap) {
            out.entry(op.group.as_str()).or_default().push(op);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProfileId;

    #[test]
    fn every_variant_loads_and_differs_where_the_sources_do() {
        let open_o = SoapTypes::of("open-o");
        let oscar = SoapTypes::of("oscar19");
        let d = open_o.complex("demographicTransfer").unwrap();
        assert!(d.field("cellPhone").is_some());
        assert!(d.field("myOscarUserName").is_none());
        let d = oscar.complex("demographicTransfer").unwrap();
        assert!(d.field("cellPhone").is_none());
        assert!(d.field("myOscarUserName").is_some());
        assert_eq!(
            open_o.enumeration("gender").unwrap().values,
            ["M", "F", "X", "O", "U"]
        );
        // Fields are in element order.
        let names: Vec<&str> = d.fields.iter().map(|f| f.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        let juno = SoapTypes::of("juno");
        assert!(juno.complex("bookingType").is_none());
        let c = juno.complex("appointmentConfirmationTransfer").unwrap();
        assert!(c.field("confirmedByType").is_some());
    }

    #[test]
    fn primitives_arrays_and_chars_map_as_jaxb_does() {
        let t = SoapTypes::of("oscar19");
        let doc = t.complex("documentTransfer").unwrap();
        let status = doc.field("status").unwrap();
        assert_eq!(status.ty, TypeRef::Xs(Xsd::UnsignedShort));
        assert!(status.primitive);
        let bytes = doc.field("fileContents").unwrap();
        assert_eq!(
            (&bytes.ty, bytes.many),
            (&TypeRef::Xs(Xsd::Base64Binary), false)
        );
        let p = t.complex("preventionTransfer").unwrap();
        let exts = p.field("preventionExts").unwrap();
        assert_eq!(exts.ty, TypeRef::Complex("preventionExtTransfer".into()));
        assert!(exts.many);
    }

    #[test]
    fn every_soap_operation_has_a_signature() {
        for profile in [ProfileId::Oscar, ProfileId::OpenO, ProfileId::Juno] {
            let c = Catalog::of(profile);
            for op in c.operations().iter().filter(|o| o.api == Api::Soap) {
                let s = signature(op).unwrap_or_else(|e| panic!("{e}"));
                assert!(!s.class.is_empty(), "{}", op.id);
            }
        }
        let c = Catalog::of(ProfileId::Juno);
        let s = signature(
            c.soap("ScheduleService", "getValidProviderScheduleSlots")
                .unwrap(),
        )
        .unwrap();
        assert_eq!(s.params.len(), 6);
        assert_eq!(s.ret.unwrap().ty, TypeRef::Complex("hashMap".into()));
        let s = signature(
            c.soap("DemographicService", "getDemographicsByHealthNum")
                .unwrap(),
        )
        .unwrap();
        let r = s.ret.unwrap();
        assert_eq!((r.ty, r.many), (TypeRef::Xs(Xsd::AnyType), true));
        let c = Catalog::of(ProfileId::Oscar);
        let s = signature(c.soap("LoginService", "login2").unwrap()).unwrap();
        assert_eq!(s.faults, ["NotAuthorisedException"]);
        assert!(!s.auth);
        let s = signature(
            c.soap("ScheduleService", "getAppointmentsForPatient")
                .unwrap(),
        )
        .unwrap();
        assert!(!s.params[0].primitive && s.params[1].primitive);
    }

    #[test]
    fn services_group_their_operations() {
        let c = Catalog::of(ProfileId::Juno);
        let services = c.soap_services();
        assert_eq!(services.len(), 15);
        assert!(services.contains_key("IntegrationService"));
        assert_eq!(Catalog::of(ProfileId::Oscar).soap_services().len(), 14);
    }
}
