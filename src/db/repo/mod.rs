//! Repository functions: `&mut DbConnection` in, domain types out.

pub mod meta;
pub mod nonconformances;
pub mod products;
pub mod sessions;
pub mod users;
