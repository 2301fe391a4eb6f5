//! Mail (issue 18): the settings that say how Attest sends e-mail, the
//! letter a mail is built from (and the refusal of a line break in a header,
//! SECURITY.md 24) and the transports lettre gives (SMTP with STARTTLS or
//! implicit TLS, `.eml` files in the data directory, or off). What is sent,
//! when and how often it is tried again is the outbox's
//! (`service::mail`); the in-app notifications are `service::notifications`.

pub mod compose;
pub mod letter;
pub mod settings;
pub mod transport;

pub use letter::Letter;
pub use settings::{MailKind, MailSettings, SmtpTls, SmtpUrl};
pub use transport::{Failure, Transport};
