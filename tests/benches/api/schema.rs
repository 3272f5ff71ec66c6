//! What the schema costs every request (`cargo bench -p testhost -- schema`). Spin opens a new
//! SQLite connection for every request, and SQLite parses the whole schema on a connection's
//! first statement: every table, index, view and trigger is paid for by every request, even
//! one that never touches it. The lists' search index (migration 0014) took the schema from 68
//! objects to 142. Here the same database is served with the index's objects as they are,
//! removed, or made thinner (changed by hand on a copy, never by a migration), under each
//! runtime, beside the floor component over the same copy (it pays the parse too).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{ensure, Result};
use rusqlite::Connection;

use crate::keepalive::{self, Sequence};
use crate::seed::{self, Scale};
use crate::{remove_database, runtimes_with, spin_cli, user_path, Host, Manifest, TEST_HOST};

/// The families whose lists are small (at most thousands of rows), searched without an index
/// in the variant that drops theirs.
const SMALL_FAMILIES: [&str; 5] = [
    "agents",
    "queues",
    "recording_campaigns",
    "webhooks",
    "api_tokens",
];

/// A copy of the schema: its name, whether writes still work in it, and the statements that
/// make it from migration 0014's (given the database, whose schema they read).
struct Variant {
    name: &'static str,
    writes: bool,
    change: fn(&Connection) -> Result<Vec<String>>,
}

const VARIANTS: [Variant; 6] = [
    Variant {
        name: "as they are (migration 0014)",
        writes: true,
        change: |_| Ok(Vec::new()),
    },
    Variant {
        name: "none (0014's ordering indexes kept)",
        writes: true,
        change: |db| {
            let mut drops = drop_all(db, "trigger", "%searched%")?;
            drops.extend(drop_all(db, "table", "%\\_search")?);
            drops.extend(drop_all(db, "view", "%\\_search\\_text")?);
            Ok(drops)
        },
    },
    Variant {
        name: "thinner: contentless FTS5 tables, a family's own triggers one statement",
        writes: true,
        change: thinner,
    },
    Variant {
        name: "none for the five small families (searched by LIKE over their view)",
        writes: true,
        change: |db| {
            let mut drops = Vec::new();
            for family in SMALL_FAMILIES {
                let family = family.replace('_', "\\_");
                drops.extend(drop_all(
                    db,
                    "trigger",
                    &format!("{family}\\_searched\\_%"),
                )?);
                drops.extend(drop_all(db, "table", &format!("{family}\\_search"))?);
            }
            Ok(drops)
        },
    },
    Variant {
        name: "no triggers (reads only)",
        writes: false,
        change: |db| drop_all(db, "trigger", "%searched%"),
    },
    Variant {
        name: "no FTS5 tables, no views (reads only)",
        writes: false,
        change: |db| {
            let mut drops = drop_all(db, "table", "%\\_search")?;
            drops.extend(drop_all(db, "view", "%\\_search\\_text")?);
            Ok(drops)
        },
    },
];

/// `DROP` statements for the schema's objects of this type whose name is `LIKE` the pattern
/// (`\` escapes); a table only if it is the virtual one (its shadow tables go with it).
fn drop_all(db: &Connection, kind: &str, pattern: &str) -> Result<Vec<String>> {
    let mut statement = db.prepare(
        "SELECT name FROM sqlite_schema WHERE type = ?1 AND name LIKE ?2 ESCAPE '\\' \
         AND (type <> 'table' OR sql LIKE 'CREATE VIRTUAL TABLE%')",
    )?;
    let names = statement.query_map([kind, pattern], |row| row.get::<_, String>(0))?;
    let keyword = kind.to_uppercase();
    names
        .map(|name| Ok(format!("DROP {keyword} \"{}\"", name?)))
        .collect()
}

/// Each FTS5 table again, contentless (`content=''`, `contentless_delete=1`: no `_content`
/// table; `columnsize=0`, which would drop `_docsize` too, is refused beside it), and each
/// trigger that deletes a row's text then inserts it again made one `INSERT OR REPLACE` (a
/// family's own insert and update triggers; those of lines and of a voicemail's email, which
/// rewrite another family's rows, keep theirs).
fn thinner(db: &Connection) -> Result<Vec<String>> {
    let mut changes = Vec::new();
    let tables: Vec<String> = db
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name LIKE '%\\_search' \
             ESCAPE '\\' AND sql LIKE 'CREATE VIRTUAL TABLE%'",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for table in &tables {
        changes.push(format!("DROP TABLE {table}"));
        changes.push(format!(
            "CREATE VIRTUAL TABLE {table} USING fts5(doc, content = '', contentless_delete = 1, \
             tokenize = 'trigram remove_diacritics 1')"
        ));
        changes.push(format!(
            "INSERT INTO {table} (rowid, doc) SELECT id, doc FROM {table}_text"
        ));
    }
    let triggers: Vec<(String, String)> = db
        .prepare(
            "SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND name LIKE '%searched%'",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut rewritten = 0;
    for (name, sql) in triggers {
        for table in &tables {
            let delete = format!("DELETE FROM {table} WHERE rowid = NEW.id;");
            let insert = format!("INSERT INTO {table} (rowid, doc)");
            let Some(at) = sql.find(&delete) else {
                continue;
            };
            let rest = sql[at + delete.len()..].trim_start();
            if let Some(tail) = rest.strip_prefix(&insert) {
                rewritten += 1;
                changes.push(format!("DROP TRIGGER {name}"));
                changes.push(format!(
                    "{}INSERT OR REPLACE INTO {table} (rowid, doc){tail}",
                    &sql[..at]
                ));
            }
        }
    }
    // Migration 0014's seven families, each with an insert and an update trigger of that form.
    ensure!(
        tables.len() == 7 && rewritten == 14,
        "thinner: {} FTS5 tables, {rewritten} triggers rewritten (7 and 14 expected)",
        tables.len()
    );
    Ok(changes)
}

/// What one variant measured under one runtime, a figure a round.
#[derive(Default)]
struct Measured {
    objects: i64,
    floor_get: Vec<f64>,
    get: Vec<f64>,
    post: Vec<f64>,
}

pub fn schema(root: &Path, dir: &Path, report: &mut String) -> Result<()> {
    let manifest = root.join("spin.toml");
    let floor_manifest = root.join("tests").join("floor").join("spin.toml");
    Manifest::load(&floor_manifest)?.build()?;
    let spin = spin_cli(root, report)?;
    let runtimes = runtimes_with(spin.as_deref());

    let base = dir.join("schema-base.db");
    drop(Host::start(TEST_HOST, &manifest, &base, true)?);
    seed::seed(&base, Scale::FULL.with_recordings(10_000))?;

    let user = user_path;
    let post = |i: usize| format!("{{\"firstname\": \"Schema\", \"lastname\": \"n{i}\"}}");
    // A variant that broke a request would be timed as if it worked.
    let p50 = |s: Sequence| -> Result<f64> {
        ensure!(s.errors == 0, "{} requests answered 4xx or 5xx", s.errors);
        Ok(s.p50_ms)
    };
    let mut measured: Vec<Vec<Measured>> = runtimes
        .iter()
        .map(|_| VARIANTS.iter().map(|_| Measured::default()).collect())
        .collect();
    for _round in 0..5 {
        for (v, variant) in VARIANTS.iter().enumerate() {
            for (r, (_, runtime)) in runtimes.iter().enumerate() {
                let db = dir.join("schema-variant.db");
                remove_database(&db);
                std::fs::copy(&base, &db)?;
                let m = &mut measured[r][v];
                {
                    let conn = Connection::open(&db)?;
                    let changes = (variant.change)(&conn)?;
                    ensure!(
                        v == 0 || !changes.is_empty(),
                        "{}: nothing to change",
                        variant.name
                    );
                    conn.execute_batch(&format!("BEGIN; {}; COMMIT;", changes.join(";\n")))?;
                    m.objects =
                        conn.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
                }
                let (_, floor) = Host::start(*runtime, &floor_manifest, &db, false)?;
                keepalive::run(floor.addr, 50, user)?;
                m.floor_get
                    .push(p50(keepalive::run(floor.addr, 350, user)?)?);
                drop(floor);
                let (_, host) = Host::start(*runtime, &manifest, &db, false)?;
                keepalive::run(host.addr, 50, user)?;
                m.get.push(p50(keepalive::run(host.addr, 350, user)?)?);
                if variant.writes {
                    keepalive::posts(host.addr, 50, "/1.0/users/", |i| post(100_000 + i))?;
                    m.post
                        .push(p50(keepalive::posts(host.addr, 350, "/1.0/users/", post)?)?);
                }
            }
        }
    }

    writeln!(
        report,
        "**What the schema costs every request.** Spin opens a new SQLite connection for every \
         request, and SQLite parses the whole schema at a connection's first statement. One \
         database (10,000 users, 10,000 recordings), copied and changed by hand for each row: \
         the lists' search index (migration 0014) as it is, without its objects, or thinner. \
         350 sequential requests on one keep-alive connection (after 50 unmeasured), p50 as the \
         client timed them, five rounds: their median (the lowest–the highest); `GET /1.0/users/<id>` of \
         ours and of the floor component (`tests/floor`, one `SELECT` by id) over the same copy, \
         and `POST /1.0/users/` of ours where the copy still takes writes.\n\n\
         | runtime | the search index's objects | objects in the schema | floor component: GET a user | GET a user | POST a user |\n\
         |---|---|---:|---:|---:|---:|"
    )?;
    let range = |times: &[f64]| {
        let mut times = times.to_vec();
        times.sort_by(f64::total_cmp);
        match times[..] {
            [] => String::new(),
            [low, .., high] => format!("{:.2} ms ({low:.2}–{high:.2})", times[times.len() / 2]),
            [only] => format!("{only:.2} ms"),
        }
    };
    for ((name, _), variants) in runtimes.iter().zip(&measured) {
        for (variant, m) in VARIANTS.iter().zip(variants) {
            writeln!(
                report,
                "| {name} | {} | {} | {} | {} | {} |",
                variant.name,
                m.objects,
                range(&m.floor_get),
                range(&m.get),
                range(&m.post)
            )?;
        }
    }
    Ok(())
}
