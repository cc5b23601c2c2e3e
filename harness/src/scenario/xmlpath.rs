//! XML paths for `expect.xml`, `capture.xml` and snapshot redactions: a
//! small, namespace-aware subset of XPath, checked when the scenario loads.
//!
//! ```text
//! return/firstName                      relative: from the SOAP Body's first element
//! //return[id='5']/lastName             anywhere, with a child-equals predicate
//! return[.='42']                        an element whose own text is 42
//! /soap:Envelope/soap:Body/tns:getDemographicResponse/return[2]/demographicNo
//! //soap:Fault/faultcode                prefixes are the built-in ones below
//! //wsdl:port/wsoap:address/@location   an attribute
//! ```
//!
//! An unprefixed name is an element in no namespace (JAXB's unqualified
//! children); `tns` is the target's SOAP namespace; `*` is any element.

use std::fmt;

use roxmltree::{Document, Node};

/// The prefixes a path may use, and their namespaces (`tns` is the
/// target's and is supplied when the path is evaluated).
pub const PREFIXES: &[(&str, &str)] = &[
    ("soap", "http://schemas.xmlsoap.org/soap/envelope/"),
    ("soap12", "http://www.w3.org/2003/05/soap-envelope"),
    (
        "wsse",
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    ),
    (
        "wsu",
        "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
    ),
    ("wss4j", "http://ws.apache.org/wss4j"),
    ("xsi", "http://www.w3.org/2001/XMLSchema-instance"),
    ("xs", "http://www.w3.org/2001/XMLSchema"),
    ("wsdl", "http://schemas.xmlsoap.org/wsdl/"),
    ("wsoap", "http://schemas.xmlsoap.org/wsdl/soap/"),
];

/// The namespace of a built-in prefix; `tns` resolves to `tns`.
pub fn namespace_of<'a>(prefix: &str, tns: &'a str) -> Option<&'a str> {
    if prefix == "tns" {
        return Some(tns);
    }
    PREFIXES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, ns)| *ns)
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum NameTest {
    Any,
    Name {
        prefix: Option<String>,
        local: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pred {
    /// `[n]`, 1-based among the step's matches under one parent.
    Index(usize),
    /// `[child='value']`.
    ChildEquals { name: NameTest, value: String },
    /// `[.='value']`: the element's own text.
    SelfEquals(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    descendant: bool,
    name: NameTest,
    preds: Vec<Pred>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Element,
    Text,
    Attr {
        prefix: Option<String>,
        local: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Start {
    /// `/…` or `//…`: from the document.
    Root,
    /// A relative path: from the SOAP Body's first element child (or the
    /// root element when the document is not a SOAP envelope).
    Body,
}

/// A parsed XML path.
#[derive(Clone)]
pub struct XmlPath {
    pub source: String,
    start: Start,
    steps: Vec<Step>,
    target: Target,
}

impl fmt::Debug for XmlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl PartialEq for XmlPath {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}
impl Eq for XmlPath {}
impl std::hash::Hash for XmlPath {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.source.hash(state)
    }
}

fn name_test(s: &str, source: &str) -> Result<NameTest, String> {
    if s == "*" {
        return Ok(NameTest::Any);
    }
    let (prefix, local) = match s.split_once(':') {
        Some((p, l)) => (Some(p), l),
        None => (None, s),
    };
    let ok = |x: &str| {
        !x.is_empty()
            && x.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
    };
    if !ok(local) || prefix.is_some_and(|p| !ok(p)) {
        return Err(format!("invalid name `{s}` in XML path `{source}`"));
    }
    if let Some(p) = prefix {
        if namespace_of(p, "").is_none() {
            let known: Vec<&str> = PREFIXES.iter().map(|(p, _)| *p).collect();
            return Err(format!(
                "unknown prefix `{p}` in XML path `{source}` (known: tns, {})",
                known.join(", ")
            ));
        }
    }
    Ok(NameTest::Name {
        prefix: prefix.map(str::to_owned),
        local: local.to_owned(),
    })
}

/// Splits on `/` outside brackets and quotes.
fn split_steps(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in s.char_indices() {
        match (c, quote) {
            ('\'' | '"', None) => quote = Some(c),
            (c, Some(q)) if c == q => quote = None,
            ('[', None) => depth += 1,
            (']', None) => depth -= 1,
            ('/', None) if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

impl XmlPath {
    pub fn parse(source: &str) -> Result<XmlPath, String> {
        let s = source.trim();
        if s.is_empty() {
            return Err("an XML path cannot be empty".into());
        }
        let (start, body) = if s.starts_with('/') {
            (Start::Root, s)
        } else {
            (Start::Body, s)
        };
        let mut parts = split_steps(body).into_iter().peekable();
        if start == Start::Root {
            // The leading `/` leaves an empty first part.
            parts.next();
        }
        let mut steps = Vec::new();
        let mut target = Target::Element;
        let mut descendant = false;
        while let Some(part) = parts.next() {
            if part.is_empty() {
                if descendant || parts.peek().is_none() {
                    return Err(format!("`{source}`: a step is missing"));
                }
                descendant = true;
                continue;
            }
            let last = parts.peek().is_none();
            if let Some(attr) = part.strip_prefix('@') {
                if !last {
                    return Err(format!("`{source}`: an attribute must be the last step"));
                }
                target = match name_test(attr, source)? {
                    NameTest::Name { prefix, local } => Target::Attr { prefix, local },
                    NameTest::Any => {
                        return Err(format!(
                            "`{source}`: name the attribute (`@*` is not supported)"
                        ))
                    }
                };
                break;
            }
            if part == "text()" {
                if !last {
                    return Err(format!("`{source}`: text() must be the last step"));
                }
                target = Target::Text;
                break;
            }
            let (name, mut rest) = match part.find('[') {
                Some(i) => (&part[..i], &part[i..]),
                None => (part, ""),
            };
            let mut preds = Vec::new();
            while let Some(r) = rest.strip_prefix('[') {
                let end = r
                    .find(']')
                    .ok_or_else(|| format!("`{source}`: unclosed `[`"))?;
                let inner = r[..end].trim();
                preds.push(match inner.split_once('=') {
                    Some((child, value)) => {
                        let value = value.trim();
                        let unquoted = value
                            .strip_prefix('\'')
                            .and_then(|v| v.strip_suffix('\''))
                            .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
                            .ok_or_else(|| format!("`{source}`: quote the value in `[{inner}]`"))?;
                        if child.trim() == "." {
                            Pred::SelfEquals(unquoted.to_owned())
                        } else {
                            Pred::ChildEquals {
                                name: name_test(child.trim(), source)?,
                                value: unquoted.to_owned(),
                            }
                        }
                    }
                    None => {
                        let n: usize = inner.parse().map_err(|_| {
                            format!(
                                "`{source}`: `[{inner}]` is neither an index nor `[child='value']`"
                            )
                        })?;
                        if n == 0 {
                            return Err(format!("`{source}`: indexes start at 1"));
                        }
                        Pred::Index(n)
                    }
                });
                rest = &r[end + 1..];
            }
            if !rest.is_empty() {
                return Err(format!("`{source}`: unexpected `{rest}`"));
            }
            steps.push(Step {
                descendant,
                name: name_test(name, source)?,
                preds,
            });
            descendant = false;
        }
        if steps.is_empty() && start == Start::Body && target == Target::Element {
            return Err(format!("`{source}`: no element to select"));
        }
        Ok(XmlPath {
            source: source.to_owned(),
            start,
            steps,
            target,
        })
    }

    /// The nodes the path selects; `tns` is the target's namespace.
    pub fn select<'a, 'input>(
        &self,
        doc: &'a Document<'input>,
        tns: &str,
    ) -> Vec<Node<'a, 'input>> {
        let mut current: Vec<Node> = match self.start {
            Start::Root => vec![doc.root()],
            Start::Body => vec![body_start(doc)],
        };
        for step in &self.steps {
            let mut next = Vec::new();
            for node in &current {
                let mut matched: Vec<Node> = if step.descendant {
                    node.descendants()
                        .skip(1)
                        .filter(|n| matches_name(n, &step.name, tns))
                        .collect()
                } else {
                    node.children()
                        .filter(|n| matches_name(n, &step.name, tns))
                        .collect()
                };
                for pred in &step.preds {
                    matched = match pred {
                        Pred::Index(i) => matched.get(i - 1).copied().into_iter().collect(),
                        Pred::ChildEquals { name, value } => matched
                            .into_iter()
                            .filter(|n| {
                                n.children().any(|c| {
                                    matches_name(&c, name, tns) && element_text(c) == *value
                                })
                            })
                            .collect(),
                        Pred::SelfEquals(value) => matched
                            .into_iter()
                            .filter(|n| element_text(*n) == *value)
                            .collect(),
                    };
                }
                next.extend(matched);
            }
            current = next;
        }
        current
    }

    /// The values the path selects, as text.
    pub fn values(&self, doc: &Document, tns: &str) -> Vec<String> {
        let nodes = self.select(doc, tns);
        match &self.target {
            Target::Element => nodes.into_iter().map(element_text).collect(),
            Target::Text => nodes
                .into_iter()
                .map(|n| {
                    n.children()
                        .filter(Node::is_text)
                        .filter_map(|t| t.text())
                        .collect()
                })
                .collect(),
            Target::Attr { prefix, local } => nodes
                .into_iter()
                .filter_map(|n| match prefix {
                    None => n.attribute(local.as_str()).map(str::to_owned),
                    Some(p) => {
                        let ns = namespace_of(p, tns)?;
                        n.attribute((ns, local.as_str())).map(str::to_owned)
                    }
                })
                .collect(),
        }
    }

    /// The local name of the attribute the path ends with, if it does.
    pub fn attribute(&self) -> Option<&str> {
        match &self.target {
            Target::Attr { local, .. } => Some(local),
            _ => None,
        }
    }

    /// Whether the path selects elements (so a redaction can replace
    /// their text), rather than attributes.
    pub fn selects_elements(&self) -> bool {
        self.target != Target::Text && !matches!(self.target, Target::Attr { .. })
    }
}

fn matches_name(n: &Node, test: &NameTest, tns: &str) -> bool {
    if !n.is_element() {
        return false;
    }
    match test {
        NameTest::Any => true,
        NameTest::Name { prefix, local } => {
            let tag = n.tag_name();
            if tag.name() != local {
                return false;
            }
            let ns = tag.namespace().filter(|s| !s.is_empty());
            match prefix {
                None => ns.is_none(),
                Some(p) => ns.is_some() && ns == namespace_of(p, tns),
            }
        }
    }
}

/// The text of an element and its descendants.
pub fn element_text(n: Node) -> String {
    if n.is_text() {
        return n.text().unwrap_or_default().to_owned();
    }
    n.descendants()
        .filter(Node::is_text)
        .filter_map(|t| t.text())
        .collect()
}

/// Where relative paths start: the SOAP Body's first element, or the
/// root element of any other document.
fn body_start<'a, 'input>(doc: &'a Document<'input>) -> Node<'a, 'input> {
    let root = doc.root_element();
    let soap = [
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2003/05/soap-envelope",
    ];
    if root.tag_name().name() == "Envelope"
        && root
            .tag_name()
            .namespace()
            .is_some_and(|n| soap.contains(&n))
    {
        if let Some(first) = root
            .children()
            .find(|c| c.is_element() && c.tag_name().name() == "Body")
            .and_then(|b| b.children().find(Node::is_element))
        {
            // The context is the wrapper: a relative path's first step is
            // one of its children (`return`, `faultcode`).
            return first;
        }
    }
    root
}

#[cfg(test)]
mod tests {
    use super::*;

    const TNS: &str = "http://ws.oscarehr.org/";

    fn doc() -> String {
        format!(
            "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/'><soap:Body>\
             <ns2:getXResponse xmlns:ns2='{TNS}'>\
             <return><id>1</id><lastName>Lee</lastName></return>\
             <return><id>2</id><lastName>Li</lastName><code a='x'>65</code></return>\
             </ns2:getXResponse></soap:Body></soap:Envelope>"
        )
    }

    fn values(path: &str) -> Vec<String> {
        let text = doc();
        let d = Document::parse(&text).unwrap();
        XmlPath::parse(path).unwrap().values(&d, TNS)
    }

    #[test]
    fn paths_select_relative_absolute_and_anywhere() {
        assert_eq!(values("return/id"), ["1", "2"]);
        assert_eq!(values("return[2]/lastName"), ["Li"]);
        assert_eq!(values("return[id='2']/lastName"), ["Li"]);
        assert_eq!(values("return/id[.='2']"), ["2"]);
        assert_eq!(values("//lastName"), ["Lee", "Li"]);
        assert_eq!(
            values("/soap:Envelope/soap:Body/tns:getXResponse/return[1]/lastName"),
            ["Lee"]
        );
        assert_eq!(values("//code/@a"), ["x"]);
        assert_eq!(values("return/*"), ["1", "Lee", "2", "Li", "65"]);
        assert!(
            values("//tns:lastName").is_empty(),
            "children are unqualified"
        );
        assert!(values("nothing").is_empty());
    }

    #[test]
    fn bad_paths_are_load_errors() {
        for (p, want) in [
            ("", "empty"),
            ("//", "missing"),
            ("x:y", "unknown prefix `x`"),
            ("a[0]", "start at 1"),
            ("a[b=c]", "quote the value"),
            ("@a/b", "last step"),
            ("a[1", "unclosed"),
            ("a b", "invalid name"),
        ] {
            let e = XmlPath::parse(p).unwrap_err();
            assert!(e.contains(want), "{p}: {e}");
        }
    }
}
