//! Repository functions: `&mut DbConnection` in, domain types out.

pub mod meta;
pub mod nonconformances;
pub mod products;
pub mod sessions;
pub mod signatures;
pub mod users;

/// `s` with LIKE's wildcards escaped (use with `.escape('\\')`).
pub fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
