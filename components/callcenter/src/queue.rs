//! The queue resource: its representation, the keys a body may hold, and all its SQL.

use crate::list_array;
use common::{
    body::{non_empty_text, Kind},
    db::Db,
    listing::{Column, Listing},
    pagination::Pagination,
    query::Query,
    resource::Resource,
    ApiError,
};

common::table! {
    pub struct Queue in "queues" as "q" {
        name: String = Kind::Custom(non_empty_text),
        displayname: String = Kind::Text,
        number: String = Kind::Text,
        context: String = Kind::Text,
        data_quality: i64 = Kind::Int,
        hitting_callee: i64 = Kind::Int,
        hitting_caller: i64 = Kind::Int,
        retries: i64 = Kind::Int,
        ring: i64 = Kind::Int,
        transfer_user: i64 = Kind::Int,
        transfer_call: i64 = Kind::Int,
        write_caller: i64 = Kind::Int,
        write_calling: i64 = Kind::Int,
        url: String = Kind::Text,
        announceoverride: String = Kind::Text,
        timeout: i64 = Kind::Int,
        preprocess_subroutine: Option<String> = Kind::OptText,
        announce_holdtime: i64 = Kind::Int,
        waittime: i64 = Kind::Int,
        waitratio: f64 = Kind::Real,
    }
}

impl Queue {
    pub const PATH: &'static str = "/1.0/CallCenter/queues";
}

impl Resource for Queue {
    const PATH: &'static str = Queue::PATH;
    const EVENTS: Option<&'static str> = Some("queues");
    const REQUIRED: &'static [&'static str] = &["name"];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[(
        "name",
        "SELECT COUNT(*) FROM queues WHERE name = ? AND id IS NOT ?",
    )];
    /// A bare array sorted by `number` compared as text, as in 2013.
    type List = Vec<Queue>;

    /// Searched: name, display name, number, context (`migrations/0014_lists.sql`).
    const LISTING: Listing = Listing {
        alias: "q",
        search: "queues_search",
        order: &["id", "number", "name", "displayname", "context"],
        default_order: &["number", "id"],
        filters: &[
            ("name", Column::Text),
            ("displayname", Column::Text),
            ("number", Column::Text),
            ("context", Column::Text),
            ("data_quality", Column::Whole),
            ("hitting_callee", Column::Whole),
            ("hitting_caller", Column::Whole),
            ("retries", Column::Whole),
            ("ring", Column::Whole),
            ("transfer_user", Column::Whole),
            ("transfer_call", Column::Whole),
            ("write_caller", Column::Whole),
            ("write_calling", Column::Whole),
            ("url", Column::Text),
            ("announceoverride", Column::Text),
            ("timeout", Column::Whole),
            ("preprocess_subroutine", Column::Text),
            ("announce_holdtime", Column::Whole),
            ("waittime", Column::Whole),
        ],
    };

    fn list(db: &Db, query: &Query, page: Option<Pagination>) -> Result<Vec<Queue>, ApiError> {
        list_array(db, query, page)
    }

    // Updated and deleted by the defaults. A campaign shows its queue's name, display name and
    // number: when one of them changes, or the queue goes, its campaigns get a new version
    // (and on deletion no queue) from triggers (`migrations/0010_...`).
}
