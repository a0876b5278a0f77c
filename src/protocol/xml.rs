//! XML for restXml and awsQuery: a small writer for responses and a tree reader for the few
//! request bodies that are XML (S3's CreateBucketConfiguration, Delete, CompleteMultipartUpload).

use quick_xml::events::Event;

/// Appends escaped XML to a string. Elements are written in order; nothing is buffered twice.
pub struct XmlWriter {
    out: String,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    /// A writer that starts with the XML declaration.
    pub fn new() -> Self {
        XmlWriter { out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n") }
    }

    /// Opens `<name>`.
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Opens `<name a="v" ...>` (attribute values escaped).
    pub fn open_attrs(&mut self, name: &str, attrs: &[(&str, &str)]) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        for (a, v) in attrs {
            self.out.push(' ');
            self.out.push_str(a);
            self.out.push_str("=\"");
            self.out.push_str(&quick_xml::escape::escape(*v));
            self.out.push('"');
        }
        self.out.push('>');
        self
    }

    /// Opens `<name xmlns="ns">`.
    pub fn open_ns(&mut self, name: &str, ns: &str) -> &mut Self {
        self.start_ns(name, ns, ">")
    }

    /// Writes an empty `<name xmlns="ns"/>`.
    pub fn empty_ns(&mut self, name: &str, ns: &str) -> &mut Self {
        self.start_ns(name, ns, "/>")
    }

    fn start_ns(&mut self, name: &str, ns: &str, end: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" xmlns=\"");
        self.out.push_str(ns);
        self.out.push('"');
        self.out.push_str(end);
        self
    }

    /// Closes `</name>`.
    pub fn close(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    /// Writes `<name>text</name>` with the text escaped.
    pub fn elem(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name);
        self.out.push_str(&quick_xml::escape::partial_escape(text));
        self.close(name)
    }

    /// Writes escaped text inside the open element.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.out.push_str(&quick_xml::escape::partial_escape(text));
        self
    }

    /// Writes the element only when a value is present.
    pub fn opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(t) = text {
            self.elem(name, t);
        }
        self
    }

    /// The finished document.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A parsed XML element: its local name, its text, and its children in order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child with this local name.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The text of the first child with this name.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.as_str())
    }
}

impl Element {
    /// An element with text.
    pub fn leaf(name: &str, text: impl Into<String>) -> Element {
        Element { name: name.to_string(), text: text.into(), children: Vec::new() }
    }

    /// An element with children.
    pub fn node(name: &str, children: Vec<Element>) -> Element {
        Element { name: name.to_string(), text: String::new(), children }
    }

    /// The element as a document, with `ns` as the root's namespace.
    pub fn to_document(&self, ns: &str) -> String {
        fn write(w: &mut XmlWriter, el: &Element) {
            if el.children.is_empty() {
                w.elem(&el.name, &el.text);
            } else {
                w.open(&el.name);
                for c in &el.children {
                    write(w, c);
                }
                w.close(&el.name);
            }
        }
        let mut w = XmlWriter::new();
        if self.children.is_empty() && self.text.is_empty() {
            w.empty_ns(&self.name, ns);
        } else {
            w.open_ns(&self.name, ns);
            for c in &self.children {
                write(&mut w, c);
            }
            w.close(&self.name);
        }
        w.finish()
    }
}

/// Parses a document into its root element (namespaces are dropped; names are local). A leaf
/// keeps its text exactly (S3 keys may start or end with spaces, and `a &amp; b` stays whole);
/// the whitespace between child elements is dropped.
pub fn parse(input: &[u8]) -> Result<Element, String> {
    let mut reader = quick_xml::Reader::from_reader(input);
    let mut stack: Vec<Element> = Vec::new();
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(Element { name, ..Default::default() });
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                let el = Element { name, ..Default::default() };
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Ok(Event::Text(t)) => {
                let text = t.decode().map_err(|e| e.to_string())?;
                let text = quick_xml::escape::unescape(&text).map_err(|e| e.to_string())?;
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&text);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let name = String::from_utf8_lossy(&r).into_owned();
                let resolved = match name.as_str() {
                    "lt" => "<".to_string(),
                    "gt" => ">".to_string(),
                    "amp" => "&".to_string(),
                    "quot" => "\"".to_string(),
                    "apos" => "'".to_string(),
                    _ => match r.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => return Err(format!("unknown entity &{name};")),
                    },
                };
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&resolved);
                }
            }
            Ok(Event::End(_)) => {
                let mut el = stack.pop().ok_or("unbalanced end tag")?;
                if !el.children.is_empty() && el.text.trim().is_empty() {
                    el.text.clear();
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(el),
                    None => return Ok(el),
                }
            }
            Ok(Event::Eof) => return Err("unexpected end of document".into()),
            Ok(_) => {}
            Err(e) => return Err(e.to_string()),
        }
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_escapes() {
        let mut w = XmlWriter::new();
        w.open("A").elem("B", "x<&>\"y").close("A");
        assert!(w.finish().ends_with("<A><B>x&lt;&amp;&gt;\"y</B></A>"));
    }

    #[test]
    fn parse_tree_with_namespace_and_entities() {
        let doc = br#"<?xml version="1.0"?><Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a&amp;b&#x41;</Key></Object><Object><Key>c</Key></Object></Delete>"#;
        let e = parse(doc).unwrap_or_default();
        assert_eq!(e.name, "Delete");
        assert_eq!(e.child_text("Quiet"), Some("true"));
        let keys: Vec<_> = e.children_named("Object").filter_map(|o| o.child_text("Key")).collect();
        assert_eq!(keys, vec!["a&bA", "c"]);
    }

    #[test]
    fn parse_rejects_garbage() {
        assert!(parse(b"<a><b></a>").is_err());
        assert!(parse(b"not xml").is_err());
        assert!(parse(b"").is_err());
    }
}
