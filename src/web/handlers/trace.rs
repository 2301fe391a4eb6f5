//! The traceability matrix (`/traceability`) and the gap report (`/traceability/gaps`)
//! of a product: everyone signed in reads them.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};

use super::nonconformances::{all_products, choices};
use super::{filter_value, html, page_ctx, page_number, query_text, when};
use crate::domain::product::{Product, SafetyClass};
use crate::domain::requirement::{ReqKind, ReqStatus};
use crate::trace::matrix::{self, Coverage, Row};
use crate::web::AppState;
use crate::web::error::{AppError, urlencode};
use crate::web::extract::CurrentUser;
use crate::web::views::admin::PageLink;
use crate::web::views::audit::Choice;
use crate::web::views::charts;
use crate::web::views::trace::*;

const PER_PAGE: usize = 100;
/// Tests shown in a matrix cell before "and N more".
const TESTS_SHOWN: usize = 6;

/// The product the page is about: the one asked for, else the first active one.
fn chosen(all: &[Product], asked: Option<i64>) -> Result<Option<Product>, AppError> {
    match asked {
        Some(id) => all
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .map(Some)
            .ok_or(AppError::NotFound),
        None => Ok(all.iter().find(|p| p.active).or(all.first()).cloned()),
    }
}

fn product_choices(all: &[Product], selected: i64) -> Vec<Choice> {
    all.iter()
        .map(|p| Choice {
            value: p.id.to_string(),
            label: format!("{} ({})", p.name, p.key_prefix),
            selected: p.id == selected,
        })
        .collect()
}

/// The matrix filters of the query; every one optional.
struct Filters {
    kind: Option<ReqKind>,
    class: Option<SafetyClass>,
    coverage: Option<Coverage>,
    /// "" (active), "retired" or "all"
    status: String,
    text: String,
    /// `text` in lower case, as rows are searched.
    needle: String,
}

impl Filters {
    fn of(query: &HashMap<String, String>) -> Result<Self, AppError> {
        let text = query_text(query, "q");
        if text.chars().count() > 200 {
            return Err(AppError::BadRequest(
                "The search text can have at most 200 characters".into(),
            ));
        }
        let status = query_text(query, "status");
        if !matches!(status.as_str(), "" | "active" | "retired" | "all") {
            return Err(AppError::BadRequest(format!(
                "There is no status {status:?}"
            )));
        }
        Ok(Self {
            kind: filter_value(&query_text(query, "kind"), "kind", ReqKind::parse)?,
            class: filter_value(
                &query_text(query, "class"),
                "safety class",
                SafetyClass::parse,
            )?,
            coverage: filter_value(&query_text(query, "coverage"), "coverage", Coverage::parse)?,
            status,
            needle: text.to_lowercase(),
            text,
        })
    }

    fn keep(&self, r: &Row) -> bool {
        let status_ok = match self.status.as_str() {
            "all" => true,
            "retired" => r.status == ReqStatus::Retired.as_str(),
            _ => r.status == ReqStatus::Active.as_str(),
        };
        let text = &self.needle;
        status_ok
            && self.kind.is_none_or(|k| r.kind == k.as_str())
            && self.class.is_none_or(|c| r.safety_class == c.as_str())
            && self.coverage.is_none_or(|c| r.coverage == c)
            && (text.is_empty()
                || r.key.to_lowercase().contains(text)
                || r.title.to_lowercase().contains(text))
    }

    fn params(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (k, v) in [
            ("kind", self.kind.map(ReqKind::as_str).unwrap_or_default()),
            (
                "class",
                self.class.map(SafetyClass::as_str).unwrap_or_default(),
            ),
            (
                "coverage",
                self.coverage.map(Coverage::as_str).unwrap_or_default(),
            ),
            ("status", self.status.as_str()),
            ("q", self.text.as_str()),
        ] {
            if !v.is_empty() {
                out.push(format!("{k}={}", urlencode(v)));
            }
        }
        out
    }
}

fn matrix_row(r: &Row) -> MatrixRow {
    MatrixRow {
        id: r.id,
        key: r.key.clone(),
        title: r.title.clone(),
        kind: ReqKind::parse(r.kind).map_or(r.kind, ReqKind::label),
        version: r.version,
        retired: r.status == ReqStatus::Retired.as_str(),
        parents: r.parents.join(", "),
        children: r.children.join(", "),
        risks: r
            .risks
            .iter()
            .map(|k| {
                (
                    k.clone(),
                    format!("/risks/{}", k.trim_start_matches("RISK-")),
                )
            })
            .collect(),
        commits: r.commits,
        newest_commit: r
            .newest_commit
            .as_deref()
            .map(|s| s.chars().take(12).collect())
            .unwrap_or_default(),
        tests: r
            .tests
            .iter()
            .take(TESTS_SHOWN)
            .map(|t| TestView {
                key: t.key.clone(),
                outcome: t.latest.map_or("not run", |o| o.as_str()),
            })
            .collect(),
        more_tests: r.tests.len().saturating_sub(TESTS_SHOWN),
        coverage: r.coverage.as_str(),
        coverage_label: r.coverage.label(),
    }
}

/// `GET /traceability?product=N`
pub async fn matrix_page(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let asked = filter_value(&query_text(&query, "product"), "product", |v| {
        v.parse().ok()
    })?;
    let filters = Filters::of(&query)?;
    let page = usize::try_from(page_number(&query)?).unwrap_or(1);
    let cache = state.matrices.clone();
    let (all, product, rows) = state
        .db(move |conn| {
            let all = all_products(conn)?;
            let product = chosen(&all, asked)?;
            let rows = match &product {
                Some(p) => Some(cache.get(conn, p.id, |c| crate::service::trace::rows(c, p.id))?),
                None => None,
            };
            Ok((all, product, rows))
        })
        .await?;
    let ctx = page_ctx(&state, &s, "/traceability").await?;
    let kinds = choices(
        ReqKind::ALL,
        ReqKind::as_str,
        ReqKind::label,
        filters.kind.map(ReqKind::as_str).unwrap_or_default(),
    );
    let classes = SafetyClass::ALL
        .iter()
        .map(|c| Choice {
            value: c.as_str().into(),
            label: format!("Class {}", c.as_str()),
            selected: filters.class == Some(*c),
        })
        .collect();
    let coverages = Coverage::ALL
        .iter()
        .map(|c| Choice {
            value: c.as_str().into(),
            label: c.label().into(),
            selected: filters.coverage == Some(*c),
        })
        .collect();
    let statuses = [("", "Active"), ("retired", "Retired"), ("all", "All")]
        .iter()
        .map(|(v, l)| Choice {
            value: (*v).into(),
            label: (*l).into(),
            selected: filters.status == *v || (filters.status == "active" && v.is_empty()),
        })
        .collect();
    let (Some(product), Some(rows)) = (product, rows) else {
        return html(&MatrixPage {
            formats: format_choices(),
            ctx,
            product_id: 0,
            product: String::new(),
            products: Vec::new(),
            kinds,
            classes,
            coverages,
            statuses,
            q: filters.text.clone(),
            filtered: false,
            rows: Vec::new(),
            total: 0,
            first: 0,
            last: 0,
            pages: Vec::new(),
            chart: crate::domain::svg::Svg::default(),
            counts: Vec::new(),
            no_products: true,
        });
    };
    // The chart counts the requirements in the status shown (active by default).
    let by_status = Filters {
        kind: None,
        class: None,
        coverage: None,
        status: filters.status.clone(),
        text: String::new(),
        needle: String::new(),
    };
    let counts: Vec<(String, usize)> = matrix::counts(rows.iter().filter(|r| by_status.keep(r)))
        .into_iter()
        .map(|(c, n)| (c.label().to_string(), n))
        .collect();
    let chart_data: Vec<(String, i64)> = counts
        .iter()
        .map(|(l, n)| (l.clone(), i64::try_from(*n).unwrap_or(i64::MAX)))
        .collect();
    let chart = charts::bars(
        &format!("Coverage of {}'s requirements", product.name),
        "coverage-chart",
        &chart_data,
    );
    let matching: Vec<&Row> = rows.iter().filter(|r| filters.keep(r)).collect();
    let total = matching.len();
    let params = filters.params();
    let pid = product.id;
    let pages = PageLink::window(
        i64::try_from(page).unwrap_or(1),
        i64::try_from(total).unwrap_or(0),
        i64::try_from(PER_PAGE).unwrap_or(100),
        |n| {
            let mut p = vec![format!("product={pid}")];
            p.extend(params.iter().cloned());
            p.push(format!("page={n}"));
            format!("/traceability?{}", p.join("&"))
        },
    );
    let shown: Vec<MatrixRow> = matching
        .iter()
        .skip((page - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|r| matrix_row(r))
        .collect();
    let first = if shown.is_empty() {
        0
    } else {
        (page - 1) * PER_PAGE + 1
    };
    html(&MatrixPage {
        formats: format_choices(),
        ctx,
        product_id: product.id,
        products: product_choices(&all, product.id),
        product: product.name,
        kinds,
        classes,
        coverages,
        statuses,
        q: filters.text.clone(),
        filtered: !params.is_empty(),
        last: first + shown.len().saturating_sub(1),
        first,
        rows: shown,
        total,
        pages,
        chart,
        counts,
        no_products: false,
    })
}

/// `GET /traceability/gaps?product=N`
fn gap_row(r: &Row) -> GapRow {
    GapRow {
        id: r.id,
        key: r.key.clone(),
        title: r.title.clone(),
        gaps: r
            .gaps
            .iter()
            .map(|g| g.label())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

pub async fn gaps_page(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    let asked = filter_value(&query_text(&query, "product"), "product", |v| {
        v.parse().ok()
    })?;
    let cache = state.matrices.clone();
    let (all, product, rows, gaps) = state
        .db(move |conn| {
            let all = all_products(conn)?;
            let product = chosen(&all, asked)?.ok_or(AppError::NotFound)?;
            let rows = cache.get(conn, product.id, |c| {
                crate::service::trace::rows(c, product.id)
            })?;
            let gaps = crate::service::trace::gaps(conn, product.id)?;
            Ok((all, product, rows, gaps))
        })
        .await?;
    let active: Vec<&Row> = rows
        .iter()
        .filter(|r| r.status == ReqStatus::Active.as_str())
        .collect();
    html(&GapsPage {
        ctx: page_ctx(&state, &s, "/traceability").await?,
        product_id: product.id,
        products: product_choices(&all, product.id),
        product: product.name,
        verified: active.iter().filter(|r| r.gaps.is_empty()).count(),
        active: active.len(),
        risk_controls: active
            .iter()
            .filter(|r| !r.gaps.is_empty() && !r.risks.is_empty())
            .map(|r| RiskGapRow {
                row: gap_row(r),
                risks: r.risks.join(", "),
            })
            .collect(),
        rows: active
            .iter()
            .filter(|r| !r.gaps.is_empty())
            .map(|r| gap_row(r))
            .collect(),
        orphans: gaps
            .orphan_tests
            .into_iter()
            .map(|t| OrphanTest {
                key: t.key,
                title: t.title,
            })
            .collect(),
        dangling: gaps
            .dangling
            .into_iter()
            .map(|d| DanglingView {
                key: d.key,
                relation: d.relation,
                sha: d.sha.chars().take(12).collect(),
                repository: d.repository,
                at: when(Some(d.committed_at)),
            })
            .collect(),
    })
}

/// The export formats as a form offers them, CSV first.
fn format_choices() -> Vec<Choice> {
    use crate::trace::export::Format;
    Format::ALL
        .iter()
        .map(|f| Choice {
            value: f.as_str().into(),
            label: f.label().into(),
            selected: *f == Format::Csv,
        })
        .collect()
}

fn human_size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// `GET /traceability/exports?product=N`
pub async fn exports_page(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
    query: web::Query<HashMap<String, String>>,
) -> Result<HttpResponse, AppError> {
    use crate::db::repo::{exports, git, users};
    let asked = filter_value(&query_text(&query, "product"), "product", |v| {
        v.parse().ok()
    })?;
    let (all, product, list, releases, names, repos) = state
        .db(move |conn| {
            let all = all_products(conn)?;
            let product = chosen(&all, asked)?.ok_or(AppError::NotFound)?;
            let list = exports::of_product(conn, product.id, 50)?;
            let repos: Vec<_> = git::all(conn)?
                .into_iter()
                .filter(|r| r.product_id == product.id)
                .collect();
            let ids: Vec<i64> = repos.iter().map(|r| r.id).collect();
            let releases = exports::releases_of(conn, &ids)?;
            let people: Vec<i64> = list.iter().filter_map(|e| e.created_by).collect();
            let names = users::names(conn, &people)?;
            Ok((all, product, list, releases, names, repos))
        })
        .await?;
    html(&ExportsPage {
        ctx: page_ctx(&state, &s, "/traceability").await?,
        product_id: product.id,
        products: product_choices(&all, product.id),
        product: product.name,
        formats: format_choices(),
        rows: list
            .into_iter()
            .map(|e| ExportRow {
                id: e.id,
                format: e.format,
                size: human_size(e.bytes),
                sha_short: e.sha256.chars().take(16).collect(),
                by: e
                    .created_by
                    .and_then(|u| names.get(&u).cloned())
                    .unwrap_or_else(|| "system".into()),
                at: when(Some(e.created_at)),
                file_name: e.file_name,
            })
            .collect(),
        releases: releases
            .into_iter()
            .map(|r| ReleaseRow {
                tag: r.tag,
                sha_short: r.sha.chars().take(12).collect(),
                repository: repos
                    .iter()
                    .find(|x| x.id == r.repository_id)
                    .map(|x| x.name.clone())
                    .unwrap_or_default(),
                export_id: r.export_id,
                at: when(Some(r.created_at)),
            })
            .collect(),
    })
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportData {
    product_id: i64,
    format: String,
}

/// `POST /traceability/exports`: makes the export, signs a checkpoint that holds
/// its audit entry, and shows it.
pub async fn create_export(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
    crate::web::extract::OpId(op): crate::web::extract::OpId,
    crate::web::csrf::Form(f): crate::web::csrf::Form<ExportData>,
) -> Result<HttpResponse, AppError> {
    use crate::service::exports;
    let format = crate::trace::export::Format::parse(&f.format)
        .ok_or_else(|| AppError::BadRequest(format!("There is no export format {:?}", f.format)))?;
    let ctx = super::user_ctx(&state, &s, op);
    let key = state.log_key.clone();
    let id = state
        .db(move |conn| {
            exports::create(conn, &ctx, &key, f.product_id, format, None).map_err(AppError::from)
        })
        .await?;
    state.checkpoint().await?;
    Ok(super::see_other(&format!("/traceability/exports/{id}")))
}

/// `GET /traceability/exports/{id}`
pub async fn export_page(
    state: web::Data<AppState>,
    CurrentUser(s): CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    use crate::db::repo::{exports, products, users};
    let id = path.into_inner();
    let (e, product, by, ready) = state
        .db(move |conn| {
            let e = exports::find(conn, id)?.ok_or(AppError::NotFound)?;
            let product = products::find(conn, e.product_id)?.ok_or(AppError::NotFound)?;
            let by = match e.created_by {
                Some(u) => users::names(conn, &[u])?.remove(&u).unwrap_or_default(),
                None => "system".into(),
            };
            let seq = u64::try_from(e.audit_seq).unwrap_or(u64::MAX);
            let ready = crate::audit::checkpoint::first_covering(conn, seq)?.is_some();
            Ok((e, product, by, ready))
        })
        .await?;
    let printable = e.format == crate::trace::export::Format::Html.as_str();
    html(&ExportPage {
        ctx: page_ctx(&state, &s, "/traceability").await?,
        id: e.id,
        product_id: product.id,
        product: product.name,
        verify: format!(
            "attest verify-export {0} {0}.manifest.json --key '{1}'",
            e.file_name, state.log_vkey
        ),
        file_name: e.file_name,
        format: e.format,
        sha256: e.sha256,
        bytes: e.bytes,
        by,
        at: when(Some(e.created_at)),
        audit_seq: e.audit_seq,
        manifest_ready: ready,
        printable,
    })
}

pub(crate) fn attachment(name: &str, content_type: &str, body: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type.to_string())
        .insert_header((
            "Content-Disposition",
            format!(
                "attachment; filename=\"{}\"",
                name.replace(['"', '\\'], "_")
            ),
        ))
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

/// `GET /traceability/exports/{id}/file`: the exact bytes exported.
pub async fn export_file(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (e, content) = kept_export(&state, path.into_inner()).await?;
    let format = crate::trace::export::Format::parse(&e.format)
        .map_or("application/octet-stream", |f| f.content_type());
    Ok(attachment(&e.file_name, format, content))
}

/// An export's record and its bytes as kept.
async fn kept_export(
    state: &web::Data<AppState>,
    id: i64,
) -> Result<(crate::db::repo::exports::Export, Vec<u8>), AppError> {
    use crate::db::repo::exports;
    state
        .db(move |conn| {
            let e = exports::find(conn, id)?.ok_or(AppError::NotFound)?;
            let content = exports::content(conn, id)?.ok_or(AppError::NotFound)?;
            Ok((e, content))
        })
        .await
}

/// `GET /traceability/exports/{id}/view`: a print-ready export opened in
/// the browser, byte for byte as kept. Its page allows nothing but its own
/// stylesheet, by that stylesheet's hash: no script, no other style, no
/// request anywhere.
pub async fn export_view(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    use base64::Engine;
    use sha2::Digest;
    let (e, content) = kept_export(&state, path.into_inner()).await?;
    if e.format != crate::trace::export::Format::Html.as_str() {
        return Err(AppError::NotFound);
    }
    let text = String::from_utf8_lossy(&content);
    let style = text
        .split_once("<style>")
        .and_then(|(_, rest)| rest.split_once("</style>"))
        .map_or("", |(css, _)| css);
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(style));
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((
            "Content-Security-Policy",
            format!(
                "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
            ),
        ))
        .insert_header((
            "Content-Disposition",
            format!("inline; filename=\"{}\"", e.file_name),
        ))
        .body(content))
}

/// `GET /traceability/exports/{id}/manifest`: the signed manifest file.
pub async fn export_manifest(
    state: web::Data<AppState>,
    _user: CurrentUser,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    let vkey = state.log_vkey.clone();
    let file = state
        .db(move |conn| {
            crate::service::exports::manifest_file(conn, &vkey, id).map_err(AppError::from)
        })
        .await?;
    manifest_answer(file)
}

/// A manifest file to download, or why there is none yet (any kept export:
/// the matrix's, the document master list's).
pub(crate) fn manifest_answer(file: Option<(String, Vec<u8>)>) -> Result<HttpResponse, AppError> {
    match file {
        Some((name, body)) => Ok(attachment(&name, "application/json", body)),
        None => Err(AppError::Unavailable(
            "No signed checkpoint holds this export's audit entry yet; try again in a minute"
                .into(),
        )),
    }
}

/// `/trace…`, the matrix's address before it matched the menu's word:
/// permanently at `/traceability…` (308 keeps the method and the query).
pub async fn moved(req: actix_web::HttpRequest) -> HttpResponse {
    let rest = req.path().strip_prefix("/trace").unwrap_or_default();
    let query = match req.query_string() {
        "" => String::new(),
        q => format!("?{q}"),
    };
    HttpResponse::PermanentRedirect()
        .insert_header(("Location", format!("/traceability{rest}{query}")))
        .finish()
}
