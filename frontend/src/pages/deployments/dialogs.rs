//! The two dialogs that change what runs: a new deployment and a rollback. Any page opens
//! them through [`Dialogs`]; the shell renders whichever is open.

use flightdeck_model::{CreateDeployment, CreateRollback, Deployment, RollbackPreview};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::api::{AppError, use_api};
use crate::catalog::use_catalog;
use crate::components::{dialog::Modal, icons::Icon, states::Loading, toast::use_toasts};
use crate::routes::deployment_path;

/// What the new-deployment dialog starts with (from an Overview cell, say).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeployPrefill {
    pub service: Option<String>,
    pub environment: Option<String>,
    /// A promotion: the version running in the environment before this one, and that
    /// environment's name.
    pub promote: Option<Promotion>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Promotion {
    pub version: String,
    pub from: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RollbackTarget {
    pub service: String,
    pub environment: String,
}

#[derive(Clone, Copy)]
pub struct Dialogs {
    pub deploy: RwSignal<Option<DeployPrefill>>,
    pub rollback: RwSignal<Option<RollbackTarget>>,
}

pub fn use_dialogs() -> Dialogs {
    expect_context::<Dialogs>()
}

impl Dialogs {
    pub fn provide() -> Dialogs {
        let d = Dialogs {
            deploy: RwSignal::new(None),
            rollback: RwSignal::new(None),
        };
        provide_context(d);
        d
    }

    pub fn open_deploy(&self, prefill: DeployPrefill) {
        self.rollback.set(None);
        self.deploy.set(Some(prefill));
    }

    pub fn open_rollback(&self, service: &str, environment: &str) {
        self.deploy.set(None);
        self.rollback.set(Some(RollbackTarget {
            service: service.to_owned(),
            environment: environment.to_owned(),
        }));
    }
}

/// Renders the open dialog, if any. Lives in the shell, so it survives page changes.
#[component]
pub fn DialogHost() -> impl IntoView {
    let dialogs = use_dialogs();
    view! {
        {move || dialogs.deploy.get().map(|prefill| view! { <DeployDialog prefill /> })}
        {move || dialogs.rollback.get().map(|target| view! { <RollbackDialog target /> })}
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_owned())
}

/// Checks the version as the server will: required, no spaces, at most 200 characters.
fn version_problem(v: &str) -> Option<&'static str> {
    let v = v.trim();
    if v.is_empty() {
        Some("Enter the version to deploy (a tag, image digest or commit).")
    } else if v.chars().any(char::is_whitespace) {
        Some("A version cannot contain spaces.")
    } else if v.len() > 200 {
        Some("At most 200 characters.")
    } else {
        None
    }
}

#[component]
fn FieldMessage(message: Signal<Option<String>>) -> impl IntoView {
    move || {
        message.get().map(|m| {
            view! { <span class="field-error" role="alert"><Icon name="alert" size=13 />{m}</span> }
        })
    }
}

#[component]
fn DeployDialog(prefill: DeployPrefill) -> impl IntoView {
    let api = use_api();
    let catalog = use_catalog();
    let toasts = use_toasts();
    let dialogs = use_dialogs();
    let navigate = use_navigate();
    let close = Callback::new(move |_| dialogs.deploy.set(None));

    let first_service = catalog
        .services
        .with_untracked(|s| s.first().map(|s| s.slug.clone()));
    let first_env = catalog
        .environments
        .with_untracked(|e| e.first().map(|e| e.slug.clone()));
    let service = RwSignal::new(prefill.service.or(first_service).unwrap_or_default());
    let environment = RwSignal::new(prefill.environment.or(first_env).unwrap_or_default());
    let title = match &prefill.promote {
        Some(p) => format!("Promote {} from {}", p.version, p.from),
        None => "New deployment".to_owned(),
    };
    let version = RwSignal::new(
        prefill
            .promote
            .as_ref()
            .map(|p| p.version.clone())
            .unwrap_or_default(),
    );
    // The history then says where the version came from.
    let description = RwSignal::new(
        prefill
            .promote
            .as_ref()
            .map(|p| format!("Promoted from {}", p.from))
            .unwrap_or_default(),
    );
    let confirm = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    let server_error = RwSignal::new(None::<AppError>);

    let env = Memo::new(move |_| catalog.environment(&environment.get()));
    let protected = move || env.with(|e| e.as_ref().is_some_and(|e| e.protected));
    let lock = move || env.with(|e| e.as_ref().and_then(|e| e.lock.clone()));

    // Recent versions of the chosen service, newest first, for the version field's suggestions.
    let suggestions = LocalResource::new(move || {
        let service = service.get();
        async move {
            if service.is_empty() {
                return Vec::new();
            }
            let page = api
                .call(|c| {
                    let service = service.clone();
                    async move {
                        c.list_deployments(&[("service", service.as_str()), ("limit", "50")])
                            .await
                    }
                })
                .await;
            let mut versions: Vec<String> = Vec::new();
            for d in page.map(|p| p.items).unwrap_or_default() {
                if !versions.contains(&d.version) {
                    versions.push(d.version);
                }
            }
            versions.truncate(15);
            versions
        }
    });

    let client_error = move |field: &str| -> Option<String> {
        if !tried.get() {
            return None;
        }
        match field {
            "service" if service.with(String::is_empty) => Some("Choose a service.".into()),
            "environment" if environment.with(String::is_empty) => {
                Some("Choose an environment.".into())
            }
            "version" => version.with(|v| version_problem(v).map(str::to_owned)),
            "confirm" if protected() && confirm.with(|c| c.trim() != environment.get()) => {
                Some(format!("Type “{}” to confirm.", environment.get()))
            }
            _ => None,
        }
    };
    let message_for = move |field: &'static str| {
        Signal::derive(move || {
            client_error(field)
                .or_else(|| server_error.with(|e| e.as_ref().and_then(|e| e.field(field))))
        })
    };

    let deploy = Action::new_local(move |body: &CreateDeployment| {
        let body = body.clone();
        async move {
            api.call(move |c| {
                let body = body.clone();
                async move { c.deploy(&body).await }
            })
            .await
        }
    });
    let pending = deploy.pending();
    Effect::new(move |_| match deploy.value().get() {
        Some(Ok(d)) => {
            toasts.success(format!(
                "Deploying {} {} to {}.",
                d.service, d.version, d.environment
            ));
            dialogs.deploy.set(None);
            navigate(&deployment_path(d.id), NavigateOptions::default());
        }
        Some(Err(e)) => server_error.set(Some(e)),
        None => {}
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        server_error.set(None);
        let invalid = ["service", "environment", "version", "confirm"]
            .into_iter()
            .any(|f| client_error(f).is_some());
        if invalid {
            return;
        }
        deploy.dispatch(CreateDeployment {
            service: service.get_untracked(),
            environment: environment.get_untracked(),
            version: version.get_untracked().trim().to_owned(),
            description: non_empty(&description.get_untracked()),
            confirm: protected().then(|| confirm.get_untracked().trim().to_owned()),
            commit_sha: None,
            commit_url: None,
            committed_at: None,
        });
    };
    // A problem that is not about one field (409: a deployment or a lock in the way).
    let general_error = move || {
        server_error.with(|e| {
            e.as_ref()
                .filter(|e| e.fields.is_empty())
                .map(|e| e.message.clone())
        })
    };

    view! {
        <Modal title on_close=close testid="deploy-dialog">
            <form class="modal-body form-stack" on:submit=submit novalidate>
                <div class="form-row">
                    <label class="field">
                        <span class="field-label">"Service"</span>
                        <select data-testid="deploy-service" bind:value=service>
                            <option value="" disabled>"Choose…"</option>
                            <For each=move || catalog.services.get() key=|s| s.slug.clone() let:s>
                                <option value=s.slug.clone() selected=service.get_untracked() == s.slug>{s.name.clone()}</option>
                            </For>
                        </select>
                        <FieldMessage message=message_for("service") />
                    </label>
                    <label class="field">
                        <span class="field-label">"Environment"</span>
                        <select data-testid="deploy-environment" bind:value=environment>
                            <option value="" disabled>"Choose…"</option>
                            <For each=move || catalog.environments.get() key=|e| e.slug.clone() let:e>
                                <option value=e.slug.clone() selected=environment.get_untracked() == e.slug>
                                    {format!("{}{}", e.name, if e.protected { " (protected)" } else { "" })}
                                </option>
                            </For>
                        </select>
                        <FieldMessage message=message_for("environment") />
                    </label>
                </div>
                <label class="field">
                    <span class="field-label">"Version"</span>
                    <input type="text" list="deploy-version-suggestions" autocomplete="off" spellcheck="false"
                        placeholder="v1.4.2, a commit SHA or an image digest"
                        class="mono" autofocus data-testid="deploy-version" bind:value=version />
                    <datalist id="deploy-version-suggestions">
                        {move || suggestions.get().unwrap_or_default().into_iter()
                            .map(|v| view! { <option value=v></option> }).collect_view()}
                    </datalist>
                    <FieldMessage message=message_for("version") />
                </label>
                <label class="field">
                    <span class="field-label">"Description "<span class="muted">"(optional)"</span></span>
                    <input type="text" maxlength="500" placeholder="What changes, a ticket or PR link"
                        data-testid="deploy-description" bind:value=description />
                </label>
                {move || lock().map(|l| view! {
                    <div class="callout callout-warn" data-testid="deploy-locked">
                        <Icon name="lock" />
                        <p><strong>{format!("{} is locked", environment.get())}</strong>
                           {format!(" by {}: {}. Deploys are refused until it is unlocked; rollbacks are still allowed.", l.locked_by, l.reason)}</p>
                    </div>
                })}
                <Show when=protected>
                    <div class="callout callout-danger" data-testid="deploy-protected">
                        <Icon name="alert" />
                        <div>
                            <p><strong>{move || format!("{} is a protected environment.", environment.get())}</strong>
                               " This changes what your users run. Type the environment's name to confirm."</p>
                            <label class="field">
                                <span class="field-label">{move || format!("Type “{}”", environment.get())}</span>
                                <input type="text" autocomplete="off" spellcheck="false" class="mono"
                                    data-testid="deploy-confirm" bind:value=confirm />
                                <FieldMessage message=message_for("confirm") />
                            </label>
                        </div>
                    </div>
                </Show>
                {move || general_error().map(|m| view! {
                    <p class="form-error" role="alert" data-testid="deploy-error"><Icon name="alert" />{m}</p>
                })}
                <div class="modal-actions">
                    <button class="button button-ghost" type="button" on:click=move |_| close.run(())>"Cancel"</button>
                    <button class="button" class:button-danger=protected class:button-primary=move || !protected()
                        type="submit" data-testid="deploy-submit" disabled=move || pending.get()>
                        <Icon name="rocket" />
                        {move || if pending.get() { "Starting…".to_owned() } else { format!("Deploy to {}", environment.get()) }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn RollbackDialog(target: RollbackTarget) -> impl IntoView {
    let api = use_api();
    let dialogs = use_dialogs();
    let close = Callback::new(move |_| dialogs.rollback.set(None));
    let title = format!("Roll back {} in {}", target.service, target.environment);
    let (service, environment) = (target.service.clone(), target.environment.clone());
    let preview = LocalResource::new(move || {
        let (service, environment) = (service.clone(), environment.clone());
        async move {
            api.call(|c| {
                let (service, environment) = (service.clone(), environment.clone());
                async move { c.preview_rollback(&service, &environment).await }
            })
            .await
        }
    });
    view! {
        <Modal title on_close=close testid="rollback-dialog" danger=true>
            <div class="modal-body">
                {move || match preview.get() {
                    None => view! { <Loading label="Finding the last good version…" /> }.into_any(),
                    Some(Err(e)) => view! {
                        <div class="callout callout-warn" data-testid="rollback-unavailable">
                            <Icon name="alert" />
                            <p><strong>"Nothing to roll back to. "</strong>{e.message}</p>
                        </div>
                        <div class="modal-actions">
                            <button class="button" type="button" on:click=move |_| close.run(())>"Close"</button>
                        </div>
                    }.into_any(),
                    Some(Ok(p)) => view! { <RollbackForm preview=p target=target.clone() /> }.into_any(),
                }}
            </div>
        </Modal>
    }
}

#[component]
fn RollbackForm(preview: RollbackPreview, target: RollbackTarget) -> impl IntoView {
    let api = use_api();
    let toasts = use_toasts();
    let dialogs = use_dialogs();
    let navigate = use_navigate();
    let reason = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    let server_error = RwSignal::new(None::<AppError>);
    let protected = preview.protected;
    let env_slug = target.environment.clone();

    let env_for_check = env_slug.clone();
    let client_error = move |field: &str| -> Option<String> {
        if !tried.get() {
            return None;
        }
        match field {
            "reason" if reason.with(|r| r.trim().is_empty()) => {
                Some("Say why: it goes into the audit log and the timeline.".into())
            }
            "confirm" if protected && confirm.with(|c| c.trim() != env_for_check) => {
                Some(format!("Type “{env_for_check}” to confirm."))
            }
            _ => None,
        }
    };
    let client_error = StoredValue::new(client_error);
    let message_for = move |field: &'static str| {
        Signal::derive(move || {
            client_error
                .with_value(|f| f(field))
                .or_else(|| server_error.with(|e| e.as_ref().and_then(|e| e.field(field))))
        })
    };

    let rollback = Action::new_local(move |body: &CreateRollback| {
        let body = body.clone();
        async move {
            api.call(move |c| {
                let body = body.clone();
                async move { c.rollback(&body).await }
            })
            .await
        }
    });
    let pending = rollback.pending();
    Effect::new(move |_| match rollback.value().get() {
        Some(Ok(d)) => {
            let d: Deployment = d;
            toasts.success(format!(
                "Rolling back {} in {} to {}.",
                d.service, d.environment, d.version
            ));
            dialogs.rollback.set(None);
            navigate(&deployment_path(d.id), NavigateOptions::default());
        }
        Some(Err(e)) => server_error.set(Some(e)),
        None => {}
    });
    let to_deployment = preview.to_deployment;
    let (service, environment) = (target.service.clone(), target.environment.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        tried.set(true);
        server_error.set(None);
        if ["reason", "confirm"]
            .into_iter()
            .any(|f| client_error.with_value(|c| c(f)).is_some())
        {
            return;
        }
        rollback.dispatch(CreateRollback {
            service: service.clone(),
            environment: environment.clone(),
            to_deployment: Some(to_deployment),
            reason: reason.get_untracked().trim().to_owned(),
            confirm: protected.then(|| confirm.get_untracked().trim().to_owned()),
        });
    };
    let general_error = move || {
        server_error.with(|e| {
            e.as_ref()
                .filter(|e| e.fields.is_empty())
                .map(|e| e.message.clone())
        })
    };
    let from = preview.from_version.clone().unwrap_or_else(|| "—".into());
    view! {
        <form class="form-stack" on:submit=submit novalidate>
            <div class="version-change" aria-label="Version change">
                <div class="version-box version-from">
                    <span class="field-label">"Now"</span>
                    <code data-testid="rollback-from">{from}</code>
                </div>
                <span class="version-arrow" aria-hidden="true">"→"</span>
                <div class="version-box version-to">
                    <span class="field-label">"Back to"</span>
                    <code data-testid="rollback-to">{preview.to_version.clone()}</code>
                </div>
            </div>
            <p class="muted small">
                "The last succeeded version that is not marked bad ("
                <a href=deployment_path(preview.to_deployment)>"its deployment"</a>
                "). The executor runs it now, even if the environment is locked."
            </p>
            <label class="field">
                <span class="field-label">"Reason"</span>
                <textarea rows="2" autofocus maxlength="1000" placeholder="Error rate up after v2; see INC-123"
                    data-testid="rollback-reason" bind:value=reason></textarea>
                <FieldMessage message=message_for("reason") />
            </label>
            {protected.then(|| {
                let env = env_slug.clone();
                view! {
                    <div class="callout callout-danger">
                        <Icon name="alert" />
                        <div>
                            <p><strong>{format!("{env} is a protected environment.")}</strong>" Type its name to confirm."</p>
                            <label class="field">
                                <span class="field-label">{format!("Type “{env}”")}</span>
                                <input type="text" autocomplete="off" spellcheck="false" class="mono"
                                    data-testid="rollback-confirm" bind:value=confirm />
                                <FieldMessage message=message_for("confirm") />
                            </label>
                        </div>
                    </div>
                }
            })}
            {move || general_error().map(|m| view! {
                <p class="form-error" role="alert" data-testid="rollback-error"><Icon name="alert" />{m}</p>
            })}
            <div class="modal-actions">
                <button class="button button-ghost" type="button" on:click=move |_| dialogs.rollback.set(None)>"Cancel"</button>
                <button class="button button-danger" type="submit" data-testid="rollback-submit" disabled=move || pending.get()>
                    <Icon name="undo" />
                    {move || if pending.get() { "Rolling back…" } else { "Roll back" }}
                </button>
            </div>
        </form>
    }
}
