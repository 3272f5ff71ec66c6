//! The rows a statement returns, read by column name, and the values bound to it.

use spin_sdk::sqlite::RowResult;
pub use spin_sdk::sqlite::Value;

use crate::error::ApiError;

/// The rows of a query.
pub struct Rows {
    pub(super) columns: Vec<String>,
    pub(super) rows: Vec<RowResult>,
}

impl Rows {
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|r| Row {
            columns: &self.columns,
            values: &r.values,
        })
    }

    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Each row through `read`, stopping at the first error.
    pub fn map<T>(&self, read: impl Fn(&Row) -> Result<T, ApiError>) -> Result<Vec<T>, ApiError> {
        self.iter().map(|r| read(&r)).collect()
    }
}

/// One row, read by column name; a value of an unexpected type is our fault (500).
pub struct Row<'a> {
    columns: &'a [String],
    values: &'a [Value],
}

impl Row<'_> {
    /// A column's value as SQLite gave it.
    pub fn value(&self, column: &str) -> Result<&Value, ApiError> {
        self.columns
            .iter()
            .position(|c| c == column)
            .and_then(|i| self.values.get(i))
            .ok_or_else(|| ApiError::internal(format!("no column `{column}`")))
    }

    fn wrong(&self, column: &str, want: &str) -> ApiError {
        let found = self
            .value(column)
            .map_or_else(|_| "nothing".into(), describe);
        ApiError::internal(format!("column `{column}` is not {want}: {found}"))
    }

    pub fn int(&self, column: &str) -> Result<i64, ApiError> {
        self.opt_int(column)?
            .ok_or_else(|| self.wrong(column, "an integer"))
    }

    pub fn opt_int(&self, column: &str) -> Result<Option<i64>, ApiError> {
        match self.value(column)? {
            Value::Integer(n) => Ok(Some(*n)),
            Value::Null => Ok(None),
            _ => Err(self.wrong(column, "an integer")),
        }
    }

    pub fn text(&self, column: &str) -> Result<String, ApiError> {
        self.opt_text(column)?
            .ok_or_else(|| self.wrong(column, "text"))
    }

    pub fn opt_text(&self, column: &str) -> Result<Option<String>, ApiError> {
        match self.value(column)? {
            Value::Text(s) => Ok(Some(s.clone())),
            Value::Null => Ok(None),
            _ => Err(self.wrong(column, "text")),
        }
    }

    pub fn bool(&self, column: &str) -> Result<bool, ApiError> {
        Ok(self.int(column)? != 0)
    }

    pub fn real(&self, column: &str) -> Result<f64, ApiError> {
        match self.value(column)? {
            Value::Real(x) => Ok(*x),
            Value::Integer(n) => Ok(*n as f64),
            _ => Err(self.wrong(column, "a number")),
        }
    }
}

/// A value, for a 500's detail in the log. Not its `Debug`: that of a real number brings the
/// float-printing machinery into every component (13 KB) for a message that never shows one.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Integer(n) => n.to_string(),
        Value::Real(_) => "a real".into(),
        Value::Text(text) => format!("\"{text}\""),
        Value::Blob(bytes) => format!("a blob of {} bytes", bytes.len()),
        Value::Null => "NULL".into(),
    }
}

/// A Rust value as a bound SQLite parameter.
pub trait Param {
    fn param(&self) -> Value;
}

impl Param for i64 {
    fn param(&self) -> Value {
        Value::Integer(*self)
    }
}

impl Param for bool {
    fn param(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}

impl Param for f64 {
    fn param(&self) -> Value {
        Value::Real(*self)
    }
}

impl Param for str {
    fn param(&self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl Param for String {
    fn param(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn param(&self) -> Value {
        (**self).param()
    }
}

impl<T: Param> Param for Option<T> {
    fn param(&self) -> Value {
        self.as_ref().map_or(Value::Null, Param::param)
    }
}

/// `params![a, b]`: bound parameters for `Db::query`.
#[macro_export]
macro_rules! params {
    ($($value:expr),* $(,)?) => {
        [$($crate::db::Param::param(&$value)),*]
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_by_name() {
        let rows = Rows {
            columns: vec!["id".into(), "name".into(), "owner".into(), "ratio".into()],
            rows: vec![RowResult {
                values: vec![
                    Value::Integer(3),
                    Value::Text("Irène".into()),
                    Value::Null,
                    Value::Integer(2),
                ],
            }],
        };
        let row = rows.first().unwrap();
        assert_eq!(row.int("id").unwrap(), 3);
        assert!(row.bool("id").unwrap());
        assert_eq!(row.text("name").unwrap(), "Irène");
        assert_eq!(row.opt_int("owner").unwrap(), None);
        assert_eq!(row.opt_text("owner").unwrap(), None);
        assert_eq!(row.real("ratio").unwrap(), 2.0);
        assert!(row.int("owner").is_err());
        assert!(row.text("id").is_err());
        assert!(row.int("missing").is_err());
        assert_eq!(rows.map(|r| r.int("id")).unwrap(), vec![3]);
    }

    #[test]
    fn params_bind() {
        let name = String::from("x");
        let none: Option<i64> = None;
        let p = params![1i64, "a", name, true, none, Some(2.5f64)];
        assert!(matches!(p[0], Value::Integer(1)));
        assert!(matches!(&p[1], Value::Text(s) if s == "a"));
        assert!(matches!(&p[2], Value::Text(s) if s == "x"));
        assert!(matches!(p[3], Value::Integer(1)));
        assert!(matches!(p[4], Value::Null));
        assert!(matches!(p[5], Value::Real(x) if x == 2.5));
    }
}
