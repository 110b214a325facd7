//! Cell ranges on the clipboard as TSV, the format spreadsheets exchange: tabs between cells, newlines
//! between rows, and a cell holding a tab, newline or quote written in double quotes (quotes doubled).

/// A block of cells as TSV (`None` = empty cell).
pub fn to_tsv(rows: &[Vec<Option<String>>]) -> String {
    rows.iter()
        .map(|row| {
            row.iter().map(|cell| quote(cell.as_deref().unwrap_or_default())).collect::<Vec<_>>().join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn quote(cell: &str) -> String {
    if cell.contains(['\t', '\n', '\r', '"']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

/// Reads TSV into rows of cells (an empty cell = `None`). A trailing newline does not add a row.
pub fn from_tsv(text: &str) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    cell.push('"');
                }
                '"' => quoted = false,
                other => cell.push(other),
            }
            continue;
        }
        match c {
            '"' if at_start => {
                quoted = true;
                at_start = false;
            }
            '\t' => {
                row.push(take(&mut cell));
                at_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                row.push(take(&mut cell));
                rows.push(std::mem::take(&mut row));
                at_start = true;
            }
            other => {
                cell.push(other);
                at_start = false;
            }
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(take(&mut cell));
        rows.push(row);
    }
    rows
}

fn take(cell: &mut String) -> Option<String> {
    Some(std::mem::take(cell)).filter(|c| !c.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cells(rows: &[&[&str]]) -> Vec<Vec<Option<String>>> {
        rows.iter()
            .map(|r| r.iter().map(|c| Some(c.to_string()).filter(|c| !c.is_empty())).collect())
            .collect()
    }

    #[test]
    fn blocks_round_trip() {
        let block = cells(&[&["a", "", "tab\there"], &["line\nbreak", "say \"hi\"", "3"]]);
        let text = to_tsv(&block);
        assert_eq!(text, "a\t\t\"tab\there\"\n\"line\nbreak\"\t\"say \"\"hi\"\"\"\t3");
        assert_eq!(from_tsv(&text), block);
    }

    #[test]
    fn spreadsheet_text_is_read() {
        assert_eq!(from_tsv("1\t2\r\n3\t4\r\n"), cells(&[&["1", "2"], &["3", "4"]]));
        assert_eq!(from_tsv("x"), cells(&[&["x"]]));
        assert_eq!(from_tsv("a\t\n"), cells(&[&["a", ""]]));
        assert!(from_tsv("").is_empty());
    }
}
