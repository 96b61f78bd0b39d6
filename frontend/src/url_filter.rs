//! List filters kept in the URL's query (`/alerts?state=open&severity=critical`), as Grafana,
//! Argo CD and GitLab keep theirs: a filtered list can be bookmarked, shared, linked to from
//! elsewhere in the app, and survives a reload.

use leptos::prelude::*;
use leptos_router::{
    NavigateOptions,
    hooks::{use_location, use_navigate, use_query_map},
    params::ParamsMap,
};

use crate::routes::Page;

/// A filter whose fields are query parameters; an empty value is no parameter.
pub trait UrlFilter: Clone + PartialEq + Send + Sync + 'static {
    /// The page whose list it filters (its path, without a query, is the URL's).
    const PAGE: Page;
    /// The parameters in a stable order, with their values.
    fn pairs(&self) -> Vec<(&'static str, String)>;
    /// The filter a query names; what it does not name is left empty.
    fn from_query(query: &ParamsMap) -> Self;
}

/// A query value, trimmed; empty when absent.
pub fn param(query: &ParamsMap, key: &str) -> String {
    query
        .get(key)
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// `<path>?k=v&…` for the filter's non-empty fields; the bare path when there are none.
pub fn path_of<F: UrlFilter>(filter: &F) -> String {
    let query: Vec<String> = filter
        .pairs()
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(&v)))
        .collect();
    if query.is_empty() {
        F::PAGE.path().to_owned()
    } else {
        format!("{}?{}", F::PAGE.path(), query.join("&"))
    }
}

/// The page's filter, starting from the URL and kept in step with it both ways: a link to
/// another filter of the same page (or the nav's bare path) changes it, and each change of it
/// replaces the URL — replaces, so Back leaves the page instead of undoing keystrokes.
pub fn filter_in_url<F: UrlFilter>() -> RwSignal<F> {
    let query = use_query_map();
    let pathname = use_location().pathname;
    // While the router leaves the page, the URL is already another page's: neither follow it
    // nor write to it then.
    let here = move || pathname.with_untracked(|p| p == F::PAGE.path());
    let filter = RwSignal::new(query.with_untracked(F::from_query));
    Effect::new(move |_| {
        let wanted = query.with(F::from_query);
        if here() && filter.with_untracked(|f| *f != wanted) {
            filter.set(wanted);
        }
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        let path = filter.with(path_of);
        // Only a change navigates: the URL may name the same filter in another order.
        if here() && query.with_untracked(|q| path_of(&F::from_query(q))) != path {
            navigate(
                &path,
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    });
    filter
}

/// A search box showing the filter's `text`, for `node_ref`. It follows the filter (a link, the
/// nav clearing it) but leaves what is typed as typed: the filter holds the text trimmed, and
/// writing that back would eat a space the user paused after.
pub fn search_box(
    text: impl Fn() -> String + Send + Sync + 'static,
) -> NodeRef<leptos::html::Input> {
    let input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        let text = text();
        if let Some(input) = input.get()
            && input.value().trim() != text
        {
            input.set_value(&text);
        }
    });
    input
}
