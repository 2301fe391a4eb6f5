//! Traceability: the matrix and its coverage statuses, the gap report.

pub mod export;
pub mod manifest;
pub mod matrix;
