//! Products. Rows are never deleted; `save` writes with an optimistic
//! version check so a stale form cannot overwrite a newer change.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::products;
use crate::db::{DbConnection, naive, utc};
use crate::domain::product::{Product, ProductFields, SafetyClass};

/// A stored row, read by column name.
#[derive(Queryable, Selectable)]
#[diesel(table_name = products)]
struct Row {
    id: i64,
    name: String,
    key_prefix: String,
    safety_class: String,
    description: String,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

fn product(r: Row) -> QueryResult<Product> {
    let c = crate::db::strict::Cols::new("products", r.id);
    Ok(Product {
        id: r.id,
        name: r.name,
        key_prefix: r.key_prefix,
        safety_class: c.one_of("safety_class", &r.safety_class, SafetyClass::parse)?,
        description: r.description,
        active: r.active,
        created_at: utc(r.created_at),
        updated_at: utc(r.updated_at),
        version: r.version,
    })
}

pub fn find(conn: &mut DbConnection, id: i64) -> QueryResult<Option<Product>> {
    products::table
        .find(id)
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(product)
        .transpose()
}

/// The names of the products numbered `ids` (archived ones too).
pub fn names(
    conn: &mut DbConnection,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, String>> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    products::table
        .filter(products::id.eq_any(ids))
        .select((products::id, products::name))
        .load::<(i64, String)>(conn)
        .map(|rows| rows.into_iter().collect())
}

/// A page of products by name; active ones only unless `archived`.
pub fn list(
    conn: &mut DbConnection,
    archived: bool,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<Product>, i64)> {
    let build = || {
        let mut q = products::table.into_boxed();
        if !archived {
            q = q.filter(products::active.eq(true));
        }
        q
    };
    let total = build().count().get_result(conn)?;
    let rows = build()
        .order(products::name.asc())
        .offset(offset)
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?;
    Ok((
        rows.into_iter().map(product).collect::<QueryResult<_>>()?,
        total,
    ))
}

/// Whether another product already has this name or key prefix.
pub fn clash(
    conn: &mut DbConnection,
    fields: &ProductFields,
    except: Option<i64>,
) -> QueryResult<Option<&'static str>> {
    let taken = |conn: &mut DbConnection, by_name: bool| -> QueryResult<bool> {
        let mut q = products::table.into_boxed();
        q = if by_name {
            q.filter(products::name.eq(fields.name.clone()))
        } else {
            q.filter(products::key_prefix.eq(fields.key_prefix.clone()))
        };
        if let Some(id) = except {
            q = q.filter(products::id.ne(id));
        }
        Ok(q.select(products::id)
            .first::<i64>(conn)
            .optional()?
            .is_some())
    };
    if taken(conn, true)? {
        return Ok(Some("name"));
    }
    if taken(conn, false)? {
        return Ok(Some("key_prefix"));
    }
    Ok(None)
}

pub fn insert(
    conn: &mut DbConnection,
    fields: &ProductFields,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<Product> {
    diesel::insert_into(products::table)
        .values((
            products::name.eq(&fields.name),
            products::key_prefix.eq(&fields.key_prefix),
            products::safety_class.eq(fields.safety_class.as_str()),
            products::description.eq(&fields.description),
            products::active.eq(true),
            products::created_at.eq(naive(now)),
            products::updated_at.eq(naive(now)),
            products::version.eq(1),
        ))
        .execute(conn)?;
    products::table
        .filter(products::key_prefix.eq(&fields.key_prefix))
        .select(Row::as_select())
        .first(conn)
        .and_then(product)
}

/// Writes `p` if the stored version is still `p.version - 1`; false if not.
pub fn save(conn: &mut DbConnection, p: &Product) -> QueryResult<bool> {
    let n = diesel::update(
        products::table.filter(
            products::id
                .eq(p.id)
                .and(products::version.eq(p.version - 1)),
        ),
    )
    .set((
        products::name.eq(&p.name),
        products::key_prefix.eq(&p.key_prefix),
        products::safety_class.eq(p.safety_class.as_str()),
        products::description.eq(&p.description),
        products::active.eq(p.active),
        products::updated_at.eq(naive(p.updated_at)),
        products::version.eq(p.version),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
