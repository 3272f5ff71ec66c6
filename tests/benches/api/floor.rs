//! The floor: the very statements a request runs (captured from the components through the
//! test host), replayed in-process on rusqlite over the same database, on one open connection.

use std::path::Path;
use std::time::Instant;

use anyhow::{bail, Result};
use rusqlite::types::Value;
use rusqlite::Connection;

pub type Statements = Vec<(String, Vec<Value>)>;

/// Median time of one replay of `statements`, in milliseconds. `unique` rewrites a text
/// parameter equal to it into a fresh value per replay (a new cid for each insert, a new name
/// for each update). A floor of a write must write: each replay that changes no row is an
/// error, since a floor that does less than the request makes the ratio a lie.
pub fn median_ms(
    db: &Path,
    statements: &Statements,
    iterations: usize,
    unique: Option<&str>,
    writes: bool,
) -> Result<f64> {
    let conn = Connection::open(db)?;
    let mut times = Vec::with_capacity(iterations);
    for i in 0..iterations + iterations / 10 {
        let changed_before = conn.total_changes();
        let started = Instant::now();
        for (sql, params) in statements {
            let params: Vec<Value> = params
                .iter()
                .map(|p| match (p, unique) {
                    (Value::Text(t), Some(u)) if t == u => {
                        Value::Text(format!("floor-{}-{i}", std::process::id()))
                    }
                    _ => p.clone(),
                })
                .collect();
            let mut stmt = conn.prepare_cached(sql)?;
            let width = stmt.column_count();
            let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
            // Read every value, as the host does to hand rows to the component.
            while let Some(row) = rows.next()? {
                for c in 0..width {
                    let _: Value = row.get(c)?;
                }
            }
        }
        let elapsed = started.elapsed();
        if writes && conn.total_changes() == changed_before {
            bail!("replay {i} of a write's floor changed no row: {statements:?}");
        }
        // The first tenth warms the cache and is not counted.
        if i >= iterations / 10 {
            times.push(elapsed.as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}
