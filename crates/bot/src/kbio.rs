//! Knowledge-base import and export as CSV, XLSX and JSON lines. Imports report every bad row
//! with its number and reason and keep the good ones; nothing is skipped silently.

use std::collections::{BTreeMap, HashSet};
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use kefu_domain::{ChannelKind, FaqEntry};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Xlsx,
    Jsonl,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "csv" => Ok(Format::Csv),
            "xlsx" => Ok(Format::Xlsx),
            "jsonl" => Ok(Format::Jsonl),
            other => Err(format!("unknown format {other:?}: use csv, xlsx or jsonl")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based, counting the header row in CSV and XLSX.
    pub row: usize,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Parsed {
    pub entries: Vec<FaqEntry>,
    pub errors: Vec<RowError>,
}

/// Columns of the table formats. `similar` holds one question per line (or separated by `|`);
/// `answer:<channel>` columns carry channel-specific answers.
pub const COLUMNS: &[&str] = &["id", "question", "similar", "answer", "group", "enabled"];

fn split_similar(s: &str) -> Vec<String> {
    s.split(['\n', '|']).map(str::trim).filter(|x| !x.is_empty()).map(str::to_owned).collect()
}

fn parse_enabled(s: &str) -> Result<bool, String> {
    match s.trim().to_lowercase().as_str() {
        "" | "1" | "true" | "yes" | "y" | "是" | "启用" => Ok(true),
        "0" | "false" | "no" | "n" | "否" | "停用" => Ok(false),
        other => Err(format!("enabled must be true/false, got {other:?}")),
    }
}

/// Builds an entry from one table row keyed by header.
fn entry_of(cells: &BTreeMap<String, String>) -> Result<FaqEntry, String> {
    let get = |k: &str| cells.get(k).map(|s| s.trim().to_owned()).unwrap_or_default();
    let (question, answer) = (get("question"), get("answer"));
    if question.is_empty() {
        return Err("question is empty".into());
    }
    if answer.is_empty() {
        return Err("answer is empty".into());
    }
    let mut channel_answers = BTreeMap::new();
    for (k, v) in cells {
        if let Some(kind) = k.strip_prefix("answer:") {
            let kind: ChannelKind = kind.parse().map_err(|e| format!("column {k}: {e}"))?;
            if !v.trim().is_empty() {
                channel_answers.insert(kind, v.trim().to_owned());
            }
        }
    }
    let group = Some(get("group")).filter(|g| !g.is_empty());
    Ok(FaqEntry {
        id: get("id"),
        question,
        similar: split_similar(&get("similar")),
        answer,
        group,
        enabled: parse_enabled(&get("enabled"))?,
        channel_answers,
    })
}

/// Entries with the row each came from, before duplicate ids are checked.
#[derive(Default)]
struct Rows {
    entries: Vec<(usize, FaqEntry)>,
    errors: Vec<RowError>,
}

fn from_rows(rows: Vec<Vec<String>>) -> Rows {
    let mut out = Rows::default();
    let mut rows = rows.into_iter();
    let Some(header) = rows.next() else { return out };
    let header: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
    if !header.iter().any(|h| h == "question") || !header.iter().any(|h| h == "answer") {
        out.errors
            .push(RowError { row: 1, message: "the header must name at least question and answer".into() });
        return out;
    }
    for (i, row) in rows.enumerate() {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let cells = header.iter().cloned().zip(row).collect();
        match entry_of(&cells) {
            Ok(e) => out.entries.push((i + 2, e)),
            Err(message) => out.errors.push(RowError { row: i + 2, message }),
        }
    }
    out
}

fn check_ids(rows: Rows) -> Parsed {
    let mut seen = HashSet::new();
    let mut out = Parsed { entries: vec![], errors: rows.errors };
    for (row, e) in rows.entries {
        if !e.id.is_empty() && !seen.insert(e.id.clone()) {
            out.errors.push(RowError { row, message: format!("duplicate id {:?}", e.id) });
        } else {
            out.entries.push(e);
        }
    }
    out.errors.sort_by_key(|e| e.row);
    out
}

pub fn parse(format: Format, data: &[u8]) -> Parsed {
    match format {
        Format::Csv => parse_csv(data),
        Format::Xlsx => parse_xlsx(data),
        Format::Jsonl => parse_jsonl(data),
    }
}

fn parse_csv(data: &[u8]) -> Parsed {
    let (rows, unreadable) = csv_rows(data);
    let mut p = from_rows(rows);
    p.errors.extend(unreadable);
    check_ids(p)
}

/// The records of a CSV (UTF-8, with or without BOM) up to the first unreadable one, and that
/// one's error.
fn csv_rows(data: &[u8]) -> (Vec<Vec<String>>, Option<RowError>) {
    let data = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(data);
    let mut rows = vec![];
    for (i, rec) in rdr.records().enumerate() {
        match rec {
            Ok(r) => rows.push(r.iter().map(str::to_owned).collect()),
            Err(e) => return (rows, Some(RowError { row: i + 1, message: format!("unreadable CSV: {e}") })),
        }
    }
    (rows, None)
}

fn parse_xlsx(data: &[u8]) -> Parsed {
    match xlsx_rows(data) {
        Ok(rows) => check_ids(from_rows(rows)),
        Err(m) => Parsed { entries: vec![], errors: vec![RowError { row: 0, message: m }] },
    }
}

/// The first sheet's cells as text (whole numbers without ".0").
fn xlsx_rows(data: &[u8]) -> Result<Vec<Vec<String>>, String> {
    let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(data.to_vec()))
        .map_err(|e| format!("not an XLSX workbook: {e}"))?;
    let range = match wb.worksheet_range_at(0) {
        Some(Ok(r)) => r,
        Some(Err(e)) => return Err(format!("unreadable sheet: {e}")),
        None => return Err("the workbook has no sheet".into()),
    };
    let cell = |c: &Data| match c {
        Data::Empty => String::new(),
        Data::Float(f) if f.fract() == 0.0 => format!("{}", *f as i64),
        other => other.to_string(),
    };
    Ok(range.rows().map(|r| r.iter().map(cell).collect()).collect())
}

/// A CSV (UTF-8, with or without BOM) or XLSX table as rows of text, for other importers
/// (accounts); JSON Lines has no table. The error names the row that could not be read.
pub fn read_table(format: Format, data: &[u8]) -> Result<Vec<Vec<String>>, RowError> {
    match format {
        Format::Xlsx => xlsx_rows(data).map_err(|message| RowError { row: 0, message }),
        Format::Jsonl => Err(RowError { row: 0, message: "use csv or xlsx".into() }),
        Format::Csv => match csv_rows(data) {
            (rows, None) => Ok(rows),
            (_, Some(unreadable)) => Err(unreadable),
        },
    }
}

fn parse_jsonl(data: &[u8]) -> Parsed {
    let mut out = Rows::default();
    let Ok(text) = std::str::from_utf8(data) else {
        out.errors.push(RowError { row: 0, message: "the file is not UTF-8".into() });
        return check_ids(out);
    };
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        match serde_json::from_str::<FaqEntry>(line) {
            Ok(e) if e.question.trim().is_empty() => {
                out.errors.push(RowError { row: i + 1, message: "question is empty".into() })
            }
            Ok(e) if e.answer.trim().is_empty() => {
                out.errors.push(RowError { row: i + 1, message: "answer is empty".into() })
            }
            Ok(e) => out.entries.push((i + 1, e)),
            Err(e) => out.errors.push(RowError { row: i + 1, message: e.to_string() }),
        }
    }
    check_ids(out)
}

fn channel_columns(entries: &[FaqEntry]) -> Vec<ChannelKind> {
    let mut kinds: Vec<ChannelKind> =
        entries.iter().flat_map(|e| e.channel_answers.keys().copied()).collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

fn table(entries: &[FaqEntry]) -> Vec<Vec<String>> {
    let kinds = channel_columns(entries);
    let mut header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(kinds.iter().map(|k| format!("answer:{k}")));
    let mut rows = vec![header];
    for e in entries {
        let mut r = vec![
            e.id.clone(),
            e.question.clone(),
            e.similar.join("\n"),
            e.answer.clone(),
            e.group.clone().unwrap_or_default(),
            e.enabled.to_string(),
        ];
        r.extend(kinds.iter().map(|k| e.channel_answers.get(k).cloned().unwrap_or_default()));
        rows.push(r);
    }
    rows
}

#[derive(Debug, thiserror::Error)]
#[error("export failed: {0}")]
pub struct ExportError(String);

pub fn export(format: Format, entries: &[FaqEntry]) -> Result<Vec<u8>, ExportError> {
    match format {
        Format::Jsonl => Ok(entries
            .iter()
            .map(|e| serde_json::to_string(e).map(|l| l + "\n"))
            .collect::<Result<String, _>>()
            .map_err(|e| ExportError(e.to_string()))?
            .into_bytes()),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(b"\xef\xbb\xbf".to_vec());
            for row in table(entries) {
                w.write_record(&row).map_err(|e| ExportError(e.to_string()))?;
            }
            w.into_inner().map_err(|e| ExportError(e.to_string()))
        }
        Format::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let ws = wb.add_worksheet();
            for (r, row) in table(entries).iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    ws.write_string(r as u32, c as u16, v).map_err(|e| ExportError(e.to_string()))?;
                }
            }
            wb.save_to_buffer().map_err(|e| ExportError(e.to_string()))
        }
    }
}

#[cfg(test)]
#[path = "kbio_tests.rs"]
mod tests;
