//! The user and operator docs inside the app (`/help`, `/help/{page}`):
//! docs/*.md and the README, embedded in the binary and rendered from
//! Markdown, since pages point people to them. Raw HTML in the Markdown is
//! dropped, never passed through; links between docs stay inside `/help`.

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};
use pulldown_cmark::{CowStr, Event, HeadingLevel, LinkType, Options, Parser, Tag, TagEnd};
use rust_embed::RustEmbed;

use super::{html, page_ctx};
use crate::web::AppState;
use crate::web::error::AppError;
use crate::web::extract::CurrentUser;
use crate::web::views::help::{HelpHtml, HelpIndexPage, HelpLink, HelpPage};

#[derive(RustEmbed)]
#[folder = "docs/"]
struct Docs;

const README: &str = include_str!("../../../README.md");

/// The docs in the order the index lists them: each is `docs/<page>.md`,
/// but for the README.
const ORDER: [&str; 14] = [
    "readme",
    "using",
    "workflows",
    "documents",
    "training",
    "risk",
    "notifications",
    "signatures",
    "audit",
    "traceability",
    "api",
    "security",
    "architecture",
    "benchmarks",
];

/// The Markdown of help page `page`, if there is one.
fn source(page: &str) -> Option<String> {
    let page = ORDER.iter().find(|p| **p == page)?;
    if *page == "readme" {
        return Some(README.to_string());
    }
    Docs::get(&format!("{page}.md")).map(|f| String::from_utf8_lossy(&f.data).into_owned())
}

/// A heading's anchor: its words in lower case, joined by `-`.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if (c == ' ' || c == '-') && !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Where a link of a doc leads inside the app: another doc's help page, a
/// picture of the docs, or (anything else) where it pointed.
fn link_target(dest: &str) -> String {
    if dest.contains("://") || dest.starts_with('#') || dest.starts_with('/') {
        return dest.to_string();
    }
    let (path, fragment) = dest.split_once('#').unwrap_or((dest, ""));
    let name = path.rsplit('/').next().unwrap_or(path);
    let page = if name.eq_ignore_ascii_case("README.md") {
        Some("readme")
    } else {
        name.strip_suffix(".md")
            .and_then(|stem| ORDER.iter().find(|p| **p == stem))
            .copied()
    };
    let hash = if fragment.is_empty() {
        String::new()
    } else {
        format!("#{fragment}")
    };
    match page {
        Some(p) => format!("/help/{p}{hash}"),
        None if name.ends_with(".svg") => format!("/help/{name}"),
        None => dest.to_string(),
    }
}

/// Markdown as HTML: tables, headings with anchors, links kept in the app,
/// raw HTML dropped (its text shown, escaped).
fn render(markdown: &str) -> (String, HelpHtml) {
    let mut title = String::new();
    let mut events: Vec<Event<'_>> = Vec::new();
    let mut heading: Option<(HeadingLevel, Vec<Event<'_>>, String)> = None;
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    for e in Parser::new_ext(markdown, opts) {
        let e = match e {
            Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => Event::Start(Tag::Link {
                link_type,
                dest_url: CowStr::from(link_target(&dest_url)),
                title,
                id,
            }),
            Event::Start(Tag::Image {
                link_type: LinkType::Inline,
                dest_url,
                title,
                id,
            }) => Event::Start(Tag::Image {
                link_type: LinkType::Inline,
                dest_url: CowStr::from(link_target(&dest_url)),
                title,
                id,
            }),
            other => other,
        };
        match (&mut heading, e) {
            (None, Event::Start(Tag::Heading { level, .. })) => {
                heading = Some((level, Vec::new(), String::new()));
            }
            (Some((level, inner, text)), Event::End(TagEnd::Heading(_))) => {
                if *level == HeadingLevel::H1 && title.is_empty() {
                    title = text.clone();
                }
                let n = *level as usize;
                let id = slug(text);
                events.push(Event::Html(CowStr::from(format!(r#"<h{n} id="{id}">"#))));
                events.append(inner);
                events.push(Event::Html(CowStr::from(format!("</h{n}>"))));
                heading = None;
            }
            (Some((_, inner, text)), e) => {
                if let Event::Text(t) | Event::Code(t) = &e {
                    text.push_str(t);
                }
                inner.push(e);
            }
            (None, e) => events.push(e),
        }
    }
    let mut out = String::new();
    pulldown_cmark::html::push_html(&mut out, events.into_iter());
    (title, HelpHtml::rendered(out))
}

/// Each page rendered once.
fn rendered(page: &str) -> Option<&'static (String, HelpHtml)> {
    static PAGES: OnceLock<Vec<(&'static str, (String, HelpHtml))>> = OnceLock::new();
    PAGES
        .get_or_init(|| {
            ORDER
                .iter()
                .filter_map(|p| source(p).map(|md| (*p, render(&md))))
                .collect()
        })
        .iter()
        .find(|(p, _)| *p == page)
        .map(|(_, r)| r)
}

/// `GET /help`: the docs.
pub async fn index(
    state: web::Data<AppState>,
    user: CurrentUser,
) -> Result<HttpResponse, AppError> {
    let pages = ORDER
        .iter()
        .filter_map(|p| {
            rendered(p).map(|(title, _)| HelpLink {
                href: format!("/help/{p}"),
                title: title.clone(),
            })
        })
        .collect();
    html(&HelpIndexPage {
        ctx: page_ctx(&state, &user.0, "/help").await?,
        pages,
    })
}

/// `GET /help/{page}`: one doc, or a picture of the docs.
pub async fn page(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let page = path.into_inner();
    if page.ends_with(".svg") {
        let file = Docs::get(&page).ok_or(AppError::NotFound)?;
        return Ok(HttpResponse::Ok()
            .content_type("image/svg+xml")
            .body(file.data.into_owned()));
    }
    let (title, body) = rendered(&page).ok_or(AppError::NotFound)?;
    html(&HelpPage {
        ctx: page_ctx(&state, &user.0, "/help").await?,
        title: title.clone(),
        body: body.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_render_with_anchors_links_inside_the_app_and_no_raw_html() {
        let (title, html) = render(
            "# Using Attest\n\nSee [the workflows](workflows.md#capa) and ![d](capa-workflow.svg).\n\n## Record pages\n\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        );
        let html = html.to_string();
        assert_eq!(title, "Using Attest");
        assert!(
            html.contains(r#"<h1 id="using-attest">Using Attest</h1>"#),
            "{html}"
        );
        assert!(html.contains(r#"<h2 id="record-pages">Record pages</h2>"#));
        assert!(html.contains(r#"href="/help/workflows#capa""#));
        assert!(html.contains(r#"src="/help/capa-workflow.svg""#));
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"));
        assert!(html.contains("<table>"));
        // Every page of the order is there.
        for p in ORDER {
            assert!(rendered(p).is_some(), "{p}");
        }
    }
}
