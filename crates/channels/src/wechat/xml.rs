//! Safe reading and writing of the platforms' XML: element text by path, no DTDs, no custom
//! entities (so XXE and entity expansion are impossible), bounded depth and size.

use quick_xml::Reader;
use quick_xml::events::Event;

/// Largest callback body accepted, in bytes; WeChat's own messages are far smaller.
pub const MAX_XML_BYTES: usize = 256 * 1024;
const MAX_DEPTH: usize = 8;
const MAX_FIELDS: usize = 512;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("malformed XML: {0}")]
    Malformed(String),
    #[error("forbidden XML construct: {0}")]
    Forbidden(&'static str),
    #[error("the XML body is larger than {MAX_XML_BYTES} bytes")]
    TooLarge,
    #[error("the root element must be <xml>")]
    WrongRoot,
}

/// The text of every element, keyed by its path below the root (`ScanCodeInfo/ScanResult`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct XmlDoc {
    fields: Vec<(String, String)>,
}

impl XmlDoc {
    pub fn get(&self, path: &str) -> Option<&str> {
        self.fields.iter().find(|(p, _)| p == path).map(|(_, v)| v.as_str())
    }

    /// Every value at `path`, for repeated items.
    pub fn all<'a>(&'a self, path: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.iter().filter(move |(p, _)| p == path).map(|(_, v)| v.as_str())
    }

    pub fn require(&self, path: &str) -> Result<&str, XmlError> {
        self.get(path).ok_or_else(|| XmlError::Malformed(format!("missing <{path}>")))
    }
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

struct Builder {
    stack: Vec<String>,
    text: String,
    doc: XmlDoc,
}

impl Builder {
    fn open(&mut self, name: &str) -> Result<(), XmlError> {
        if self.stack.is_empty() && name != "xml" {
            return Err(XmlError::WrongRoot);
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(XmlError::Forbidden("nesting too deep"));
        }
        self.stack.push(name.to_owned());
        self.text.clear();
        Ok(())
    }

    fn close(&mut self) -> Result<(), XmlError> {
        if self.stack.len() > 1 {
            if self.doc.fields.len() >= MAX_FIELDS {
                return Err(XmlError::Forbidden("too many elements"));
            }
            let path = self.stack[1..].join("/");
            self.doc.fields.push((path, std::mem::take(&mut self.text)));
        }
        self.stack.pop().ok_or_else(|| XmlError::Malformed("unbalanced end tag".into()))?;
        Ok(())
    }
}

/// Parses a callback body. Anything but plain elements, text, CDATA, comments and the XML
/// declaration is refused.
pub fn parse(body: &str) -> Result<XmlDoc, XmlError> {
    if body.len() > MAX_XML_BYTES {
        return Err(XmlError::TooLarge);
    }
    let mut reader = Reader::from_str(body);
    let mut b = Builder { stack: vec![], text: String::new(), doc: XmlDoc::default() };
    let mut seen_root = false;
    loop {
        let ev = reader.read_event().map_err(|e| XmlError::Malformed(e.to_string()))?;
        match ev {
            Event::Start(e) => {
                if b.stack.is_empty() && seen_root {
                    return Err(XmlError::Malformed("content after the root element".into()));
                }
                seen_root = true;
                b.open(e.name().as_ref())?;
            }
            Event::Empty(e) => {
                b.open(e.name().as_ref())?;
                b.close()?;
            }
            Event::End(_) => b.close()?,
            Event::Text(t) => b.text.push_str(&t.xml10_content()),
            Event::CData(c) => b.text.push_str(&c.into_inner()),
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref().map_err(|e| XmlError::Malformed(e.to_string()))?
                } else {
                    predefined(&r.xml10_content())
                };
                b.text.push(c.ok_or(XmlError::Forbidden("entity reference"))?);
            }
            Event::DocType(_) => return Err(XmlError::Forbidden("DOCTYPE")),
            Event::PI(_) => return Err(XmlError::Forbidden("processing instruction")),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !b.stack.is_empty() || !seen_root {
        return Err(XmlError::Malformed("truncated document".into()));
    }
    Ok(b.doc)
}

/// Builds a flat `<xml>` reply. Text goes into CDATA with `]]>` split, and characters XML 1.0
/// cannot carry at all are dropped, so no user text can break out of its element.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

impl XmlWriter {
    pub fn new() -> Self {
        XmlWriter { out: String::from("<xml>") }
    }

    pub fn text(mut self, tag: &str, value: &str) -> Self {
        let clean: String = value.chars().filter(|c| xml_char(*c)).collect();
        self.out.push_str(&format!("<{tag}><![CDATA[{}]]></{tag}>", clean.replace("]]>", "]]]]><![CDATA[>")));
        self
    }

    pub fn number(mut self, tag: &str, value: i64) -> Self {
        self.out.push_str(&format!("<{tag}>{value}</{tag}>"));
        self
    }

    /// Opens a nested element; close it with [`XmlWriter::close`].
    pub fn open(mut self, tag: &str) -> Self {
        self.out.push_str(&format!("<{tag}>"));
        self
    }

    pub fn close(mut self, tag: &str) -> Self {
        self.out.push_str(&format!("</{tag}>"));
        self
    }

    pub fn finish(mut self) -> String {
        self.out.push_str("</xml>");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_nested_items_cdata_and_entities_are_read() {
        let doc = parse(
            "<?xml version=\"1.0\"?><xml><Content><![CDATA[你好 <b>😀</b>]]></Content><N>1 &lt; 2 &#x1F600;</N>\
             <SendPicsInfo><Count>2</Count><PicList><item><PicMd5Sum>a</PicMd5Sum></item>\
             <item><PicMd5Sum>b</PicMd5Sum></item></PicList></SendPicsInfo><Empty/></xml>",
        )
        .unwrap();
        assert_eq!(doc.get("Content"), Some("你好 <b>😀</b>"));
        assert_eq!(doc.get("N"), Some("1 < 2 😀"));
        assert_eq!(doc.all("SendPicsInfo/PicList/item/PicMd5Sum").collect::<Vec<_>>(), vec!["a", "b"]);
        assert_eq!(doc.get("Empty"), Some(""));
    }

    #[test]
    fn xxe_entities_and_doctypes_are_refused() {
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]><xml><Content>&x;</Content></xml>"#;
        assert_eq!(parse(xxe), Err(XmlError::Forbidden("DOCTYPE")));
        assert_eq!(parse("<xml><Content>&x;</Content></xml>"), Err(XmlError::Forbidden("entity reference")));
        let bomb = "<!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;\">]><xml>&lol2;</xml>";
        assert!(parse(bomb).is_err());
        assert_eq!(parse("<?php evil ?><xml/>"), Err(XmlError::Forbidden("processing instruction")));
    }

    #[test]
    fn truncated_wrong_rooted_deep_and_oversized_documents_are_refused() {
        assert!(matches!(parse("<xml><Content><![CDATA[hi"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse("<xml><Content>hi</Content>"), Err(XmlError::Malformed(_))));
        assert!(matches!(parse(""), Err(XmlError::Malformed(_))));
        assert_eq!(parse("<html><a>1</a></html>"), Err(XmlError::WrongRoot));
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(20), "</a>".repeat(20));
        assert_eq!(parse(&deep), Err(XmlError::Forbidden("nesting too deep")));
        assert_eq!(parse(&"x".repeat(MAX_XML_BYTES + 1)), Err(XmlError::TooLarge));
        assert!(parse("<xml><a>1</b></xml>").is_err());
        assert!(parse("<xml></xml><xml></xml>").is_err());
    }

    #[test]
    fn written_text_cannot_escape_its_cdata_section() {
        let xml =
            XmlWriter::new().text("Content", "a]]><Evil>x</Evil>\u{0}b").number("CreateTime", 7).finish();
        let back = parse(&xml).unwrap();
        assert_eq!(back.get("Content"), Some("a]]><Evil>x</Evil>b"));
        assert_eq!(back.get("Evil"), None);
        assert_eq!(back.get("CreateTime"), Some("7"));
    }
}
