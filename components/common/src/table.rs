//! A resource's columns, declared once: [`table!`](crate::table!) turns one list of columns
//! (name, Rust type, body rule, default) into the representation's struct, the body's
//! [`Field`]s, and the statements that read, insert and update its rows. Adding a column to a
//! resource is one line there (and the migration that adds it to the table).
//!
//! Every row has a `version` (`migrations/0003_versions.sql`): the generated UPDATE adds one
//! to it, and the representation's `ETag` is made from it (see `resource.rs`).

use crate::{
    body::{Field, FromBody},
    db::{describe, Row, Value},
    error::ApiError,
};

/// What [`table!`](crate::table!) generates for a resource.
pub trait Table: Sized {
    /// The SQL table.
    const NAME: &'static str;
    /// Its alias in the statements (`u` for `users u`), for joins and subqueries.
    const ALIAS: &'static str;
    /// The stored columns but `id` and `version`, in declaration order.
    const COLUMNS: &'static [&'static str];
    /// Keys shown but not stored in the table: (key, SQL expression that gives it).
    const DERIVED: &'static [(&'static str, &'static str)];
    /// The keys a body may hold: `id` (read-only), then each column and derived key.
    const FIELDS: &'static [Field];

    fn read(row: &Row) -> Result<Self, ApiError>;
    /// The stored columns' values, in [`Table::COLUMNS`] order.
    fn values(&self) -> Vec<Value>;
    fn id(&self) -> i64;
    fn version(&self) -> i64;

    /// `SELECT u.id, u.version, u."firstname", ..., (expression) AS "line"`.
    fn select() -> String {
        let a = Self::ALIAS;
        let mut sql = format!("SELECT {a}.id, {a}.version");
        for column in Self::COLUMNS {
            sql.push_str(&format!(", {a}.\"{column}\""));
        }
        for (key, expression) in Self::DERIVED {
            sql.push_str(&format!(", {expression} AS \"{key}\""));
        }
        sql
    }

    /// ` FROM users u`.
    fn from() -> String {
        format!(" FROM {} {}", Self::NAME, Self::ALIAS)
    }

    /// `INSERT INTO users ("firstname", ...) VALUES (?, ...) RETURNING id`, for [`values`].
    ///
    /// [`values`]: Table::values
    fn insert_sql() -> String {
        let columns: Vec<String> = Self::COLUMNS.iter().map(|c| format!("\"{c}\"")).collect();
        let marks = crate::text::join(&vec!["?"; columns.len()], ", ");
        format!(
            "INSERT INTO {} ({}) VALUES ({marks}) RETURNING id",
            Self::NAME,
            crate::text::join(&columns, ", ")
        )
    }

    /// `UPDATE users SET "firstname" = ?, ..., version = version + 1 WHERE id = ?`, for
    /// [`values`](Table::values) and the id.
    fn update_sql() -> String {
        let sets: Vec<String> = Self::COLUMNS
            .iter()
            .map(|c| format!("\"{c}\" = ?"))
            .collect();
        format!(
            "UPDATE {} SET {}, version = version + 1 WHERE id = ?",
            Self::NAME,
            crate::text::join(&sets, ", ")
        )
    }
}

/// A Rust value as a column holds it.
pub trait Stored: Sized {
    /// From a value that is not NULL; `None` when it has the wrong type.
    fn from_sql(value: &Value) -> Option<Self>;
    fn to_sql(&self) -> Value;

    /// Read column `column` of `row`; NULL, or the wrong type, is our fault (500).
    fn read(row: &Row, column: &str) -> Result<Self, ApiError> {
        let value = row.value(column)?;
        Self::from_sql(value).ok_or_else(|| {
            ApiError::internal(format!("column `{column}`: unexpected {}", describe(value)))
        })
    }
}

impl Stored for String {
    fn from_sql(value: &Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
    fn to_sql(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl Stored for i64 {
    fn from_sql(value: &Value) -> Option<Self> {
        match value {
            Value::Integer(n) => Some(*n),
            _ => None,
        }
    }
    fn to_sql(&self) -> Value {
        Value::Integer(*self)
    }
}

/// Stored as 0 or 1.
impl Stored for bool {
    fn from_sql(value: &Value) -> Option<Self> {
        i64::from_sql(value).map(|n| n != 0)
    }
    fn to_sql(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}

impl Stored for f64 {
    fn from_sql(value: &Value) -> Option<Self> {
        match value {
            Value::Real(x) => Some(*x),
            Value::Integer(n) => Some(*n as f64),
            _ => None,
        }
    }
    fn to_sql(&self) -> Value {
        Value::Real(*self)
    }
}

/// A list of strings, stored as its JSON text; read as any JSON is (so that no second JSON
/// reader is compiled in).
impl Stored for Vec<String> {
    fn from_sql(value: &Value) -> Option<Self> {
        match value {
            Value::Text(s) => {
                let json: serde_json::Value = serde_json::from_slice(s.as_bytes()).ok()?;
                FromBody::from_body(&json)
            }
            _ => None,
        }
    }
    fn to_sql(&self) -> Value {
        Value::Text(serde_json::to_string(self).unwrap_or_else(|_| "[]".into()))
    }
}

/// NULL is `None`.
impl<T: Stored> Stored for Option<T> {
    fn from_sql(value: &Value) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            other => T::from_sql(other).map(Some),
        }
    }
    fn to_sql(&self) -> Value {
        self.as_ref().map_or(Value::Null, Stored::to_sql)
    }
}

/// Declare a resource's representation and table in one place:
///
/// ```ignore
/// common::table! {
///     /// A voicemail as the API shows it.
///     pub struct Voicemail in "voicemails" as "v" {
///         email: Option<String> = Kind::OptText,
///         mailbox: String = Kind::Custom(non_empty_text),
///         numgroup: i64 = Kind::Int => 1,          // a default other than the type's
///         #[serde(skip_serializing)]               // attributes go to the struct's field
///         password: String = Kind::Text,
///     }
///     derived {                                    // optional: shown, not stored here
///         line: Option<Line> = Kind::Custom(line), from "(SELECT ...)",
///     }
/// }
/// ```
///
/// gives `struct Voicemail { id, email, mailbox, ..., version }` (serde's `Serialize` in
/// declaration order, `version` skipped), its `Default`, [`Table`], and
/// [`Assign`](crate::body::Assign) for its columns and derived keys.
#[macro_export]
macro_rules! table {
    (
        $(#[$meta:meta])*
        pub struct $name:ident in $table:literal as $alias:literal {
            $( $(#[$cmeta:meta])* $column:ident : $ty:ty = $kind:expr $(=> $default:expr)? ),* $(,)?
        }
        $( derived {
            $( $derived:ident : $dty:ty = $dkind:expr, from $sql:literal ),* $(,)?
        } )?
    ) => {
        $(#[$meta])*
        #[derive(::serde::Serialize, Debug, Clone, PartialEq)]
        pub struct $name {
            pub id: i64,
            $( $(#[$cmeta])* pub $column: $ty, )*
            $($( pub $derived: $dty, )*)?
            /// The row's version, for its `ETag`; not part of the representation.
            #[serde(skip)]
            pub version: i64,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    id: 0,
                    $( $column: $crate::table!(@default $($default)?), )*
                    $($( $derived: Default::default(), )*)?
                    version: 0,
                }
            }
        }

        $crate::assign!($name { $( $column, )* $($( $derived, )*)? });

        impl $crate::table::Table for $name {
            const NAME: &'static str = $table;
            const ALIAS: &'static str = $alias;
            const COLUMNS: &'static [&'static str] = &[$( stringify!($column) ),*];
            const DERIVED: &'static [(&'static str, &'static str)] =
                &[$($( (stringify!($derived), $sql) ),*)?];
            const FIELDS: &'static [$crate::body::Field] = &[
                $crate::body::field("id", $crate::body::Kind::ReadOnly),
                $( $crate::body::field(stringify!($column), $kind), )*
                $($( $crate::body::field(stringify!($derived), $dkind), )*)?
            ];

            fn read(row: &$crate::db::Row) -> Result<Self, $crate::ApiError> {
                use $crate::table::Stored;
                Ok(Self {
                    id: row.int("id")?,
                    $( $column: Stored::read(row, stringify!($column))?, )*
                    $($( $derived: Stored::read(row, stringify!($derived))?, )*)?
                    version: row.int("version")?,
                })
            }

            fn values(&self) -> Vec<$crate::db::Value> {
                vec![$( $crate::table::Stored::to_sql(&self.$column) ),*]
            }

            fn id(&self) -> i64 {
                self.id
            }

            fn version(&self) -> i64 {
                self.version
            }
        }
    };
    (@default) => { Default::default() };
    (@default $default:expr) => { $default };
}
