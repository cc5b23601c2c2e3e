//! Java types of the REST transfer objects, as data: the class table
//! (`oscar/rest-types.tsv`) and its properties (`oscar/rest-fields.tsv`),
//! and a parser for the type strings the operation table uses
//! (`AbstractSearchResponse<DemographicSearchResult>`, `List<DrugTo1>`).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::Variant;

/// A Java type as the operation and field tables write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JType {
    /// A primitive (`int`, `boolean`...): never null on the wire.
    Primitive(Scalar),
    /// A boxed number or boolean (`Integer`, `Boolean`...).
    Boxed(Scalar),
    Str,
    /// `char`/`Character`: JSON writes the character, XML its code point.
    Char {
        primitive: bool,
    },
    /// `java.util.Date`, `Calendar`, `Timestamp`.
    Date,
    /// `java.time.LocalDate` (Juno's own types).
    LocalDate,
    /// `java.time.LocalDateTime` / `ZonedDateTime` (Juno's own types).
    LocalDateTime,
    /// `byte[]`: base64.
    Bytes,
    List(Box<JType>),
    Map(Box<JType>),
    /// A transfer class, with its type arguments.
    Class(String, Vec<JType>),
    /// A type variable of a generic class (`T`).
    Var(String),
    /// Anything written as is (`Object`, `JSONObject`, `Response`...).
    Any,
}

/// The scalar kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    Int,
    Float,
    Bool,
}

impl JType {
    /// Parses `List<Map<String, Foo>>`, `Foo[]`, `org.x.Foo`, `int`.
    pub fn parse(s: &str) -> JType {
        let s = s.trim();
        if let Some(inner) = s.strip_suffix("[]") {
            return match inner.trim() {
                "byte" => JType::Bytes,
                other => JType::List(Box::new(JType::parse(other))),
            };
        }
        let (name, args) = match s.find('<') {
            Some(i) if s.ends_with('>') => (&s[..i], split_args(&s[i + 1..s.len() - 1])),
            _ => (s, Vec::new()),
        };
        let name = name.rsplit('.').next().unwrap_or(name).trim();
        match name {
            "int" | "long" | "short" => JType::Primitive(Scalar::Int),
            "float" | "double" => JType::Primitive(Scalar::Float),
            "boolean" => JType::Primitive(Scalar::Bool),
            "Integer" | "Long" | "Short" | "BigInteger" => JType::Boxed(Scalar::Int),
            "Float" | "Double" | "BigDecimal" => JType::Boxed(Scalar::Float),
            "Boolean" => JType::Boxed(Scalar::Bool),
            "char" => JType::Char { primitive: true },
            "Character" => JType::Char { primitive: false },
            "String" | "SEARCHMODE" | "SORTMODE" | "SORTDIR" => JType::Str,
            "Date" | "Calendar" | "Timestamp" | "GregorianCalendar" | "XMLGregorianCalendar" => {
                JType::Date
            }
            "LocalDate" => JType::LocalDate,
            "LocalDateTime" | "ZonedDateTime" | "OffsetDateTime" | "LocalTime" => {
                JType::LocalDateTime
            }
            "List" | "ArrayList" | "Set" | "Collection" | "Iterable" => {
                JType::List(Box::new(args.into_iter().next().unwrap_or(JType::Any)))
            }
            "Map" | "HashMap" | "MultivaluedMap" => {
                JType::Map(Box::new(args.into_iter().nth(1).unwrap_or(JType::Any)))
            }
            "Object" | "JSONObject" | "JSONArray" | "Response" | "void" | "StreamingOutput" => {
                JType::Any
            }
            n if n.len() == 1 && n.chars().all(|c| c.is_ascii_uppercase()) => {
                JType::Var(n.to_owned())
            }
            n => JType::Class(n.to_owned(), args),
        }
    }

    /// Whether the type is a list (or array).
    pub fn is_list(&self) -> bool {
        matches!(self, JType::List(_))
    }

    /// The class name, for class types.
    pub fn class(&self) -> Option<&str> {
        match self {
            JType::Class(n, _) => Some(n),
            _ => None,
        }
    }

    /// Replaces type variables by their bindings.
    pub fn bind(&self, env: &HashMap<String, JType>) -> JType {
        match self {
            JType::Var(v) => env.get(v).cloned().unwrap_or(JType::Any),
            JType::List(t) => JType::List(Box::new(t.bind(env))),
            JType::Map(t) => JType::Map(Box::new(t.bind(env))),
            JType::Class(n, args) => {
                JType::Class(n.clone(), args.iter().map(|a| a.bind(env)).collect())
            }
            other => other.clone(),
        }
    }
}

fn split_args(s: &str) -> Vec<JType> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => depth -= 1,
            ',' if depth == 0 => {
                out.push(JType::parse(&s[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    if !s[start..].trim().is_empty() {
        out.push(JType::parse(&s[start..]));
    }
    out
}

/// One property of a transfer class.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub ty: JType,
    /// Which variants have it; empty means every variant.
    variants: Vec<Variant>,
    /// Open-O's JSON name (`None`: not written).
    json: Option<String>,
    /// The XML element (`None`: JAXB does not bind it).
    pub xml: Option<String>,
}

impl Field {
    pub fn in_variant(&self, v: Variant) -> bool {
        self.variants.is_empty() || self.variants.contains(&v)
    }

    /// The JSON property name a variant writes, if it writes one.
    pub fn json_name(&self, v: Variant) -> Option<&str> {
        match v {
            Variant::OpenO => self.json.as_deref(),
            _ => Some(&self.name),
        }
    }
}

/// A transfer class.
#[derive(Debug, Clone)]
pub struct Class {
    pub name: String,
    /// The superclass, with its type arguments.
    pub extends: Option<JType>,
    /// The root element when JAXB can write it as a document.
    pub xml_root: Option<String>,
    /// JAXB sorts getter-bound properties; field-bound ones keep their order.
    pub xml_alphabetical: bool,
    /// The type variables of a generic class, in order (`T`).
    pub params: Vec<String>,
    pub fields: Vec<Field>,
}

/// Every transfer class, by simple name.
#[derive(Debug, Default)]
pub struct Registry {
    classes: HashMap<String, Class>,
}

/// A defect in the compiled-in type tables.
#[derive(Debug, thiserror::Error)]
#[error("oscar/{file}:{line}: {message}")]
pub struct TypeTableError {
    file: &'static str,
    line: usize,
    message: String,
}

impl Registry {
    /// The compiled-in registry, parsed once.
    pub fn get() -> &'static Registry {
        static REGISTRY: OnceLock<Registry> = OnceLock::new();
        REGISTRY.get_or_init(|| {
            // Compiled-in data, checked by this module's tests.
            Registry::load().unwrap_or_else(|e| panic!("{e}"))
        })
    }

    fn load() -> Result<Registry, TypeTableError> {
        let types = emr_catalog::data_file("oscar/rest-types.tsv").unwrap_or_default();
        let fields = emr_catalog::data_file("oscar/rest-fields.tsv").unwrap_or_default();
        let mut reg = Registry::default();
        for (line, cells) in tsv(types) {
            let err = |message: String| TypeTableError {
                file: "rest-types.tsv",
                line,
                message,
            };
            let [name, extends, root, order] = cells[..] else {
                return Err(err(format!("expected 4 cells, found {}", cells.len())));
            };
            let (name, params) = match name.find('<') {
                Some(i) => (
                    &name[..i],
                    name[i + 1..name.len() - 1]
                        .split(',')
                        .map(|p| p.trim().to_owned())
                        .collect(),
                ),
                None => (name, Vec::new()),
            };
            let xml_root = match root {
                "-" => None,
                "root" => Some(decapitalize(name)),
                other => Some(other.to_owned()),
            };
            reg.classes.insert(
                name.to_owned(),
                Class {
                    name: name.to_owned(),
                    extends: (extends != "-").then(|| JType::parse(extends)),
                    xml_root,
                    xml_alphabetical: order != "declared",
                    params,
                    fields: Vec::new(),
                },
            );
        }
        for (line, cells) in tsv(fields) {
            let err = |message: String| TypeTableError {
                file: "rest-fields.tsv",
                line,
                message,
            };
            let [class, name, ty, variants, json, xml] = cells[..] else {
                return Err(err(format!("expected 6 cells, found {}", cells.len())));
            };
            let variants = match variants {
                "all" => Vec::new(),
                list => list
                    .split(',')
                    .map(|v| {
                        Variant::parse(v.trim())
                            .ok_or_else(|| err(format!("unknown variant `{v}`")))
                    })
                    .collect::<Result<_, _>>()?,
            };
            let same = |cell: &str| match cell {
                "=" => Some(name.to_owned()),
                "-" => None,
                other => Some(other.to_owned()),
            };
            let field = Field {
                name: name.to_owned(),
                ty: JType::parse(ty),
                variants,
                json: same(json),
                xml: same(xml),
            };
            let class = reg
                .classes
                .get_mut(class)
                .ok_or_else(|| err(format!("property of unknown class `{class}`")))?;
            class.fields.push(field);
        }
        // Generic classes name their variables in the field table (`List<T>`).
        for class in reg.classes.values_mut() {
            if class.params.is_empty() {
                let mut vars: Vec<String> = Vec::new();
                for f in &class.fields {
                    collect_vars(&f.ty, &mut vars);
                }
                class.params = vars;
            }
        }
        Ok(reg)
    }

    pub fn class(&self, name: &str) -> Option<&Class> {
        self.classes.get(name)
    }

    /// Every class the tables describe.
    pub fn class_names(&self) -> impl Iterator<Item = &str> {
        self.classes.keys().map(String::as_str)
    }

    /// The properties a variant writes for `class<args>`, superclass first,
    /// with type variables bound. A subclass that redeclares a property
    /// replaces it; one it renames (Open-O's `@XmlElement`) moves to the end,
    /// as Jackson orders it.
    pub fn fields(&self, name: &str, args: &[JType], v: Variant) -> Vec<Field> {
        let Some(class) = self.classes.get(name) else {
            return Vec::new();
        };
        let env: HashMap<String, JType> = class
            .params
            .iter()
            .cloned()
            .zip(args.iter().cloned())
            .collect();
        let mut out: Vec<Field> = match &class.extends {
            Some(JType::Class(parent, pargs)) => {
                let pargs: Vec<JType> = pargs.iter().map(|a| a.bind(&env)).collect();
                self.fields(parent, &pargs, v)
            }
            _ => Vec::new(),
        };
        for f in class.fields.iter().filter(|f| f.in_variant(v)) {
            let mut f = f.clone();
            f.ty = f.ty.bind(&env);
            match out.iter().position(|o| o.name == f.name) {
                Some(i) if out[i].json_name(v) == f.json_name(v) => out[i] = f,
                Some(i) => {
                    out.remove(i);
                    out.push(f);
                }
                None => out.push(f),
            }
        }
        out
    }

    /// Whether `name` is, or extends, `ancestor`.
    pub fn extends(&self, name: &str, ancestor: &str) -> bool {
        let mut cur = Some(name.to_owned());
        while let Some(n) = cur {
            if n == ancestor {
                return true;
            }
            cur = self
                .classes
                .get(&n)
                .and_then(|c| c.extends.as_ref())
                .and_then(|e| e.class().map(str::to_owned));
        }
        false
    }
}

fn collect_vars(t: &JType, out: &mut Vec<String>) {
    match t {
        JType::Var(v) if !out.contains(v) => out.push(v.clone()),
        JType::List(t) | JType::Map(t) => collect_vars(t, out),
        JType::Class(_, args) => args.iter().for_each(|a| collect_vars(a, out)),
        _ => {}
    }
}

/// `DemographicTo1` → `demographicTo1`, as JAXB names root elements.
pub fn decapitalize(name: &str) -> String {
    let mut c = name.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Rows of a tab-separated data file: comments (`#`) and the header skipped,
/// with 1-based line numbers.
pub fn tsv(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'))
        .skip(1)
        .map(|(i, l)| (i + 1, l.split('\t').map(str::trim).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_load() {
        let r = Registry::load().unwrap();
        assert!(r.class("DemographicTo1").is_some());
        assert_eq!(
            r.class("DemographicTo1").unwrap().xml_root.as_deref(),
            Some("demographicTo1")
        );
        assert_eq!(
            r.class("OscarSearchResponse").unwrap().xml_root.as_deref(),
            Some("List")
        );
    }

    #[test]
    fn types_parse() {
        assert_eq!(
            JType::parse("AbstractSearchResponse<DemographicSearchResult>"),
            JType::Class(
                "AbstractSearchResponse".into(),
                vec![JType::Class("DemographicSearchResult".into(), vec![])]
            )
        );
        assert_eq!(JType::parse("byte[]"), JType::Bytes);
        assert_eq!(
            JType::parse("PatientListApptItemBean[]"),
            JType::List(Box::new(JType::Class(
                "PatientListApptItemBean".into(),
                vec![]
            )))
        );
        assert_eq!(
            JType::parse("Map<String, List<Foo>>"),
            JType::Map(Box::new(JType::List(Box::new(JType::Class(
                "Foo".into(),
                vec![]
            )))))
        );
        assert_eq!(
            JType::parse("org.oscarehr.ws.rest.to.RSSResponse").class(),
            Some("RSSResponse")
        );
    }

    #[test]
    fn renamed_list_properties_move_last_in_open_o() {
        let r = Registry::get();
        let names = |v| {
            r.fields("TicklerResponse", &[], v)
                .iter()
                .filter_map(|f| f.json_name(v).map(str::to_owned))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(Variant::OpenO),
            ["offset", "limit", "total", "timestamp", "query", "tickler"]
        );
        assert_eq!(
            names(Variant::Oscar19),
            ["offset", "limit", "total", "timestamp", "content", "query"]
        );
        let f = r.fields("TicklerResponse", &[], Variant::OpenO);
        assert_eq!(
            f.last().unwrap().ty,
            JType::List(Box::new(JType::Class("TicklerTo1".into(), vec![])))
        );
    }

    #[test]
    fn variant_only_properties_are_filtered() {
        let r = Registry::get();
        let has = |v, p: &str| {
            r.fields("DemographicTo1", &[], v)
                .iter()
                .any(|f| f.name == p)
        };
        assert!(has(Variant::OpenO, "cellPhone"));
        assert!(!has(Variant::Oscar19, "cellPhone"));
        assert!(has(Variant::Oscar19, "myOscarUserName"));
    }
}
