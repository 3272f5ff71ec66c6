//! The agent resource: its representation, the keys a body may hold, and all its SQL.

use crate::by_number;
use common::{
    body::{non_empty_text, Kind},
    db::Db,
    pagination::Pagination,
    params,
    query::Query,
    resource::{update_row, Changes, Resource},
    ApiError,
};

common::table! {
    pub struct Agent in "agents" as "a" {
        firstname: String = Kind::Text,
        lastname: String = Kind::Text,
        number: String = Kind::Custom(non_empty_text),
        passwd: String = Kind::Text,
        context: String = Kind::Text,
        language: String = Kind::Text,
        autologoff: i64 = Kind::Int,
        group: Option<String> = Kind::OptText,
        // The schema's default: XiVO's agent group 1.
        numgroup: i64 = Kind::Int => 1,
        description: String = Kind::Text,
        preprocess_subroutine: Option<String> = Kind::OptText,
    }
}

impl Agent {
    pub const PATH: &'static str = "/1.0/CallCenter/agents";
}

impl Resource for Agent {
    const PATH: &'static str = Agent::PATH;
    const EVENTS: Option<&'static str> = Some("agents");
    const REQUIRED: &'static [&'static str] = &["number"];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[(
        "number",
        "SELECT COUNT(*) FROM agents WHERE number = ? AND id IS NOT ?",
    )];
    /// A bare array sorted by `number` compared as text, as in 2013.
    type List = Vec<Agent>;

    fn list(db: &Db, _: &Query, page: Option<Pagination>) -> Result<Vec<Agent>, ApiError> {
        by_number(db, page)
    }

    /// A new number shows in the agent's recordings (`agent_no`): their versions grow too.
    fn update(
        db: &Db,
        id: i64,
        before: &Agent,
        after: &Agent,
        _: &Changes,
    ) -> Result<(), ApiError> {
        update_row(db, id, after)?;
        if after.number != before.number {
            db.execute(
                "UPDATE recordings SET version = version + 1 WHERE agent_id = ?",
                &params![id],
            )?;
        }
        Ok(())
    }

    /// 412 while recordings name the agent; users that name it lose it (`agentid` null, and a
    /// new version).
    fn delete(db: &Db, id: i64, _: &Agent, _: &Query) -> Result<(), ApiError> {
        if db.exists(
            "SELECT COUNT(*) FROM recordings WHERE agent_id = ?",
            &params![id],
        )? {
            return Err(ApiError::precondition_failed(
                "Cannot remove an agent who has recordings. Delete the recordings first.",
            ));
        }
        db.execute(
            "UPDATE users SET agentid = NULL, version = version + 1 WHERE agentid = ?",
            &params![id],
        )?;
        db.execute("DELETE FROM agents WHERE id = ?", &params![id])
    }
}
