//! A small SMTP server for the mail tests, spoken to over real TCP on
//! loopback: EHLO, STARTTLS or TLS from the first byte (a certificate of a
//! CA made here, which the application is told to trust), AUTH PLAIN,
//! MAIL, RCPT (with replies chosen per address: 4xx, 5xx), DATA, RSET,
//! NOOP, QUIT. It runs on a thread and runtime of its own, so a test may
//! block on the application's mail job while the server answers. It can
//! hold a mail's DATA until released, or not be there at all (started
//! later on a chosen port).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the server secures a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Offers STARTTLS (and AUTH once it is on).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// A mail the server took.
#[derive(Clone, Debug)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The message as sent, headers and body (dot-unstuffed).
    pub data: String,
    /// Whether the conversation was encrypted when DATA was sent.
    pub tls: bool,
    /// The user AUTH PLAIN named, if any.
    pub user: Option<String>,
}

#[derive(Default)]
struct Control {
    received: Mutex<Vec<Received>>,
    /// RCPT replies by address (`550 5.1.1 no such mailbox`).
    replies: Mutex<HashMap<String, String>>,
    /// While set, DATA's final reply waits.
    hold: AtomicBool,
    /// How many DATA sections are being held now.
    holding: AtomicUsize,
    connections: AtomicUsize,
    stop: AtomicBool,
}

/// The CA and server certificate, made once per server.
pub struct Certs {
    /// The CA's certificate in PEM: what the application trusts.
    pub ca_pem: String,
    config: Arc<rustls::ServerConfig>,
}

fn certs() -> Certs {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = rustls_pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)
        .unwrap();
    Certs {
        ca_pem: ca_cert.pem(),
        config: Arc::new(config),
    }
}

/// A running (or stopped) test SMTP server.
pub struct SmtpServer {
    pub port: u16,
    pub mode: Mode,
    ctl: Arc<Control>,
    certs: Arc<Certs>,
}

impl SmtpServer {
    /// Starts a server on a free port.
    pub fn start(mode: Mode) -> Self {
        Self::start_with(mode, 0, Arc::new(certs()))
    }

    /// Picks a free port and a certificate but does not listen yet: the
    /// server is down until [`SmtpServer::up`].
    pub fn down(mode: Mode) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            port,
            mode,
            ctl: Arc::new(Control {
                stop: AtomicBool::new(true),
                ..Control::default()
            }),
            certs: Arc::new(certs()),
        }
    }

    /// Starts listening on this server's port (after [`SmtpServer::down`]).
    pub fn up(&self) -> Self {
        Self::start_with(self.mode, self.port, self.certs.clone())
    }

    fn start_with(mode: Mode, port: u16, certs: Arc<Certs>) -> Self {
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let port = std_listener.local_addr().unwrap().port();
        let ctl = Arc::new(Control::default());
        let (c, k) = (ctl.clone(), certs.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(std_listener).unwrap();
                loop {
                    let accepted =
                        tokio::time::timeout(Duration::from_millis(100), listener.accept()).await;
                    if c.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(Ok((stream, _))) = accepted else {
                        continue;
                    };
                    c.connections.fetch_add(1, Ordering::SeqCst);
                    let (c, k) = (c.clone(), k.clone());
                    tokio::spawn(async move {
                        let acceptor = tokio_rustls::TlsAcceptor::from(k.config.clone());
                        match mode {
                            Mode::Implicit => {
                                if let Ok(tls) = acceptor.accept(stream).await {
                                    let _ = conversation(tls, &c, true, false).await;
                                }
                            }
                            Mode::StartTls => {
                                if let Ok(Some(plain)) = conversation(stream, &c, false, true).await
                                    && let Ok(tls) = acceptor.accept(plain).await
                                {
                                    let _ = conversation_after_starttls(tls, &c).await;
                                }
                            }
                        }
                    });
                }
            });
        });
        Self {
            port,
            mode,
            ctl,
            certs,
        }
    }

    /// The CA certificate the application must trust, written to `dir`.
    pub fn ca_file(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("smtp-ca.pem");
        std::fs::write(&path, &self.certs.ca_pem).unwrap();
        path
    }

    /// The URL the application is given: STARTTLS or implicit TLS, with a
    /// user and password.
    pub fn url(&self) -> String {
        match self.mode {
            Mode::StartTls => format!("smtp://attest:mail%20pass@127.0.0.1:{}", self.port),
            Mode::Implicit => format!("smtps://attest:mail%20pass@127.0.0.1:{}", self.port),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.ctl.received.lock().unwrap().clone()
    }

    /// Answers RCPT TO `address` with `reply` (`550 5.1.1 no such mailbox`).
    pub fn reply_to(&self, address: &str, reply: &str) {
        self.ctl
            .replies
            .lock()
            .unwrap()
            .insert(address.to_string(), reply.to_string());
    }

    /// Holds (or releases) every DATA's final reply.
    pub fn hold(&self, on: bool) {
        self.ctl.hold.store(on, Ordering::SeqCst);
    }

    /// How many mails are held at DATA now.
    pub fn holding(&self) -> usize {
        self.ctl.holding.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.ctl.connections.load(Ordering::SeqCst)
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.ctl.stop.store(true, Ordering::SeqCst);
        self.ctl.hold.store(false, Ordering::SeqCst);
    }
}

async fn reply<S: AsyncWrite + Unpin>(
    s: &mut S,
    _ctl: &Control,
    line: &str,
) -> std::io::Result<()> {
    s.write_all(line.as_bytes()).await?;
    s.write_all(b"\r\n").await?;
    s.flush().await
}

/// After STARTTLS: the client says EHLO again on the encrypted stream.
async fn conversation_after_starttls<S: AsyncRead + AsyncWrite + Unpin>(
    s: S,
    ctl: &Control,
) -> std::io::Result<()> {
    talk(s, ctl, true, false, false).await.map(|_| ())
}

/// A whole conversation from the greeting; `Some(stream)` when the client
/// asked for STARTTLS (the stream to upgrade).
async fn conversation<S: AsyncRead + AsyncWrite + Unpin>(
    s: S,
    ctl: &Control,
    secure: bool,
    offer_starttls: bool,
) -> std::io::Result<Option<S>> {
    talk(s, ctl, secure, offer_starttls, true).await
}

async fn talk<S: AsyncRead + AsyncWrite + Unpin>(
    s: S,
    ctl: &Control,
    secure: bool,
    offer_starttls: bool,
    greet: bool,
) -> std::io::Result<Option<S>> {
    let mut s = BufReader::new(s);
    if greet {
        reply(&mut s, ctl, "220 smtp.test ESMTP ready").await?;
    }
    let (mut from, mut to, mut user) = (String::new(), Vec::new(), None);
    loop {
        let mut line = String::new();
        if s.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let line = line.trim_end().to_string();
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let mut lines = vec!["250-smtp.test".to_string()];
            if offer_starttls && !secure {
                lines.push("250-STARTTLS".into());
            }
            if secure {
                lines.push("250-AUTH PLAIN".into());
            }
            lines.push("250 8BITMIME".into());
            reply(&mut s, ctl, &lines.join("\r\n")).await?;
        } else if upper == "STARTTLS" && offer_starttls && !secure {
            reply(&mut s, ctl, "220 2.0.0 go ahead").await?;
            return Ok(Some(s.into_inner()));
        } else if upper.starts_with("AUTH PLAIN") {
            let b64 = line.get("AUTH PLAIN ".len()..).unwrap_or_default().trim();
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .unwrap_or_default();
            let parts: Vec<String> = decoded
                .split(|b| *b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            if parts.get(1).map(String::as_str) == Some("attest")
                && parts.get(2).map(String::as_str) == Some("mail pass")
            {
                user = parts.get(1).cloned();
                reply(&mut s, ctl, "235 2.7.0 authenticated").await?;
            } else {
                reply(&mut s, ctl, "535 5.7.8 bad credentials").await?;
            }
        } else if upper.starts_with("MAIL FROM:") {
            from = line["MAIL FROM:".len()..].trim().to_string();
            to.clear();
            reply(&mut s, ctl, "250 2.1.0 ok").await?;
        } else if upper.starts_with("RCPT TO:") {
            let addr = line["RCPT TO:".len()..]
                .trim()
                .trim_start_matches('<')
                .split('>')
                .next()
                .unwrap_or_default()
                .to_string();
            let chosen = ctl.replies.lock().unwrap().get(&addr).cloned();
            match chosen {
                Some(r) => reply(&mut s, ctl, &r).await?,
                None => {
                    to.push(addr);
                    reply(&mut s, ctl, "250 2.1.5 ok").await?;
                }
            }
        } else if upper == "DATA" {
            reply(&mut s, ctl, "354 end with <CRLF>.<CRLF>").await?;
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if s.read_line(&mut l).await? == 0 {
                    return Ok(None);
                }
                if l == ".\r\n" || l == ".\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(&l));
            }
            if ctl.hold.load(Ordering::SeqCst) {
                ctl.holding.fetch_add(1, Ordering::SeqCst);
                while ctl.hold.load(Ordering::SeqCst) {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                ctl.holding.fetch_sub(1, Ordering::SeqCst);
            }
            ctl.received.lock().unwrap().push(Received {
                from: from.clone(),
                to: to.clone(),
                data,
                tls: secure,
                user: user.clone(),
            });
            reply(&mut s, ctl, "250 2.0.0 queued").await?;
        } else if upper == "RSET" {
            to.clear();
            reply(&mut s, ctl, "250 2.0.0 ok").await?;
        } else if upper == "NOOP" {
            reply(&mut s, ctl, "250 2.0.0 ok").await?;
        } else if upper == "QUIT" {
            reply(&mut s, ctl, "221 2.0.0 bye").await?;
            return Ok(None);
        } else {
            reply(&mut s, ctl, "502 5.5.2 not implemented").await?;
        }
    }
}
