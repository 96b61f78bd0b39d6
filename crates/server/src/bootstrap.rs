//! First-run set-up on an empty database: the bootstrap admin and the JWT signing key.

use chrono::Utc;
use flightdeck_domain::credentials::validate_password;
use flightdeck_model::{Id, Role};
use flightdeck_store::{NewAudit, NewUser, Store, StoreError};
use rand::{Rng, distributions::Alphanumeric};

use crate::{auth::password, settings::Settings, state::record_audit};

/// A login created on this start, to print once.
#[derive(Clone)]
pub struct BootstrapLogin {
    pub username: String,
    /// Only set when the password was generated (a configured one is already known).
    pub generated_password: Option<String>,
}

impl std::fmt::Debug for BootstrapLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapLogin")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Creates the bootstrap admin when there are no users at all. Replicas starting together
/// race harmlessly: the unique username lets exactly one win.
pub async fn ensure_admin(
    store: &dyn Store,
    settings: &Settings,
) -> anyhow::Result<Option<BootstrapLogin>> {
    if store.conn().await?.count_users().await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match &settings.admin_password {
        Some(p) => {
            validate_password(p.expose())
                .map_err(|e| anyhow::anyhow!("FLIGHTDECK_ADMIN_PASSWORD {}", e.message))?;
            (p.expose().to_owned(), false)
        }
        None => (random_password(), true),
    };
    let hash = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || password::hash(&password)).await??
    };
    let now = Utc::now();
    let new = NewUser {
        id: Id::now_v7(),
        username: settings.admin_user.clone(),
        password_hash: hash,
        role: Role::Admin,
        now,
    };
    let mut tx = store.begin().await?;
    let user = match tx.insert_user(&new).await {
        Ok(user) => user,
        Err(StoreError::Conflict { .. }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    record_audit(
        &mut *tx,
        &NewAudit {
            actor: "system".into(),
            action: "user.bootstrap".into(),
            target_type: "user".into(),
            target_id: user.id.to_string(),
            after: Some(serde_json::to_value(&user)?),
            reason: Some("first start on an empty database".into()),
            ..Default::default()
        },
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Some(BootstrapLogin {
        username: user.username,
        generated_password: generated.then_some(password),
    }))
}

/// The signing key: configured, else generated once and kept in the database so every replica
/// and every restart uses the same one.
pub async fn jwt_secret(store: &dyn Store, settings: &Settings) -> anyhow::Result<Vec<u8>> {
    if let Some(secret) = &settings.jwt_secret {
        anyhow::ensure!(
            secret.expose().len() >= 32,
            "FLIGHTDECK_JWT_SECRET must be at least 32 characters"
        );
        return Ok(secret.expose().as_bytes().to_vec());
    }
    let candidate: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(64)
        .map(char::from)
        .collect();
    let stored = store
        .conn()
        .await?
        .init_setting("jwt_secret", &candidate, Utc::now())
        .await?;
    Ok(stored.into_bytes())
}

fn random_password() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect()
}

/// Applies the config file's catalog: creates what is missing, updates what differs, sets the
/// declared executors — all in one transaction with audit entries by `config`.
pub async fn apply_catalog(
    store: &dyn Store,
    catalog: &crate::settings::CatalogSettings,
) -> anyhow::Result<()> {
    use flightdeck_domain::catalog::{validate_create_environment, validate_create_service};
    use flightdeck_model::CreateEnvironment;
    use flightdeck_store::{EnvironmentPatch, NewEnvironment, NewService, ServicePatch};

    if catalog.services.is_empty()
        && catalog.environments.is_empty()
        && catalog.executors.is_empty()
    {
        return Ok(());
    }
    let now = Utc::now();
    let mut tx = store.begin().await?;
    let mut changes = Vec::new();
    for spec in &catalog.services {
        validate_create_service(spec)
            .map_err(|e| anyhow::anyhow!("catalog service `{}`: {e:?}", spec.slug))?;
        match tx.service_by_slug(&spec.slug).await? {
            None => {
                let new = NewService {
                    id: Id::now_v7(),
                    slug: spec.slug.clone(),
                    name: spec.name.clone(),
                    team: spec.team.clone(),
                    repositories: spec.repositories.clone(),
                    now,
                };
                tx.insert_service(&new).await?;
                changes.push(("service.create", spec.slug.clone()));
            }
            Some(existing) => {
                let differs = existing.name != spec.name
                    || existing.team != spec.team
                    || existing.repositories != spec.repositories;
                if differs {
                    let patch = ServicePatch {
                        name: Some(spec.name.clone()),
                        // Removed from the file: removed from the service ("" clears).
                        team: Some(spec.team.clone().unwrap_or_default()),
                        repositories: Some(spec.repositories.clone()),
                    };
                    tx.update_service(existing.id, &patch, now).await?;
                    changes.push(("service.update", spec.slug.clone()));
                }
            }
        }
    }
    for spec in &catalog.environments {
        let as_create = CreateEnvironment {
            slug: spec.slug.clone(),
            name: spec.name.clone(),
            rank: spec.rank,
            protected: spec.protected,
            aliases: spec.aliases.clone(),
            freeze_windows: spec.freeze_windows.clone(),
        };
        validate_create_environment(&as_create)
            .map_err(|e| anyhow::anyhow!("catalog environment `{}`: {e:?}", spec.slug))?;
        let env = match tx.environment_by_slug(&spec.slug).await? {
            None => {
                let new = NewEnvironment {
                    id: Id::now_v7(),
                    slug: spec.slug.clone(),
                    name: spec.name.clone(),
                    rank: spec.rank,
                    protected: spec.protected,
                    aliases: spec.aliases.clone(),
                    freeze_windows: spec.freeze_windows.clone(),
                    now,
                };
                changes.push(("environment.create", spec.slug.clone()));
                tx.insert_environment(&new).await?
            }
            Some(existing) => {
                let patch = EnvironmentPatch {
                    name: Some(spec.name.clone()),
                    rank: Some(spec.rank),
                    protected: Some(spec.protected),
                    aliases: Some(spec.aliases.clone()),
                    freeze_windows: Some(spec.freeze_windows.clone()),
                };
                let updated = tx.update_environment(existing.id, &patch, now).await?;
                if updated != existing {
                    changes.push(("environment.update", spec.slug.clone()));
                }
                updated
            }
        };
        if let Some(executor) = &spec.executor {
            tx.put_executor(env.id, None, &serde_json::to_value(executor)?, now)
                .await?;
        }
    }
    for spec in &catalog.executors {
        let env = tx.environment_by_slug(&spec.environment).await?;
        let service = tx.service_by_slug(&spec.service).await?;
        let (Some(env), Some(service)) = (env, service) else {
            anyhow::bail!(
                "catalog executor for {}/{}: no such environment or service",
                spec.environment,
                spec.service
            );
        };
        tx.put_executor(
            env.id,
            Some(service.id),
            &serde_json::to_value(&spec.executor)?,
            now,
        )
        .await?;
    }
    for (action, slug) in changes {
        let entry = NewAudit {
            actor: "config".into(),
            action: action.into(),
            target_type: action.split('.').next().unwrap_or("catalog").into(),
            target_id: slug,
            reason: Some("declared in the config file".into()),
            ..Default::default()
        };
        record_audit(&mut *tx, &entry, now).await?;
    }
    tx.commit().await?;
    Ok(())
}
