//! What a list is asked for besides its page: `search` (a substring, case and accents
//! ignored), `order` and `direction`, and exact filters on columns (`?lastname=Dupont`).
//! A family describes its list once, as a [`Listing`]; [`Listing::select`] turns a request's
//! query into the SQL that the list's statement adds (`Db::list`).
//!
//! Search runs on a family's search table (`<table>_search`, migration 0014): an FTS5 index of
//! trigrams over the family's human columns, kept by triggers, which folds case and accents
//! the same way when it indexes and when it is asked. A trigram index finds substrings of 3
//! characters or more; a shorter search reads the whole table (`LIKE`, which ignores the case
//! of ASCII letters only).

use crate::{
    db::{Db, Param, Rows, Value},
    error::ApiError,
    pagination::Pagination,
    query::{self, Query, Rule},
};

/// A family's list: which columns order it, which filter it, and its order without `order`.
pub struct Listing {
    /// The family's table alias in its statements (`u`).
    pub alias: &'static str,
    /// Its search table (`users_search`, migration 0014).
    pub search: &'static str,
    /// The keys `order` takes (`id` among them): columns of the table, text ordered without
    /// regard to ASCII case, ties broken by `id`.
    pub order: &'static [&'static str],
    /// The order when `order` is not sent, as in 2013 (`["id"]`; agents: `["number", "id"]`,
    /// compared as sent).
    pub default_order: &'static [&'static str],
    /// The columns an exact filter takes, each with what its value must be.
    pub filters: &'static [(&'static str, Column)],
}

/// What a filter's value is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// Text, compared exactly (case and accents included).
    Text,
    /// A whole number.
    Whole,
    /// A boolean, spelled as bodies may spell it (`true`, `False`, `1`...).
    Flag,
}

/// What a request's query adds to a list's statement.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// The family's search index (`users_search`).
    pub index: &'static str,
    /// ` JOIN users_search ON ...`, when searching by the index.
    pub join: String,
    /// Conditions, combined with AND.
    pub clauses: Vec<String>,
    /// Their values, in order.
    pub values: Vec<Value>,
    /// The `ORDER BY` expression, ties broken by id.
    pub order: String,
}

impl Selection {
    /// ` FROM ...{join} WHERE ...`: `from` with the selection's join and conditions.
    pub fn from(&self, from: &str) -> String {
        if self.clauses.is_empty() {
            format!("{from}{}", self.join)
        } else {
            let clauses = crate::text::join(&self.clauses, " AND ");
            format!("{from}{} WHERE {clauses}", self.join)
        }
    }
}

impl Selection {
    /// One page of the rows selected from `from` (a family's ` FROM table alias`), in the
    /// selection's order, and how many it selects in all, from one statement
    /// ([`Db::list_counted`]).
    pub fn list(
        &self,
        db: &Db,
        columns: &str,
        from: &str,
        page: Option<Pagination>,
    ) -> Result<(i64, Rows), ApiError> {
        let (count_from, count_values) = self.count_from(from);
        db.list_counted(
            columns,
            (&self.from(from), &self.values),
            &self.order,
            (&count_from, &count_values),
            page,
        )
    }

    /// What counts the items selected: the search index alone when the search is all there
    /// is (it has a row for each row of the table, kept by triggers, so it counts as many,
    /// without a lookup of each in the table: a tenth of the time for 16,000 matches), else
    /// [`Selection::from`]. With its values.
    pub fn count_from(&self, from: &str) -> (String, Vec<Value>) {
        if self.clauses.len() == 1 && !self.join.is_empty() {
            let index = self.index;
            (
                format!(" FROM {index} WHERE {index} MATCH ?"),
                self.values.clone(),
            )
        } else {
            (self.from(from), self.values.clone())
        }
    }
}

/// The characters a search may hold at most: a name, not a document.
const MAX_SEARCH_CHARS: usize = 200;

impl Listing {
    /// 400 `Incorrect parameters sent: ...` naming every parameter this list does not take
    /// (the page's, `search`, `order`, `direction`, the filters, and `extra`), and every value
    /// its rule refuses (an `order` by a column not offered among them).
    pub fn check(&self, query: &Query, extra: &[(&'static str, Rule)]) -> Result<(), ApiError> {
        let rules = self.rules(extra);
        query.check_each(|key, value| match key {
            "order" => self.order.contains(&value),
            _ => rules.iter().any(|(name, rule)| *name == key && rule(value)),
        })
    }

    fn rules(&self, extra: &[(&'static str, Rule)]) -> Vec<(&'static str, Rule)> {
        let mut rules = Pagination::RULES.to_vec();
        // A NUL ends the index's query text early (its parser reads C strings).
        rules.push(("search", |v| {
            v.chars().count() <= MAX_SEARCH_CHARS && !v.contains('\0')
        }));
        rules.push(("direction", |v| v == "asc" || v == "desc"));
        rules.extend(self.filters.iter().map(|(key, column)| {
            let rule: Rule = match column {
                Column::Text => query::any,
                Column::Whole => query::whole,
                Column::Flag => query::flag,
            };
            (*key, rule)
        }));
        rules.extend_from_slice(extra);
        rules
    }

    /// The search, filters and order the query asks for, once [`Listing::check`] took it.
    pub fn select(&self, query: &Query) -> Selection {
        let a = self.alias;
        let mut selection = Selection {
            index: self.search,
            ..Selection::default()
        };
        let search = query.get("search").filter(|s| !s.is_empty());
        if let Some(text) = search {
            self.search_clause(text, &mut selection);
        }
        for (key, column) in self.filters {
            let sent: Vec<&str> = query.all(key).collect();
            if sent.is_empty() {
                continue;
            }
            let marks = crate::text::join(&vec!["?"; sent.len()], ", ");
            selection
                .clauses
                .push(format!("{a}.\"{key}\" IN ({marks})"));
            selection
                .values
                .extend(sent.into_iter().map(|v| filter_value(*column, v)));
        }
        let dir = match query.get("direction") {
            Some("desc") => " DESC",
            _ => "",
        };
        let terms: Vec<String> = match query.get("order") {
            // The search index gives its matches in id order: no sort.
            Some("id") | None if self.default_order == ["id"] && !selection.join.is_empty() => {
                vec![format!("{}.rowid{dir}", self.search)]
            }
            Some("id") => vec![format!("{a}.id{dir}")],
            Some(key) => vec![
                format!("{a}.\"{key}\" COLLATE NOCASE{dir}"),
                format!("{a}.id{dir}"),
            ],
            None => self
                .default_order
                .iter()
                .map(|key| match *key {
                    "id" => format!("{a}.id{dir}"),
                    key => format!("{a}.\"{key}\"{dir}"),
                })
                .collect(),
        };
        selection.order = crate::text::join(&terms, ", ");
        selection
    }

    /// A phrase of the index (`"dupont"`, its quotes doubled) for 3 characters or more, else
    /// `LIKE` over the indexed text (`%`, `_` and `\` escaped).
    fn search_clause(&self, text: &str, selection: &mut Selection) {
        let (a, s) = (self.alias, self.search);
        if text.chars().count() >= 3 {
            selection.join = format!(" JOIN {s} ON {s}.rowid = {a}.id");
            selection.clauses.push(format!("{s} MATCH ?"));
            selection
                .values
                .push(format!("\"{}\"", text.replace('"', "\"\"")).param());
        } else {
            selection.clauses.push(format!(
                "{a}.id IN (SELECT rowid FROM {s} WHERE doc LIKE ? ESCAPE '\\')"
            ));
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            selection.values.push(format!("%{escaped}%").param());
        }
    }
}

/// A filter's value as its column holds it (checked by [`Listing::rules`]).
fn filter_value(column: Column, value: &str) -> Value {
    match column {
        Column::Text => value.param(),
        Column::Whole => crate::body::parse_whole(value).param(),
        Column::Flag => query::parse_flag(value).param(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USERS: Listing = Listing {
        alias: "u",
        search: "users_search",
        order: &["id", "lastname"],
        default_order: &["id"],
        filters: &[("lastname", Column::Text), ("enableclient", Column::Flag)],
    };
    const AGENTS: Listing = Listing {
        alias: "a",
        search: "agents_search",
        order: &["id", "number"],
        default_order: &["number", "id"],
        filters: &[],
    };

    fn select(listing: &Listing, q: &str) -> Result<Selection, ApiError> {
        let query = Query::parse(q);
        listing.check(&query, &[])?;
        Ok(listing.select(&query))
    }

    #[test]
    fn nothing_sent_is_the_2013_order() {
        let s = select(&USERS, "").unwrap();
        assert_eq!((s.order.as_str(), s.values.len()), ("u.id", 0));
        assert_eq!(s.from(" FROM users u"), " FROM users u");
        assert_eq!(
            select(&AGENTS, "_page=1&_pagesize=2").unwrap().order,
            "a.\"number\", a.id"
        );
        assert_eq!(
            select(&AGENTS, "direction=desc").unwrap().order,
            "a.\"number\" DESC, a.id DESC"
        );
    }

    #[test]
    fn search_filters_and_order() {
        let s = select(&USERS, "search=Du%22pont&lastname=A&lastname=B&enableclient=True&order=lastname&direction=desc").unwrap();
        assert_eq!(s.join, " JOIN users_search ON users_search.rowid = u.id");
        assert_eq!(
            s.from(" FROM users u"),
            " FROM users u JOIN users_search ON users_search.rowid = u.id \
             WHERE users_search MATCH ? AND u.\"lastname\" IN (?, ?) AND u.\"enableclient\" IN (?)"
        );
        assert_eq!(
            format!("{:?}", s.values),
            r#"[Value::Text("\"Du\"\"pont\""), Value::Text("A"), Value::Text("B"), Value::Integer(1)]"#
        );
        assert_eq!(s.order, "u.\"lastname\" COLLATE NOCASE DESC, u.id DESC");
        assert_eq!(
            select(&USERS, "search=dup").unwrap().order,
            "users_search.rowid"
        );
        assert_eq!(
            select(&USERS, "search=dup&order=id&direction=desc")
                .unwrap()
                .order,
            "users_search.rowid DESC"
        );
    }

    #[test]
    fn a_search_alone_is_counted_by_its_index() {
        let alone = select(&USERS, "search=dup&order=lastname").unwrap();
        let (from, values) = alone.count_from(" FROM users u");
        assert_eq!(from, " FROM users_search WHERE users_search MATCH ?");
        assert_eq!(values.len(), 1);
        let filtered = select(&USERS, "search=dup&lastname=Dupont").unwrap();
        let (from, values) = filtered.count_from(" FROM users u");
        assert_eq!(from, filtered.from(" FROM users u"));
        assert_eq!(values.len(), 2);
        let short = select(&USERS, "search=du").unwrap();
        assert_eq!(
            short.count_from(" FROM users u").0,
            short.from(" FROM users u")
        );
    }

    #[test]
    fn short_searches_read_the_whole_table() {
        let s = select(&USERS, "search=_%25").unwrap();
        assert_eq!(s.join, "");
        assert_eq!(format!("{:?}", s.values), r#"[Value::Text("%\\_\\%%")]"#);
        assert!(s.clauses[0].contains("LIKE ? ESCAPE"));
        assert_eq!(select(&USERS, "search=").unwrap().from(""), "");
    }

    #[test]
    fn wrong_parameters_are_named() {
        let message = |q| select(&USERS, q).unwrap_err().messages().unwrap();
        assert_eq!(
            message("order=password"),
            vec!["Incorrect parameters sent: order"]
        );
        assert_eq!(
            message("direction=up"),
            vec!["Incorrect parameters sent: direction"]
        );
        assert_eq!(
            message("enableclient=maybe&order=password&firstname=x"),
            vec!["Incorrect parameters sent: enableclient, order, firstname"]
        );
        let long = format!("search={}", "a".repeat(201));
        assert_eq!(message(&long), vec!["Incorrect parameters sent: search"]);
        assert_eq!(
            message("search=ab%00cd"),
            vec!["Incorrect parameters sent: search"]
        );
    }
}
