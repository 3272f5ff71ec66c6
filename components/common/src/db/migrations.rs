//! The schema in `migrations/`, embedded at compile time and applied by the app itself the
//! first time a request finds the database behind, so `spin up` needs no extra flag and a
//! fresh deploy works. The applied count is SQLite's `user_version`, which every write reads
//! first; a read pays nothing for it unless one of its statements finds a table or a column
//! missing (`Db::open` says why).
//!
//! Several instances may run several versions of the app on one database while a new one is
//! rolled out: the first new instance to write (or to miss a table) migrates, and the older
//! ones go on with a schema newer than they know. So a migration only adds (tables, columns
//! with defaults, indexes, triggers that keep what older instances write consistent); it
//! never renames or drops what a released version reads.

use crate::error::ApiError;

use super::connection::{Db, Schema};

/// A migration file without its comment lines (`--` first on the line), which are for the
/// file's readers, nor the spaces that align it: cut at compile time, so that no component
/// carries them (a third of the text). A comment after a statement on its line stays
/// ([`statements`] knows them).
macro_rules! migration {
    ($path:literal) => {{
        const SOURCE: &[u8] = include_bytes!($path);
        const KEPT: [u8; compact(SOURCE, None)] = {
            let mut kept = [0u8; compact(SOURCE, None)];
            compact(SOURCE, Some(&mut kept));
            kept
        };
        match std::str::from_utf8(&KEPT) {
            Ok(text) => text,
            Err(_) => panic!("a migration is not UTF-8"),
        }
    }};
}

/// Copy `source` into `kept` (when given) but for its comment lines, each line's indent, and
/// all but one of a run of spaces, outside quotes and trailing comments; the length kept.
/// Only ASCII spaces and whole lines go, so UTF-8 stays whole.
const fn compact(source: &[u8], mut kept: Option<&mut [u8]>) -> usize {
    let (mut i, mut n) = (0, 0);
    let mut quote = 0u8; // the quote a string or name is open in, across lines
    while i < source.len() {
        let start = i;
        while i < source.len() && source[i] != b'\n' {
            i += 1;
        }
        if i < source.len() {
            i += 1; // the line's `\n`
        }
        let mut first = start;
        while first < i && (source[first] == b' ' || source[first] == b'\t') {
            first += 1;
        }
        let comment = first + 1 < i && source[first] == b'-' && source[first + 1] == b'-';
        if comment && quote == 0 {
            continue;
        }
        let mut j = if quote == 0 { first } else { start };
        let mut verbatim = false; // in a trailing comment
        while j < i {
            let b = source[j];
            let blank = b == b' ' || b == b'\t';
            let keep = if quote != 0 || verbatim {
                if b == quote {
                    quote = 0;
                }
                true
            } else if b == b'\'' || b == b'"' {
                quote = b;
                true
            } else if b == b'-' && j + 1 < i && source[j + 1] == b'-' {
                verbatim = true;
                true
            } else {
                // One space of a run, and none before the line's end.
                let next = if j + 1 < i { source[j + 1] } else { b'\n' };
                !(blank && (next == b' ' || next == b'\t' || next == b'\n' || next == b'\r'))
            };
            if keep {
                if let Some(out) = &mut kept {
                    out[n] = if blank && quote == 0 && !verbatim {
                        b' '
                    } else {
                        b
                    };
                }
                n += 1;
            }
            j += 1;
        }
    }
    n
}

/// Every migration, in order. Append; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    migration!("../../../../migrations/0001_schema.sql"),
    migration!("../../../../migrations/0002_settings.sql"),
    migration!("../../../../migrations/0003_versions.sql"),
    migration!("../../../../migrations/0004_digest_nonces.sql"),
    migration!("../../../../migrations/0005_retention.sql"),
    migration!("../../../../migrations/0006_audio.sql"),
    migration!("../../../../migrations/0007_webhooks.sql"),
    migration!("../../../../migrations/0008_recording_counts.sql"),
    migration!("../../../../migrations/0009_audio_chunk_bytes.sql"),
    migration!("../../../../migrations/0010_writes_in_one_statement.sql"),
    migration!("../../../../migrations/0011_webhook_history_in_schema.sql"),
];

/// How many migrations there are: the `user_version` of a current schema.
pub const COUNT: usize = MIGRATIONS.len();

/// The API's schema: [`COUNT`] migrations, applied by [`ensure`].
pub const SCHEMA: Schema = Schema {
    version: COUNT,
    bring_up_to_date: ensure,
};

/// Apply the pending migrations, all in one transaction. Two components racing here queue on
/// the write lock, and the second finds the work done.
pub fn ensure(db: &Db) -> Result<(), ApiError> {
    if applied(db)? >= MIGRATIONS.len() {
        return Ok(());
    }
    db.transaction(|| {
        let from = applied(db)?;
        for migration in MIGRATIONS.iter().skip(from) {
            for statement in statements(migration) {
                db.execute(statement, &[])?;
            }
        }
        // PRAGMA takes no bound parameters; the value is our own constant.
        db.execute(&format!("PRAGMA user_version = {}", MIGRATIONS.len()), &[])
    })
}

fn applied(db: &Db) -> Result<usize, ApiError> {
    let version = db.count("PRAGMA user_version", &[])?;
    Ok(usize::try_from(version).unwrap_or(0))
}

/// Split a SQL file into statements, since Spin runs only the first statement of a string.
/// Knows quotes, comments, and the `BEGIN ... END` body of a `CREATE TRIGGER`.
pub fn statements(sql: &str) -> Vec<&str> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    let mut has_code = false;
    while i < bytes.len() {
        match bytes[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < bytes.len() && bytes[i] != q {
                    i += 1;
                }
                has_code = true;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 1;
            }
            b';' if !inside_trigger(&sql[start..i]) => {
                if has_code {
                    out.push(sql[start..i].trim());
                }
                start = i + 1;
                has_code = false;
            }
            b if !b.is_ascii_whitespace() => has_code = true,
            _ => {}
        }
        i += 1;
    }
    if has_code {
        out.push(sql[start..].trim());
    }
    out
}

/// Whether `statement` so far is a `CREATE TRIGGER` whose body has not ended (a `;` there ends
/// one of the body's statements, not the trigger).
fn inside_trigger(statement: &str) -> bool {
    let code: Vec<String> = statement
        .lines()
        .map(|l| {
            l.split("--")
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_uppercase()
        })
        .filter(|l| !l.is_empty())
        .collect();
    let code = crate::text::join(&code, " ");
    code.starts_with("CREATE TRIGGER") && !code.ends_with("END")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The migration files, in order, as written.
    fn sources() -> Vec<String> {
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "sql"));
        let mut paths: Vec<_> = files.collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// The same statements as the files hold, but for comment lines and spaces.
    #[test]
    fn migrations_keep_every_statement() {
        let sources = sources();
        assert_eq!(sources.len(), MIGRATIONS.len());
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let source_bytes: usize = sources.iter().map(String::len).sum();
        let kept_bytes: usize = MIGRATIONS.iter().map(|m| m.len()).sum();
        assert!(
            kept_bytes * 3 < source_bytes * 2,
            "a third of the text goes"
        );
        for (source, kept) in sources.iter().zip(MIGRATIONS) {
            let without_comments: String = source
                .split_inclusive('\n')
                .filter(|line| !line.trim_start_matches([' ', '\t']).starts_with("--"))
                .collect();
            let want: Vec<String> = statements(&without_comments)
                .into_iter()
                .map(words)
                .collect();
            let got: Vec<String> = statements(kept).into_iter().map(words).collect();
            assert_eq!(got, want);
        }
    }

    #[test]
    fn compaction_keeps_quotes_and_trailing_comments() {
        let source = b"-- a file\nCREATE TABLE  t (\n    x   TEXT DEFAULT 'a  b\n  c',\n\
                       \t\"y  z\"  INT  -- it's  aligned\n);  \n";
        let mut kept = [0u8; 256];
        let n = compact(source, Some(&mut kept));
        assert_eq!(n, compact(source, None));
        assert_eq!(
            std::str::from_utf8(&kept[..n]).unwrap(),
            "CREATE TABLE t (\nx TEXT DEFAULT 'a  b\n  c',\n\"y  z\" INT -- it's  aligned\n);\n"
        );
    }

    #[test]
    fn a_trigger_is_one_statement() {
        let sql = "CREATE TABLE t (x);
-- counts
CREATE TRIGGER c AFTER INSERT ON t BEGIN
                     UPDATE n SET v = v + 1;
  DELETE FROM m; -- tidy
END;
SELECT 1;";
        let all = statements(sql);
        assert_eq!(all.len(), 3, "{all:?}");
        assert!(all[1].starts_with("-- counts\nCREATE TRIGGER") && all[1].ends_with("END"));
        assert_eq!(all[2], "SELECT 1");
    }

    #[test]
    fn splits_statements() {
        let sql = "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';');\n\
                   /* block; */ INSERT INTO a VALUES (\"q;\") ;\n  -- trailing\n";
        assert_eq!(
            statements(sql),
            vec![
                "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';')",
                "/* block; */ INSERT INTO a VALUES (\"q;\")",
            ]
        );
        assert_eq!(statements("SELECT 1"), vec!["SELECT 1"]);
        assert!(statements("  -- nothing\n").is_empty());
    }

    #[test]
    fn the_schema_splits_into_statements() {
        // Every statement of the migration files starts a line with CREATE, ALTER or INSERT
        // (a trigger's body is indented).
        let starts = |s: &str| {
            s.starts_with("CREATE ") || s.starts_with("ALTER ") || s.starts_with("INSERT ")
        };
        for (source, migration) in sources().iter().zip(MIGRATIONS) {
            let all = statements(migration);
            let begun = source.lines().filter(|l| starts(l)).count();
            assert_eq!(all.len(), begun);
            assert!(all
                .iter()
                .all(|s| s.contains("CREATE ") || s.contains("ALTER ") || s.contains("INSERT ")));
        }
    }
}
