//! What arrives from machines: git webhooks (GitHub, GitLab) and, later,
//! JUnit test results. Parsing and checking here; storing in `service::git`.

pub mod junit;
pub mod push;
pub mod secret;
