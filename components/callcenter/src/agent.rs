//! The agent resource: its representation, the keys a body may hold, and all its SQL.

use crate::list_array;
use common::{
    body::{non_empty_text, Kind},
    db::Db,
    listing::{Column, Listing},
    pagination::Pagination,
    params,
    query::Query,
    resource::{delete_row, Resource},
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

    /// Searched: both names in both orders, number, context, description
    /// (`migrations/0014_lists.sql`).
    const LISTING: Listing = Listing {
        alias: "a",
        search: "agents_search",
        order: &["id", "number", "firstname", "lastname", "context"],
        default_order: &["number", "id"],
        filters: &[
            ("firstname", Column::Text),
            ("lastname", Column::Text),
            ("number", Column::Text),
            ("context", Column::Text),
            ("language", Column::Text),
            ("autologoff", Column::Whole),
            ("group", Column::Text),
            ("numgroup", Column::Whole),
            ("description", Column::Text),
            ("preprocess_subroutine", Column::Text),
        ],
    };

    fn list(db: &Db, query: &Query, page: Option<Pagination>) -> Result<Vec<Agent>, ApiError> {
        list_array(db, query, page)
    }

    // Updated by the default. A new number shows in the agent's recordings (`agent_no`):
    // their versions grow too, by a trigger (`migrations/0010_...`).

    /// 412 while it has recordings. Its users lose it (`migrations/0010_...`: a trigger).
    fn delete(
        db: &Db,
        id: i64,
        _: &Agent,
        _: &Query,
        guard: Option<i64>,
    ) -> Result<bool, ApiError> {
        if db.exists(
            "SELECT COUNT(*) FROM recordings WHERE agent_id = ?",
            &params![id],
        )? {
            return Err(ApiError::precondition_failed(
                "Cannot remove an agent who has recordings. Delete the recordings first.",
            ));
        }
        delete_row::<Agent>(
            db,
            id,
            guard,
            " AND NOT EXISTS (SELECT 1 FROM recordings WHERE agent_id = ?)",
        )
    }
}
