//! `_page` and `_pagesize`: both given, or the whole list.

use crate::{
    body::parse_whole,
    error::ApiError,
    query::{Query, Rule},
};
use spin_sdk::sqlite::Value;

/// `{"total": N, "items": [...]}`: the shape of every list but agents and queues.
#[derive(serde::Serialize)]
pub struct List<T> {
    pub total: i64,
    pub items: Vec<T>,
}

/// One page of a list: `_page` is 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pagination {
    pub page: i64,
    pub size: i64,
}

impl Pagination {
    /// The rules of `_page` (a whole number, at least 1) and `_pagesize` (a whole number, at
    /// least 0), for [`Query::check`].
    pub const RULES: [(&'static str, Rule); 2] = [
        ("_page", |v| page(v).is_some()),
        ("_pagesize", |v| size(v).is_some()),
    ];

    /// Read `_page` and `_pagesize`; a value that is not a whole number, `_page < 1` or
    /// `_pagesize < 0` is an incorrect parameter. Only both together page the list.
    pub fn from_query(query: &Query) -> Result<Option<Self>, ApiError> {
        let page = query
            .get("_page")
            .map(|v| parse_whole(v).filter(|p| *p >= 1));
        let size = query
            .get("_pagesize")
            .map(|v| parse_whole(v).filter(|s| *s >= 0));
        let mut bad = Vec::new();
        if let Some(None) = page {
            bad.push("_page");
        }
        if let Some(None) = size {
            bad.push("_pagesize");
        }
        if !bad.is_empty() {
            return Err(ApiError::incorrect_parameters(&bad));
        }
        Ok(match (page.flatten(), size.flatten()) {
            (Some(page), Some(size)) => Some(Self { page, size }),
            _ => None,
        })
    }

    /// `LIMIT ? OFFSET ?` parameters for a page, or for the whole list (`LIMIT -1`).
    pub fn limit_offset(page: Option<Self>) -> [Value; 2] {
        match page {
            Some(p) => [
                Value::Integer(p.size),
                Value::Integer((p.page - 1).saturating_mul(p.size)),
            ],
            None => [Value::Integer(-1), Value::Integer(0)],
        }
    }

    /// The page's slice of an already sorted list (for lists built in memory).
    pub fn slice<T>(page: Option<Self>, items: Vec<T>) -> Vec<T> {
        match page {
            None => items,
            Some(p) => {
                let start =
                    usize::try_from((p.page - 1).saturating_mul(p.size)).unwrap_or(usize::MAX);
                let size = usize::try_from(p.size).unwrap_or(usize::MAX);
                items.into_iter().skip(start).take(size).collect()
            }
        }
    }
}

fn page(value: &str) -> Option<i64> {
    parse_whole(value).filter(|p| *p >= 1)
}

fn size(value: &str) -> Option<i64> {
    parse_whole(value).filter(|s| *s >= 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(q: &str) -> Result<Option<Pagination>, ApiError> {
        Pagination::from_query(&Query::parse(q))
    }

    #[test]
    fn both_or_nothing() {
        assert_eq!(page("").unwrap(), None);
        assert_eq!(page("_page=2").unwrap(), None);
        assert_eq!(page("_pagesize=2").unwrap(), None);
        assert_eq!(
            page("_page=2&_pagesize=5").unwrap(),
            Some(Pagination { page: 2, size: 5 })
        );
        assert_eq!(
            page("_page=1&_pagesize=0").unwrap(),
            Some(Pagination { page: 1, size: 0 })
        );
    }

    #[test]
    fn bad_values() {
        for (q, msg) in [
            ("_page=0&_pagesize=5", "_page"),
            ("_page=-1&_pagesize=5", "_page"),
            ("_page=a&_pagesize=5", "_page"),
            ("_page=1.5&_pagesize=5", "_page"),
            ("_page=&_pagesize=5", "_page"),
            ("_page=1&_pagesize=-1", "_pagesize"),
            ("_pagesize=x", "_pagesize"),
            ("_page=x&_pagesize=y", "_page, _pagesize"),
            ("_page=99999999999999999999&_pagesize=1", "_page"),
        ] {
            let e = page(q).unwrap_err();
            assert_eq!(
                e.messages().unwrap(),
                vec![format!("Incorrect parameters sent: {msg}")],
                "{q}"
            );
        }
    }

    #[test]
    fn limits() {
        let [l, o] = Pagination::limit_offset(Some(Pagination { page: 3, size: 10 }));
        assert!(matches!((l, o), (Value::Integer(10), Value::Integer(20))));
        let [l, o] = Pagination::limit_offset(None);
        assert!(matches!((l, o), (Value::Integer(-1), Value::Integer(0))));
        let [_, o] = Pagination::limit_offset(Some(Pagination {
            page: i64::MAX,
            size: i64::MAX,
        }));
        assert!(matches!(o, Value::Integer(i64::MAX)));
        assert_eq!(
            Pagination::slice(Some(Pagination { page: 2, size: 2 }), vec![1, 2, 3, 4, 5]),
            vec![3, 4]
        );
        assert_eq!(
            Pagination::slice(Some(Pagination { page: 9, size: 2 }), vec![1, 2]),
            Vec::<i32>::new()
        );
    }
}
