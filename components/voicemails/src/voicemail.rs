//! The voicemail resource: its representation, the keys a body may hold, and all its SQL.

use common::{
    body::{field, non_empty_text, Field, Kind},
    db::{Db, Param, Row, Value as SqlValue},
    pagination::Pagination,
    params,
    query::Query,
    resource::{Changes, Resource},
    ApiError, List,
};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub struct Voicemail {
    pub id: i64,
    pub email: Option<String>,
    pub fullname: String,
    pub mailbox: String,
    pub password: String,
    pub attach: bool,
    pub skipcheckpass: bool,
    pub deleteaftersend: bool,
}

const COLUMNS: &str = "SELECT id, email, fullname, mailbox, password, attach, skipcheckpass, \
    deleteaftersend";
const FROM: &str = " FROM voicemails";

fn read(row: &Row) -> Result<Voicemail, ApiError> {
    Ok(Voicemail {
        id: row.int("id")?,
        email: row.opt_text("email")?,
        fullname: row.text("fullname")?,
        mailbox: row.text("mailbox")?,
        password: row.text("password")?,
        attach: row.bool("attach")?,
        skipcheckpass: row.bool("skipcheckpass")?,
        deleteaftersend: row.bool("deleteaftersend")?,
    })
}

/// The stored columns, in the order of the INSERT and UPDATE statements.
fn columns(v: &Voicemail) -> [SqlValue; 7] {
    params![
        v.email,
        v.fullname,
        v.mailbox,
        v.password,
        v.attach,
        v.skipcheckpass,
        v.deleteaftersend,
    ]
}

impl Resource for Voicemail {
    const PATH: &'static str = "/1.0/voicemails";
    const FIELDS: &'static [Field] = &[
        field("id", Kind::ReadOnly),
        field("email", Kind::OptText),
        field("fullname", Kind::Text),
        field("mailbox", Kind::Custom(non_empty_text)),
        field("password", Kind::Text),
        field("attach", Kind::Bool),
        field("skipcheckpass", Kind::Bool),
        field("deleteaftersend", Kind::Bool),
    ];
    const REQUIRED: &'static [&'static str] = &["mailbox"];
    const UNIQUE: &'static [(&'static str, &'static str)] = &[(
        "mailbox",
        "SELECT COUNT(*) FROM voicemails WHERE mailbox = ? AND id IS NOT ?",
    )];
    type List = List<Voicemail>;

    fn list(db: &Db, _: &Query, page: Option<Pagination>) -> Result<List<Voicemail>, ApiError> {
        let (total, rows) = db.list(COLUMNS, FROM, "id", &[], page)?;
        Ok(List {
            total,
            items: rows.map(read)?,
        })
    }

    fn get(db: &Db, id: i64) -> Result<Option<Voicemail>, ApiError> {
        db.query_one(&format!("{COLUMNS}{FROM} WHERE id = ?"), &params![id], read)
    }

    fn insert(db: &Db, v: &Voicemail, _: &Changes) -> Result<i64, ApiError> {
        db.insert(
            "INSERT INTO voicemails (email, fullname, mailbox, password, attach, skipcheckpass, \
             deleteaftersend) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            &columns(v),
        )
    }

    fn update(
        db: &Db,
        id: i64,
        _: &Voicemail,
        after: &Voicemail,
        _: &Changes,
    ) -> Result<(), ApiError> {
        let mut values = columns(after).to_vec();
        values.push(id.param());
        db.execute(
            "UPDATE voicemails SET email = ?, fullname = ?, mailbox = ?, password = ?, \
             attach = ?, skipcheckpass = ?, deleteaftersend = ? WHERE id = ?",
            &values,
        )
    }

    /// 412 while a user points at it.
    fn delete(db: &Db, id: i64, _: &Voicemail, _: &Query) -> Result<(), ApiError> {
        if db.exists(
            "SELECT COUNT(*) FROM users WHERE voicemailid = ?",
            &params![id],
        )? {
            return Err(ApiError::precondition_failed(
                "Cannot remove a voicemail associated to a user. Dissociate it from the user first.",
            ));
        }
        db.execute("DELETE FROM voicemails WHERE id = ?", &params![id])
    }
}
