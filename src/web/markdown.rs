//! Document bodies: Markdown rendered with pulldown-cmark, raw HTML never
//! passed through (it is shown as the text it is), and the output cleaned
//! by ammonia against a short list of tags and attributes, so a body can
//! hold no script, no `javascript:` link, no event attribute, no SVG or
//! MathML, no style and no image fetched from elsewhere (SECURITY.md).

use std::collections::HashSet;

use pulldown_cmark::{Event, Options, Parser, html};

/// The tags a rendered body may keep.
const TAGS: &[&str] = &[
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "sup",
    "input",
];

/// `body` as HTML that is safe to put into a page unescaped.
pub fn render(body: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    // Raw HTML in the Markdown is text, not markup.
    let events = Parser::new_ext(body, options).map(|e| match e {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        other => other,
    });
    let mut raw = String::with_capacity(body.len() + body.len() / 4);
    html::push_html(&mut raw, events);
    clean(&raw)
}

/// HTML cut down to [`TAGS`]: links only to http(s) and mail addresses
/// (opened without the page's referrer), task-list boxes only as boxes.
pub fn clean(html: &str) -> String {
    let tags: HashSet<&str> = TAGS.iter().copied().collect();
    let schemes: HashSet<&str> = ["http", "https", "mailto"].into_iter().collect();
    ammonia::Builder::default()
        .tags(tags)
        .url_schemes(schemes)
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tag_attributes("input", ["type", "checked", "disabled"])
        .add_tag_attributes("th", ["align"])
        .add_tag_attributes("td", ["align"])
        .clean(html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders_headings_lists_tables_and_links() {
        let html = render(
            "# Purpose\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n[SOP-2](https://example.com/sop)",
        );
        assert!(html.contains("<h1>Purpose</h1>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
        assert!(html.contains("<td>1</td>"), "{html}");
        assert!(
            html.contains(
                r#"<a href="https://example.com/sop" rel="noopener noreferrer nofollow">SOP-2</a>"#
            ),
            "{html}"
        );
    }

    /// Every way of putting script into a body comes out inert.
    #[test]
    fn scripts_event_attributes_javascript_links_svg_and_mathml_are_inert_security_26() {
        let attacks = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg><script>alert(1)</script></svg>",
            "<svg onload=alert(1)>",
            "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<style>body{display:none}</style>",
            "![x](https://tracker.example/p.png)",
            "<p style=\"background:url(javascript:alert(1))\">x</p>",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "<details open ontoggle=alert(1)>",
        ];
        for a in attacks {
            let html = render(a).to_lowercase();
            // What is left of the attack is text; the markup (between < and >) holds none of it.
            let tags: Vec<&str> = html
                .split('<')
                .skip(1)
                .filter_map(|t| t.split('>').next())
                .collect();
            for bad in [
                "script",
                "onerror",
                "onload",
                "ontoggle",
                "javascript:",
                "svg",
                "math",
                "iframe",
                "style",
                "img",
                "data:text",
            ] {
                assert!(
                    tags.iter().all(|t| !t.contains(bad)),
                    "{a:?} rendered as {html:?}"
                );
            }
        }
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = render("Use <b>bold</b> sparingly");
        assert!(html.contains("&lt;b&gt;bold&lt;/b&gt;"), "{html}");
    }
}
