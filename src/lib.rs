//! Attest: a CAPA / QMS workflow engine for medical-device teams.
//! See docs/architecture.md for the shape of the code.

pub mod audit;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod csv;
pub mod db;
pub mod domain;
pub mod files;
pub mod ingest;
pub mod jobs;
pub mod notify;
pub mod seed;
pub mod service;
pub mod signature;
pub mod startup;
pub mod trace;
pub mod web;
