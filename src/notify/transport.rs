//! Where a built message goes: an SMTP server (lettre's blocking transport
//! with a pooled connection, STARTTLS or implicit TLS over rustls, a
//! timeout on every step), `.eml` files in a directory, or nowhere. Only
//! the mail job calls [`Transport::send`], off the request workers, so a
//! slow or absent server never holds up a request (SECURITY.md 23).

use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::Message;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::{PoolConfig, SmtpTransport};
use secrecy::ExposeSecret;

use super::settings::{MailKind, MailSettings, SmtpTls, SmtpUrl};

/// A configured way of sending.
pub enum Transport {
    Smtp {
        transport: Box<SmtpTransport>,
        describe: String,
    },
    File(PathBuf),
    Off,
}

/// Why a send failed, and whether trying again can help.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// A 5xx reply, or a mail that cannot be built: never tried again.
    pub permanent: bool,
    /// The server's answer or what went wrong, for the outbox page.
    pub answer: String,
    /// The server could not be reached at all (no reply): the rest of a
    /// batch waits for the next run instead of each timing out.
    pub unreachable: bool,
}

impl Failure {
    pub fn permanent(answer: impl Into<String>) -> Self {
        Self {
            permanent: true,
            answer: answer.into(),
            unreachable: false,
        }
    }

    fn transient(answer: impl Into<String>) -> Self {
        Self {
            permanent: false,
            answer: answer.into(),
            unreachable: false,
        }
    }
}

fn smtp(url: &SmtpUrl, settings: &MailSettings) -> Result<SmtpTransport, String> {
    let tls = || -> Result<TlsParameters, String> {
        let mut b = TlsParameters::builder(url.host.clone());
        if let Some(path) = &settings.smtp_ca_file {
            let pem = std::fs::read(path)
                .map_err(|e| format!("ATTEST_SMTP_CA_FILE: cannot read {}: {e}", path.display()))?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                format!(
                    "ATTEST_SMTP_CA_FILE: {} holds no usable PEM certificate: {e}",
                    path.display()
                )
            })?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls().map_err(|e| {
            format!(
                "ATTEST_SMTP_URL: TLS for {} cannot be set up: {e}",
                url.host
            )
        })
    };
    let mut b = SmtpTransport::builder_dangerous(url.host.clone())
        .port(url.port)
        .timeout(Some(Duration::from_secs(
            settings.smtp_timeout_seconds.max(1),
        )))
        .pool_config(PoolConfig::new().max_size(settings.smtp_connections.max(1)));
    b = match url.tls {
        SmtpTls::StartTls => b.tls(Tls::Required(tls()?)),
        SmtpTls::Implicit => b.tls(Tls::Wrapper(tls()?)),
        SmtpTls::None => b.tls(Tls::None),
    };
    if let Some(user) = &url.user {
        let password = url
            .password
            .as_ref()
            .map(|p| p.expose_secret().to_string())
            .unwrap_or_default();
        b = b.credentials(Credentials::new(user.clone(), password));
    }
    Ok(b.build())
}

impl Transport {
    /// The transport the settings name; `data_dir` holds the file
    /// transport's `mail/` unless `ATTEST_MAIL_DIR` says otherwise. An error
    /// names the setting to change.
    pub fn new(settings: &MailSettings, data_dir: &Path) -> Result<Self, String> {
        match settings.kind() {
            MailKind::Off => Ok(Self::Off),
            MailKind::File => Ok(Self::File(
                settings
                    .dir
                    .clone()
                    .unwrap_or_else(|| data_dir.join("mail")),
            )),
            MailKind::Smtp => {
                let url = settings
                    .smtp
                    .as_ref()
                    .ok_or("ATTEST_SMTP_URL: is needed when ATTEST_MAIL is smtp")?;
                Ok(Self::Smtp {
                    transport: Box::new(smtp(url, settings)?),
                    describe: url.describe(),
                })
            }
        }
    }

    pub fn is_off(&self) -> bool {
        matches!(self, Self::Off)
    }

    /// Where mail goes, for the outbox page.
    pub fn describe(&self) -> String {
        match self {
            Self::Smtp { describe, .. } => describe.clone(),
            Self::File(dir) => format!("files in {}", dir.display()),
            Self::Off => "off: notifications in the app only".to_string(),
        }
    }

    /// Sends one message (blocking). `id` names its file in the file
    /// transport (`00000042.eml`).
    pub fn send(&self, id: i64, message: &Message) -> Result<(), Failure> {
        match self {
            Self::Off => Err(Failure::transient("mail is off (ATTEST_MAIL=off)")),
            Self::File(dir) => write_file(dir, id, &message.formatted())
                .map_err(|e| Failure::transient(format!("cannot write to {}: {e}", dir.display()))),
            Self::Smtp { transport, .. } => {
                use lettre::Transport as _;
                transport.send(message).map(|_| ()).map_err(|e| {
                    let answer = e.to_string();
                    if e.is_permanent() {
                        Failure::permanent(answer)
                    } else if e.is_transient() {
                        Failure::transient(answer)
                    } else {
                        Failure {
                            permanent: false,
                            answer,
                            unreachable: true,
                        }
                    }
                })
            }
        }
    }
}

/// Writes `<dir>/<id>.eml` whole or not at all (a temporary file renamed).
fn write_file(dir: &Path, id: i64, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let name = format!("{id:08}.eml");
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, dir.join(name))
}
