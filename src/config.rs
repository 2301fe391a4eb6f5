//! Typed settings: built-in defaults < `attest.toml` in the data directory <
//! environment variables. A wrong value stops start-up with a message that
//! names the setting. The data directory itself comes from `ATTEST_DATA_DIR`
//! (or the default), since the file lives inside it.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

use crate::db::DbTarget;

/// Every setting Attest reads. See the configuration table in README.md.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database: DbTarget,
    pub base_url: Option<String>,
    pub tls: Option<TlsFiles>,
    pub admin_password: Option<SecretString>,
    pub log_origin: Option<String>,
    pub log_key_file: Option<PathBuf>,
    pub session_idle_minutes: u32,
    pub session_absolute_hours: u32,
    pub lockout_threshold: u32,
    pub lockout_minutes: u32,
    pub login_rate_per_minute: u32,
    pub trusted_proxies: Vec<IpAddr>,
    pub argon2_concurrency: u32,
    pub db_pool_size: u32,
    pub workers: Option<usize>,
    pub max_form_bytes: usize,
    /// Largest uploaded file (SECURITY.md: uploads).
    pub max_upload_bytes: usize,
    /// Where attachments' contents are kept: `None` takes the database's
    /// default (a directory of the data on SQLite, the database itself on
    /// PostgreSQL, which several instances share).
    pub file_store: Option<crate::files::Store>,
    pub checkpoint_interval_seconds: u64,
    /// Default days from opening a CAPA to its due date, by priority
    /// (low, medium, high, critical), when no due date is typed.
    pub capa_due_days: [u32; 4],
    /// Days overdue before a reminder is escalated to quality.
    pub reminder_escalate_days: u32,
    /// How mail is sent (issue 18): files by default, SMTP, or off.
    pub mail: crate::notify::MailSettings,
}

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A setting that could not be used, named as the operator wrote it.
#[derive(Debug, thiserror::Error)]
#[error("configuration error in {name}: {message}")]
pub struct ConfigError {
    pub name: String,
    pub message: String,
}

impl ConfigError {
    fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            message: message.into(),
        }
    }
}

/// The keys allowed in `attest.toml` (all optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    bind: Option<String>,
    database_url: Option<String>,
    base_url: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    log_origin: Option<String>,
    log_key_file: Option<PathBuf>,
    session_idle_minutes: Option<u32>,
    session_absolute_hours: Option<u32>,
    lockout_threshold: Option<u32>,
    lockout_minutes: Option<u32>,
    login_rate_per_minute: Option<u32>,
    trusted_proxies: Option<Vec<String>>,
    argon2_concurrency: Option<u32>,
    db_pool_size: Option<u32>,
    workers: Option<usize>,
    max_form_bytes: Option<usize>,
    max_upload_bytes: Option<usize>,
    file_store: Option<String>,
    files_dir: Option<PathBuf>,
    checkpoint_interval_seconds: Option<u64>,
    capa_due_days_low: Option<u32>,
    capa_due_days_medium: Option<u32>,
    capa_due_days_high: Option<u32>,
    capa_due_days_critical: Option<u32>,
    reminder_escalate_days: Option<u32>,
    mail: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    mail_dir: Option<PathBuf>,
    smtp_ca_file: Option<PathBuf>,
    smtp_timeout_seconds: Option<u64>,
    smtp_connections: Option<u32>,
}

pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./attest-data";
pub const CONFIG_FILE: &str = "attest.toml";

impl Settings {
    /// Defaults for a data directory: the SQLite file inside it, and so on.
    pub fn defaults(data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: DbTarget::Sqlite(data_dir.join("attest.db")),
            data_dir,
            base_url: None,
            tls: None,
            admin_password: None,
            log_origin: None,
            log_key_file: None,
            session_idle_minutes: 30,
            session_absolute_hours: 12,
            lockout_threshold: 100,
            lockout_minutes: 60,
            login_rate_per_minute: 30,
            trusted_proxies: Vec::new(),
            argon2_concurrency: 4,
            db_pool_size: 8,
            workers: None,
            max_form_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 50 * 1024 * 1024,
            file_store: None,
            checkpoint_interval_seconds: 60,
            capa_due_days: [180, 90, 30, 7],
            reminder_escalate_days: 7,
            mail: crate::notify::MailSettings::default(),
        }
    }

    /// Where attachments' contents are kept: as set, else files in the data
    /// directory on SQLite and the database itself on PostgreSQL.
    pub fn files(&self) -> crate::files::Store {
        match (&self.file_store, &self.database) {
            (Some(store), _) => store.clone(),
            (None, DbTarget::Postgres(_)) => crate::files::Store::Database,
            (None, _) => crate::files::Store::Directory(self.data_dir.join("files")),
        }
    }

    /// Sets the store from its name and directory, as the file or the
    /// environment give them.
    fn set_store(
        &mut self,
        kind: Option<String>,
        dir: Option<PathBuf>,
        (kind_name, dir_name): (&str, &str),
    ) -> Result<(), ConfigError> {
        use crate::files::Store;
        let dir_or_default = || dir.clone().unwrap_or_else(|| self.data_dir.join("files"));
        let store = match kind.as_deref().map(str::trim) {
            None if dir.is_some() => Some(Store::Directory(dir_or_default())),
            None => None,
            Some("directory") => Some(Store::Directory(dir_or_default())),
            Some("database") if dir.is_some() => {
                return Err(ConfigError::new(
                    dir_name,
                    format!("cannot be set when {kind_name} is \"database\""),
                ));
            }
            Some("database") => Some(Store::Database),
            Some(other) => {
                return Err(ConfigError::new(
                    kind_name,
                    format!("{other:?} is not a store: use \"directory\" or \"database\""),
                ));
            }
        };
        if store.is_some() {
            self.file_store = store;
        }
        Ok(())
    }

    /// The default due days of a CAPA of `priority`.
    pub fn capa_due_days(&self, priority: crate::domain::capa::Priority) -> i64 {
        use crate::domain::capa::Priority;
        let i = match priority {
            Priority::Low => 0,
            Priority::Medium => 1,
            Priority::High => 2,
            Priority::Critical => 3,
        };
        i64::from(self.capa_due_days[i])
    }

    /// Loads settings from the process environment and `attest.toml`.
    pub fn load() -> Result<Self, ConfigError> {
        Self::load_from(&|name| std::env::var(name).ok())
    }

    /// Loads settings with `env` standing in for the environment.
    pub fn load_from(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let data_dir =
            PathBuf::from(env("ATTEST_DATA_DIR").unwrap_or_else(|| DEFAULT_DATA_DIR.into()));
        let mut s = Self::defaults(&data_dir);
        let file = read_file_settings(&data_dir.join(CONFIG_FILE))?;
        s.apply_file(file)?;
        s.apply_env(env)?;
        s.check()?;
        Ok(s)
    }

    fn apply_file(&mut self, f: FileSettings) -> Result<(), ConfigError> {
        let n = |key: &str| format!("{CONFIG_FILE} key {key}");
        if let Some(v) = f.bind {
            self.bind = parse_bind(&v).map_err(|m| ConfigError::new(n("bind"), m))?;
        }
        if let Some(v) = f.database_url {
            self.database =
                DbTarget::parse(&v).map_err(|m| ConfigError::new(n("database_url"), m))?;
        }
        if let Some(v) = f.base_url {
            self.base_url =
                Some(parse_base_url(&v).map_err(|m| ConfigError::new(n("base_url"), m))?);
        }
        self.set_tls(f.tls_cert, f.tls_key, &n("tls_cert"), &n("tls_key"))?;
        if let Some(v) = f.log_origin {
            self.log_origin =
                Some(parse_origin(&v).map_err(|m| ConfigError::new(n("log_origin"), m))?);
        }
        self.log_key_file = f.log_key_file.or(self.log_key_file.take());
        set(&mut self.session_idle_minutes, f.session_idle_minutes);
        set(&mut self.session_absolute_hours, f.session_absolute_hours);
        set(&mut self.lockout_threshold, f.lockout_threshold);
        set(&mut self.lockout_minutes, f.lockout_minutes);
        set(&mut self.login_rate_per_minute, f.login_rate_per_minute);
        set(&mut self.argon2_concurrency, f.argon2_concurrency);
        set(&mut self.db_pool_size, f.db_pool_size);
        set(&mut self.max_form_bytes, f.max_form_bytes);
        set(&mut self.max_upload_bytes, f.max_upload_bytes);
        self.set_store(
            f.file_store,
            f.files_dir,
            (&n("file_store"), &n("files_dir")),
        )?;
        set(&mut self.capa_due_days[0], f.capa_due_days_low);
        set(&mut self.capa_due_days[1], f.capa_due_days_medium);
        set(&mut self.capa_due_days[2], f.capa_due_days_high);
        set(&mut self.capa_due_days[3], f.capa_due_days_critical);
        set(&mut self.reminder_escalate_days, f.reminder_escalate_days);
        set(
            &mut self.checkpoint_interval_seconds,
            f.checkpoint_interval_seconds,
        );
        if let Some(w) = f.workers {
            self.workers = Some(w);
        }
        self.set_mail(
            MailInput {
                kind: f.mail,
                smtp_url: f.smtp_url,
                from: f.mail_from,
                dir: f.mail_dir,
                ca_file: f.smtp_ca_file,
                timeout: f.smtp_timeout_seconds,
                connections: f.smtp_connections,
            },
            &n,
        )?;
        if let Some(list) = f.trusted_proxies {
            self.trusted_proxies = list
                .iter()
                .map(|p| {
                    p.trim().parse().map_err(|_| {
                        ConfigError::new(
                            n("trusted_proxies"),
                            format!("{p:?} is not an IP address"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(())
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = env("ATTEST_BIND") {
            self.bind = parse_bind(&v).map_err(|m| ConfigError::new("ATTEST_BIND", m))?;
        }
        if let Some(v) = env("DATABASE_URL").filter(|v| !v.is_empty()) {
            self.database = DbTarget::parse(&v).map_err(|m| ConfigError::new("DATABASE_URL", m))?;
        }
        if let Some(v) = env("ATTEST_BASE_URL") {
            self.base_url =
                Some(parse_base_url(&v).map_err(|m| ConfigError::new("ATTEST_BASE_URL", m))?);
        }
        let cert = env("ATTEST_TLS_CERT").map(PathBuf::from);
        let key = env("ATTEST_TLS_KEY").map(PathBuf::from);
        self.set_tls(cert, key, "ATTEST_TLS_CERT", "ATTEST_TLS_KEY")?;
        if let Some(v) = env("ATTEST_ADMIN_PASSWORD") {
            self.admin_password = Some(SecretString::from(v));
        }
        if let Some(v) = env("ATTEST_LOG_ORIGIN") {
            self.log_origin =
                Some(parse_origin(&v).map_err(|m| ConfigError::new("ATTEST_LOG_ORIGIN", m))?);
        }
        if let Some(v) = env("ATTEST_LOG_KEY_FILE") {
            self.log_key_file = Some(PathBuf::from(v));
        }
        env_num(
            env,
            "ATTEST_SESSION_IDLE_MINUTES",
            &mut self.session_idle_minutes,
        )?;
        env_num(
            env,
            "ATTEST_SESSION_ABSOLUTE_HOURS",
            &mut self.session_absolute_hours,
        )?;
        env_num(env, "ATTEST_LOCKOUT_THRESHOLD", &mut self.lockout_threshold)?;
        env_num(env, "ATTEST_LOCKOUT_MINUTES", &mut self.lockout_minutes)?;
        env_num(
            env,
            "ATTEST_LOGIN_RATE_PER_MINUTE",
            &mut self.login_rate_per_minute,
        )?;
        env_num(
            env,
            "ATTEST_ARGON2_CONCURRENCY",
            &mut self.argon2_concurrency,
        )?;
        env_num(env, "ATTEST_DB_POOL_SIZE", &mut self.db_pool_size)?;
        env_num(env, "ATTEST_MAX_FORM_BYTES", &mut self.max_form_bytes)?;
        env_num(env, "ATTEST_MAX_UPLOAD_BYTES", &mut self.max_upload_bytes)?;
        self.set_store(
            env("ATTEST_FILE_STORE"),
            env("ATTEST_FILES_DIR").map(PathBuf::from),
            ("ATTEST_FILE_STORE", "ATTEST_FILES_DIR"),
        )?;
        for (i, name) in [
            "ATTEST_CAPA_DUE_DAYS_LOW",
            "ATTEST_CAPA_DUE_DAYS_MEDIUM",
            "ATTEST_CAPA_DUE_DAYS_HIGH",
            "ATTEST_CAPA_DUE_DAYS_CRITICAL",
        ]
        .into_iter()
        .enumerate()
        {
            env_num(env, name, &mut self.capa_due_days[i])?;
        }
        env_num(
            env,
            "ATTEST_CHECKPOINT_INTERVAL_SECONDS",
            &mut self.checkpoint_interval_seconds,
        )?;
        env_num(
            env,
            "ATTEST_REMINDER_ESCALATE_DAYS",
            &mut self.reminder_escalate_days,
        )?;
        let connections = env_opt_num(env, "ATTEST_SMTP_CONNECTIONS")?;
        let timeout = env_opt_num(env, "ATTEST_SMTP_TIMEOUT_SECONDS")?;
        self.set_mail(
            MailInput {
                kind: env("ATTEST_MAIL"),
                smtp_url: env("ATTEST_SMTP_URL").filter(|v| !v.trim().is_empty()),
                from: env("ATTEST_MAIL_FROM"),
                dir: env("ATTEST_MAIL_DIR").map(PathBuf::from),
                ca_file: env("ATTEST_SMTP_CA_FILE").map(PathBuf::from),
                timeout,
                connections,
            },
            &|key| format!("ATTEST_{}", key.to_ascii_uppercase()),
        )?;
        if let Some(v) = env("ATTEST_WORKERS") {
            self.workers = Some(v.trim().parse().map_err(|_| {
                ConfigError::new("ATTEST_WORKERS", format!("{v:?} is not a whole number"))
            })?);
        }
        if let Some(v) = env("ATTEST_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse().map_err(|_| {
                        ConfigError::new(
                            "ATTEST_TRUSTED_PROXIES",
                            format!("{p:?} is not an IP address"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        Ok(())
    }

    /// Takes the mail settings one source gives; `name` turns a key
    /// (`smtp_url`) into the name the operator wrote (`ATTEST_SMTP_URL`).
    fn set_mail(&mut self, m: MailInput, name: &dyn Fn(&str) -> String) -> Result<(), ConfigError> {
        use crate::notify::{MailKind, SmtpUrl, settings::parse_from};
        if let Some(v) = m.kind {
            self.mail.kind =
                Some(MailKind::parse(&v).map_err(|e| ConfigError::new(name("mail"), e))?);
        }
        if let Some(v) = m.smtp_url {
            self.mail.smtp =
                Some(SmtpUrl::parse(&v).map_err(|e| ConfigError::new(name("smtp_url"), e))?);
        }
        if let Some(v) = m.from {
            self.mail.from = parse_from(&v).map_err(|e| ConfigError::new(name("mail_from"), e))?;
        }
        if let Some(d) = m.dir {
            self.mail.dir = Some(d);
        }
        if let Some(f) = m.ca_file {
            if !f.is_file() {
                return Err(ConfigError::new(
                    name("smtp_ca_file"),
                    format!("{} is not a readable file", f.display()),
                ));
            }
            self.mail.smtp_ca_file = Some(f);
        }
        if let Some(t) = m.timeout {
            if !(1..=600).contains(&t) {
                return Err(ConfigError::new(
                    name("smtp_timeout_seconds"),
                    "must be between 1 and 600 seconds",
                ));
            }
            self.mail.smtp_timeout_seconds = t;
        }
        if let Some(c) = m.connections {
            if !(1..=50).contains(&c) {
                return Err(ConfigError::new(
                    name("smtp_connections"),
                    "must be between 1 and 50",
                ));
            }
            self.mail.smtp_connections = c;
        }
        Ok(())
    }

    fn set_tls(
        &mut self,
        cert: Option<PathBuf>,
        key: Option<PathBuf>,
        cert_name: &str,
        key_name: &str,
    ) -> Result<(), ConfigError> {
        match (cert, key) {
            (None, None) => Ok(()),
            (Some(cert), Some(key)) => {
                self.tls = Some(TlsFiles { cert, key });
                Ok(())
            }
            (Some(_), None) => Err(ConfigError::new(
                key_name,
                format!("is required when {cert_name} is set"),
            )),
            (None, Some(_)) => Err(ConfigError::new(
                cert_name,
                format!("is required when {key_name} is set"),
            )),
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        let positive = [
            ("ATTEST_SESSION_IDLE_MINUTES", self.session_idle_minutes),
            ("ATTEST_SESSION_ABSOLUTE_HOURS", self.session_absolute_hours),
            ("ATTEST_LOCKOUT_THRESHOLD", self.lockout_threshold),
            ("ATTEST_LOCKOUT_MINUTES", self.lockout_minutes),
            ("ATTEST_LOGIN_RATE_PER_MINUTE", self.login_rate_per_minute),
            ("ATTEST_ARGON2_CONCURRENCY", self.argon2_concurrency),
            ("ATTEST_DB_POOL_SIZE", self.db_pool_size),
        ];
        for (name, value) in positive {
            if value == 0 {
                return Err(ConfigError::new(name, "must be at least 1"));
            }
        }
        if !(1..=3600).contains(&self.checkpoint_interval_seconds) {
            return Err(ConfigError::new(
                "ATTEST_CHECKPOINT_INTERVAL_SECONDS",
                "must be between 1 and 3600 (AUDIT-LOG.md asks for at most 60)",
            ));
        }
        for (name, days) in [
            "ATTEST_CAPA_DUE_DAYS_LOW",
            "ATTEST_CAPA_DUE_DAYS_MEDIUM",
            "ATTEST_CAPA_DUE_DAYS_HIGH",
            "ATTEST_CAPA_DUE_DAYS_CRITICAL",
        ]
        .into_iter()
        .zip(self.capa_due_days)
        {
            if !(1..=3650).contains(&days) {
                return Err(ConfigError::new(name, "must be between 1 and 3650 days"));
            }
        }
        if !(1..=365).contains(&self.reminder_escalate_days) {
            return Err(ConfigError::new(
                "ATTEST_REMINDER_ESCALATE_DAYS",
                "must be between 1 and 365 days",
            ));
        }
        if self.workers == Some(0) {
            return Err(ConfigError::new("ATTEST_WORKERS", "must be at least 1"));
        }
        if self.max_form_bytes < 64 * 1024 {
            return Err(ConfigError::new(
                "ATTEST_MAX_FORM_BYTES",
                "must be at least 65536",
            ));
        }
        if self.max_upload_bytes < 64 * 1024 {
            return Err(ConfigError::new(
                "ATTEST_MAX_UPLOAD_BYTES",
                "must be at least 65536",
            ));
        }
        if let Some(tls) = &self.tls {
            for (name, path) in [("ATTEST_TLS_CERT", &tls.cert), ("ATTEST_TLS_KEY", &tls.key)] {
                if !path.is_file() {
                    return Err(ConfigError::new(
                        name,
                        format!("{} is not a readable file", path.display()),
                    ));
                }
            }
        }
        if self.mail.kind == Some(crate::notify::MailKind::Smtp) && self.mail.smtp.is_none() {
            return Err(ConfigError::new(
                "ATTEST_SMTP_URL",
                "is needed when ATTEST_MAIL is smtp, such as smtp://user:password@smtp.example.com:587",
            ));
        }
        if let Some(url) = &self.base_url
            && self.tls.is_some()
            && url.starts_with("http://")
        {
            return Err(ConfigError::new(
                "ATTEST_BASE_URL",
                "must start with https:// when TLS is on",
            ));
        }
        Ok(())
    }

    pub fn tls_enabled(&self) -> bool {
        self.tls.is_some()
    }

    /// Where the log key lives: the configured path or `<data dir>/log-key`.
    pub fn log_key_path(&self) -> PathBuf {
        self.log_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("log-key"))
    }

    /// The latest signed checkpoint, kept outside the database.
    pub fn checkpoint_file(&self) -> PathBuf {
        self.data_dir.join("checkpoint")
    }

    /// The log origin to use when an installation is first initialised.
    pub fn default_log_origin(&self) -> String {
        if let Some(o) = &self.log_origin {
            return o.clone();
        }
        let host = self
            .base_url
            .as_deref()
            .and_then(|u| u.split_once("://"))
            .map(|(_, rest)| rest.split('/').next().unwrap_or_default().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| format!("attest-{}", random_suffix()));
        format!("{host}/audit")
    }

    pub fn session_policy(&self) -> crate::domain::user::SessionPolicy {
        crate::domain::user::SessionPolicy {
            idle: chrono::Duration::minutes(i64::from(self.session_idle_minutes)),
            absolute: chrono::Duration::hours(i64::from(self.session_absolute_hours)),
        }
    }

    pub fn lockout_policy(&self) -> crate::domain::user::LockoutPolicy {
        crate::domain::user::LockoutPolicy {
            threshold: self.lockout_threshold,
            window: chrono::Duration::hours(1),
            lock_for: chrono::Duration::minutes(i64::from(self.lockout_minutes)),
        }
    }
}

/// The mail settings of one source (the file or the environment).
struct MailInput {
    kind: Option<String>,
    smtp_url: Option<String>,
    from: Option<String>,
    dir: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    timeout: Option<u64>,
    connections: Option<u32>,
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

fn env_num<T: std::str::FromStr>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
    slot: &mut T,
) -> Result<(), ConfigError> {
    if let Some(v) = env(name) {
        *slot = v
            .trim()
            .parse()
            .map_err(|_| ConfigError::new(name, format!("{v:?} is not a whole number")))?;
    }
    Ok(())
}

/// A number the environment may set, `None` when it does not.
fn env_opt_num<T: std::str::FromStr + Default>(
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<T>, ConfigError> {
    if env(name).is_none() {
        return Ok(None);
    }
    let mut n = T::default();
    env_num(env, name, &mut n)?;
    Ok(Some(n))
}

fn read_file_settings(path: &Path) -> Result<FileSettings, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(FileSettings::default()),
        Err(e) => return Err(ConfigError::new(path.display().to_string(), e.to_string())),
    };
    toml::from_str(&text)
        .map_err(|e| ConfigError::new(path.display().to_string(), e.message().to_string()))
}

fn parse_bind(v: &str) -> Result<SocketAddr, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{v:?} is not an address:port such as 127.0.0.1:8080"))
}

fn parse_base_url(v: &str) -> Result<String, String> {
    let v = v.trim().trim_end_matches('/');
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or_else(|| format!("{v:?} must start with https:// or http://"))?;
    if rest.is_empty() || rest.contains('/') || rest.contains(char::is_whitespace) {
        return Err(format!(
            "{v:?} must be a scheme and host only, such as https://qms.example.com"
        ));
    }
    Ok(v.to_string())
}

fn parse_origin(v: &str) -> Result<String, String> {
    let v = v.trim();
    if crate::audit::key::valid_name(v) {
        Ok(v.to_string())
    } else {
        Err(format!(
            "{v:?} must be non-empty with no spaces or '+', such as qms.example.com/audit"
        ))
    }
}

fn random_suffix() -> String {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let dir = tempfile::tempdir().map_err(|e| ConfigError::new("tempdir", e.to_string()))?;
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.insert("ATTEST_DATA_DIR".into(), dir.path().display().to_string());
        Settings::load_from(&|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_serve_sqlite_in_the_data_directory_on_port_8080() {
        let s = load(&[]).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(s.bind.to_string(), DEFAULT_BIND);
        assert!(matches!(&s.database, DbTarget::Sqlite(p) if p.ends_with("attest.db")));
        assert_eq!(
            (
                s.session_idle_minutes,
                s.session_absolute_hours,
                s.lockout_threshold
            ),
            (30, 12, 100)
        );
    }

    #[test]
    fn a_wrong_setting_is_named_in_the_error() {
        let err =
            |vars: &[(&str, &str)]| load(vars).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err(&[("DATABASE_URL", "mysql://x")]).contains("DATABASE_URL"));
        assert!(err(&[("ATTEST_BIND", "localhost")]).contains("ATTEST_BIND"));
        assert!(err(&[("ATTEST_TLS_CERT", "/nonexistent")]).contains("ATTEST_TLS_KEY"));
        assert!(err(&[("ATTEST_LOCKOUT_THRESHOLD", "many")]).contains("ATTEST_LOCKOUT_THRESHOLD"));
        assert!(err(&[("ATTEST_LOG_ORIGIN", "has space")]).contains("ATTEST_LOG_ORIGIN"));
        assert!(err(&[("ATTEST_BASE_URL", "qms.example.com")]).contains("ATTEST_BASE_URL"));
        let smtp = err(&[(
            "ATTEST_SMTP_URL",
            "smtp.example.com:587 with password hunter2",
        )]);
        assert!(smtp.contains("ATTEST_SMTP_URL"), "{smtp}");
        assert!(!smtp.contains("hunter2"), "{smtp}");
        assert!(err(&[("ATTEST_MAIL", "smtp")]).contains("ATTEST_SMTP_URL"));
        assert!(err(&[("ATTEST_MAIL", "pigeon")]).contains("ATTEST_MAIL"));
        assert!(
            err(&[("ATTEST_MAIL_FROM", "a\r\nBcc: b@example.com")]).contains("ATTEST_MAIL_FROM")
        );
        assert!(
            err(&[("ATTEST_SMTP_TIMEOUT_SECONDS", "0")]).contains("ATTEST_SMTP_TIMEOUT_SECONDS")
        );
    }

    #[test]
    fn the_environment_overrides_the_file_which_overrides_the_defaults() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let write = std::fs::write(
            dir.path().join(CONFIG_FILE),
            "bind = \"127.0.0.1:9000\"\nlockout_threshold = 5\n",
        );
        assert!(write.is_ok());
        let d = dir.path().display().to_string();
        let env = |name: &str| match name {
            "ATTEST_DATA_DIR" => Some(d.clone()),
            "ATTEST_BIND" => Some("127.0.0.1:9100".to_string()),
            _ => None,
        };
        let s = Settings::load_from(&env).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(s.bind.port(), 9100);
        assert_eq!(s.lockout_threshold, 5);
        assert_eq!(
            s.mail.kind(),
            crate::notify::MailKind::File,
            "mail goes to files by default"
        );
    }

    #[test]
    fn unknown_keys_in_the_file_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let _ = std::fs::write(dir.path().join(CONFIG_FILE), "bnid = \"127.0.0.1:9000\"\n");
        let d = dir.path().display().to_string();
        let err = Settings::load_from(&|n| (n == "ATTEST_DATA_DIR").then(|| d.clone()))
            .err()
            .map(|e| e.to_string());
        assert!(err.unwrap_or_default().contains("bnid"));
    }
}
