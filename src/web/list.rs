//! One reading of a list's query for every list page and its API call:
//! the list declares its parameters once; [`ListQuery`] reads them (empty
//! is none, anything else must parse or the request is a 400 naming the
//! parameter and the value), the sort, the page and, for the API, the page
//! size; and it writes them back into the pager's links and the CSV link, so
//! a filter is never lost between pages. The CAPA, nonconformance and
//! requirement lists, the CAPA CSV and `/api/v1/{capas,nonconformances,
//! requirements}` read their filters through it.

use std::collections::HashMap;

use super::error::{AppError, urlencode};
use super::views::admin::PageLink;

/// The longest search text a list takes.
pub const MAX_TEXT: usize = 200;

/// How many rows a page holds.
#[derive(Clone, Copy, Debug)]
pub enum PerPage {
    /// A page of the web list.
    Fixed(i64),
    /// An API call's `per_page`, 1 to `max`, `default` when absent.
    Asked { default: i64, max: i64 },
}

/// A list's parameters as the request gave them.
#[derive(Clone, Debug)]
pub struct ListQuery {
    /// The list's own parameters (trimmed), in its declared order.
    params: Vec<(&'static str, String)>,
    pub page: i64,
    pub per_page: i64,
}

impl ListQuery {
    /// Reads the parameters `keys` (and `page`, and `per_page` when asked)
    /// from `query`. The search text `q` is at most [`MAX_TEXT`] characters.
    pub fn read(
        query: &HashMap<String, String>,
        keys: &[&'static str],
        per_page: PerPage,
    ) -> Result<Self, AppError> {
        let text = |k: &str| {
            query
                .get(k)
                .map(|v| v.trim().to_string())
                .unwrap_or_default()
        };
        let params: Vec<(&'static str, String)> = keys.iter().map(|k| (*k, text(k))).collect();
        if params
            .iter()
            .any(|(k, v)| *k == "q" && v.chars().count() > MAX_TEXT)
        {
            return Err(AppError::BadRequest(format!(
                "The search text can have at most {MAX_TEXT} characters"
            )));
        }
        let whole = |k: &str, max: i64| -> Result<Option<i64>, AppError> {
            choice(&text(k), k, |v| {
                v.parse::<i64>().ok().filter(|n| (1..=max).contains(n))
            })
        };
        let page = whole("page", i64::MAX)?.unwrap_or(1);
        let per_page = match per_page {
            PerPage::Fixed(n) => n,
            PerPage::Asked { default, max } => whole("per_page", max)?.unwrap_or(default),
        };
        Ok(Self {
            params,
            page,
            per_page,
        })
    }

    /// The value of parameter `key` as given ("" when absent).
    pub fn get(&self, key: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| *k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The search text of `key`, when there is one.
    pub fn text(&self, key: &str) -> Option<String> {
        Some(self.get(key).to_string()).filter(|t| !t.is_empty())
    }

    /// The value of `key` parsed by `parse`; `what` names it in the error.
    pub fn choice<T>(
        &self,
        key: &str,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Option<T>, AppError> {
        choice(self.get(key), what, parse)
    }

    /// A record number (a product, an owner).
    pub fn number(&self, key: &str, what: &str) -> Result<Option<i64>, AppError> {
        self.choice(key, what, |v| v.parse::<i64>().ok().filter(|n| *n > 0))
    }

    /// The order named by `key`: one of `orders` by name, the first when
    /// none is given.
    pub fn sort<S: Copy>(&self, key: &str, orders: &[(&str, S)]) -> Result<S, AppError> {
        let asked = self.get(key);
        match asked {
            "" => orders
                .first()
                .map(|(_, s)| *s)
                .ok_or_else(|| AppError::internal("a list without an order")),
            v => orders
                .iter()
                .find(|(name, _)| *name == v)
                .map(|(_, s)| *s)
                .ok_or_else(|| AppError::BadRequest(format!("There is no sort order {v:?}"))),
        }
    }

    /// The first row of the page, counting from 0.
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.per_page)
    }

    /// Whether any filter is set (the order alone is not one).
    pub fn filtered(&self) -> bool {
        self.params
            .iter()
            .any(|(k, v)| *k != "sort" && !v.is_empty())
    }

    /// The parameters given, as a query string without `?` and the page.
    pub fn query_string(&self) -> String {
        self.params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The pager of `path` for `total` rows, every filter kept.
    pub fn pages(&self, path: &str, total: i64) -> Vec<PageLink> {
        let kept = self.query_string();
        PageLink::window(self.page, total, self.per_page, |n| {
            if kept.is_empty() {
                format!("{path}?page={n}")
            } else {
                format!("{path}?{kept}&page={n}")
            }
        })
    }

    /// The numbers of the first and last rows shown ("21–40 of 95"), 0 and
    /// -1 on an empty page.
    pub fn shown(&self, rows: usize) -> (i64, i64) {
        let rows = i64::try_from(rows).unwrap_or(i64::MAX);
        let first = if rows == 0 { 0 } else { self.offset() + 1 };
        (first, first + rows - 1)
    }
}

/// An optional list filter: empty is none; anything else must parse, or the
/// request is a 400 naming the filter and the value.
pub fn choice<T>(
    value: &str,
    what: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Option<T>, AppError> {
    match value {
        "" => Ok(None),
        v => parse(v)
            .map(Some)
            .ok_or_else(|| AppError::BadRequest(format!("There is no {what} {v:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn filters_are_kept_in_the_pager_and_a_bad_value_is_named() {
        let l = ListQuery::read(
            &q(&[("state", " open "), ("q", "pump & valve"), ("page", "3")]),
            &["state", "q", "sort"],
            PerPage::Fixed(10),
        )
        .unwrap();
        assert_eq!(l.get("state"), "open");
        assert_eq!(l.offset(), 20);
        assert!(l.filtered());
        let pages = l.pages("/capas", 95);
        assert_eq!(
            pages[0].href,
            "/capas?state=open&q=pump%20%26%20valve&page=1"
        );
        assert_eq!(l.shown(10), (21, 30));
        assert_eq!(l.sort("sort", &[("newest", 1), ("due", 2)]).unwrap(), 1);
        let e = l.choice("state", "state", |_| None::<()>).unwrap_err();
        assert_eq!(e.to_string(), "There is no state \"open\"");
        for bad in [("page", "0"), ("page", "x"), ("q", &"x".repeat(201))] {
            assert!(ListQuery::read(&q(&[bad]), &["q"], PerPage::Fixed(10)).is_err());
        }
        let api = PerPage::Asked {
            default: 100,
            max: 500,
        };
        assert_eq!(ListQuery::read(&q(&[]), &[], api).unwrap().per_page, 100);
        assert!(ListQuery::read(&q(&[("per_page", "501")]), &[], api).is_err());
        let sorted = ListQuery::read(&q(&[("sort", "due")]), &["sort"], api).unwrap();
        assert!(!sorted.filtered());
        assert!(sorted.sort("sort", &[("newest", 1)]).is_err());
    }
}
