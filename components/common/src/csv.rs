//! CSV as RFC 4180 writes it, and as spreadsheets save it: fields separated by commas, records
//! by CRLF or LF, a field in double quotes when it holds a comma, a quote or a line break
//! (a quote inside doubled), a UTF-8 byte-order mark at the start ignored.

/// The records of `text`, each a list of its fields; an empty line is no record. `Err`: the
/// line (from 1) where a quoted field is left open, or where a quote stands inside an
/// unquoted field or right after a quoted one.
pub fn parse(text: &str) -> Result<Vec<Vec<String>>, usize> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let (mut line, mut opened_at) = (1, 1);
    let mut chars = text.chars().peekable();
    // Whether the field began with a quote, and whether it has been closed since.
    let (mut quoted, mut closed) = (false, false);
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
            '"' => return Err(line),
            '\n' if quoted && !closed => {
                field.push('\n');
                line += 1;
            }
            ',' if !quoted || closed => {
                record.push(std::mem::take(&mut field));
                (quoted, closed) = (false, false);
            }
            '\r' if (!quoted || closed) && chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                if record.len() > 1 || !record[0].is_empty() || quoted {
                    records.push(std::mem::take(&mut record));
                }
                record.clear();
                (quoted, closed) = (false, false);
                line += 1;
            }
            _ if closed => return Err(line),
            c => field.push(c),
        }
    }
    if quoted && !closed {
        return Err(opened_at);
    }
    if !record.is_empty() || !field.is_empty() || quoted {
        record.push(field);
        records.push(record);
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

    #[test]
    fn reads_what_spreadsheets_write() {
        let text = "\u{feff}a,b,c\r\n1,\"x, \"\"y\"\"\",\r\n\n\"multi\nline\",é,\"\"\nlast,,";
        assert_eq!(
            parse(text).unwrap(),
            vec![
                vec!["a", "b", "c"],
                vec!["1", "x, \"y\"", ""],
                vec!["multi\nline", "é", ""],
                vec!["last", "", ""],
            ]
        );
        assert_eq!(parse("").unwrap(), Vec::<Vec<String>>::new());
        assert_eq!(parse("a\n\n").unwrap(), vec![vec!["a"]]);
        assert_eq!(parse("\"\"\n").unwrap(), vec![vec![""]]);
    }

    #[test]
    fn misplaced_quotes_name_their_line() {
        assert_eq!(parse("a\nb\"c\n"), Err(2));
        assert_eq!(parse("a\n\"b\"c\n"), Err(2));
        assert_eq!(parse("a\nb\n\"open\nstill open"), Err(3));
    }

    #[test]
    fn writes_what_it_reads() {
        let fields = ["plain", "com,ma", "quo\"te", "line\nbreak", "", "é"];
        let mut out = String::new();
        write_record(&mut out, &fields);
        assert_eq!(out, "plain,\"com,ma\",\"quo\"\"te\",\"line\nbreak\",,é\r\n");
        assert_eq!(parse(&out).unwrap(), vec![fields.to_vec()]);
    }
}
