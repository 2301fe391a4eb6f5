//! How Attest sends mail, as the operator sets it (README's configuration
//! table): `ATTEST_MAIL` (`file`, the default, `smtp` or `off`),
//! `ATTEST_SMTP_URL`, `ATTEST_MAIL_FROM`, `ATTEST_MAIL_DIR`,
//! `ATTEST_SMTP_CA_FILE`. A value that cannot be used stops start-up with
//! a message naming the setting (config.rs); a password in the URL is
//! never repeated in a message.

use std::path::PathBuf;
use std::str::FromStr;

use secrecy::SecretString;

/// Which way mail goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    /// `.eml` files under the data directory (the default: the two-command
    /// set-up needs no mail server).
    File,
    Smtp,
    /// No mail: notifications in the app only.
    Off,
}

impl MailKind {
    pub fn parse(v: &str) -> Result<Self, String> {
        match v.trim() {
            "file" => Ok(Self::File),
            "smtp" => Ok(Self::Smtp),
            "off" => Ok(Self::Off),
            other => Err(format!(
                "{other:?} is not a way to send mail: use file, smtp or off"
            )),
        }
    }
}

/// How the SMTP connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// `smtp://`: plain TCP upgraded by STARTTLS, which the server must offer.
    StartTls,
    /// `smtps://`: TLS from the first byte.
    Implicit,
    /// `smtp://...?tls=none`: a relay on a trusted network; no password.
    None,
}

/// The SMTP server, from `ATTEST_SMTP_URL`.
#[derive(Clone, Debug)]
pub struct SmtpUrl {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub user: Option<String>,
    pub password: Option<SecretString>,
}

const SHAPE: &str = "write smtp://user:password@host:587 (STARTTLS), smtps://user:password@host:465 (implicit TLS) or smtp://host:25?tls=none (a trusted relay, no password)";

fn decoded(part: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| "its user or password is not UTF-8 once decoded".to_string())
}

impl SmtpUrl {
    /// Reads `smtp[s]://[user[:password]@]host[:port][?tls=none]`. The
    /// message of an error never repeats the URL (it may hold a password).
    pub fn parse(v: &str) -> Result<Self, String> {
        let u = url::Url::parse(v.trim()).map_err(|e| format!("cannot be read ({e}); {SHAPE}"))?;
        let mut tls = match u.scheme() {
            "smtp" => SmtpTls::StartTls,
            "smtps" => SmtpTls::Implicit,
            other => {
                return Err(format!(
                    "the scheme {other:?} is not smtp or smtps; {SHAPE}"
                ));
            }
        };
        for (k, v) in u.query_pairs() {
            match (k.as_ref(), v.as_ref(), tls) {
                ("tls", "none", SmtpTls::StartTls) => tls = SmtpTls::None,
                ("tls", "starttls", SmtpTls::StartTls) => {}
                _ => return Err(format!("{k}={v} is not understood; {SHAPE}")),
            }
        }
        let host = u
            .host_str()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
            .filter(|h| !h.is_empty())
            .ok_or_else(|| format!("names no host; {SHAPE}"))?
            .to_string();
        let port = u.port().unwrap_or(match tls {
            SmtpTls::StartTls => 587,
            SmtpTls::Implicit => 465,
            SmtpTls::None => 25,
        });
        let user = match u.username() {
            "" => None,
            name => Some(decoded(name)?),
        };
        let password = u.password().map(decoded).transpose()?;
        if password.is_some() && user.is_none() {
            return Err(format!("has a password but no user; {SHAPE}"));
        }
        if user.is_some() && tls == SmtpTls::None {
            return Err(
                "would send a password unencrypted (tls=none): use STARTTLS (smtp://) or smtps://"
                    .to_string(),
            );
        }
        Ok(Self {
            host,
            port,
            tls,
            user,
            password: password.map(SecretString::from),
        })
    }

    /// The server as an operator would name it, without the password.
    pub fn describe(&self) -> String {
        let how = match self.tls {
            SmtpTls::StartTls => "STARTTLS",
            SmtpTls::Implicit => "implicit TLS",
            SmtpTls::None => "no TLS",
        };
        match &self.user {
            Some(u) => format!("SMTP {}:{} ({how}, as {u})", self.host, self.port),
            None => format!("SMTP {}:{} ({how})", self.host, self.port),
        }
    }
}

/// Everything about sending mail.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// As set; `None` means SMTP when a URL is set, else files.
    pub kind: Option<MailKind>,
    pub smtp: Option<SmtpUrl>,
    /// The sender (`Attest <qms@example.com>`).
    pub from: String,
    /// Where the file transport writes (`<data dir>/mail` when unset).
    pub dir: Option<PathBuf>,
    /// PEM certificates trusted besides the public roots (an in-house CA).
    pub smtp_ca_file: Option<PathBuf>,
    /// How long one SMTP conversation step may take.
    pub smtp_timeout_seconds: u64,
    /// Mails sent at once, each on its own connection.
    pub smtp_connections: u32,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            kind: None,
            smtp: None,
            from: "Attest <attest@localhost>".to_string(),
            dir: None,
            smtp_ca_file: None,
            smtp_timeout_seconds: 30,
            smtp_connections: 10,
        }
    }
}

impl MailSettings {
    /// The way mail goes.
    pub fn kind(&self) -> MailKind {
        self.kind.unwrap_or(if self.smtp.is_some() {
            MailKind::Smtp
        } else {
            MailKind::File
        })
    }
}

/// Checks a sender: an address lettre can write in a `From:` header, with
/// no line break in it.
pub fn parse_from(v: &str) -> Result<String, String> {
    let v = v.trim();
    if v.contains(['\r', '\n']) {
        return Err("contains a line break".to_string());
    }
    lettre::message::Mailbox::from_str(v)
        .map(|_| v.to_string())
        .map_err(|e| format!("{v:?} is not a mailbox such as \"Attest <qms@example.com>\" ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn smtp_urls_say_how_the_connection_is_secured_and_never_echo_a_password() {
        let u = SmtpUrl::parse("smtp://qa%40example.com:s3cr%3At@smtp.example.com")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (u.host.as_str(), u.port, u.tls),
            ("smtp.example.com", 587, SmtpTls::StartTls)
        );
        assert_eq!(u.user.as_deref(), Some("qa@example.com"));
        assert_eq!(
            u.password
                .as_ref()
                .map(|p| p.expose_secret().to_string())
                .as_deref(),
            Some("s3cr:t")
        );
        let s = SmtpUrl::parse("smtps://smtp.example.com").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((s.port, s.tls), (465, SmtpTls::Implicit));
        let r = SmtpUrl::parse("smtp://relay.lan?tls=none").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!((r.port, r.tls), (25, SmtpTls::None));
        for bad in [
            "smtp.example.com",
            "http://smtp.example.com",
            "smtp://",
            "smtps://x.example.com?tls=none",
            "smtp://u:hunter2@relay.lan?tls=none",
            "smtp://relay.lan?tls=maybe",
        ] {
            let e = SmtpUrl::parse(bad).err().unwrap_or_default();
            assert!(!e.is_empty(), "{bad} was taken");
            assert!(!e.contains("hunter2"), "{e}");
        }
    }

    #[test]
    fn the_sender_is_a_mailbox_without_a_line_break() {
        assert!(parse_from("Attest <qms@example.com>").is_ok());
        assert!(parse_from("qms@example.com\r\nBcc: x@example.com").is_err());
        assert!(parse_from("not an address").is_err());
    }
}
