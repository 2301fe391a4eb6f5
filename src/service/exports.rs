//! Exporting a product's matrix (TRACEABILITY.md): the file is rendered
//! from the matrix as it stands, recorded in the audit log with its SHA-256,
//! kept byte for byte, and described by a manifest note signed with the log
//! key; the manifest file handed out adds the first signed checkpoint that
//! holds the export's audit entry.

use serde_json::json;

use super::Ctx;
use super::error::RecordError;
use crate::audit::key::LogKey;
use crate::audit::{self, checkpoint};
use crate::db::repo::exports::{self as repo, NewExport};
use crate::db::repo::products;
use crate::db::{DbConnection, write_tx};
use crate::trace::export::{self, Format, Meta};
use crate::trace::manifest::{self, Manifest};

/// Makes, records and keeps an export of `product`'s matrix; returns its id.
/// `release` names the tag when a tag push asked for it.
pub fn create(
    conn: &mut DbConnection,
    ctx: &Ctx,
    key: &LogKey,
    product: i64,
    format: Format,
    release: Option<&str>,
) -> Result<i64, RecordError> {
    write_tx(conn, |conn| {
        let p = products::find(conn, product)?.ok_or(RecordError::NotFound)?;
        let rows = super::trace::rows(conn, product)?;
        let head = audit::tree::head(conn)?;
        let log_size = head.size;
        let created = audit::format_time(ctx.now);
        let meta = Meta {
            product: p.name.clone(),
            key_prefix: p.key_prefix.clone(),
            generated_at: created.clone(),
            generated_by: ctx.actor.name.clone(),
            log_size,
            log_root: {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(head.root)
            },
        };
        let bytes = export::render(format, &meta, &rows).map_err(RecordError::Fault)?;
        let sha = super::sha256_hex(&bytes);
        let stem = match release {
            Some(tag) => format!("{}-release-{tag}", p.key_prefix.to_lowercase()),
            None => format!("{}-matrix", p.key_prefix.to_lowercase()),
        };
        let file_name = format!(
            "{}-{}.{}",
            stem.replace(
                |c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')),
                "_"
            ),
            ctx.now.format("%Y%m%d-%H%M%S"),
            format.as_str()
        );
        let seq = audit::append(
            conn,
            &ctx.entry("trace.exported")
                .entity(super::products::entity(&p))
                .after(json!({
                    "product": p.key_prefix,
                    "format": format.as_str(),
                    "file_name": file_name,
                    "sha256": sha,
                    "bytes": bytes.len(),
                    "requirements": rows.len(),
                    "log_size": log_size,
                    "release": release,
                })),
        )?;
        let m = Manifest {
            file: file_name.clone(),
            format: format.as_str().to_string(),
            product: p.key_prefix.clone(),
            sha256: sha.clone(),
            bytes: bytes.len() as u64,
            created,
            by: ctx.actor.name.clone(),
            audit_entry: seq,
        };
        let note = m.sign(key).map_err(RecordError::Fault)?;
        let id = repo::insert(
            conn,
            &NewExport {
                product_id: product,
                format: format.as_str(),
                file_name: &file_name,
                sha256: &sha,
                content: &bytes,
                manifest: &note,
                audit_seq: i64::try_from(seq).unwrap_or(i64::MAX),
                created_by: super::actor_user(ctx),
            },
            ctx.now,
        )?;
        Ok(id)
    })
}

/// The manifest file of export `id`, once a checkpoint holds its entry
/// (`None` until then: checkpoints are signed every minute, and at once
/// after an export).
pub fn manifest_file(
    conn: &mut DbConnection,
    vkey: &str,
    id: i64,
) -> Result<Option<(String, Vec<u8>)>, RecordError> {
    let Some(e) = repo::find(conn, id)? else {
        return Ok(None);
    };
    manifest_of(conn, vkey, (e.audit_seq, &e.manifest, &e.file_name))
}

/// The manifest file of an export recorded by audit entry `seq` with the
/// signed manifest note `note`, once a checkpoint holds the entry: any
/// kept export (the matrix's, the document master list's).
pub fn manifest_of(
    conn: &mut DbConnection,
    vkey: &str,
    (seq, note, file_name): (i64, &str, &str),
) -> Result<Option<(String, Vec<u8>)>, RecordError> {
    let seq = u64::try_from(seq).unwrap_or(u64::MAX);
    let Some(cp) = checkpoint::first_covering(conn, seq)? else {
        return Ok(None);
    };
    Ok(Some((
        format!("{file_name}.manifest.json"),
        manifest::file(note, &cp.note, vkey, file_name),
    )))
}

/// The formats a list (the document master list, the training matrix)
/// exports to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListFormat {
    Csv,
    Xlsx,
}

impl ListFormat {
    pub fn ext(self) -> &'static str {
        match self {
            ListFormat::Csv => "csv",
            ListFormat::Xlsx => "xlsx",
        }
    }
}

/// A list to export and keep.
pub struct KeptList<'a> {
    /// What it lists, as kept (`documents`, `training`, `risks`).
    pub subject: &'a str,
    /// Its file's name before the time (`training`, `risks-pump`).
    pub stem: &'a str,
    /// What the manifest says it is of.
    pub what: &'a str,
    /// The audit action recording it.
    pub action: &'a str,
    pub sheet: &'a str,
    pub columns: &'a [&'a str],
    /// The columns a spreadsheet holds as numbers.
    pub number_columns: &'a [usize],
    pub rows: &'a [Vec<String>],
    /// Its filters in words.
    pub described: &'a [String],
}

/// Writes `list` as a file, records it in the audit log with its filters,
/// row count and SHA-256, and keeps it byte for byte with its manifest
/// signed by the log key, in the caller's transaction; the export's number.
pub fn keep_list(
    conn: &mut DbConnection,
    ctx: &Ctx,
    key: &LogKey,
    list: &KeptList<'_>,
    format: ListFormat,
) -> Result<i64, RecordError> {
    use crate::db::repo::documents as kept;
    let bytes = match format {
        ListFormat::Csv => {
            let mut out = crate::csv::line(list.columns);
            for r in list.rows {
                out.push_str(&crate::csv::line(r));
            }
            out.into_bytes()
        }
        ListFormat::Xlsx => list_xlsx(list).map_err(RecordError::Fault)?,
    };
    let ext = format.ext();
    let sha = super::sha256_hex(&bytes);
    let file_name = format!("{}-{}.{ext}", list.stem, ctx.now.format("%Y%m%d-%H%M%S"));
    let seq = audit::append(
        conn,
        &ctx.entry(list.action).after(json!({
            "format": ext,
            "file_name": file_name,
            "filters": list.described,
            "rows": list.rows.len(),
            "sha256": sha,
            "bytes": bytes.len(),
        })),
    )?;
    let note = Manifest {
        file: file_name.clone(),
        format: ext.to_string(),
        product: list.what.into(),
        sha256: sha.clone(),
        bytes: bytes.len() as u64,
        created: audit::format_time(ctx.now),
        by: ctx.actor.name.clone(),
        audit_entry: seq,
    }
    .sign(key)
    .map_err(RecordError::Fault)?;
    let id = kept::insert_export(
        conn,
        &kept::NewExport {
            subject: list.subject,
            format: ext,
            file_name: &file_name,
            filters: &list.described.join(" "),
            rows: i64::try_from(list.rows.len()).unwrap_or(i64::MAX),
            sha256: &sha,
            content: &bytes,
            manifest: &note,
            audit_seq: i64::try_from(seq).unwrap_or(i64::MAX),
            created_by: super::actor_user(ctx),
        },
        ctx.now,
    )?;
    Ok(id)
}

fn list_xlsx(list: &KeptList<'_>) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format as Fmt, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| format!("the spreadsheet could not be written: {e}");
    let mut book = Workbook::new();
    let bold = Fmt::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name(list.sheet).map_err(err)?;
    for (c, name) in list.columns.iter().enumerate() {
        let col = u16::try_from(c).map_err(|e| e.to_string())?;
        sheet
            .write_string_with_format(0, col, *name, &bold)
            .map_err(err)?;
    }
    for (i, r) in list.rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|e| e.to_string())?;
        for (c, value) in r.iter().enumerate() {
            let col = u16::try_from(c).map_err(|e| e.to_string())?;
            match value.parse::<f64>() {
                Ok(n) if list.number_columns.contains(&c) => {
                    sheet.write_number(row, col, n).map_err(err)?
                }
                _ => sheet
                    .write_string(row, col, crate::trace::export::neutral(value))
                    .map_err(err)?,
            };
        }
    }
    sheet.set_freeze_panes(1, 1).map_err(err)?;
    book.save_to_buffer().map_err(err)
}
