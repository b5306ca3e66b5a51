//! The small slice of XML WeChat uses: flat `<xml>` documents with CDATA text, written the
//! way the platform writes them and read leniently but safely (no DTDs, no entities beyond
//! the predefined five and numeric references).

/// Builds a WeChat `<xml>` document; elements are separated by `\n` like the platform's.
#[derive(Debug, Default)]
pub struct XmlOut {
    buf: String,
}

impl XmlOut {
    pub fn new() -> Self {
        XmlOut { buf: String::from("<xml>") }
    }

    /// A text element wrapped in CDATA (the platform's choice for strings).
    pub fn cdata(mut self, name: &str, value: &str) -> Self {
        self.buf.push_str(&format!("<{name}>{}</{name}>\n", cdata(value)));
        self
    }

    /// A bare element, used for numbers.
    pub fn raw(mut self, name: &str, value: impl std::fmt::Display) -> Self {
        self.buf.push_str(&format!("<{name}>{value}</{name}>\n"));
        self
    }

    pub fn finish(mut self) -> String {
        if self.buf.ends_with('\n') {
            self.buf.pop();
        }
        self.buf.push_str("</xml>");
        self.buf
    }
}

/// `]]>` cannot appear inside one CDATA section, so it is split across two.
pub fn cdata(value: &str) -> String {
    format!("<![CDATA[{}]]>", value.replace("]]>", "]]]]><![CDATA[>"))
}

/// A parsed element: its name, its concatenated text and its child elements.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Node {
    pub name: String,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Text of a direct child, trimmed of the whitespace around it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed XML: {0}")]
pub struct XmlError(pub String);

fn err(msg: &str) -> XmlError {
    XmlError(msg.to_owned())
}

/// Parses one document; refuses DOCTYPE declarations outright.
pub fn parse(input: &str) -> Result<Node, XmlError> {
    let mut p = Parser { s: input, pos: 0 };
    p.skip_misc()?;
    let root = p.element()?;
    p.skip_misc()?;
    if p.pos != p.s.len() {
        return Err(err("content after the root element"));
    }
    Ok(root)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.s.len() - trimmed.len();
    }

    fn skip_past(&mut self, end: &str) -> Result<(), XmlError> {
        let at = self.rest().find(end).ok_or_else(|| err("unterminated markup"))?;
        self.pos += at + end.len();
        Ok(())
    }

    /// Whitespace, the XML declaration and comments around the root.
    fn skip_misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_ws();
            let r = self.rest();
            if r.starts_with("<?") {
                self.skip_past("?>")?;
            } else if r.starts_with("<!--") {
                self.skip_past("-->")?;
            } else if r.starts_with("<!") && !r.starts_with("<![CDATA[") {
                return Err(err("DOCTYPE and declarations are not accepted"));
            } else {
                return Ok(());
            }
        }
    }

    fn element(&mut self) -> Result<Node, XmlError> {
        if !self.rest().starts_with('<') {
            return Err(err("expected an element"));
        }
        let close = self.rest().find('>').ok_or_else(|| err("unterminated tag"))?;
        let tag = &self.rest()[1..close];
        self.pos += close + 1;
        let self_closing = tag.ends_with('/');
        let name = tag.trim_end_matches('/').split_whitespace().next().unwrap_or_default().to_owned();
        if name.is_empty() {
            return Err(err("empty tag name"));
        }
        let mut node = Node { name, ..Node::default() };
        if !self_closing {
            self.content(&mut node)?;
        }
        Ok(node)
    }

    fn content(&mut self, node: &mut Node) -> Result<(), XmlError> {
        loop {
            let r = self.rest();
            if r.is_empty() {
                return Err(err("unclosed element"));
            }
            if let Some(after) = r.strip_prefix("</") {
                let end = after.find('>').ok_or_else(|| err("unterminated end tag"))?;
                if after[..end].trim() != node.name {
                    return Err(err("mismatched end tag"));
                }
                self.pos += 2 + end + 1;
                return Ok(());
            }
            if let Some(after) = r.strip_prefix("<![CDATA[") {
                let end = after.find("]]>").ok_or_else(|| err("unterminated CDATA"))?;
                node.text.push_str(&after[..end]);
                self.pos += 9 + end + 3;
            } else if r.starts_with("<!--") {
                self.skip_past("-->")?;
            } else if r.starts_with("<!") || r.starts_with("<?") {
                return Err(err("declarations are not accepted inside elements"));
            } else if r.starts_with('<') {
                let child = self.element()?;
                node.children.push(child);
            } else {
                let end = r.find('<').unwrap_or(r.len());
                node.text.push_str(&unescape(&r[..end])?);
                self.pos += end;
            }
        }
    }
}

fn unescape(s: &str) -> Result<String, XmlError> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        let semi = after.find(';').ok_or_else(|| err("unterminated entity"))?;
        let ent = &after[..semi];
        let c = match ent {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            _ => numeric_entity(ent).ok_or_else(|| err("unknown entity"))?,
        };
        out.push(c);
        rest = &after[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn numeric_entity(ent: &str) -> Option<char> {
    let n = if let Some(h) = ent.strip_prefix("#x").or_else(|| ent.strip_prefix("#X")) {
        u32::from_str_radix(h, 16).ok()?
    } else {
        ent.strip_prefix('#')?.parse().ok()?
    };
    char::from_u32(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_documents_parse_back_including_a_split_cdata_terminator() {
        let doc = XmlOut::new().cdata("Content", "a]]>b 你好").raw("CreateTime", 42).finish();
        assert!(doc.contains("\n"));
        let n = parse(&doc).unwrap();
        assert_eq!(n.get("Content"), Some("a]]>b 你好"));
        assert_eq!(n.get("CreateTime"), Some("42"));
    }

    #[test]
    fn nested_articles_entities_and_self_closing_tags_are_read() {
        let n = parse(
            "<?xml version=\"1.0\"?><xml><Articles><item><Title>a &amp; b&#x4F60;</Title></item></Articles><E/></xml>",
        )
        .unwrap();
        let item = n.child("Articles").and_then(|a| a.child("item")).unwrap();
        assert_eq!(item.get("Title"), Some("a & b你"));
        assert!(n.child("E").is_some());
    }

    #[test]
    fn doctypes_and_broken_documents_are_refused() {
        assert!(parse("<!DOCTYPE x [<!ENTITY a \"b\">]><xml>&a;</xml>").is_err());
        assert!(parse("<xml><a></b></xml>").is_err());
        assert!(parse("success").is_err());
        assert!(parse("<xml>").is_err());
    }
}
