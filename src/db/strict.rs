//! Rows are read strictly (ARCHITECTURE.md rule 9): a stored value that is
//! not one of its type's values (an unknown state, unreadable JSON, a bad
//! date) is an error naming the table, the row and the column, never a
//! default that the next edit would write back. The request fails with a
//! 500 and its operation id; the log has this error.

use serde::de::DeserializeOwned;

/// A stored value that does not read as its type.
#[derive(Debug, thiserror::Error)]
#[error("{table} row {row}: column {column} holds {value:?}, which is not {what}")]
pub struct BadValue {
    pub table: &'static str,
    pub row: String,
    pub column: &'static str,
    pub value: String,
    pub what: &'static str,
}

/// Reads the columns of one stored row.
pub struct Cols {
    table: &'static str,
    row: String,
}

impl Cols {
    pub fn new(table: &'static str, row: impl std::fmt::Display) -> Self {
        Self {
            table,
            row: row.to_string(),
        }
    }

    pub fn bad(
        &self,
        column: &'static str,
        value: &str,
        what: &'static str,
    ) -> diesel::result::Error {
        diesel::result::Error::DeserializationError(Box::new(BadValue {
            table: self.table,
            row: self.row.clone(),
            column,
            value: value.chars().take(80).collect(),
            what,
        }))
    }

    /// A value that must be one of its type's stored names.
    pub fn one_of<T>(
        &self,
        column: &'static str,
        value: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> diesel::QueryResult<T> {
        parse(value).ok_or_else(|| self.bad(column, value, "one of its allowed values"))
    }

    /// An optional value that, when present, must be one of its type's names.
    pub fn opt_one_of<T>(
        &self,
        column: &'static str,
        value: Option<&str>,
        parse: impl Fn(&str) -> Option<T>,
    ) -> diesel::QueryResult<Option<T>> {
        value.map(|v| self.one_of(column, v, &parse)).transpose()
    }

    /// A calendar date stored as `YYYY-MM-DD`.
    pub fn date(
        &self,
        column: &'static str,
        value: &str,
    ) -> diesel::QueryResult<chrono::NaiveDate> {
        chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .map_err(|_| self.bad(column, value, "a date (YYYY-MM-DD)"))
    }

    /// An optional date stored as `YYYY-MM-DD`.
    pub fn opt_date(
        &self,
        column: &'static str,
        value: Option<&str>,
    ) -> diesel::QueryResult<Option<chrono::NaiveDate>> {
        value.map(|v| self.date(column, v)).transpose()
    }

    /// JSON of type `T`.
    pub fn json<T: DeserializeOwned>(
        &self,
        column: &'static str,
        value: &str,
    ) -> diesel::QueryResult<T> {
        serde_json::from_str(value)
            .map_err(|_| self.bad(column, value, "JSON of the expected shape"))
    }
}
