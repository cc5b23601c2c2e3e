//! The element tree of a SOAP request, read with quick-xml's namespace
//! reader. Only what the server looks at is kept: elements with their
//! expanded names, their attributes (namespace declarations left out, as
//! XML Namespaces says), and the text directly inside each, entities
//! decoded. Names and text are borrowed from the request wherever they
//! need no decoding, so a request costs a few vectors, not a node per
//! allocation.
//!
//! It refuses what CXF's hardened parser refuses: a DTD (so no entity
//! can expand), more than a bounded number of nodes, and nesting deeper
//! than a bound; and anything not well-formed (an unclosed or mismatched
//! tag, an undeclared prefix, a repeated attribute, an unknown entity,
//! text outside the root element, no root or two).

use std::borrow::Cow;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::PrefixDeclaration;
use quick_xml::Reader;

/// Why a request is not a document the server reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("a document type declaration")]
    Dtd,
    #[error("more than {0} nodes")]
    TooManyNodes(usize),
    #[error("nesting deeper than {0} elements")]
    TooDeep(usize),
    #[error("{0}")]
    Malformed(String),
}

/// How much a request may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Elements and text runs, in all.
    pub nodes: usize,
    /// Elements nested in one another; the root element is at depth 1.
    pub depth: usize,
}

const NONE: u32 = u32::MAX;

/// A parsed request.
#[derive(Debug)]
pub struct Document<'i> {
    elements: Vec<Element<'i>>,
    attributes: Vec<Attribute<'i>>,
    /// Namespace URIs in use; an element or attribute holds index + 1,
    /// 0 for none.
    namespaces: Vec<Box<str>>,
}

#[derive(Debug)]
struct Element<'i> {
    ns: u32,
    name: Cow<'i, str>,
    /// Its attributes: `attributes[first_attribute..end_attribute]`.
    first_attribute: u32,
    end_attribute: u32,
    text: Cow<'i, str>,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
}

/// An attribute of an element.
#[derive(Debug)]
pub struct Attribute<'i> {
    ns: u32,
    name: Cow<'i, str>,
    value: Cow<'i, str>,
}

impl Attribute<'_> {
    /// The local name.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn value(&self) -> &str {
        &self.value
    }
}

/// A namespace URI (or none) and a local name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpandedName<'a> {
    namespace: Option<&'a str>,
    name: &'a str,
}

impl<'a> ExpandedName<'a> {
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The namespace URI; `None` for a name in no namespace.
    pub fn namespace(&self) -> Option<&'a str> {
        self.namespace
    }
}

impl<'a> From<&'a str> for ExpandedName<'a> {
    fn from(name: &'a str) -> Self {
        ExpandedName {
            namespace: None,
            name,
        }
    }
}

impl<'a> From<(&'a str, &'a str)> for ExpandedName<'a> {
    fn from((namespace, name): (&'a str, &'a str)) -> Self {
        ExpandedName {
            namespace: Some(namespace),
            name,
        }
    }
}

/// An element of a [`Document`].
#[derive(Debug, Clone, Copy)]
pub struct Node<'a, 'i> {
    doc: &'a Document<'i>,
    id: u32,
}

impl<'a, 'i> Node<'a, 'i> {
    fn element(&self) -> &'a Element<'i> {
        &self.doc.elements[self.id as usize]
    }

    pub fn tag_name(&self) -> ExpandedName<'a> {
        let e = self.element();
        ExpandedName {
            namespace: self.doc.namespace(e.ns),
            name: &e.name,
        }
    }

    pub fn has_tag_name<'n>(&self, name: impl Into<ExpandedName<'n>>) -> bool {
        let want = name.into();
        let have = self.tag_name();
        have.name == want.name && (want.namespace.is_none() || have.namespace == want.namespace)
    }

    /// The child elements, in document order.
    pub fn children(&self) -> Children<'a, 'i> {
        Children {
            doc: self.doc,
            next: self.element().first_child,
        }
    }

    /// The value of an attribute: `"Type"` for one in no namespace,
    /// `(namespace, local)` for a qualified one.
    pub fn attribute<'n>(&self, name: impl Into<ExpandedName<'n>>) -> Option<&'a str> {
        let want = name.into();
        self.attributes()
            .find(|a| a.name() == want.name && self.doc.namespace(a.ns) == want.namespace)
            .map(Attribute::value)
    }

    pub fn attributes(&self) -> impl Iterator<Item = &'a Attribute<'i>> + 'a {
        let e = self.element();
        self.doc.attributes[e.first_attribute as usize..e.end_attribute as usize].iter()
    }

    /// The text directly inside the element (its text and CDATA children
    /// joined), entities decoded.
    pub fn text(&self) -> &'a str {
        &self.element().text
    }
}

/// The child elements of a node.
#[derive(Debug, Clone)]
pub struct Children<'a, 'i> {
    doc: &'a Document<'i>,
    next: u32,
}

impl<'a, 'i> Iterator for Children<'a, 'i> {
    type Item = Node<'a, 'i>;

    fn next(&mut self) -> Option<Node<'a, 'i>> {
        if self.next == NONE {
            return None;
        }
        let id = self.next;
        self.next = self.doc.elements[id as usize].next_sibling;
        Some(Node { doc: self.doc, id })
    }
}

impl<'i> Document<'i> {
    /// The root element (a document is only built with one).
    pub fn root_element(&self) -> Node<'_, 'i> {
        Node { doc: self, id: 0 }
    }

    fn namespace(&self, ns: u32) -> Option<&str> {
        ns.checked_sub(1)
            .and_then(|i| self.namespaces.get(i as usize))
            .map(|s| &**s)
    }

    fn intern(&mut self, uri: &[u8]) -> Result<u32, ParseError> {
        let uri = std::str::from_utf8(uri)
            .map_err(|_| ParseError::Malformed("a namespace URI is not UTF-8".into()))?;
        let at = match self.namespaces.iter().position(|n| &**n == uri) {
            Some(i) => i,
            None => {
                self.namespaces.push(uri.into());
                self.namespaces.len() - 1
            }
        };
        Ok(u32::try_from(at + 1).unwrap_or(NONE))
    }

    /// Parses `text` within `limits`.
    pub fn parse(text: &'i str, limits: Limits) -> Result<Document<'i>, ParseError> {
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        let mut parser = Parser {
            doc: Document {
                elements: Vec::with_capacity(32),
                attributes: Vec::new(),
                namespaces: Vec::new(),
            },
            input: text.as_bytes(),
            scopes: Vec::new(),
            open: Vec::with_capacity(16),
            nodes: 0,
            limits,
        };
        loop {
            let event = reader.read_event().map_err(|e| malformed(&e))?;
            if !parser.event(event)? {
                break;
            }
        }
        parser.finish()
    }
}

/// The state of one parse.
struct Parser<'i> {
    doc: Document<'i>,
    input: &'i [u8],
    /// Namespace declarations in scope, innermost last: a prefix (`None`
    /// for the default namespace) and its namespace (0 undeclares the
    /// default namespace).
    scopes: Vec<(Option<Cow<'i, [u8]>>, u32)>,
    /// The open elements, innermost last, with the number of declarations
    /// in scope before each.
    open: Vec<(u32, usize)>,
    nodes: usize,
    limits: Limits,
}

fn malformed(e: &dyn std::fmt::Display) -> ParseError {
    ParseError::Malformed(e.to_string())
}

/// An attribute other than a declaration, before its prefix is resolved:
/// prefix, local name, value.
type Unresolved<'i> = (Option<Cow<'i, [u8]>>, Cow<'i, [u8]>, Cow<'i, str>);

/// The namespace the `xml` prefix is bound to, undeclared.
const XML_NAMESPACE: &[u8] = b"http://www.w3.org/XML/1998/namespace";

impl<'i> Parser<'i> {
    /// Takes one event; false at the end of the input.
    fn event(&mut self, event: Event<'i>) -> Result<bool, ParseError> {
        match event {
            Event::Start(e) => self.start(&e, false)?,
            Event::Empty(e) => self.start(&e, true)?,
            Event::End(_) => {
                if let Some((_, mark)) = self.open.pop() {
                    self.scopes.truncate(mark);
                }
            }
            Event::Text(t) => {
                let raw = t.unescape().map_err(|e| malformed(&e))?;
                match self.open.last() {
                    Some(&(parent, _)) => {
                        self.count()?;
                        append(&mut self.doc.elements[parent as usize].text, line_ends(raw));
                    }
                    None if raw.trim().is_empty() => {}
                    None => {
                        return Err(ParseError::Malformed(
                            "text outside the root element".into(),
                        ))
                    }
                }
            }
            Event::CData(c) => {
                let Some(&(parent, _)) = self.open.last() else {
                    return Err(ParseError::Malformed(
                        "CDATA outside the root element".into(),
                    ));
                };
                let raw = c.decode().map_err(|e| malformed(&e))?;
                append(&mut self.doc.elements[parent as usize].text, line_ends(raw));
            }
            Event::DocType(_) => return Err(ParseError::Dtd),
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => return Ok(false),
        }
        Ok(true)
    }

    fn count(&mut self) -> Result<(), ParseError> {
        self.nodes += 1;
        if self.nodes > self.limits.nodes {
            return Err(ParseError::TooManyNodes(self.limits.nodes));
        }
        Ok(())
    }

    fn finish(self) -> Result<Document<'i>, ParseError> {
        if self.doc.elements.is_empty() {
            return Err(ParseError::Malformed("no root element".into()));
        }
        if !self.open.is_empty() {
            return Err(ParseError::Malformed(
                "the document ends inside an element".into(),
            ));
        }
        Ok(self.doc)
    }

    /// The namespace of a prefix in scope (`None`: the default namespace,
    /// which unprefixed attributes do not take).
    fn resolve(&mut self, prefix: Option<&[u8]>, attribute: bool) -> Result<u32, ParseError> {
        match prefix {
            None if attribute => Ok(0),
            Some(b"xml") => self.doc.intern(XML_NAMESPACE),
            _ => {
                let found = self
                    .scopes
                    .iter()
                    .rev()
                    .find(|(p, _)| p.as_deref() == prefix)
                    .map(|(_, ns)| *ns);
                match (found, prefix) {
                    (Some(ns), _) => Ok(ns),
                    (None, None) => Ok(0),
                    (None, Some(p)) => Err(ParseError::Malformed(format!(
                        "the namespace prefix `{}` is not declared",
                        String::from_utf8_lossy(p)
                    ))),
                }
            }
        }
    }

    /// A start tag: its declarations come into scope, then it and its
    /// attributes are resolved and added under the innermost open element.
    fn start(&mut self, start: &BytesStart<'_>, empty: bool) -> Result<(), ParseError> {
        self.count()?;
        if self.open.is_empty() && !self.doc.elements.is_empty() {
            return Err(ParseError::Malformed("a second root element".into()));
        }
        if self.open.len() + 1 > self.limits.depth {
            return Err(ParseError::TooDeep(self.limits.depth));
        }
        let input = self.input;
        let mark = self.scopes.len();
        let mut plain: Vec<Unresolved<'i>> = Vec::new();
        for a in start.attributes() {
            let a = a.map_err(|e| malformed(&e))?;
            let value = attribute_value(within(input, &a.value))?;
            match a.key.as_namespace_binding() {
                Some(PrefixDeclaration::Default) => {
                    let ns = if value.is_empty() {
                        0
                    } else {
                        self.doc.intern(value.as_bytes())?
                    };
                    self.scopes.push((None, ns));
                }
                Some(PrefixDeclaration::Named(prefix)) => {
                    if value.is_empty() {
                        return Err(ParseError::Malformed(format!(
                            "the namespace prefix `{}` is bound to no namespace",
                            String::from_utf8_lossy(prefix)
                        )));
                    }
                    let ns = self.doc.intern(value.as_bytes())?;
                    self.scopes.push((Some(within(input, prefix)), ns));
                }
                None => {
                    let (local, prefix) = a.key.decompose();
                    plain.push((
                        prefix.map(|p| within(input, p.into_inner())),
                        within(input, local.into_inner()),
                        value,
                    ));
                }
            }
        }
        let (local, prefix) = start.name().decompose();
        let ns = self.resolve(prefix.map(|p| p.into_inner()), false)?;
        let name = utf8(within(input, local.into_inner()))?;
        let first_attribute = u32::try_from(self.doc.attributes.len()).unwrap_or(NONE);
        for (prefix, local, value) in plain {
            let ns = self.resolve(prefix.as_deref(), true)?;
            let name = utf8(local)?;
            if self.doc.attributes[first_attribute as usize..]
                .iter()
                .any(|a| a.ns == ns && a.name == name)
            {
                return Err(ParseError::Malformed(format!(
                    "the attribute `{name}` is given twice"
                )));
            }
            self.doc.attributes.push(Attribute { ns, name, value });
        }
        let id = u32::try_from(self.doc.elements.len()).unwrap_or(NONE);
        self.doc.elements.push(Element {
            ns,
            name,
            first_attribute,
            end_attribute: u32::try_from(self.doc.attributes.len()).unwrap_or(NONE),
            text: Cow::Borrowed(""),
            first_child: NONE,
            last_child: NONE,
            next_sibling: NONE,
        });
        if let Some(&(parent, _)) = self.open.last() {
            let p = &mut self.doc.elements[parent as usize];
            let previous = p.last_child;
            p.last_child = id;
            if previous == NONE {
                p.first_child = id;
            } else {
                self.doc.elements[previous as usize].next_sibling = id;
            }
        }
        if empty {
            self.scopes.truncate(mark);
        } else {
            self.open.push((id, mark));
        }
        Ok(())
    }
}

/// `part`, borrowed from the input when it is a slice of it (the reader
/// reads a `&str`, so names and undecoded values are), copied otherwise.
fn within<'i>(input: &'i [u8], part: &[u8]) -> Cow<'i, [u8]> {
    let start = (part.as_ptr() as usize).checked_sub(input.as_ptr() as usize);
    match start.and_then(|s| input.get(s..s + part.len())) {
        Some(slice) if std::ptr::eq(slice.as_ptr(), part.as_ptr()) => Cow::Borrowed(slice),
        _ => Cow::Owned(part.to_vec()),
    }
}

fn utf8(bytes: Cow<'_, [u8]>) -> Result<Cow<'_, str>, ParseError> {
    let bad = || ParseError::Malformed("a name is not UTF-8".into());
    Ok(match bytes {
        Cow::Borrowed(b) => Cow::Borrowed(std::str::from_utf8(b).map_err(|_| bad())?),
        Cow::Owned(b) => Cow::Owned(String::from_utf8(b).map_err(|_| bad())?),
    })
}

/// An attribute value as XML 1.0 3.3.3 normalises it: each literal tab,
/// line end or new line is a space (a character reference to one is
/// kept), then references are decoded.
fn attribute_value(raw: Cow<'_, [u8]>) -> Result<Cow<'_, str>, ParseError> {
    let bad = |e: &dyn std::fmt::Display| ParseError::Malformed(e.to_string());
    let text = utf8(raw).map_err(|_| ParseError::Malformed("an attribute is not UTF-8".into()))?;
    if !text.contains(['\t', '\n', '\r']) {
        return match text {
            Cow::Borrowed(t) => quick_xml::escape::unescape(t).map_err(|e| bad(&e)),
            Cow::Owned(t) => Ok(Cow::Owned(
                quick_xml::escape::unescape(&t)
                    .map_err(|e| bad(&e))?
                    .into_owned(),
            )),
        };
    }
    let spaced = text.replace("\r\n", " ").replace(['\t', '\n', '\r'], " ");
    Ok(Cow::Owned(
        quick_xml::escape::unescape(&spaced)
            .map_err(|e| bad(&e))?
            .into_owned(),
    ))
}

/// Text with its line ends normalised to `\n` (XML 1.0 2.11).
fn line_ends(text: Cow<'_, str>) -> Cow<'_, str> {
    if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        text
    }
}

/// Appends a text run to an element's text.
fn append<'i>(text: &mut Cow<'i, str>, run: Cow<'i, str>) {
    if text.is_empty() {
        *text = run;
    } else {
        text.to_mut().push_str(&run);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        nodes: 1000,
        depth: 8,
    };

    fn parse(text: &str) -> Result<Document<'_>, ParseError> {
        Document::parse(text, LIMITS)
    }

    #[test]
    fn elements_attributes_and_text_are_read_with_their_namespaces() {
        let doc = parse(
            "<?xml version=\"1.0\"?>\r\n<s:E xmlns:s=\"urn:s\" xmlns=\"urn:d\" a=\"1\" s:b=\"x&amp;y\">\
             <H>one &lt;two&gt;<!-- c --><![CDATA[ <three> ]]>&#x41;</H><p:X xmlns:p=\"urn:p\" p:t=\"T\"/>\
             <n xmlns=\"\">line\r\nend</n></s:E>",
        )
        .unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "E");
        assert_eq!(root.tag_name().namespace(), Some("urn:s"));
        assert!(root.has_tag_name(("urn:s", "E")));
        assert!(!root.has_tag_name(("urn:d", "E")));
        assert_eq!(root.attribute("a"), Some("1"));
        assert_eq!(root.attribute(("urn:s", "b")), Some("x&y"));
        assert_eq!(root.attribute("b"), None);
        assert_eq!(
            root.attributes().count(),
            2,
            "xmlns declarations are not attributes"
        );
        let kids: Vec<_> = root.children().collect();
        assert_eq!(kids.len(), 3);
        assert_eq!(kids[0].tag_name().namespace(), Some("urn:d"));
        assert_eq!(kids[0].text(), "one <two> <three> A");
        assert_eq!(kids[1].tag_name().namespace(), Some("urn:p"));
        assert_eq!(kids[1].attribute(("urn:p", "t")), Some("T"));
        assert_eq!(kids[2].tag_name().namespace(), None);
        assert_eq!(kids[2].text(), "line\nend");
    }

    #[test]
    fn attribute_values_are_normalised_before_references_are_decoded() {
        let doc = parse("<a v=\"x\ty\nz\" w=\"p&#10;q\"/>").unwrap();
        assert_eq!(doc.root_element().attribute("v"), Some("x y z"));
        assert_eq!(doc.root_element().attribute("w"), Some("p\nq"));
    }

    #[test]
    fn what_is_not_well_formed_or_allowed_is_refused() {
        for (text, want) in [
            (
                "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
                ParseError::Dtd,
            ),
            ("<a><b></a>", ParseError::Malformed(String::new())),
            ("<a>", ParseError::Malformed(String::new())),
            ("", ParseError::Malformed(String::new())),
            ("<a/><b/>", ParseError::Malformed(String::new())),
            ("text<a/>", ParseError::Malformed(String::new())),
            ("<p:a/>", ParseError::Malformed(String::new())),
            ("<a x=\"1\" x=\"2\"/>", ParseError::Malformed(String::new())),
            ("<a>&nope;</a>", ParseError::Malformed(String::new())),
            (
                "<a><a><a><a><a><a><a><a><a/></a></a></a></a></a></a></a></a>",
                ParseError::TooDeep(8),
            ),
        ] {
            let got = parse(text).expect_err(text);
            match (&got, &want) {
                (ParseError::Malformed(m), ParseError::Malformed(_)) => {
                    assert!(!m.is_empty(), "{text}")
                }
                _ => assert_eq!(got, want, "{text}"),
            }
        }
        let many = format!("<a>{}</a>", "<b/>".repeat(1000));
        assert_eq!(parse(&many).unwrap_err(), ParseError::TooManyNodes(1000));
    }

    #[test]
    fn whitespace_around_the_root_is_allowed() {
        let doc = parse("\n  <a> <b/> </a>\n").unwrap();
        assert_eq!(doc.root_element().children().count(), 1);
        assert_eq!(doc.root_element().text(), "  ");
    }
}
