//! Export of a query's rows as CSV, JSON or XLSX. Rows are read page by page with the keyset cursor, so
//! CSV and JSON stream with constant memory whatever the table size; XLSX is assembled in memory (a
//! spreadsheet holds at most 1,048,576 rows).

use serde_json::Value;

use crate::error::{Error, ErrorCode, Result};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "csv" => Ok(Format::Csv),
            "json" => Ok(Format::Json),
            "xlsx" => Ok(Format::Xlsx),
            _ => Err(Error::bad_request("format", ErrorCode::Enum, "expected csv, json or xlsx")),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Xlsx => "xlsx",
        }
    }
}

/// The exported columns of a row: promoted fields, the projected columns, extended properties, audit.
pub fn header(columns: &[String]) -> Vec<String> {
    let mut names: Vec<String> = ["id", "code", "display_value", "sort_order", "is_active", "parent_row_id"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    names.extend(columns.iter().cloned());
    names.extend(
        ["extended_properties", "version", "created_at", "updated_at"].iter().map(|s| (*s).to_owned()),
    );
    names
}

/// The cells of one rendered row, in `header` order.
pub fn cells(row: &Value, columns: &[String]) -> Vec<Value> {
    let mut out = Vec::with_capacity(columns.len() + 10);
    for key in ["id", "code", "display_value", "sort_order", "is_active", "parent_row_id"] {
        out.push(row.get(key).cloned().unwrap_or(Value::Null));
    }
    for column in columns {
        out.push(row.get("values").and_then(|v| v.get(column)).cloned().unwrap_or(Value::Null));
    }
    let ext = row.get("extended_properties").cloned().unwrap_or(Value::Null);
    out.push(if ext.as_object().is_some_and(|o| o.is_empty()) {
        Value::Null
    } else {
        Value::String(ext.to_string())
    });
    for key in ["version", "created_at", "updated_at"] {
        out.push(row.get(key).cloned().unwrap_or(Value::Null));
    }
    out
}

/// One CSV field: quoted when needed; text that a spreadsheet would run as a formula is prefixed with `'`.
fn csv_field(value: &Value) -> String {
    let text = match value {
        Value::Null => return String::new(),
        Value::String(s) => {
            let looks_numeric = s.parse::<f64>().is_ok();
            if !looks_numeric && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{s}")
            } else {
                s.clone()
            }
        }
        other => other.to_string(),
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// One CSV line (CRLF-terminated, RFC 4180).
pub fn csv_line(values: &[Value]) -> String {
    let mut line = values.iter().map(csv_field).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// The CSV header line.
pub fn csv_header(columns: &[String]) -> String {
    csv_line(&header(columns).into_iter().map(Value::String).collect::<Vec<_>>())
}

/// An XLSX workbook with one sheet of rows.
pub fn xlsx(columns: &[String], rows: &[Value]) -> Result<Vec<u8>> {
    let fail = |e: rust_xlsxwriter::XlsxError| {
        Error::bad_request("format", ErrorCode::Invalid, format!("xlsx: {e}"))
    };
    if rows.len() >= 1_048_575 {
        return Err(Error::bad_request(
            "format",
            ErrorCode::Invalid,
            "xlsx holds at most 1,048,575 rows; use csv",
        ));
    }
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, name) in header(columns).iter().enumerate() {
        sheet.write_string_with_format(0, col(c), name, &bold).map_err(fail)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, value) in cells(row, columns).iter().enumerate() {
            match value {
                Value::Null => {}
                Value::Bool(b) => {
                    sheet.write_boolean(r, col(c), *b).map_err(fail)?;
                }
                Value::Number(n) => {
                    sheet.write_number(r, col(c), n.as_f64().unwrap_or_default()).map_err(fail)?;
                }
                // Strings (decimals included: exact text, never rounded through a float).
                Value::String(s) => {
                    sheet.write_string(r, col(c), s).map_err(fail)?;
                }
                other => {
                    sheet.write_string(r, col(c), other.to_string()).map_err(fail)?;
                }
            }
        }
    }
    workbook.save_to_buffer().map_err(fail)
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let line = csv_line(&[
            json!("a,b"),
            json!("say \"hi\""),
            json!("=SUM(A1)"),
            json!("-1.5"),
            json!(3),
            Value::Null,
        ]);
        assert_eq!(line, "\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),-1.5,3,\r\n");
    }

    #[test]
    fn cells_follow_the_header() {
        let row = json!({"id": "x", "code": null, "display_value": "d", "sort_order": 0, "is_active": true,
            "parent_row_id": null, "values": {"title": "T"}, "extended_properties": {"k": 1}, "version": 2,
            "created_at": "c", "updated_at": null});
        let columns = vec!["title".to_owned()];
        assert_eq!(header(&columns).len(), cells(&row, &columns).len());
        assert_eq!(cells(&row, &columns)[6], json!("T"));
        assert_eq!(cells(&row, &columns)[7], json!("{\"k\":1}"));
    }

    #[test]
    fn xlsx_is_a_zip_file() {
        let bytes = xlsx(&["title".to_owned()], &[json!({"id": "x", "values": {"title": "T"}})]).unwrap();
        assert_eq!(&bytes[..2], b"PK");
    }
}
