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
/// file's readers: cut at compile time, so that no component carries them (a quarter of the
/// text). A comment after a statement on its line stays ([`statements`] knows them).
macro_rules! migration {
    ($path:literal) => {{
        const SOURCE: &[u8] = include_bytes!($path);
        const KEPT: [u8; without_comment_lines(SOURCE, None)] = {
            let mut kept = [0u8; without_comment_lines(SOURCE, None)];
            without_comment_lines(SOURCE, Some(&mut kept));
            kept
        };
        match std::str::from_utf8(&KEPT) {
            Ok(text) => text,
            Err(_) => panic!("a migration is not UTF-8"),
        }
    }};
}

/// Copy `source` into `kept` (when given) but for its comment lines; the length kept. Whole
/// lines go, so UTF-8 stays whole.
const fn without_comment_lines(source: &[u8], mut kept: Option<&mut [u8]>) -> usize {
    let (mut i, mut n) = (0, 0);
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
        if !comment {
            let mut j = start;
            while j < i {
                if let Some(out) = &mut kept {
                    out[n] = source[j];
                }
                n += 1;
                j += 1;
            }
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
    let code = code.join(" ");
    code.starts_with("CREATE TRIGGER") && !code.ends_with("END")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_keep_every_line_but_comment_lines() {
        let files = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == "sql"));
        let mut sources: Vec<_> = files.collect();
        sources.sort();
        assert_eq!(sources.len(), MIGRATIONS.len());
        for (path, kept) in sources.iter().zip(MIGRATIONS) {
            let source = std::fs::read_to_string(path).unwrap();
            let expected: String = source
                .split_inclusive('\n')
                .filter(|line| !line.trim_start_matches([' ', '\t']).starts_with("--"))
                .collect();
            assert_eq!(*kept, expected, "{}", path.display());
            assert!(kept.len() < source.len() || !source.contains("\n--"));
        }
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
        // Every statement of the migrations starts a line with CREATE, ALTER or INSERT (a
        // trigger's body is indented).
        let starts = |s: &str| {
            s.starts_with("CREATE ") || s.starts_with("ALTER ") || s.starts_with("INSERT ")
        };
        for migration in MIGRATIONS {
            let all = statements(migration);
            let begun = migration.lines().filter(|l| starts(l)).count();
            assert_eq!(all.len(), begun);
            assert!(all
                .iter()
                .all(|s| s.contains("CREATE ") || s.contains("ALTER ") || s.contains("INSERT ")));
        }
    }
}
