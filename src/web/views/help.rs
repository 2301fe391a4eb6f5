//! The docs inside the app.

use askama::Template;

use super::PageCtx;

/// HTML rendered from our own docs by `handlers::help` (raw HTML dropped,
/// text escaped by the renderer): templates show it as markup by its type.
#[derive(Clone, Debug)]
pub struct HelpHtml(String);

impl HelpHtml {
    pub(crate) fn rendered(html: String) -> Self {
        Self(html)
    }
}

impl std::fmt::Display for HelpHtml {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl askama::filters::HtmlSafe for HelpHtml {}

pub struct HelpLink {
    pub href: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "help/index.html")]
pub struct HelpIndexPage {
    pub ctx: PageCtx,
    pub pages: Vec<HelpLink>,
}

#[derive(Template)]
#[template(path = "help/page.html")]
pub struct HelpPage {
    pub ctx: PageCtx,
    pub title: String,
    pub body: HelpHtml,
}
