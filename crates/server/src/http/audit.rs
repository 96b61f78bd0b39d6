//! The audit log: a page as JSON, or every matching entry as CSV or JSON lines.

use actix_web::{HttpResponse, get, http::header, web};
use flightdeck_model::{AuditEntry, AuditFormat, AuditQuery, Page};
use flightdeck_store::{AuditFilter, Store};
use futures_util::stream;
use std::sync::Arc;
use utoipa_actix_web::service_config::ServiceConfig;

use super::{
    error::{ApiError, ApiResult},
    extract::{Auth, Paging},
};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_audit);
}

/// Rows per database read while exporting.
const EXPORT_BATCH: u32 = 500;

/// The audit log, newest first. `format=csv` or `format=jsonl` returns every matching entry as
/// a download instead of one page.
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of entries (`format=json`); with `format=csv` the \
         export as `text/csv`, with `format=jsonl` as `application/x-ndjson`", body = Page<AuditEntry>),
    )
)]
#[get("/audit")]
async fn list_audit(
    _auth: Auth,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> ApiResult<HttpResponse> {
    let query = query.into_inner();
    let paging = Paging::from_params(query.limit, query.cursor.as_deref())?;
    if let (Some(since), Some(until)) = (query.since, query.until)
        && since >= until
    {
        return Err(ApiError::BadRequest(
            "`since` must be before `until`".into(),
        ));
    }
    let filter = AuditFilter {
        actor: query.actor,
        action: query.action,
        target_type: query.target_type,
        target_id: query.target_id,
        since: query.since,
        until: query.until,
        before_id: paging.after,
    };
    match query.format.unwrap_or(AuditFormat::Json) {
        AuditFormat::Json => {
            let rows = state
                .store
                .conn()
                .await?
                .list_audit(&filter, paging.limit + 1)
                .await?;
            Ok(HttpResponse::Ok().json(paging.page(rows, |e| e.id)))
        }
        format => Ok(export(Arc::clone(&state.store), filter, format)),
    }
}

/// Streams the export batch by batch, so a large log never sits in memory whole.
fn export(store: Arc<dyn Store>, filter: AuditFilter, format: AuditFormat) -> HttpResponse {
    let (content_type, extension) = match format {
        AuditFormat::Csv => ("text/csv; charset=utf-8", "csv"),
        _ => ("application/x-ndjson", "jsonl"),
    };
    let header_row = (format == AuditFormat::Csv).then(|| CSV_HEADER.to_owned());
    let body = stream::unfold(Some((filter, header_row)), move |state| {
        let store = Arc::clone(&store);
        async move {
            let (mut filter, header_row) = state?;
            let mut out = header_row.unwrap_or_default();
            let rows = match store.conn().await {
                Ok(mut db) => db.list_audit(&filter, EXPORT_BATCH).await,
                Err(e) => Err(e),
            };
            let rows = match rows {
                Ok(rows) => rows,
                Err(e) => {
                    // Headers are gone already; cutting the stream short is all that is left.
                    tracing::error!(error = %e, "audit export failed mid-stream");
                    return Some((
                        Err(actix_web::error::ErrorInternalServerError("export failed")),
                        None,
                    ));
                }
            };
            for entry in &rows {
                match format {
                    AuditFormat::Csv => out.push_str(&csv_row(entry)),
                    _ => {
                        out.push_str(&serde_json::to_string(entry).expect("entries serialise"));
                        out.push('\n');
                    }
                }
            }
            let next = (rows.len() == EXPORT_BATCH as usize).then(|| {
                filter.before_id = rows.last().map(|e| e.id);
                (filter, None)
            });
            if out.is_empty() && next.is_none() {
                return None;
            }
            Some((Ok::<_, actix_web::Error>(web::Bytes::from(out)), next))
        }
    });
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"flightdeck-audit.{extension}\""),
        ))
        .streaming(body)
}

const CSV_HEADER: &str =
    "id,at,actor,action,target_type,target_id,reason,request_id,before,after\n";

fn csv_row(e: &AuditEntry) -> String {
    let json =
        |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string()).unwrap_or_default();
    let fields = [
        e.id.to_string(),
        e.at.to_rfc3339(),
        e.actor.clone(),
        e.action.clone(),
        e.target_type.clone(),
        e.target_id.clone(),
        e.reason.clone().unwrap_or_default(),
        e.request_id.clone().unwrap_or_default(),
        json(&e.before),
        json(&e.after),
    ];
    let mut row = fields
        .iter()
        .map(|f| csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    row.push('\n');
    row
}

/// RFC 4180 quoting, plus a leading `'` on values a spreadsheet would run as a formula.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
    }
}
