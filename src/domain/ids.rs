//! Typed ids and the human keys shown to users and written to the audit log.

use std::fmt;
use std::str::FromStr;

/// A user account's id. Shown and audited as `u-7`; never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "u-{}", self.0)
    }
}

impl FromStr for UserId {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let n = s.strip_prefix("u-").unwrap_or(s);
        match n.parse::<i64>() {
            Ok(v) if v > 0 => Ok(Self(v)),
            _ => Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids_show_as_u_dash_n_and_parse_back() {
        assert_eq!(UserId(7).to_string(), "u-7");
        assert_eq!("u-7".parse(), Ok(UserId(7)));
        assert_eq!("7".parse(), Ok(UserId(7)));
        assert!("u-0".parse::<UserId>().is_err());
        assert!("u-x".parse::<UserId>().is_err());
    }
}
