//! A mail as the outbox keeps it (to, subject, text and HTML bodies) and
//! the lettre message built from it when it is sent. A line break in the
//! sender, the address or the subject is refused (SECURITY.md 24): no
//! header can be added to a mail through a record's words or an address.

use std::str::FromStr;

use lettre::Message;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};

/// One mail's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Letter {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Why a mail cannot be built; never worth trying again.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error(
        "refused: a line break in the {0} would add mail headers (SECURITY.md 24); nothing was sent"
    )]
    LineBreak(&'static str),
    #[error("refused: {0:?} is not an e-mail address")]
    Address(String),
    #[error("the message could not be built: {0}")]
    Build(String),
}

fn no_line_break(what: &'static str, v: &str) -> Result<(), Refused> {
    if v.contains(['\r', '\n']) {
        Err(Refused::LineBreak(what))
    } else {
        Ok(())
    }
}

impl Letter {
    /// The refusal this letter meets before any message is built.
    pub fn check(&self) -> Result<(), Refused> {
        no_line_break("address", &self.to)?;
        no_line_break("subject", &self.subject)?;
        Mailbox::from_str(self.to.trim()).map_err(|_| Refused::Address(self.to.clone()))?;
        Ok(())
    }

    /// The message to send: from `from`, with a Message-ID made from the
    /// outbox row (`<attest-mail-42@domain of from>`) so that a mail sent
    /// twice (a crash between sending and recording it) is recognisably one.
    pub fn message(&self, from: &str, outbox_id: i64) -> Result<Message, Refused> {
        no_line_break("sender", from)?;
        self.check()?;
        let from: Mailbox = from
            .parse()
            .map_err(|_| Refused::Address(from.to_string()))?;
        let to: Mailbox = self
            .to
            .trim()
            .parse()
            .map_err(|_| Refused::Address(self.to.clone()))?;
        let domain = from.email.domain().to_string();
        Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.as_str())
            .message_id(Some(format!("<attest-mail-{outbox_id}@{domain}>")))
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(self.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(self.html.clone()),
                    ),
            )
            .map_err(|e| Refused::Build(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(to: &str, subject: &str) -> Letter {
        Letter {
            to: to.into(),
            subject: subject.into(),
            text: "CAPA-1 is assigned to you.".into(),
            html: "<p>CAPA-1 is assigned to you.</p>".into(),
        }
    }

    // SECURITY.md 24
    #[test]
    fn a_line_break_in_the_subject_or_an_address_is_refused_before_any_header_is_written() {
        let from = "Attest <qms@example.com>";
        assert_eq!(
            letter("jane@example.com", "CAPA-1\r\nBcc: all@example.com")
                .message(from, 1)
                .err(),
            Some(Refused::LineBreak("subject"))
        );
        assert_eq!(
            letter("jane@example.com\nBcc: all@example.com", "CAPA-1")
                .message(from, 1)
                .err(),
            Some(Refused::LineBreak("address"))
        );
        assert_eq!(
            letter("jane@example.com", "CAPA-1")
                .message("qms@example.com\r\nX: y", 1)
                .err(),
            Some(Refused::LineBreak("sender"))
        );
        assert!(matches!(
            letter("not an address", "CAPA-1").message(from, 1),
            Err(Refused::Address(_))
        ));
        let m = letter("jane@example.com", "CAPA-1: your signature is requested")
            .message(from, 42)
            .unwrap_or_else(|e| unreachable!("{e}"));
        let raw = String::from_utf8_lossy(&m.formatted()).into_owned();
        assert!(
            raw.contains("Message-ID: <attest-mail-42@example.com>"),
            "{raw}"
        );
        assert!(
            raw.contains("Subject: CAPA-1: your signature is requested"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(!raw.contains("Bcc"), "{raw}");
    }
}
