//! Storage for the Infrastructure Health Dashboard: components, alert episodes and their triage
//! events. Same single-SQL approach as [`crate::queries`].

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use flightdeck_model::{
    Alert, AlertCounts, AlertEvent, Component, ComponentMaintenance, ComponentStatus, Id,
    MetricQuery, Slo, TriageState,
};
use sqlx::types::Json;
use std::collections::BTreeMap;
use uuid::Uuid;

use crate::{StoreError, StoreResult};

#[async_trait]
pub trait HealthQueries: Send {
    // --- components ---
    async fn insert_component(&mut self, new: &NewComponent) -> StoreResult<Component>;
    async fn component_by_slug(&mut self, slug: &str) -> StoreResult<Option<Component>>;
    /// Like [`HealthQueries::component_by_slug`], locking the row until the transaction ends
    /// (PostgreSQL), so a status rollup computed after it sees every alert committed before it
    /// and no concurrent rollup of the component can overwrite it with an older view.
    async fn component_for_update(&mut self, slug: &str) -> StoreResult<Option<Component>>;
    /// How many components there are and when the latest changed: a cheap check of whether a
    /// copy of the catalog (the alert writer's routes) is still current.
    async fn components_stamp(&mut self) -> StoreResult<(i64, Option<DateTime<Utc>>)>;
    /// Every component by slug.
    async fn list_components(&mut self) -> StoreResult<Vec<Component>>;
    /// The components linked to `service`, by slug.
    async fn components_of_service(&mut self, service: &str) -> StoreResult<Vec<Component>>;
    async fn update_component(
        &mut self,
        id: Id,
        patch: &ComponentPatch,
        now: DateTime<Utc>,
    ) -> StoreResult<Component>;
    async fn set_component_status(
        &mut self,
        id: Id,
        status: ComponentStatus,
        reasons: &[String],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    // --- alerts ---
    /// Writes the mutable fields (statuses, level, end, annotations, triage who/when/note).
    async fn update_alert(&mut self, alert: &Alert) -> StoreResult<Alert>;
    async fn alert_by_id(&mut self, id: Id) -> StoreResult<Option<Alert>>;
    /// The episode (source, fingerprint, starts_at to the millisecond), locked for this
    /// transaction where the database can.
    async fn alert_episode(
        &mut self,
        source: &str,
        fingerprint: &str,
        starts_at: DateTime<Utc>,
    ) -> StoreResult<Option<Alert>>;
    /// Newest first.
    async fn list_alerts(&mut self, filter: &AlertFilter, limit: u32) -> StoreResult<Vec<Alert>>;
    /// Firing and not resolved by hand, routed to `component`, newest first.
    async fn live_alerts(&mut self, component: &str) -> StoreResult<Vec<Alert>>;
    /// Alerts routed to `component` that started in `[from, to)`, resolved or not, oldest first.
    async fn alerts_started_between(
        &mut self,
        component: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Alert>>;
    async fn insert_alert_event(&mut self, event: &AlertEvent) -> StoreResult<AlertEvent>;
    /// Oldest first.
    async fn alert_events(&mut self, alert_id: Id) -> StoreResult<Vec<AlertEvent>>;

    // --- batched ingest: one statement per kind of write, whatever the number of alerts ---
    /// The stored episodes among `keys` (source, fingerprint, starts_at to the millisecond), in
    /// no particular order, locked like [`HealthQueries::alert_episode`].
    async fn alert_episodes(
        &mut self,
        keys: &[(&str, &str, DateTime<Utc>)],
    ) -> StoreResult<Vec<Alert>>;
    /// Stores new episodes in one statement: a conflict on `alerts_episode_key` when any is already
    /// stored (and then nothing is). Stored as given: pass `starts_at` to the millisecond and
    /// other times to the microsecond (what PostgreSQL keeps) so the caller's copies equal the rows.
    async fn insert_alerts(&mut self, alerts: &[Alert]) -> StoreResult<()>;
    async fn insert_alert_events(&mut self, events: &[AlertEvent]) -> StoreResult<()>;
    /// Like `Queries::insert_event` for many, in sequence order; the event lock is taken once.
    /// Takes the payloads by value: they move into the returned events, uncopied.
    async fn insert_events(
        &mut self,
        events: Vec<(&str, serde_json::Value)>,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<flightdeck_model::LiveEvent>>;

    // --- the grid and the escalator ---
    /// Live alerts (firing, not resolved by hand) per component, by severity; one query over the
    /// `alerts_live_idx` partial index, whatever the number of components.
    async fn live_alert_counts(&mut self) -> StoreResult<BTreeMap<String, AlertCounts>>;
    /// Live alerts (routed or not) by triage state and severity, over the same partial index.
    async fn live_alert_summary(&mut self) -> StoreResult<flightdeck_model::AlertSummary>;
    /// Open, firing, critical alerts that started at or before `started_by`, oldest first.
    async fn escalation_candidates(
        &mut self,
        started_by: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Alert>>;
    /// Rewrites an SLO's stored definition (the catalog file changed it); its evaluation stays.
    async fn replace_slo(&mut self, slo: &Slo, now: DateTime<Utc>) -> StoreResult<()>;
}

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` columns.
pub(crate) fn placeholders(rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(r * cols + c + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// Rows per multi-row statement: SQLite allows 32,766 parameters, PostgreSQL 65,535.
pub(crate) fn chunk_rows(cols: usize) -> usize {
    (30_000 / cols).max(1)
}

#[derive(Debug, Clone)]
pub struct NewComponent {
    pub id: Id,
    pub slug: String,
    pub name: String,
    pub group: Option<String>,
    pub service: Option<String>,
    pub tier: Option<i32>,
    pub depends_on: Vec<String>,
    pub matchers: Vec<String>,
    pub metric_queries: Vec<MetricQuery>,
    pub log_query: Option<String>,
    pub maintenance: Vec<ComponentMaintenance>,
    pub status: ComponentStatus,
    pub status_reasons: Vec<String>,
    pub now: DateTime<Utc>,
}

/// A change to a component; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct ComponentPatch {
    pub name: Option<String>,
    /// `None` leaves it, `Some(None)` removes it.
    pub group: Option<Option<String>>,
    /// `None` leaves it, `Some(None)` unlinks.
    pub service: Option<Option<String>>,
    /// `None` leaves it, `Some(None)` removes it.
    pub tier: Option<Option<i32>>,
    pub depends_on: Option<Vec<String>>,
    pub matchers: Option<Vec<String>>,
    pub metric_queries: Option<Vec<MetricQuery>>,
    /// `Some("")` goes back to the default.
    pub log_query: Option<String>,
    pub maintenance: Option<Vec<ComponentMaintenance>>,
}

#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub state: Option<TriageState>,
    pub severity: Option<flightdeck_model::AlertSeverity>,
    pub component: Option<String>,
    /// Text in the name or the labels' JSON, case-insensitive (see [`AlertFilter::text_pattern`]).
    pub text: Option<String>,
    /// Alerts with ids below this (the cursor).
    pub before_id: Option<Id>,
}

impl AlertFilter {
    /// `text` as a `LIKE … ESCAPE '\'` pattern: lowercased, its own `\`, `%` and `_` escaped,
    /// so what the user typed is matched literally anywhere in the string.
    pub(crate) fn text_pattern(&self) -> Option<String> {
        self.text.as_ref().map(|t| {
            let mut p = String::with_capacity(t.len() + 2);
            p.push('%');
            for c in t.to_lowercase().chars() {
                if matches!(c, '\\' | '%' | '_') {
                    p.push('\\');
                }
                p.push(c);
            }
            p.push('%');
            p
        })
    }
}

/// Episode keys keep `startsAt` to the millisecond (see `flightdeck_domain::health::alerts::episode_key`):
/// Alertmanager sends nanoseconds, PostgreSQL keeps microseconds.
pub(crate) fn episode_start(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}

#[derive(sqlx::FromRow)]
pub(crate) struct ComponentRow {
    id: Uuid,
    slug: String,
    name: String,
    grp: Option<String>,
    service: Option<String>,
    tier: Option<i32>,
    depends_on: Json<Vec<String>>,
    matchers: Json<Vec<String>>,
    metric_queries: Json<Vec<MetricQuery>>,
    log_query: String,
    maintenance: Json<Vec<ComponentMaintenance>>,
    status: String,
    status_reasons: Json<Vec<String>>,
    created_at: DateTime<Utc>,
}

impl ComponentRow {
    pub(crate) fn into_component(self) -> StoreResult<Component> {
        Ok(Component {
            id: self.id,
            slug: self.slug,
            name: self.name,
            group: self.grp,
            service: self.service,
            tier: self.tier,
            depends_on: self.depends_on.0,
            matchers: self.matchers.0,
            metric_queries: self.metric_queries.0,
            // Stored as `''` for "the default", so that a patch can clear it with COALESCE.
            log_query: Some(self.log_query).filter(|q| !q.is_empty()),
            status: self.status.parse().map_err(StoreError::Corrupt)?,
            status_reasons: self.status_reasons.0,
            maintenance: self.maintenance.0,
            created_at: self.created_at,
        })
    }
}

pub(crate) fn components(rows: Vec<ComponentRow>) -> StoreResult<Vec<Component>> {
    rows.into_iter().map(ComponentRow::into_component).collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct AlertRow {
    id: Uuid,
    source: String,
    fingerprint: String,
    starts_at: DateTime<Utc>,
    name: String,
    severity: String,
    source_status: String,
    state: String,
    escalation_level: i32,
    component: Option<String>,
    labels: Json<BTreeMap<String, String>>,
    annotations: Json<BTreeMap<String, String>>,
    ends_at: Option<DateTime<Utc>>,
    acknowledged_by: Option<String>,
    acknowledged_at: Option<DateTime<Utc>>,
    last_note: Option<String>,
    received_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    generator_url: Option<String>,
}

impl AlertRow {
    pub(crate) fn into_alert(self) -> StoreResult<Alert> {
        Ok(Alert {
            id: self.id,
            source: self.source,
            fingerprint: self.fingerprint,
            name: self.name,
            severity: self.severity.parse().map_err(StoreError::Corrupt)?,
            source_status: self.source_status.parse().map_err(StoreError::Corrupt)?,
            state: self.state.parse().map_err(StoreError::Corrupt)?,
            escalation_level: u32::try_from(self.escalation_level).unwrap_or(0),
            component: self.component,
            labels: self.labels.0,
            annotations: self.annotations.0,
            generator_url: self.generator_url,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            acknowledged_by: self.acknowledged_by,
            acknowledged_at: self.acknowledged_at,
            last_note: self.last_note,
            received_at: self.received_at,
            updated_at: self.updated_at,
        })
    }
}

pub(crate) fn alerts(rows: Vec<AlertRow>) -> StoreResult<Vec<Alert>> {
    rows.into_iter().map(AlertRow::into_alert).collect()
}

#[derive(sqlx::FromRow)]
pub(crate) struct AlertEventRow {
    id: Uuid,
    alert_id: Uuid,
    at: DateTime<Utc>,
    actor: String,
    action: String,
    from_state: Option<String>,
    to_state: String,
    escalation_level: i32,
    target: Option<String>,
    note: Option<String>,
}

impl AlertEventRow {
    pub(crate) fn into_event(self) -> StoreResult<AlertEvent> {
        Ok(AlertEvent {
            id: self.id,
            alert_id: self.alert_id,
            at: self.at,
            actor: self.actor,
            action: self.action,
            from_state: self
                .from_state
                .map(|s| s.parse())
                .transpose()
                .map_err(StoreError::Corrupt)?,
            to_state: self.to_state.parse().map_err(StoreError::Corrupt)?,
            escalation_level: u32::try_from(self.escalation_level).unwrap_or(0),
            target: self.target,
            note: self.note,
        })
    }
}

pub(crate) const COMPONENT_COLUMNS: &str = "id, slug, name, grp, service, tier, depends_on, matchers, \
     metric_queries, log_query, maintenance, status, status_reasons, created_at";
pub(crate) const ALERT_COLUMNS: &str = "id, source, fingerprint, starts_at, name, severity, source_status, \
     state, escalation_level, component, labels, annotations, ends_at, acknowledged_by, acknowledged_at, \
     last_note, received_at, updated_at, generator_url";
pub(crate) const ALERT_EVENT_COLUMNS: &str =
    "id, alert_id, at, actor, action, from_state, to_state, escalation_level, target, note";

/// Implements [`HealthQueries`] for `$wrapper<C>`; `$row_lock` follows the episode lookup
/// (`FOR UPDATE` on PostgreSQL, so two notifications about one episode — an HA pair — apply one
/// after the other and the second sees the first's result; SQLite has one writer and needs nothing).
/// `$event_lock` is the statement `Queries::insert_event` runs first (see `impl_queries!`).
/// `$batch` is the module with the batched ingest statements for the database ([`pg_batch`],
/// [`sqlite_batch`]).
macro_rules! impl_health_queries {
    ($wrapper:ident, $conn:ty, $row_lock:expr, $event_lock:expr, $batch:ident) => {
        #[async_trait::async_trait]
        impl<C> $crate::HealthQueries for $wrapper<C>
        where
            C: std::ops::DerefMut<Target = $conn> + Send,
        {
            async fn insert_component(&mut self, new: &NewComponent) -> StoreResult<Component> {
                let row: ComponentRow = sqlx::query_as(&format!(
                    "INSERT INTO components (id, slug, name, grp, service, tier, depends_on, matchers, \
                     maintenance, status, status_reasons, created_at, updated_at, metric_queries, log_query) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14) \
                     RETURNING {COMPONENT_COLUMNS}"
                ))
                .bind(new.id)
                .bind(&new.slug)
                .bind(&new.name)
                .bind(new.group.as_deref())
                .bind(new.service.as_deref())
                .bind(new.tier)
                .bind(Json(&new.depends_on))
                .bind(Json(&new.matchers))
                .bind(Json(&new.maintenance))
                .bind(new.status.as_str())
                .bind(Json(&new.status_reasons))
                .bind(new.now)
                .bind(Json(&new.metric_queries))
                .bind(new.log_query.as_deref().unwrap_or_default())
                .fetch_one(&mut *self.0)
                .await?;
                row.into_component()
            }

            async fn component_by_slug(&mut self, slug: &str) -> StoreResult<Option<Component>> {
                let row: Option<ComponentRow> = sqlx::query_as(&format!(
                    "SELECT {COMPONENT_COLUMNS} FROM components WHERE slug = $1"
                ))
                .bind(slug)
                .fetch_optional(&mut *self.0)
                .await?;
                row.map(ComponentRow::into_component).transpose()
            }

            async fn component_for_update(&mut self, slug: &str) -> StoreResult<Option<Component>> {
                let row: Option<ComponentRow> = sqlx::query_as(&format!(
                    "SELECT {COMPONENT_COLUMNS} FROM components WHERE slug = $1 {}",
                    $row_lock
                ))
                .bind(slug)
                .fetch_optional(&mut *self.0)
                .await?;
                row.map(ComponentRow::into_component).transpose()
            }

            async fn components_stamp(&mut self) -> StoreResult<(i64, Option<DateTime<Utc>>)> {
                Ok(sqlx::query_as("SELECT COUNT(*), MAX(updated_at) FROM components")
                    .fetch_one(&mut *self.0)
                    .await?)
            }

            async fn components_of_service(&mut self, service: &str) -> StoreResult<Vec<Component>> {
                let rows: Vec<ComponentRow> = sqlx::query_as(&format!(
                    "SELECT {COMPONENT_COLUMNS} FROM components WHERE service = $1 ORDER BY slug"
                ))
                .bind(service)
                .fetch_all(&mut *self.0)
                .await?;
                components(rows)
            }

            async fn list_components(&mut self) -> StoreResult<Vec<Component>> {
                let rows: Vec<ComponentRow> = sqlx::query_as(&format!(
                    "SELECT {COMPONENT_COLUMNS} FROM components ORDER BY slug"
                ))
                .fetch_all(&mut *self.0)
                .await?;
                components(rows)
            }

            async fn update_component(
                &mut self,
                id: Id,
                patch: &ComponentPatch,
                now: DateTime<Utc>,
            ) -> StoreResult<Component> {
                let row: ComponentRow = sqlx::query_as(&format!(
                    "UPDATE components SET name = COALESCE($2, name), \
                     grp = CASE WHEN $12 THEN $3 ELSE grp END, \
                     service = CASE WHEN $13 THEN $4 ELSE service END, \
                     tier = CASE WHEN $14 THEN $5 ELSE tier END, \
                     depends_on = COALESCE($6, depends_on), matchers = COALESCE($7, matchers), \
                     maintenance = COALESCE($8, maintenance), updated_at = $9, \
                     metric_queries = COALESCE($10, metric_queries), log_query = COALESCE($11, log_query) \
                     WHERE id = $1 RETURNING {COMPONENT_COLUMNS}"
                ))
                .bind(id)
                .bind(patch.name.as_deref())
                .bind(patch.group.clone().flatten())
                .bind(patch.service.clone().flatten())
                .bind(patch.tier.flatten())
                .bind(patch.depends_on.as_ref().map(Json))
                .bind(patch.matchers.as_ref().map(Json))
                .bind(patch.maintenance.as_ref().map(Json))
                .bind(now)
                .bind(patch.metric_queries.as_ref().map(Json))
                .bind(patch.log_query.as_deref())
                .bind(patch.group.is_some())
                .bind(patch.service.is_some())
                .bind(patch.tier.is_some())
                .fetch_one(&mut *self.0)
                .await?;
                row.into_component()
            }

            async fn set_component_status(
                &mut self,
                id: Id,
                status: ComponentStatus,
                reasons: &[String],
                now: DateTime<Utc>,
            ) -> StoreResult<()> {
                let done = sqlx::query(
                    "UPDATE components SET status = $2, status_reasons = $3, updated_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(status.as_str())
                .bind(Json(reasons))
                .bind(now)
                .execute(&mut *self.0)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn update_alert(&mut self, a: &Alert) -> StoreResult<Alert> {
                let row: Option<AlertRow> = sqlx::query_as(&format!(
                    "UPDATE alerts SET source_status = $2, state = $3, escalation_level = $4, ends_at = $5, \
                     annotations = $6, acknowledged_by = $7, acknowledged_at = $8, last_note = $9, \
                     updated_at = $10 WHERE id = $1 RETURNING {ALERT_COLUMNS}"
                ))
                .bind(a.id)
                .bind(a.source_status.as_str())
                .bind(a.state.as_str())
                .bind(i32::try_from(a.escalation_level).unwrap_or(i32::MAX))
                .bind(a.ends_at)
                .bind(Json(&a.annotations))
                .bind(a.acknowledged_by.as_deref())
                .bind(a.acknowledged_at)
                .bind(a.last_note.as_deref())
                .bind(a.updated_at)
                .fetch_optional(&mut *self.0)
                .await?;
                row.ok_or(StoreError::NotFound)?.into_alert()
            }

            async fn alert_by_id(&mut self, id: Id) -> StoreResult<Option<Alert>> {
                let row: Option<AlertRow> =
                    sqlx::query_as(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(&mut *self.0)
                        .await?;
                row.map(AlertRow::into_alert).transpose()
            }

            async fn alert_episode(
                &mut self,
                source: &str,
                fingerprint: &str,
                starts_at: DateTime<Utc>,
            ) -> StoreResult<Option<Alert>> {
                let row: Option<AlertRow> = sqlx::query_as(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE source = $1 AND fingerprint = $2 AND starts_at = $3 {}",
                    $row_lock
                ))
                .bind(source)
                .bind(fingerprint)
                .bind(episode_start(starts_at))
                .fetch_optional(&mut *self.0)
                .await?;
                row.map(AlertRow::into_alert).transpose()
            }

            async fn list_alerts(&mut self, filter: &AlertFilter, limit: u32) -> StoreResult<Vec<Alert>> {
                let rows: Vec<AlertRow> = sqlx::query_as(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE ($1 IS NULL OR state = $1) \
                     AND ($2 IS NULL OR severity = $2) AND ($3 IS NULL OR component = $3) \
                     AND ($4 IS NULL OR id < $4) \
                     AND ($6 IS NULL OR LOWER(name) LIKE $6 ESCAPE '\\' \
                          OR LOWER(CAST(labels AS TEXT)) LIKE $6 ESCAPE '\\') \
                     ORDER BY id DESC LIMIT $5"
                ))
                .bind(filter.state.map(|s| s.as_str()))
                .bind(filter.severity.map(|s| s.as_str()))
                .bind(filter.component.as_deref())
                .bind(filter.before_id)
                .bind(i64::from(limit))
                .bind(filter.text_pattern())
                .fetch_all(&mut *self.0)
                .await?;
                alerts(rows)
            }

            async fn alerts_started_between(
                &mut self,
                component: &str,
                from: DateTime<Utc>,
                to: DateTime<Utc>,
                limit: u32,
            ) -> StoreResult<Vec<Alert>> {
                let rows: Vec<AlertRow> = sqlx::query_as(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE component = $1 AND starts_at >= $2 \
                     AND starts_at < $3 ORDER BY starts_at, id LIMIT $4"
                ))
                .bind(component)
                .bind(from)
                .bind(to)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                alerts(rows)
            }

            async fn live_alerts(&mut self, component: &str) -> StoreResult<Vec<Alert>> {
                let rows: Vec<AlertRow> = sqlx::query_as(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE component = $1 AND state <> 'resolved' \
                     AND source_status = 'firing' ORDER BY id DESC"
                ))
                .bind(component)
                .fetch_all(&mut *self.0)
                .await?;
                alerts(rows)
            }

            async fn insert_alert_event(&mut self, e: &AlertEvent) -> StoreResult<AlertEvent> {
                let row: AlertEventRow = sqlx::query_as(&format!(
                    "INSERT INTO alert_events ({ALERT_EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     RETURNING {ALERT_EVENT_COLUMNS}"
                ))
                .bind(e.id)
                .bind(e.alert_id)
                .bind(e.at)
                .bind(&e.actor)
                .bind(&e.action)
                .bind(e.from_state.map(|s| s.as_str()))
                .bind(e.to_state.as_str())
                .bind(i32::try_from(e.escalation_level).unwrap_or(i32::MAX))
                .bind(e.target.as_deref())
                .bind(e.note.as_deref())
                .fetch_one(&mut *self.0)
                .await?;
                row.into_event()
            }

            async fn alert_events(&mut self, alert_id: Id) -> StoreResult<Vec<AlertEvent>> {
                let rows: Vec<AlertEventRow> = sqlx::query_as(&format!(
                    "SELECT {ALERT_EVENT_COLUMNS} FROM alert_events WHERE alert_id = $1 ORDER BY id"
                ))
                .bind(alert_id)
                .fetch_all(&mut *self.0)
                .await?;
                rows.into_iter().map(AlertEventRow::into_event).collect()
            }

            async fn alert_episodes(
                &mut self,
                keys: &[(&str, &str, DateTime<Utc>)],
            ) -> StoreResult<Vec<Alert>> {
                if keys.is_empty() {
                    return Ok(Vec::new());
                }
                $crate::health_queries::$batch::alert_episodes(&mut *self.0, keys).await
            }

            async fn insert_alerts(&mut self, new: &[Alert]) -> StoreResult<()> {
                if new.is_empty() {
                    return Ok(());
                }
                $crate::health_queries::$batch::insert_alerts(&mut *self.0, new).await
            }

            async fn insert_alert_events(&mut self, events: &[AlertEvent]) -> StoreResult<()> {
                if events.is_empty() {
                    return Ok(());
                }
                $crate::health_queries::$batch::insert_alert_events(&mut *self.0, events).await
            }

            async fn insert_events(
                &mut self,
                events: Vec<(&str, serde_json::Value)>,
                now: DateTime<Utc>,
            ) -> StoreResult<Vec<flightdeck_model::LiveEvent>> {
                if events.is_empty() {
                    return Ok(Vec::new());
                }
                let lock: &str = $event_lock;
                if !lock.is_empty() {
                    sqlx::query(lock).execute(&mut *self.0).await?;
                }
                let mut seqs = $crate::health_queries::$batch::insert_events(&mut *self.0, &events, now).await?;
                // Sequence numbers follow the input order; RETURNING's order is not promised.
                seqs.sort_unstable();
                Ok(seqs
                    .into_iter()
                    .zip(events)
                    .map(|(seq, (kind, data))| flightdeck_model::LiveEvent {
                        seq,
                        kind: kind.to_owned(),
                        at: now,
                        data,
                    })
                    .collect())
            }

            async fn live_alert_counts(&mut self) -> StoreResult<std::collections::BTreeMap<String, flightdeck_model::AlertCounts>> {
                // The WHERE repeats `alerts_live_idx`'s predicate word for word so that both
                // planners match the partial index.
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT component, severity, COUNT(*) FROM alerts \
                     WHERE state <> 'resolved' AND source_status = 'firing' AND component IS NOT NULL \
                     GROUP BY component, severity",
                )
                .fetch_all(&mut *self.0)
                .await?;
                let mut counts: std::collections::BTreeMap<String, flightdeck_model::AlertCounts> =
                    std::collections::BTreeMap::new();
                for (component, severity, n) in rows {
                    let n = u32::try_from(n).unwrap_or(u32::MAX);
                    let entry = counts.entry(component).or_default();
                    match severity.parse().map_err(StoreError::Corrupt)? {
                        flightdeck_model::AlertSeverity::Critical => entry.critical = n,
                        flightdeck_model::AlertSeverity::Warning => entry.warning = n,
                        flightdeck_model::AlertSeverity::Info => entry.info = n,
                    }
                }
                Ok(counts)
            }

            async fn live_alert_summary(&mut self) -> StoreResult<flightdeck_model::AlertSummary> {
                let rows: Vec<(String, String, i64)> = sqlx::query_as(
                    "SELECT state, severity, COUNT(*) FROM alerts \
                     WHERE state <> 'resolved' AND source_status = 'firing' \
                     GROUP BY state, severity",
                )
                .fetch_all(&mut *self.0)
                .await?;
                let mut summary = flightdeck_model::AlertSummary::default();
                for (state, severity, n) in rows {
                    let n = u32::try_from(n).unwrap_or(u32::MAX);
                    let counts = match state.parse().map_err(StoreError::Corrupt)? {
                        flightdeck_model::TriageState::Open => &mut summary.open,
                        flightdeck_model::TriageState::Acknowledged => &mut summary.acknowledged,
                        flightdeck_model::TriageState::Escalated => &mut summary.escalated,
                        flightdeck_model::TriageState::Resolved => continue,
                    };
                    match severity.parse().map_err(StoreError::Corrupt)? {
                        flightdeck_model::AlertSeverity::Critical => counts.critical = n,
                        flightdeck_model::AlertSeverity::Warning => counts.warning = n,
                        flightdeck_model::AlertSeverity::Info => counts.info = n,
                    }
                }
                Ok(summary)
            }

            async fn escalation_candidates(
                &mut self,
                started_by: DateTime<Utc>,
                limit: u32,
            ) -> StoreResult<Vec<Alert>> {
                let rows: Vec<AlertRow> = sqlx::query_as(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE state = 'open' AND source_status = 'firing' \
                     AND severity = 'critical' AND starts_at <= $1 ORDER BY starts_at LIMIT $2"
                ))
                .bind(started_by)
                .bind(i64::from(limit))
                .fetch_all(&mut *self.0)
                .await?;
                alerts(rows)
            }

            async fn replace_slo(&mut self, slo: &flightdeck_model::Slo, now: DateTime<Utc>) -> StoreResult<()> {
                let done = sqlx::query("UPDATE slos SET body = $2, updated_at = $3 WHERE id = $1")
                    .bind(slo.id)
                    .bind(Json(slo))
                    .bind(now)
                    .execute(&mut *self.0)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }
        }
    };
}

pub(crate) use impl_health_queries;

/// Batched ingest on PostgreSQL: arrays through `UNNEST`, so each statement's text is the same
/// whatever the number of rows — prepared once per connection, planned once — instead of a new
/// statement (parse, describe, plan thousands of parameters) for every batch size.
pub(crate) mod pg_batch {
    use super::*;
    use sqlx::PgConnection;

    pub(crate) async fn alert_episodes(
        conn: &mut PgConnection,
        keys: &[(&str, &str, DateTime<Utc>)],
    ) -> StoreResult<Vec<Alert>> {
        let sources: Vec<&str> = keys.iter().map(|k| k.0).collect();
        let fingerprints: Vec<&str> = keys.iter().map(|k| k.1).collect();
        let starts: Vec<DateTime<Utc>> = keys.iter().map(|k| episode_start(k.2)).collect();
        // One index lookup per key (LATERAL): as `IN (SELECT … UNNEST …)` the planner chose a
        // hash semi-join over a sequential scan of every alert ever stored.
        let rows: Vec<AlertRow> = sqlx::query_as(&format!(
            "SELECT a.* FROM UNNEST($1::text[], $2::text[], $3::timestamptz[]) AS k(s, f, t) \
             CROSS JOIN LATERAL (SELECT {ALERT_COLUMNS} FROM alerts \
             WHERE source = k.s AND fingerprint = k.f AND starts_at = k.t FOR UPDATE) AS a"
        ))
        .bind(sources)
        .bind(fingerprints)
        .bind(starts)
        .fetch_all(conn)
        .await?;
        alerts(rows)
    }

    pub(crate) async fn insert_alerts(conn: &mut PgConnection, new: &[Alert]) -> StoreResult<()> {
        let col = |f: fn(&Alert) -> String| new.iter().map(f).collect::<Vec<String>>();
        let opt = |f: fn(&Alert) -> Option<String>| new.iter().map(f).collect::<Vec<_>>();
        // Sent as text: the columns are `json` (migration 0010), kept as written.
        let json = |f: fn(&Alert) -> &BTreeMap<String, String>| {
            new.iter()
                .map(|a| serde_json::to_string(f(a)).expect("string maps serialise"))
                .collect::<Vec<String>>()
        };
        sqlx::query(&format!(
            "INSERT INTO alerts ({ALERT_COLUMNS}) SELECT * FROM UNNEST($1::uuid[], $2::text[], \
             $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int4[], \
             $10::text[], $11::text[]::json[], $12::text[]::json[], $13::timestamptz[], $14::text[], $15::timestamptz[], \
             $16::text[], $17::timestamptz[], $18::timestamptz[], $19::text[])"
        ))
        .bind(new.iter().map(|a| a.id).collect::<Vec<Uuid>>())
        .bind(col(|a| a.source.clone()))
        .bind(col(|a| a.fingerprint.clone()))
        .bind(new.iter().map(|a| episode_start(a.starts_at)).collect::<Vec<_>>())
        .bind(col(|a| a.name.clone()))
        .bind(col(|a| a.severity.as_str().to_owned()))
        .bind(col(|a| a.source_status.as_str().to_owned()))
        .bind(col(|a| a.state.as_str().to_owned()))
        .bind(
            new.iter()
                .map(|a| i32::try_from(a.escalation_level).unwrap_or(i32::MAX))
                .collect::<Vec<i32>>(),
        )
        .bind(opt(|a| a.component.clone()))
        .bind(json(|a| &a.labels))
        .bind(json(|a| &a.annotations))
        .bind(new.iter().map(|a| a.ends_at).collect::<Vec<_>>())
        .bind(opt(|a| a.acknowledged_by.clone()))
        .bind(new.iter().map(|a| a.acknowledged_at).collect::<Vec<_>>())
        .bind(opt(|a| a.last_note.clone()))
        .bind(new.iter().map(|a| a.received_at).collect::<Vec<_>>())
        .bind(new.iter().map(|a| a.updated_at).collect::<Vec<_>>())
        .bind(opt(|a| a.generator_url.clone()))
        .execute(conn)
        .await?;
        Ok(())
    }

    pub(crate) async fn insert_alert_events(
        conn: &mut PgConnection,
        events: &[AlertEvent],
    ) -> StoreResult<()> {
        let opt = |f: fn(&AlertEvent) -> Option<String>| events.iter().map(f).collect::<Vec<_>>();
        sqlx::query(&format!(
            "INSERT INTO alert_events ({ALERT_EVENT_COLUMNS}) SELECT * FROM UNNEST($1::uuid[], \
             $2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int4[], \
             $9::text[], $10::text[])"
        ))
        .bind(events.iter().map(|e| e.id).collect::<Vec<Uuid>>())
        .bind(events.iter().map(|e| e.alert_id).collect::<Vec<Uuid>>())
        .bind(events.iter().map(|e| e.at).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.actor.clone()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.action.clone()).collect::<Vec<_>>())
        .bind(opt(|e| e.from_state.map(|s| s.as_str().to_owned())))
        .bind(events.iter().map(|e| e.to_state.as_str().to_owned()).collect::<Vec<_>>())
        .bind(
            events
                .iter()
                .map(|e| i32::try_from(e.escalation_level).unwrap_or(i32::MAX))
                .collect::<Vec<i32>>(),
        )
        .bind(opt(|e| e.target.clone()))
        .bind(opt(|e| e.note.clone()))
        .execute(conn)
        .await?;
        Ok(())
    }

    pub(crate) async fn insert_events(
        conn: &mut PgConnection,
        events: &[(&str, serde_json::Value)],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        // The payloads go as text and are stored as `json` (migration 0008): validated, kept
        // as sent, and read back verbatim — no binary conversion either way.
        let seqs: Vec<i64> = sqlx::query_scalar(
            "INSERT INTO events (kind, at, data) SELECT k, $2, d::json FROM UNNEST($1::text[], $3::text[]) AS u(k, d) \
             RETURNING seq",
        )
        .bind(events.iter().map(|e| e.0).collect::<Vec<&str>>())
        .bind(now)
        .bind(
            events
                .iter()
                .map(|e| e.1.to_string())
                .collect::<Vec<String>>(),
        )
        .fetch_all(conn)
        .await?;
        Ok(seqs)
    }
}

/// Batched ingest on SQLite: multi-row `VALUES` (no arrays there), chunked under its parameter
/// limit.
pub(crate) mod sqlite_batch {
    use super::*;
    use sqlx::SqliteConnection;

    pub(crate) async fn alert_episodes(
        conn: &mut SqliteConnection,
        keys: &[(&str, &str, DateTime<Utc>)],
    ) -> StoreResult<Vec<Alert>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(chunk_rows(3)) {
            let sql = format!(
                "SELECT {ALERT_COLUMNS} FROM alerts WHERE (source, fingerprint, starts_at) IN (VALUES {})",
                placeholders(chunk.len(), 3),
            );
            let mut q = sqlx::query_as::<_, AlertRow>(&sql);
            for (source, fingerprint, starts_at) in chunk {
                q = q
                    .bind(*source)
                    .bind(*fingerprint)
                    .bind(episode_start(*starts_at));
            }
            found.extend(alerts(q.fetch_all(&mut *conn).await?)?);
        }
        Ok(found)
    }

    pub(crate) async fn insert_alerts(
        conn: &mut SqliteConnection,
        new: &[Alert],
    ) -> StoreResult<()> {
        for chunk in new.chunks(chunk_rows(19)) {
            let sql = format!(
                "INSERT INTO alerts ({ALERT_COLUMNS}) VALUES {}",
                placeholders(chunk.len(), 19)
            );
            let mut q = sqlx::query(&sql);
            for a in chunk {
                q = q
                    .bind(a.id)
                    .bind(&a.source)
                    .bind(&a.fingerprint)
                    .bind(episode_start(a.starts_at))
                    .bind(&a.name)
                    .bind(a.severity.as_str())
                    .bind(a.source_status.as_str())
                    .bind(a.state.as_str())
                    .bind(i32::try_from(a.escalation_level).unwrap_or(i32::MAX))
                    .bind(a.component.as_deref())
                    .bind(Json(&a.labels))
                    .bind(Json(&a.annotations))
                    .bind(a.ends_at)
                    .bind(a.acknowledged_by.as_deref())
                    .bind(a.acknowledged_at)
                    .bind(a.last_note.as_deref())
                    .bind(a.received_at)
                    .bind(a.updated_at)
                    .bind(a.generator_url.as_deref());
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    pub(crate) async fn insert_alert_events(
        conn: &mut SqliteConnection,
        events: &[AlertEvent],
    ) -> StoreResult<()> {
        for chunk in events.chunks(chunk_rows(10)) {
            let sql = format!(
                "INSERT INTO alert_events ({ALERT_EVENT_COLUMNS}) VALUES {}",
                placeholders(chunk.len(), 10)
            );
            let mut q = sqlx::query(&sql);
            for e in chunk {
                q = q
                    .bind(e.id)
                    .bind(e.alert_id)
                    .bind(e.at)
                    .bind(&e.actor)
                    .bind(&e.action)
                    .bind(e.from_state.map(|s| s.as_str()))
                    .bind(e.to_state.as_str())
                    .bind(i32::try_from(e.escalation_level).unwrap_or(i32::MAX))
                    .bind(e.target.as_deref())
                    .bind(e.note.as_deref());
            }
            q.execute(&mut *conn).await?;
        }
        Ok(())
    }

    pub(crate) async fn insert_events(
        conn: &mut SqliteConnection,
        events: &[(&str, serde_json::Value)],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        let mut seqs = Vec::with_capacity(events.len());
        for chunk in events.chunks(chunk_rows(3)) {
            let sql = format!(
                "INSERT INTO events (kind, at, data) VALUES {} RETURNING seq",
                placeholders(chunk.len(), 3)
            );
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            for (kind, data) in chunk {
                q = q.bind(*kind).bind(now).bind(Json(data));
            }
            seqs.extend(q.fetch_all(&mut *conn).await?);
        }
        Ok(seqs)
    }
}
