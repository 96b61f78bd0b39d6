//! The catalog (services and environments) as the signed-in shell sees it: loaded once,
//! kept current by `service.updated` / `environment.updated`, and reloaded after a reconnect.
//! Pages, filters and dialogs all read it from here instead of each fetching their own copy.

use flightdeck_model::{Environment, Role, Service};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{Api, AppError};
use crate::live::Live;

pub const SERVICE_UPDATED: &str = "service.updated";
pub const ENVIRONMENT_UPDATED: &str = "environment.updated";

#[derive(Clone, Copy)]
pub struct Catalog {
    pub services: RwSignal<Vec<Service>>,
    /// Ordered by rank (development before production).
    pub environments: RwSignal<Vec<Environment>>,
    /// `None` until the first load answers.
    pub state: RwSignal<Option<Result<(), AppError>>>,
    reload: RwSignal<u64>,
}

pub fn use_catalog() -> Catalog {
    expect_context::<Catalog>()
}

fn sort_environments(envs: &mut [Environment]) {
    envs.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.slug.cmp(&b.slug)));
}

impl Catalog {
    pub fn provide(api: Api, live: Live) -> Catalog {
        let catalog = Catalog {
            services: RwSignal::new(Vec::new()),
            environments: RwSignal::new(Vec::new()),
            state: RwSignal::new(None),
            reload: RwSignal::new(0),
        };
        provide_context(catalog);
        live.subscribe(move |event| match event.kind.as_str() {
            SERVICE_UPDATED => {
                if let Ok(s) = serde_json::from_value::<Service>(event.data.clone()) {
                    catalog
                        .services
                        .update(|list| upsert(list, s, |x| x.slug.clone()));
                }
            }
            ENVIRONMENT_UPDATED => {
                if let Ok(e) = serde_json::from_value::<Environment>(event.data.clone()) {
                    catalog.environments.update(|list| {
                        upsert(list, e, |x| x.slug.clone());
                        sort_environments(list);
                    });
                }
            }
            _ => {}
        });
        Effect::new(move |_| {
            live.reload.track();
            catalog.reload.track();
            spawn_local(async move { catalog.load(api).await });
        });
        catalog
    }

    pub fn refresh(&self) {
        self.reload.update(|n| *n += 1);
    }

    async fn load(self, api: Api) {
        let services = api.call(|c| async move { c.list_services().await }).await;
        let environments = api
            .call(|c| async move { c.list_environments().await })
            .await;
        match (services, environments) {
            (Ok(s), Ok(e)) => {
                let mut envs = e.items;
                sort_environments(&mut envs);
                set_if_changed(self.services, s.items);
                set_if_changed(self.environments, envs);
                set_if_changed(self.state, Some(Ok(())));
            }
            (Err(err), _) | (_, Err(err)) => {
                set_if_changed(self.state, Some(Err(err)));
            }
        }
    }

    /// The environment named `slug` (tracked).
    pub fn environment(&self, slug: &str) -> Option<Environment> {
        self.environments
            .with(|list| list.iter().find(|e| e.slug == slug).cloned())
    }
}

/// A reload that finds nothing new must not redraw what depends on the catalog (that would
/// close forms and dialogs opened meanwhile).
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    if signal.try_with_untracked(|v| *v != value).unwrap_or(false) {
        signal.try_set(value);
    }
}

fn upsert<T>(list: &mut Vec<T>, item: T, key: impl Fn(&T) -> String) {
    let k = key(&item);
    match list.iter_mut().find(|x| key(x) == k) {
        Some(slot) => *slot = item,
        None => list.push(item),
    }
}

/// What the signed-in user's role allows, for hiding what they cannot do.
pub fn role_allows(api: &Api, required: Role) -> bool {
    api.me().is_some_and(|m| m.role.allows(required))
}
