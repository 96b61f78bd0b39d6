//! The health half of the catalog as code: `[[catalog.components]]` and `[[catalog.slos]]` from
//! the config file, applied at every start after the services they link to
//! ([`crate::bootstrap::apply_catalog`]). Missing entries are created, declared fields that
//! differ are updated, everything the file does not name is left alone — in one transaction,
//! each change audited with actor `config`. An invalid entry stops the start with its problems,
//! the same checks the API applies.

use std::collections::BTreeSet;

use chrono::Utc;
use flightdeck_domain::catalog;
use flightdeck_model::{CreateComponent, Id, Slo};
use flightdeck_store::{ComponentPatch, NewAudit, NewComponent, Store};

use crate::{
    http::{
        components::{recompute, roll, to_json, validate},
        error::ApiError,
        slos::domain_slo,
    },
    settings::{CatalogSettings, SloSpec},
    state::record_audit,
};

/// Applies the file's components, then its SLOs.
pub async fn apply(store: &dyn Store, catalog: &CatalogSettings) -> anyhow::Result<()> {
    if catalog.components.is_empty() && catalog.slos.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut tx = store.begin().await?;
    let mut changes: Vec<(
        &str,
        String,
        Option<serde_json::Value>,
        Option<serde_json::Value>,
    )> = Vec::new();
    let mut touched = BTreeSet::new();
    for spec in &catalog.components {
        let what = format!("catalog component `{}`", spec.slug);
        if let Some(problem) = catalog::slug_problem(&spec.slug) {
            anyhow::bail!("{what}: slug {problem}");
        }
        validate(
            &mut *tx,
            Some(&spec.name),
            spec.service.as_deref(),
            Some(&spec.depends_on),
            Some(&spec.matchers),
            Some(&spec.metric_queries),
            spec.log_query.as_deref(),
            Some(&spec.maintenance),
        )
        .await
        .map_err(|e| invalid(&what, e))?;
        match tx.component_by_slug(&spec.slug).await? {
            None => {
                let (status, status_reasons) = roll(&[], &[], &spec.maintenance, now);
                let component = tx
                    .insert_component(&NewComponent {
                        id: Id::now_v7(),
                        slug: spec.slug.clone(),
                        name: spec.name.clone(),
                        group: spec.group.clone(),
                        service: spec.service.clone(),
                        tier: spec.tier,
                        depends_on: spec.depends_on.clone(),
                        matchers: spec.matchers.clone(),
                        metric_queries: spec.metric_queries.clone(),
                        log_query: log_query(spec),
                        maintenance: spec.maintenance.clone(),
                        status,
                        status_reasons,
                        now,
                    })
                    .await?;
                changes.push((
                    "component.create",
                    spec.slug.clone(),
                    None,
                    Some(to_json(&component)),
                ));
            }
            Some(existing) => {
                // The file is the whole truth about the components it declares: an optional
                // field left out of it (or removed from it) is cleared.
                let differs = existing.name != spec.name
                    || existing.group != spec.group
                    || existing.service != spec.service
                    || existing.tier != spec.tier
                    || existing.depends_on != spec.depends_on
                    || existing.matchers != spec.matchers
                    || existing.metric_queries != spec.metric_queries
                    || existing.log_query != log_query(spec)
                    || existing.maintenance != spec.maintenance;
                if !differs {
                    continue;
                }
                let patch = ComponentPatch {
                    name: Some(spec.name.clone()),
                    group: Some(spec.group.clone()),
                    service: Some(spec.service.clone()),
                    tier: Some(spec.tier),
                    depends_on: Some(spec.depends_on.clone()),
                    matchers: Some(spec.matchers.clone()),
                    metric_queries: Some(spec.metric_queries.clone()),
                    log_query: Some(log_query(spec).unwrap_or_default()),
                    maintenance: Some(spec.maintenance.clone()),
                };
                let updated = tx.update_component(existing.id, &patch, now).await?;
                touched.insert(spec.slug.clone());
                changes.push((
                    "component.update",
                    spec.slug.clone(),
                    Some(to_json(&existing)),
                    Some(to_json(&updated)),
                ));
            }
        }
    }
    for spec in &catalog.slos {
        let what = format!("catalog SLO `{}` on `{}`", spec.name, spec.component);
        check_slo(spec).map_err(|e| invalid(&what, e))?;
        if tx.component_by_slug(&spec.component).await?.is_none() {
            anyhow::bail!("{what}: no such component");
        }
        let existing = tx
            .list_slos(Some(&spec.component))
            .await?
            .into_iter()
            .find(|s| s.name == spec.name);
        match existing {
            None => {
                let slo = tx.insert_slo(&new_slo(spec, now)).await?;
                touched.insert(spec.component.clone());
                changes.push(("slo.create", slo.id.to_string(), None, Some(to_json(&slo))));
            }
            Some(slo)
                if slo.objective != spec.objective
                    || slo.window_secs != spec.window_secs
                    || slo.sli != spec.sli =>
            {
                // The definition changes; the last evaluation stays until the next poll.
                let updated = Slo {
                    objective: spec.objective,
                    window_secs: spec.window_secs,
                    sli: spec.sli.clone(),
                    ..slo.clone()
                };
                tx.replace_slo(&updated, now).await?;
                changes.push((
                    "slo.update",
                    slo.id.to_string(),
                    Some(to_json(&slo)),
                    Some(to_json(&updated)),
                ));
            }
            Some(_) => {}
        }
    }
    // Maintenance windows and new SLOs change statuses; the events are replayable by clients.
    let events = recompute(&mut *tx, &touched, now)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.insert_events(events, now).await?;
    for (action, target_id, before, after) in changes {
        let entry = NewAudit {
            actor: "config".into(),
            action: action.into(),
            target_type: action.split('.').next().unwrap_or("catalog").into(),
            target_id,
            before,
            after,
            reason: Some("declared in the config file".into()),
            request_id: None,
        };
        record_audit(&mut *tx, &entry, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The stored form: blank means the default.
fn log_query(spec: &CreateComponent) -> Option<String> {
    spec.log_query.clone().filter(|q| !q.trim().is_empty())
}

fn check_slo(spec: &SloSpec) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if spec.name.trim().is_empty() || spec.name.len() > 100 {
        errors.push(flightdeck_model::FieldError {
            field: "name".into(),
            message: "must be 1 to 100 characters".into(),
        });
    }
    if let Err(errs) = domain_slo(spec.objective, spec.window_secs, &spec.sli) {
        errors.extend(errs);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

fn new_slo(spec: &SloSpec, now: chrono::DateTime<Utc>) -> Slo {
    Slo {
        id: Id::now_v7(),
        component: spec.component.clone(),
        name: spec.name.clone(),
        objective: spec.objective,
        window_secs: spec.window_secs,
        sli: spec.sli.clone(),
        current: None,
        budget_remaining: None,
        burn_rates: Vec::new(),
        fast_burn: false,
        slow_burn: false,
        ticket: false,
        evaluated_at: None,
        error: None,
        created_at: now,
    }
}

fn invalid(what: &str, err: ApiError) -> anyhow::Error {
    match err {
        ApiError::Validation(errors) => {
            let list: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow::anyhow!("{what}: {}", list.join("; "))
        }
        other => anyhow::anyhow!("{what}: {other}"),
    }
}
