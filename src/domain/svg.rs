//! SVG drawn on the server (state diagrams, the fishbone, charts). [`Svg`]
//! is markup built only by the drawing functions, which put every piece of
//! text through [`escape`]: templates render it as markup because of its
//! type (the web layer marks it HTML-safe), never because a string was
//! marked `|safe`.

use std::fmt;

/// Text escaped for an SVG text node or attribute value.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// An SVG picture drawn by this crate's drawing functions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Svg(String);

impl Svg {
    /// Markup a drawing function built from constants and [`escape`]d text.
    pub(crate) fn drawn(markup: String) -> Self {
        Self(markup)
    }
}

/// Read as text (tests, the CLI); it cannot be changed.
impl std::ops::Deref for Svg {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Svg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cannot_open_markup() {
        assert_eq!(
            escape(r#"<script>"a" & 'b'</script>"#),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }
}
