//! The voicemail resource: its representation and table, the keys a body may hold, and the
//! SQL of its rules.

use common::{
    body::{non_empty_text, Kind},
    db::Db,
    listing::{Column, Listing},
    pagination::Pagination,
    params,
    query::Query,
    resource::{delete_row, list_rows, Resource},
    ApiError, List,
};

common::table! {
    pub struct Voicemail in "voicemails" as "v" {
        email: Option<String> = Kind::OptText,
        fullname: String = Kind::Text,
        mailbox: String = Kind::Custom(non_empty_text),
        password: String = Kind::Text,
        attach: bool = Kind::Bool,
        skipcheckpass: bool = Kind::Bool,
        deleteaftersend: bool = Kind::Bool,
    }
}

impl Resource for Voicemail {
    const PATH: &'static str = "/1.0/voicemails";
    const EVENTS: Option<&'static str> = Some("voicemails");
    const REQUIRED: &'static [&'static str] = &["mailbox"];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[(
        "mailbox",
        "SELECT COUNT(*) FROM voicemails WHERE mailbox = ? AND id IS NOT ?",
    )];
    type List = List<Voicemail>;

    /// Searched: full name, mailbox, email (`migrations/0014_lists.sql`).
    const LISTING: Listing = Listing {
        alias: "v",
        search: "voicemails_search",
        order: &["id", "fullname", "mailbox", "email"],
        default_order: &["id"],
        filters: &[
            ("email", Column::Text),
            ("fullname", Column::Text),
            ("mailbox", Column::Text),
            ("attach", Column::Flag),
            ("skipcheckpass", Column::Flag),
            ("deleteaftersend", Column::Flag),
        ],
    };

    fn list(db: &Db, query: &Query, page: Option<Pagination>) -> Result<List<Voicemail>, ApiError> {
        list_rows(db, query, page)
    }

    /// 412 while a user points at it.
    fn delete(
        db: &Db,
        id: i64,
        _: &Voicemail,
        _: &Query,
        guard: Option<i64>,
    ) -> Result<bool, ApiError> {
        if db.exists(
            "SELECT COUNT(*) FROM users WHERE voicemailid = ?",
            &params![id],
        )? {
            return Err(ApiError::precondition_failed(
                "Cannot remove a voicemail associated to a user. Dissociate it from the user first.",
            ));
        }
        // A user given it since is found by the next attempt.
        delete_row::<Voicemail>(
            db,
            id,
            guard,
            " AND NOT EXISTS (SELECT 1 FROM users WHERE voicemailid = ?)",
        )
    }
}
