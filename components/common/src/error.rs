//! The errors a handler can answer with, and their exact wire form.
//!
//! Messages travel as a JSON list of strings, even for one message. 401, 404, 405, 406,
//! 413 and 415 carry no body, as the seed's tables say.

use std::fmt;

#[derive(Debug)]
pub enum ApiError {
    /// 400 with a list of messages.
    BadRequest(Vec<String>),
    /// 401 with the `WWW-Authenticate` challenges to send.
    Unauthorized(Vec<String>),
    /// 403 with a list of messages: an API token whose scopes do not allow the request.
    Forbidden(Vec<String>),
    /// 404, empty body.
    NotFound,
    /// 405, empty body; the methods the path allows.
    MethodNotAllowed(&'static str),
    /// 406, empty body.
    NotAcceptable,
    /// 409 with a list of messages: another request changed what this one was changing.
    Conflict(Vec<String>),
    /// 412 with a list of messages.
    PreconditionFailed(Vec<String>),
    /// 413, empty body.
    PayloadTooLarge,
    /// 415, empty body.
    UnsupportedMediaType,
    /// 416, empty body, `Content-Range: bytes */<length>`: no byte of the asked range exists.
    RangeNotSatisfiable(u64),
    /// 429 with `Retry-After` (seconds) and a message: the client's address, or the account it
    /// tries, failed to authenticate too often (`auth/throttle.rs`).
    TooManyRequests(u64, Throttled),
    /// 500: a fault of ours, never of the client. The detail is logged, not sent.
    Internal(String),
    /// 503 with `Retry-After` and `["Service busy, try again"]`: the database could not be
    /// had in time (other writers held it). Nothing was changed. The detail is logged.
    ServiceUnavailable(String),
    /// 503 with `Retry-After` and `["Database unavailable, try again"]`: the database could
    /// not be reached (a libSQL server down, restarting, or cut off). The detail is logged.
    DatabaseUnavailable(String),
    /// A write the schema refused (a UNIQUE column, a foreign key), with the detail: what it
    /// means for the client is the caller's to say (`resource.rs`, a 400 naming the key);
    /// left as it is, a fault of ours, 500.
    Refused(Refusal, String),
}

/// Who failed to authenticate too often (429).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttled {
    /// The client's address.
    Address,
    /// The account, from addresses it has not authenticated from.
    Login,
}

/// What the schema refused in a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A value a UNIQUE column already holds: the column (`mailbox`).
    Unique(String),
    /// A reference to a row that is not there.
    ForeignKey,
    /// A rule a trigger keeps (`RAISE(ABORT, 'refused: <code>')`): the code.
    Rule(String),
}

impl Refusal {
    /// From SQLite's message, as a file or a libSQL server passes it on.
    pub fn from_message(message: &str) -> Option<Self> {
        if let Some((_, rest)) = message.split_once("UNIQUE constraint failed: ") {
            // `voicemails.mailbox`, then the end of the message.
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            let column = name.rsplit('.').next().unwrap_or_default();
            return Some(Self::Unique(column.to_string()));
        }
        if let Some((_, rest)) = message.split_once("refused: ") {
            let code: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            return Some(Self::Rule(code));
        }
        message
            .contains("FOREIGN KEY constraint failed")
            .then_some(Self::ForeignKey)
    }
}

/// What a 503 asks the client to wait, in seconds (`Retry-After`).
pub const RETRY_AFTER_SECONDS: u32 = 1;

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest(vec![message.into()])
    }

    /// `["Incorrect parameters sent: k1, k2"]`.
    pub fn incorrect_parameters<S: AsRef<str>>(keys: &[S]) -> Self {
        Self::bad_request(format!("Incorrect parameters sent: {}", join(keys)))
    }

    /// `["Missing parameters: k1, k2"]`.
    pub fn missing_parameters<S: AsRef<str>>(keys: &[S]) -> Self {
        Self::bad_request(format!("Missing parameters: {}", join(keys)))
    }

    /// `["No parsable data in the request"]`.
    pub fn no_parsable_data() -> Self {
        Self::bad_request("No parsable data in the request")
    }

    pub fn precondition_failed(message: impl Into<String>) -> Self {
        Self::PreconditionFailed(vec![message.into()])
    }

    pub fn internal(detail: impl fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    pub fn service_unavailable(detail: impl fmt::Display) -> Self {
        Self::ServiceUnavailable(detail.to_string())
    }

    pub fn database_unavailable(detail: impl fmt::Display) -> Self {
        Self::DatabaseUnavailable(detail.to_string())
    }

    /// The detail kept for the log (500, 503), never sent to the client.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Self::Internal(detail)
            | Self::ServiceUnavailable(detail)
            | Self::DatabaseUnavailable(detail)
            | Self::Refused(_, detail) => Some(detail),
            _ => None,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound => 404,
            Self::MethodNotAllowed(_) => 405,
            Self::NotAcceptable => 406,
            Self::Conflict(_) => 409,
            Self::PreconditionFailed(_) => 412,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::RangeNotSatisfiable(_) => 416,
            Self::TooManyRequests(..) => 429,
            Self::Internal(_) | Self::Refused(..) => 500,
            Self::ServiceUnavailable(_) | Self::DatabaseUnavailable(_) => 503,
        }
    }

    /// The messages the body carries, if it carries any.
    pub fn messages(&self) -> Option<Vec<String>> {
        match self {
            Self::BadRequest(m)
            | Self::Forbidden(m)
            | Self::Conflict(m)
            | Self::PreconditionFailed(m) => Some(m.clone()),
            Self::Internal(_) | Self::Refused(..) => {
                Some(vec!["Internal server error".to_string()])
            }
            Self::TooManyRequests(_, Throttled::Address) => Some(vec![
                "Too many failed authentications from this address, try again later".to_string(),
            ]),
            Self::TooManyRequests(_, Throttled::Login) => Some(vec![
                "Too many failed authentications for this account, try again later".to_string(),
            ]),
            Self::ServiceUnavailable(_) => Some(vec!["Service busy, try again".to_string()]),
            Self::DatabaseUnavailable(_) => {
                Some(vec!["Database unavailable, try again".to_string()])
            }
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Internal(detail) | Self::Refused(_, detail) => write!(f, "500 {detail}"),
            Self::ServiceUnavailable(detail) | Self::DatabaseUnavailable(detail) => {
                write!(f, "503 {detail}")
            }
            // `400 ["Incorrect parameters sent: x"]`: the body a client gets.
            other => write!(
                f,
                "{} {}",
                other.status(),
                serde_json::to_string(&other.messages()).unwrap_or_default()
            ),
        }
    }
}

impl From<spin_sdk::sqlite::Error> for ApiError {
    /// `SQLITE_BUSY` (the database locked past the wait) is overload, 503; a database that
    /// cannot be reached is 503 too; anything else is ours, 500.
    fn from(e: spin_sdk::sqlite::Error) -> Self {
        let detail = format!("sqlite: {}", crate::host_error::sqlite(&e));
        if is_busy(&e) {
            Self::service_unavailable(detail)
        } else if is_unreachable(&e) {
            Self::database_unavailable(detail)
        } else {
            Self::internal(detail)
        }
    }
}

impl From<spin_sdk::key_value::Error> for ApiError {
    /// The key-value store failing is ours, 500.
    fn from(e: spin_sdk::key_value::Error) -> Self {
        Self::internal(format!("key-value: {}", crate::host_error::key_value(&e)))
    }
}

/// SQLite's "database is locked" (`SQLITE_BUSY`), as Spin passes it on: `io(message)`; or a
/// libSQL server's `TRANSACTION_TIMEOUT`: the server took the write lock back from a
/// transaction that held it too long (about 5 s, while others waited) and rolled it back.
/// Or a statement such a server interrupted (`SQLITE_INTERRUPT`, which `db` runs again a few
/// times first). Either way nothing was written, and trying again later can succeed.
pub fn is_busy(e: &spin_sdk::sqlite::Error) -> bool {
    matches!(e, spin_sdk::sqlite::Error::Io(m)
        if m.contains("database is locked")
            || m.contains("database is busy")
            || m.contains("TRANSACTION_TIMEOUT")
            || m.contains("Transaction timed out")
            || m.contains("SQLITE_INTERRUPT"))
}

/// A libSQL server that could not be reached or did not answer: the libSQL client (Spin's
/// `type = "libsql"`, passed on as `io(message)`) failed to send a statement or to read its
/// answer (`Hrana: `http error: ...`: connection refused or reset, a timeout), the server
/// answered with something other than a statement's result (`api error`: an expired
/// stream, a proxy's 502), or the answer stopped half-way (`cursor error: cursor stream
/// ended prematurely`); or Spin could not make the client at all (`invalid-connection`).
/// A statement's own failure (`stream error: ...`, `cursor error: error at step N: ...`,
/// SQLite's message inside) is not one of these: the request or the app is at fault.
pub fn is_unreachable(e: &spin_sdk::sqlite::Error) -> bool {
    match e {
        spin_sdk::sqlite::Error::InvalidConnection => true,
        spin_sdk::sqlite::Error::Io(m) => {
            (m.starts_with("Hrana: ")
                && !m.contains("stream error: ")
                && !m.contains("cursor error: `error at step"))
                || m.starts_with("Failed to connect to database")
        }
        _ => false,
    }
}

fn join<S: AsRef<str>>(keys: &[S]) -> String {
    crate::text::join(keys, ", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incorrect_parameters_lists_keys_in_order() {
        let e = ApiError::incorrect_parameters(&["b", "a"]);
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.messages().unwrap(),
            vec!["Incorrect parameters sent: b, a"]
        );
    }

    #[test]
    fn empty_bodied_errors_carry_no_messages() {
        for e in [
            ApiError::NotFound,
            ApiError::NotAcceptable,
            ApiError::UnsupportedMediaType,
            ApiError::PayloadTooLarge,
            ApiError::RangeNotSatisfiable(5),
        ] {
            assert!(e.messages().is_none(), "{e}");
        }
    }

    #[test]
    fn busy_is_503_and_other_sqlite_errors_500() {
        let busy = spin_sdk::sqlite::Error::Io("database is locked".into());
        let e = ApiError::from(busy);
        assert_eq!(e.status(), 503);
        assert_eq!(e.messages().unwrap(), vec!["Service busy, try again"]);
        assert!(e.detail().unwrap().contains("database is locked"));
        let stolen = "Hrana: `stream error: `Error { message: \"Transaction timed out\", \
                      code: \"TRANSACTION_TIMEOUT\" }``";
        assert_eq!(
            ApiError::from(spin_sdk::sqlite::Error::Io(stolen.into())).status(),
            503
        );
        let interrupted = "Hrana: `cursor error: `error at step 0: (error code: SQLITE_INTERRUPT) \
                           `SQLite error: interrupted```";
        assert_eq!(
            ApiError::from(spin_sdk::sqlite::Error::Io(interrupted.into())).status(),
            503
        );
        let other = spin_sdk::sqlite::Error::Io("disk I/O error".into());
        assert_eq!(ApiError::from(other).status(), 500);
        assert_eq!(
            ApiError::from(spin_sdk::sqlite::Error::AccessDenied).status(),
            500
        );
    }

    #[test]
    fn an_unreachable_server_is_503_and_a_statement_error_500() {
        let io = |m: &str| ApiError::from(spin_sdk::sqlite::Error::Io(m.into()));
        for unreachable in [
            "Hrana: `http error: `error trying to connect: tcp connect error: Connection \
             refused (os error 111)``",
            "Hrana: `api error: `status=502 Bad Gateway, body=``",
            "Hrana: `cursor error: `cursor stream ended prematurely``",
            "Hrana: `stream closed: `Stream closed``",
        ] {
            let e = io(unreachable);
            assert_eq!(e.status(), 503, "{unreachable}");
            assert_eq!(
                e.messages().unwrap(),
                vec!["Database unavailable, try again"]
            );
            assert!(e.detail().unwrap().contains(unreachable));
        }
        let e = ApiError::from(spin_sdk::sqlite::Error::InvalidConnection);
        assert_eq!(e.status(), 503);
        for statement in [
            "Hrana: `stream error: `Error { message: \"SQLite error: no such table: x\", \
             code: \"SQLITE_UNKNOWN\" }``",
            "Hrana: `cursor error: `error at step 0: (error code: SQLITE_UNKNOWN) `SQLite \
             error: no such column: y```",
        ] {
            assert_eq!(io(statement).status(), 500, "{statement}");
        }
    }

    #[test]
    fn refusals_are_read_from_sqlites_messages() {
        let file = "UNIQUE constraint failed: voicemails.mailbox";
        let server = "Hrana: `cursor error: `error at step 0: (error code: SQLITE_CONSTRAINT) \
                      `SQLite error: UNIQUE constraint failed: agents.number```";
        assert_eq!(
            Refusal::from_message(file),
            Some(Refusal::Unique("mailbox".into()))
        );
        assert_eq!(
            Refusal::from_message(server),
            Some(Refusal::Unique("number".into()))
        );
        assert_eq!(
            Refusal::from_message("FOREIGN KEY constraint failed"),
            Some(Refusal::ForeignKey)
        );
        assert_eq!(
            Refusal::from_message("SQLite error: refused: concurrent_campaigns"),
            Some(Refusal::Rule("concurrent_campaigns".into()))
        );
        assert_eq!(Refusal::from_message("no such table: x"), None);
    }

    #[test]
    fn internal_detail_is_not_sent() {
        let e = ApiError::internal("disk on fire at /var/lib/secret");
        assert_eq!(e.status(), 500);
        assert_eq!(e.messages().unwrap(), vec!["Internal server error"]);
    }
}
