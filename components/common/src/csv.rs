//! CSV as RFC 4180 writes it, and as spreadsheets save it: fields separated by commas, records
//! by CRLF or LF, a field in double quotes when it holds a comma, a quote or a line break
//! (a quote inside doubled), a UTF-8 byte-order mark at the start ignored.

/// A record, and the row a spreadsheet shows it on (from 1: an empty line is a row too, a
/// line break inside quotes is not).
#[derive(Debug, PartialEq)]
pub struct Record {
    pub row: usize,
    pub fields: Vec<String>,
}

/// Why a text was not read.
#[derive(Debug, PartialEq)]
pub enum Refused {
    /// The line (from 1) where a quoted field is left open, or where a quote stands inside an
    /// unquoted field or right after a quoted one.
    Quote(usize),
    /// More records, or more fields in one record, than the caller takes: reading stops there,
    /// so that a hostile text never sits in memory as millions of fields.
    TooLarge,
}

/// The records of `text` (an empty line is no record), at most `max_records` of at most
/// `max_fields` fields each.
pub fn parse(text: &str, max_records: usize, max_fields: usize) -> Result<Vec<Record>, Refused> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let (mut line, mut opened_at, mut row) = (1, 1, 1);
    let mut chars = text.chars().peekable();
    // Whether the field began with a quote, and whether it has been closed since.
    let (mut quoted, mut closed) = (false, false);
    let end_field = |fields: &mut Vec<String>, field: &mut String| {
        fields.push(std::mem::take(field));
        if fields.len() > max_fields {
            return Err(Refused::TooLarge);
        }
        Ok(())
    };
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && !closed => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    closed = true;
                }
            }
            '"' if field.is_empty() && !quoted => {
                quoted = true;
                opened_at = line;
            }
            '"' => return Err(Refused::Quote(line)),
            '\n' if quoted && !closed => {
                field.push('\n');
                line += 1;
            }
            ',' if !quoted || closed => {
                end_field(&mut fields, &mut field)?;
                (quoted, closed) = (false, false);
            }
            '\r' if (!quoted || closed) && chars.peek() == Some(&'\n') => {}
            '\n' => {
                let blank = fields.is_empty() && field.is_empty() && !quoted;
                if !blank {
                    end_field(&mut fields, &mut field)?;
                    records.push(Record {
                        row,
                        fields: std::mem::take(&mut fields),
                    });
                    if records.len() > max_records {
                        return Err(Refused::TooLarge);
                    }
                }
                (quoted, closed) = (false, false);
                line += 1;
                row += 1;
            }
            _ if closed => return Err(Refused::Quote(line)),
            c => field.push(c),
        }
    }
    if quoted && !closed {
        return Err(Refused::Quote(opened_at));
    }
    if !fields.is_empty() || !field.is_empty() || quoted {
        end_field(&mut fields, &mut field)?;
        records.push(Record { row, fields });
        if records.len() > max_records {
            return Err(Refused::TooLarge);
        }
    }
    Ok(records)
}

/// Append one record to `out`, ended by CRLF; a field is quoted when it must be.
pub fn write_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = field.as_ref();
        if field.contains([',', '"', '\r', '\n']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<(usize, Vec<String>)> {
        let records = parse(text, 100, 10).unwrap();
        records.into_iter().map(|r| (r.row, r.fields)).collect()
    }

    fn strings(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|f| f.to_string()).collect()
    }

    #[test]
    fn reads_what_spreadsheets_write() {
        let text = "\u{feff}a,b,c\r\n1,\"x, \"\"y\"\"\",\r\n\n\"multi\nline\",é,\"\"\nlast,,";
        assert_eq!(
            rows(text),
            vec![
                (1, strings(&["a", "b", "c"])),
                (2, strings(&["1", "x, \"y\"", ""])),
                // The empty line is row 3; a line break inside quotes is no new row.
                (4, strings(&["multi\nline", "é", ""])),
                (5, strings(&["last", "", ""])),
            ]
        );
        assert_eq!(rows(""), vec![]);
        assert_eq!(rows("\n\na\n\n"), vec![(3, strings(&["a"]))]);
        assert_eq!(rows("\"\"\n"), vec![(1, strings(&[""]))]);
    }

    #[test]
    fn misplaced_quotes_name_their_line() {
        let parse = |text| parse(text, 100, 10);
        assert_eq!(parse("a\nb\"c\n"), Err(Refused::Quote(2)));
        assert_eq!(parse("a\n\"b\"c\n"), Err(Refused::Quote(2)));
        assert_eq!(parse("a\nb\n\"open\nstill open"), Err(Refused::Quote(3)));
    }

    #[test]
    fn reading_stops_past_the_limits() {
        assert_eq!(parse("a\nb\nc\n", 2, 10), Err(Refused::TooLarge));
        assert_eq!(parse("a\nb\nc", 2, 10), Err(Refused::TooLarge));
        assert_eq!(parse("a\nb\n", 2, 10).map(|r| r.len()), Ok(2));
        assert_eq!(parse(&",".repeat(1_000_000), 2, 10), Err(Refused::TooLarge));
        assert_eq!(parse("a,b,c", 2, 3).map(|r| r.len()), Ok(1));
    }

    #[test]
    fn writes_what_it_reads() {
        let fields = ["plain", "com,ma", "quo\"te", "line\nbreak", "", "é"];
        let mut out = String::new();
        write_record(&mut out, &fields);
        assert_eq!(out, "plain,\"com,ma\",\"quo\"\"te\",\"line\nbreak\",,é\r\n");
        assert_eq!(rows(&out), vec![(1, strings(&fields))]);
    }
}
