//! Static files embedded in the binary, served with a content ETag and a
//! year-long cache; pages link them with `?v=<hash>` so a new build is fetched.

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

/// `/static/<name>?v=<first 8 hex of its SHA-256>`.
pub fn url(name: &str) -> String {
    match Assets::get(name) {
        Some(f) => format!(
            "/static/{name}?v={}",
            &hex::encode(f.metadata.sha256_hash())[..8]
        ),
        None => format!("/static/{name}"),
    }
}

/// The stylesheet's URL, computed once.
pub fn css_url() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| url("app.css"))
}

pub async fn serve(req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let Some(file) = Assets::get(path.as_str()) else {
        return HttpResponse::NotFound().finish();
    };
    let etag = format!("\"{}\"", hex::encode(file.metadata.sha256_hash()));
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut res = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::CONTENT_TYPE, file.metadata.mimetype()));
    if matches {
        res.finish()
    } else {
        res.body(file.data.into_owned())
    }
}
