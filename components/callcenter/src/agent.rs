//! The agent resource: its representation, the keys a body may hold, and all its SQL.

use common::{
    body::{field, non_empty_text, Field, Kind},
    db::{Db, Param, Row, Value as SqlValue},
    pagination::Pagination,
    params,
    query::Query,
    resource::{Changes, Resource},
    ApiError,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Agent {
    pub id: i64,
    pub firstname: String,
    pub lastname: String,
    pub number: String,
    pub passwd: String,
    pub context: String,
    pub language: String,
    pub autologoff: i64,
    pub group: Option<String>,
    pub numgroup: i64,
    pub description: String,
    pub preprocess_subroutine: Option<String>,
}

/// The defaults of the schema (`numgroup` 1, as XiVO's agent group 1).
impl Default for Agent {
    fn default() -> Self {
        Self {
            id: 0,
            firstname: String::new(),
            lastname: String::new(),
            number: String::new(),
            passwd: String::new(),
            context: String::new(),
            language: String::new(),
            autologoff: 0,
            group: None,
            numgroup: 1,
            description: String::new(),
            preprocess_subroutine: None,
        }
    }
}

impl Agent {
    pub const PATH: &'static str = "/1.0/CallCenter/agents";
}

const SELECT: &str = "SELECT id, firstname, lastname, number, passwd, context, language, \
    autologoff, \"group\", numgroup, description, preprocess_subroutine FROM agents";

fn read(row: &Row) -> Result<Agent, ApiError> {
    Ok(Agent {
        id: row.int("id")?,
        firstname: row.text("firstname")?,
        lastname: row.text("lastname")?,
        number: row.text("number")?,
        passwd: row.text("passwd")?,
        context: row.text("context")?,
        language: row.text("language")?,
        autologoff: row.int("autologoff")?,
        group: row.opt_text("group")?,
        numgroup: row.int("numgroup")?,
        description: row.text("description")?,
        preprocess_subroutine: row.opt_text("preprocess_subroutine")?,
    })
}

/// The stored columns, in the order of the INSERT and UPDATE statements.
fn columns(a: &Agent) -> [SqlValue; 11] {
    params![
        a.firstname,
        a.lastname,
        a.number,
        a.passwd,
        a.context,
        a.language,
        a.autologoff,
        a.group,
        a.numgroup,
        a.description,
        a.preprocess_subroutine,
    ]
}

impl Resource for Agent {
    const PATH: &'static str = Agent::PATH;
    const FIELDS: &'static [Field] = &[
        field("id", Kind::ReadOnly),
        field("firstname", Kind::Text),
        field("lastname", Kind::Text),
        field("number", Kind::Custom(non_empty_text)),
        field("passwd", Kind::Text),
        field("context", Kind::Text),
        field("language", Kind::Text),
        field("autologoff", Kind::Int),
        field("group", Kind::OptText),
        field("numgroup", Kind::Int),
        field("description", Kind::Text),
        field("preprocess_subroutine", Kind::OptText),
    ];
    const REQUIRED: &'static [&'static str] = &["number"];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[(
        "number",
        "SELECT COUNT(*) FROM agents WHERE number = ? AND id IS NOT ?",
    )];
    /// A bare array sorted by `number` compared as text, as in 2013.
    type List = Vec<Agent>;

    fn list(db: &Db, _: &Query, page: Option<Pagination>) -> Result<Vec<Agent>, ApiError> {
        let rows = db.query(
            &format!("{SELECT} ORDER BY number, id LIMIT ? OFFSET ?"),
            &Pagination::limit_offset(page),
        )?;
        rows.map(read)
    }

    fn get(db: &Db, id: i64) -> Result<Option<Agent>, ApiError> {
        db.query_one(&format!("{SELECT} WHERE id = ?"), &params![id], read)
    }

    fn insert(db: &Db, a: &Agent, _: &Changes) -> Result<i64, ApiError> {
        db.insert(
            "INSERT INTO agents (firstname, lastname, number, passwd, context, language, \
             autologoff, \"group\", numgroup, description, preprocess_subroutine) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &columns(a),
        )
    }

    fn update(db: &Db, id: i64, _: &Agent, after: &Agent, _: &Changes) -> Result<(), ApiError> {
        let mut values = columns(after).to_vec();
        values.push(id.param());
        db.execute(
            "UPDATE agents SET firstname = ?, lastname = ?, number = ?, passwd = ?, context = ?, \
             language = ?, autologoff = ?, \"group\" = ?, numgroup = ?, description = ?, \
             preprocess_subroutine = ? WHERE id = ?",
            &values,
        )
    }

    /// 412 while recordings name the agent; users that name it lose it (`agentid` null).
    fn delete(db: &Db, id: i64, _: &Agent, _: &Query) -> Result<(), ApiError> {
        if db.exists(
            "SELECT COUNT(*) FROM recordings WHERE agent_id = ?",
            &params![id],
        )? {
            return Err(ApiError::precondition_failed(
                "Cannot remove an agent who has recordings. Delete the recordings first.",
            ));
        }
        db.execute("DELETE FROM agents WHERE id = ?", &params![id])
    }
}
