//! Accounts: roles, the fields people type, the password rule, lockout and
//! session-expiry rules. Pure: every time-dependent rule takes `now`.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Duration, Utc};

/// What a person may do (WORKFLOWS.md "Roles"). A user may hold several.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Admin,
    Quality,
    Engineer,
    Auditor,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Quality, Role::Engineer, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Quality => "quality",
            Role::Engineer => "engineer",
            Role::Auditor => "auditor",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Quality => "Quality",
            Role::Engineer => "Engineer",
            Role::Auditor => "Auditor",
        }
    }

    /// One line for the role picker.
    pub fn description(self) -> &'static str {
        match self {
            Role::Admin => {
                "Users, repositories and settings. Signs nothing by virtue of this role."
            }
            Role::Quality => "QA manager: runs nonconformances and CAPAs, approves and closes.",
            Role::Engineer => "Investigates, carries out actions, links commits and tests.",
            Role::Auditor => "Reads and exports everything, changes nothing.",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of roles, stored as a sorted comma-separated list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Roles(BTreeSet<Role>);

impl Roles {
    pub fn new(roles: impl IntoIterator<Item = Role>) -> Self {
        Self(roles.into_iter().collect())
    }

    /// Reads the stored form; unknown names are ignored.
    pub fn from_stored(s: &str) -> Self {
        Self(s.split(',').filter_map(|r| Role::parse(r.trim())).collect())
    }

    /// The stored list read strictly: `None` if any name is not a role.
    pub fn parse_stored(s: &str) -> Option<Self> {
        s.split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(Role::parse)
            .collect::<Option<Vec<_>>>()
            .map(Self::new)
    }

    pub fn to_stored(&self) -> String {
        self.0
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.0.contains(r))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// The roles as a JSON array of names, for audit entries.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Array(
            self.iter()
                .map(|r| serde_json::Value::from(r.as_str()))
                .collect(),
        )
    }
}

/// A field value typed by a person that failed its rule, with the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// A sign-in name: 2..=64 of `a-z 0-9 . _ -`, starting with a letter or digit,
/// stored lower-case so `JDoe` and `jdoe` are the same account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub const MAX: usize = 64;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim().to_lowercase();
        let err = |m: &str| Err(FieldError::new("username", m));
        if s.len() < 2 || s.len() > Self::MAX {
            return err("Usernames are 2 to 64 characters.");
        }
        if !s.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        }) {
            return err("Usernames use only letters a-z, digits, '.', '_' and '-'.");
        }
        if !s.as_bytes()[0].is_ascii_alphanumeric() {
            return err("Usernames start with a letter or a digit.");
        }
        if s == "system" {
            return err("\"system\" is reserved for events the system records itself.");
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The printed name shown with the user's signatures (Part 11 11.50).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrintedName(String);

impl PrintedName {
    pub const MAX: usize = 200;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(FieldError::new(
                "full_name",
                "The printed name is required: it appears on signatures.",
            ));
        }
        if s.chars().count() > Self::MAX {
            return Err(FieldError::new(
                "full_name",
                "Printed names are at most 200 characters.",
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(FieldError::new(
                "full_name",
                "The printed name cannot contain control characters.",
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, checked for shape only (one `@`, no spaces, a dot in
/// the domain); CR/LF can never reach a mail header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub const MAX: usize = 254;

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let s = input.trim();
        let bad = || {
            FieldError::new(
                "email",
                "Enter an e-mail address such as jane.doe@example.com.",
            )
        };
        if s.len() > Self::MAX || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty() || domain.is_empty() || domain.contains('@') || !domain.contains('.') {
            return Err(bad());
        }
        if domain.starts_with('.') || domain.ends_with('.') {
            return Err(bad());
        }
        Ok(Self(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// An address, or none when the field is left empty (a person without
    /// one is told in the app only).
    pub fn parse_optional(input: &str) -> Result<Option<Self>, FieldError> {
        if input.trim().is_empty() {
            Ok(None)
        } else {
            Self::parse(input).map(Some)
        }
    }
}

/// Password length rule (SECURITY.md): 12..=256 characters, no truncation,
/// checked before any hashing so absurd input costs nothing.
pub const PASSWORD_MIN_CHARS: usize = 12;
pub const PASSWORD_MAX_CHARS: usize = 256;

/// Checks a new password's length; counts characters, not bytes.
pub fn check_password_length(password: &str) -> Result<(), FieldError> {
    // Cheap bound first: 256 characters are at most 1,024 bytes of UTF-8.
    if password.len() > PASSWORD_MAX_CHARS * 4 || password.chars().count() > PASSWORD_MAX_CHARS {
        return Err(FieldError::new(
            "new_password",
            "Passwords are at most 256 characters.",
        ));
    }
    if password.chars().count() < PASSWORD_MIN_CHARS {
        return Err(FieldError::new(
            "new_password",
            "Passwords are at least 12 characters.",
        ));
    }
    if password.chars().all(char::is_whitespace) {
        return Err(FieldError::new(
            "new_password",
            "A password cannot be only spaces or other white space.",
        ));
    }
    Ok(())
}

/// True if a submitted password could be a valid one; anything else is
/// refused at sign-in without running argon2.
pub fn plausible_password(password: &str) -> bool {
    !password.is_empty()
        && password.len() <= PASSWORD_MAX_CHARS * 4
        && password.chars().count() <= PASSWORD_MAX_CHARS
        && !password.chars().all(char::is_whitespace)
}

/// True if a typed password is longer than any password can be (checked
/// before hashing, so an absurd input costs nothing).
pub fn password_too_long(password: &str) -> bool {
    password.len() > PASSWORD_MAX_CHARS * 4 || password.chars().count() > PASSWORD_MAX_CHARS
}

/// A password as it is hashed and as it wraps a signing key: Unicode NFC,
/// so "é" typed as one code point or as "e" and a combining accent (as
/// different keyboards and systems send it) is the same password.
pub fn normalised_password(password: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    match is_nfc_quick(password.chars()) {
        IsNormalized::Yes => std::borrow::Cow::Borrowed(password),
        _ => std::borrow::Cow::Owned(password.nfc().collect()),
    }
}

/// The rules for choosing a new password.
pub fn check_new_password(
    new: &str,
    confirm: &str,
    username: &str,
    current: Option<&str>,
) -> Result<(), FieldError> {
    check_password_length(new)?;
    if new != confirm {
        return Err(FieldError::new(
            "confirm_password",
            "The two new passwords are not the same.",
        ));
    }
    if new.to_lowercase().contains(username) {
        return Err(FieldError::new(
            "new_password",
            "The password cannot contain your username.",
        ));
    }
    if current == Some(new) {
        return Err(FieldError::new(
            "new_password",
            "Choose a password different from the current one.",
        ));
    }
    Ok(())
}

/// Account lockout policy (SECURITY.md): `threshold` failures within
/// `window` lock the account for `lock_for`.
#[derive(Clone, Copy, Debug)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub window: Duration,
    pub lock_for: Duration,
}

/// Failed sign-in bookkeeping stored on the account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureCount {
    pub count: i64,
    pub window_start: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl FailureCount {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// Records one failure; `.1` is true when this failure locks the account.
    pub fn record_failure(self, now: DateTime<Utc>, policy: &LockoutPolicy) -> (Self, bool) {
        let in_window = self
            .window_start
            .is_some_and(|start| now - start < policy.window);
        let (count, window_start) = if in_window {
            (self.count + 1, self.window_start)
        } else {
            (1, Some(now))
        };
        let was_locked = self.is_locked(now);
        let locks = !was_locked && count >= i64::from(policy.threshold);
        let locked_until = if locks {
            Some(now + policy.lock_for)
        } else {
            self.locked_until
        };
        (
            Self {
                count,
                window_start,
                locked_until,
            },
            locks,
        )
    }

    /// After a successful sign-in or an unlock.
    pub fn cleared() -> Self {
        Self {
            count: 0,
            window_start: None,
            locked_until: None,
        }
    }
}

/// Session lifetime policy (SECURITY.md).
#[derive(Clone, Copy, Debug)]
pub struct SessionPolicy {
    pub idle: Duration,
    pub absolute: Duration,
}

/// Whether a stored session may still be used at `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionState {
    Live,
    IdleTimeout,
    AbsoluteTimeout,
}

pub fn session_state(
    last_seen: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
    policy: &SessionPolicy,
) -> SessionState {
    if now >= expires_at {
        SessionState::AbsoluteTimeout
    } else if now - last_seen >= policy.idle {
        SessionState::IdleTimeout
    } else {
        SessionState::Live
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    const POLICY: LockoutPolicy = LockoutPolicy {
        threshold: 100,
        window: Duration::hours(1),
        lock_for: Duration::hours(1),
    };

    #[test]
    fn the_hundredth_failure_within_an_hour_locks_the_account_for_an_hour() {
        let mut f = FailureCount::cleared();
        for i in 1..100 {
            let (next, locks) = f.record_failure(t0() + Duration::seconds(i), &POLICY);
            assert!(!locks, "failure {i} must not lock");
            f = next;
        }
        let (f, locks) = f.record_failure(t0() + Duration::seconds(100), &POLICY);
        assert!(locks);
        assert!(f.is_locked(t0() + Duration::minutes(59)));
        assert!(!f.is_locked(t0() + Duration::seconds(100) + Duration::hours(1)));
    }

    #[test]
    fn failures_spread_over_more_than_an_hour_do_not_lock() {
        let mut f = FailureCount::cleared();
        for i in 0..300 {
            let (next, locks) = f.record_failure(t0() + Duration::minutes(i * 2), &POLICY);
            assert!(!locks || i >= 99);
            f = next;
            if f.count >= 30 {
                f.window_start = Some(t0() + Duration::minutes(i * 2) - Duration::hours(2));
            }
        }
        assert!(!f.is_locked(t0() + Duration::minutes(600)));
    }

    #[test]
    fn passwords_of_only_white_space_are_refused_security_30() {
        assert!(check_password_length("            ").is_err());
        assert!(check_password_length(" \t\u{a0}\u{3000}         ").is_err());
        assert!(check_password_length("  a         ").is_ok());
        assert!(!plausible_password("             "));
    }

    #[test]
    fn passwords_are_compared_in_nfc_security_30() {
        // "é" as one code point, and as "e" with a combining acute accent.
        let composed = "caf\u{e9} au lait 1234";
        let decomposed = "cafe\u{301} au lait 1234";
        assert_ne!(composed, decomposed);
        assert_eq!(normalised_password(decomposed), composed);
        assert!(matches!(
            normalised_password(composed),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn password_lengths_are_counted_in_characters() {
        assert!(check_password_length("ééééééééééé").is_err()); // 11 characters, 22 bytes
        assert!(check_password_length("éééééééééééé").is_ok()); // 12 characters
        assert!(check_password_length(&"x".repeat(256)).is_ok());
        assert!(check_password_length(&"x".repeat(257)).is_err());
        assert!(check_password_length(&"x".repeat(1_000_000)).is_err());
        assert!(!plausible_password(""));
        assert!(!plausible_password(&"x".repeat(1_000_000)));
    }

    #[test]
    fn new_passwords_must_match_and_differ_from_the_username_and_the_current_one() {
        assert!(
            check_new_password(
                "correct horse battery",
                "correct horse battery",
                "jdoe",
                None
            )
            .is_ok()
        );
        assert_eq!(
            check_new_password("correct horse battery", "x", "jdoe", None)
                .err()
                .map(|e| e.field),
            Some("confirm_password")
        );
        assert!(
            check_new_password("jdoe-is-my-password", "jdoe-is-my-password", "jdoe", None).is_err()
        );
        assert!(
            check_new_password(
                "correct horse battery",
                "correct horse battery",
                "jdoe",
                Some("correct horse battery")
            )
            .is_err()
        );
    }

    #[test]
    fn usernames_are_lower_cased_and_restricted() {
        assert_eq!(
            Username::parse(" JDoe ").map(|u| u.as_str().to_string()),
            Ok("jdoe".to_string())
        );
        assert!(Username::parse("j").is_err());
        assert!(Username::parse("jane doe").is_err());
        assert!(Username::parse("-jane").is_err());
        assert!(Username::parse("<script>").is_err());
        assert!(Username::parse("system").is_err());
    }

    #[test]
    fn emails_and_names_are_checked_for_shape() {
        assert!(Email::parse("jane@example.com").is_ok());
        assert!(Email::parse("jane@example.com\r\nBcc: x@y.z").is_err());
        assert!(Email::parse("jane@localhost").is_err());
        assert_eq!(Email::parse_optional("  "), Ok(None));
        assert!(Email::parse_optional("jane\r\n@example.com").is_err());
        assert!(PrintedName::parse("  ").is_err());
        assert!(PrintedName::parse("Jane\u{7}Doe").is_err());
    }

    #[test]
    fn roles_round_trip_through_storage_in_a_stable_order() {
        let r = Roles::new([Role::Quality, Role::Admin]);
        assert_eq!(r.to_stored(), "admin,quality");
        assert_eq!(Roles::from_stored("quality,admin,bogus"), r);
    }

    #[test]
    fn sessions_end_after_30_idle_minutes_or_12_hours_in_all() {
        let p = SessionPolicy {
            idle: Duration::minutes(30),
            absolute: Duration::hours(12),
        };
        let exp = t0() + p.absolute;
        assert_eq!(
            session_state(t0(), exp, t0() + Duration::minutes(29), &p),
            SessionState::Live
        );
        assert_eq!(
            session_state(t0(), exp, t0() + Duration::minutes(30), &p),
            SessionState::IdleTimeout
        );
        let late = t0() + Duration::hours(12);
        assert_eq!(
            session_state(late - Duration::minutes(1), exp, late, &p),
            SessionState::AbsoluteTimeout
        );
    }
}

/// A user account as the application sees it.
#[derive(Clone, Debug)]
pub struct Account {
    pub id: crate::domain::ids::UserId,
    pub username: String,
    pub full_name: String,
    pub email: String,
    pub roles: Roles,
    pub active: bool,
    pub must_change_password: bool,
    pub failures: FailureCount,
    pub last_login_at: Option<DateTime<Utc>>,
    pub password_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl Account {
    /// How the account's state reads in lists.
    pub fn status(&self, now: DateTime<Utc>) -> &'static str {
        if !self.active {
            "disabled"
        } else if self.failures.is_locked(now) {
            "locked"
        } else if self.must_change_password {
            "password change due"
        } else {
            "active"
        }
    }
}
