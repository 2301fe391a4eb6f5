//! Traceability: the matrix and its coverage statuses, the gap report.

pub mod matrix;
