//! The benchmark's floor component: `GET /1.0/users/<id>` as a Spin developer would write it
//! in a few lines with spin-sdk 5.2 (the SDK's `Request`, one `SELECT` by id, JSON by hand),
//! so that the benchmark can show what our components cost beyond the least a component can
//! do, under the same runtime and over the same database. With `?variable` it also reads one
//! Spin variable first, as any component configured by variables does on every request.

use spin_sdk::http::{IntoResponse, Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::{Connection, Value};
use spin_sdk::variables;

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    if req.query() == "variable" {
        variables::get("setting")?;
    }
    let id: i64 = req
        .path()
        .rsplit('/')
        .next()
        .unwrap_or("")
        .parse()
        .unwrap_or(0);
    let db = Connection::open_default()?;
    let result = db.execute(
        "SELECT firstname, lastname FROM users WHERE id = ?",
        &[Value::Integer(id)],
    )?;
    let Some(row) = result.rows.first() else {
        return Ok(Response::new(404, ()));
    };
    let text = |i: usize| match &row.values[i] {
        Value::Text(t) => t.replace('\\', "\\\\").replace('"', "\\\""),
        _ => String::new(),
    };
    let body = format!(
        r#"{{"id":{id},"firstname":"{}","lastname":"{}"}}"#,
        text(0),
        text(1)
    );
    Ok(Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body)
        .build())
}
