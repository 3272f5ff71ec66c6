//! The queue resource: its representation, the keys a body may hold, and all its SQL.

use crate::by_number;
use common::{
    body::{non_empty_text, Kind},
    db::Db,
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

    fn list(db: &Db, _: &Query, page: Option<Pagination>) -> Result<Vec<Queue>, ApiError> {
        by_number(db, page)
    }

    // Updated and deleted by the defaults. A campaign shows its queue's name, display name and
    // number: when one of them changes, or the queue goes, its campaigns get a new version
    // (and on deletion no queue) from triggers (`migrations/0010_...`).
}
