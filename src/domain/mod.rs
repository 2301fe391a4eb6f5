//! Pure domain types and rules: no database, no HTTP, no clock, no IO.
//! Time is always passed in as an argument.

pub mod ids;
pub mod nonconformance;
pub mod product;
pub mod user;
pub mod workflow;
