//! Pure domain types and rules: no database, no HTTP, no clock, no IO.
//! Time is always passed in as an argument.

/// Stored names and labels of an enum, in one table per enum.
macro_rules! named {
    ($ty:ident { $($variant:ident => ($name:literal, $label:literal)),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];
            pub const fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
            pub const fn label(self) -> &'static str {
                match self { $($ty::$variant => $label),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($name => Some($ty::$variant),)+ _ => None }
            }
            /// The label of the stored name `s`, if it is one.
            pub fn label_of(s: &str) -> Option<&'static str> {
                Self::parse(s).map(Self::label)
            }
        }
    };
}

pub mod capa;
pub mod document;
pub mod event;
pub mod ids;
pub mod nonconformance;
pub mod notification;
pub mod product;
pub mod record;
pub mod redline;
pub mod reminder;
pub mod requirement;
pub mod risk;
pub mod svg;
pub mod text;
pub mod trace;
pub mod training;
pub mod user;
pub mod words;
pub mod workflow;
