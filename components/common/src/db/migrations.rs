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

/// The migration files, cut to their statements and packed by `build.rs`
/// ([`super::packing`]): `COUNT`, and the packed text.
mod packed {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
    pub const MIGRATIONS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/migrations.lz"));
}

/// How many migrations there are: the `user_version` of a current schema. Every file of
/// `migrations/`, in the order of their names. Append; never edit one that has shipped.
pub const COUNT: usize = packed::COUNT;

/// Every migration's text, in order: unpacked only when a schema is behind.
fn migrations() -> Result<Vec<String>, ApiError> {
    let text = super::packing::unpack(packed::MIGRATIONS)
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ApiError::internal("the packed migrations do not unpack"))?;
    let all: Vec<String> = text.split_terminator('\0').map(str::to_string).collect();
    if all.len() != COUNT {
        return Err(ApiError::internal(
            "the packed migrations are not all there",
        ));
    }
    Ok(all)
}

/// The API's schema: [`COUNT`] migrations, applied by [`ensure`].
pub const SCHEMA: Schema = Schema {
    version: COUNT,
    bring_up_to_date: ensure,
};

/// Apply the pending migrations, all in one transaction. Two components racing here queue on
/// the write lock, and the second finds the work done.
pub fn ensure(db: &Db) -> Result<(), ApiError> {
    if applied(db)? >= COUNT {
        return Ok(());
    }
    let migrations = migrations()?;
    db.transaction(|| {
        let from = applied(db)?;
        for migration in migrations.iter().skip(from) {
            for statement in statements(migration) {
                db.execute(statement, &[])?;
            }
        }
        // PRAGMA takes no bound parameters; the value is our own constant.
        db.execute(&format!("PRAGMA user_version = {COUNT}"), &[])
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
        let migrations = migrations().unwrap();
        assert_eq!(sources.len(), migrations.len());
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let source_bytes: usize = sources.iter().map(String::len).sum();
        let kept_bytes: usize = migrations.iter().map(String::len).sum();
        // Comment lines and aligning spaces: a third of the text up to 0013, a quarter since
        // 0014 (triggers, with few comments).
        assert!(
            kept_bytes * 4 < source_bytes * 3,
            "a quarter of the text goes"
        );
        for (source, kept) in sources.iter().zip(&migrations) {
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
        let kept = super::super::packing::compact(source);
        assert_eq!(
            std::str::from_utf8(&kept).unwrap(),
            "CREATE TABLE t (\nx TEXT DEFAULT 'a  b\n  c',\n\"y  z\" INT -- it's  aligned\n);\n"
        );
    }

    /// Packed, a quarter of the text; unpacked, the same bytes, any bytes.
    #[test]
    fn packing_gives_back_what_it_packed() {
        use super::super::packing::{pack, unpack};
        assert!(packed::MIGRATIONS.len() * 3 < migrations().unwrap().concat().len());
        let mut seed = 7u32;
        let mut random = |n: u32| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (seed >> 16) % n
        };
        for size in [0, 1, 2, 3, 4, 130, 131, 1000, 70_000] {
            // Few symbols, so that copies of every length and overlapping runs come up.
            let symbols = if size == 70_000 { 256 } else { 3 };
            let data: Vec<u8> = (0..size).map(|_| random(symbols) as u8).collect();
            assert_eq!(unpack(&pack(&data)).unwrap(), data, "{size}");
        }
        let run = vec![b'a'; 1000];
        assert!(pack(&run).len() < 40);
        assert_eq!(unpack(&pack(&run)).unwrap(), run);
        assert_eq!(unpack(&[0x80, 0, 5]), None, "a copy from before the start");
        assert_eq!(unpack(&[5, b'a']), None, "a run cut short");
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
        for (source, migration) in sources().iter().zip(&migrations().unwrap()) {
            let all = statements(migration);
            let begun = source.lines().filter(|l| starts(l)).count();
            assert_eq!(all.len(), begun);
            assert!(all
                .iter()
                .all(|s| s.contains("CREATE ") || s.contains("ALTER ") || s.contains("INSERT ")));
        }
    }
}
