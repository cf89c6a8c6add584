//! Keyset pagination, written once for every list.
//!
//! A page is ordered by `(sort value, id)`. The cursor is the id of the last item seen; its sort
//! value is read back from the table, so a cursor cannot be forged across tenants and stays valid
//! while rows are inserted in front of or behind it.

use crate::db::{Arg, Db, Row};
use crate::{Result, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKind {
    Text,
    Int,
}

/// A column a list may be sorted by: its SQL expression and its type.
#[derive(Debug, Clone, Copy)]
pub struct SortColumn {
    pub expr: &'static str,
    pub kind: SortKind,
}

/// One `WHERE` condition; each `{}` in `sql` stands for the next bound value's placeholder.
#[derive(Debug, Clone)]
pub struct Filter {
    pub sql: &'static str,
    pub values: Vec<Arg>,
}

impl Filter {
    pub fn new(sql: &'static str, value: impl Into<Arg>) -> Filter {
        Filter {
            sql,
            values: vec![value.into()],
        }
    }

    pub fn with(sql: &'static str, values: Vec<Arg>) -> Filter {
        Filter { sql, values }
    }
}

/// What to list: the table, how its rows are identified, and the requested page.
#[derive(Debug, Clone)]
pub struct ListSpec {
    /// `FROM` clause, possibly a join within the tenant.
    pub from: &'static str,
    pub columns: &'static str,
    pub tenant_column: &'static str,
    pub id_column: &'static str,
    pub sort: SortColumn,
    pub descending: bool,
    pub filters: Vec<Filter>,
    pub limit: i64,
    pub start_after: Option<String>,
}

pub struct Page<T> {
    pub items: Vec<T>,
    pub has_more: bool,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_more: self.has_more,
        }
    }
}

struct Sql {
    text: String,
    args: Vec<Arg>,
}

impl Sql {
    fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: Vec::new(),
        }
    }
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }
    fn bind(&mut self, value: Arg) {
        self.args.push(value);
        self.text.push_str(&format!("${}", self.args.len()));
    }
    /// Appends `fragment`, binding the values in turn where it says `{}`.
    fn push_filter(&mut self, fragment: &str, values: &[Arg]) {
        let mut parts = fragment.split("{}");
        self.push(parts.next().unwrap_or(""));
        for (value, rest) in values.iter().zip(parts) {
            self.bind(value.clone());
            self.push(rest);
        }
    }
}

crate::row! {
    struct TextValue {
        v: String,
    }
}

crate::row! {
    struct IntValue {
        v: i64,
    }
}

/// Fetches one page of `spec` within `tenant_id`.
pub async fn fetch_page<T: Row>(db: &Db, tenant_id: &str, spec: &ListSpec) -> Result<Page<T>> {
    let cursor = match &spec.start_after {
        None => None,
        Some(id) => Some((cursor_value(db, tenant_id, spec, id).await?, id.clone())),
    };
    let mut sql = Sql::new(&format!(
        "SELECT {} FROM {} WHERE {} = ",
        spec.columns, spec.from, spec.tenant_column
    ));
    sql.bind(Arg::Text(tenant_id.to_string()));
    for filter in &spec.filters {
        sql.push(" AND ");
        sql.push_filter(filter.sql, &filter.values);
    }
    let (cmp, dir) = if spec.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some((value, id)) = cursor {
        // A row-value comparison is one range on the (tenant, sort, id) index in both
        // databases; the equivalent OR of two conditions makes PostgreSQL scan from the start.
        sql.push(&format!(
            " AND ({}, {}) {cmp} (",
            spec.sort.expr, spec.id_column
        ));
        sql.bind(value);
        sql.push(", ");
        sql.bind(Arg::Text(id));
        sql.push(")");
    }
    sql.push(&format!(
        " ORDER BY {} {dir}, {} {dir} LIMIT ",
        spec.sort.expr, spec.id_column
    ));
    sql.bind(Arg::Int(spec.limit + 1));
    let mut items: Vec<T> = db.fetch_all(sql.text, sql.args).await?;
    let has_more = items.len() as i64 > spec.limit;
    items.truncate(spec.limit.max(0) as usize);
    Ok(Page { items, has_more })
}

async fn cursor_value(db: &Db, tenant_id: &str, spec: &ListSpec, id: &str) -> Result<Arg> {
    let text = format!(
        "SELECT {} AS v FROM {} WHERE {} = $1 AND {} = $2",
        spec.sort.expr, spec.from, spec.tenant_column, spec.id_column
    );
    let args = vec![Arg::Text(tenant_id.to_string()), Arg::Text(id.to_string())];
    let value = match spec.sort.kind {
        SortKind::Text => db
            .fetch_optional::<TextValue>(text, args)
            .await?
            .map(|r| Arg::Text(r.v)),
        SortKind::Int => db
            .fetch_optional::<IntValue>(text, args)
            .await?
            .map(|r| Arg::Int(r.v)),
    };
    value.ok_or(StoreError::UnknownCursor)
}
