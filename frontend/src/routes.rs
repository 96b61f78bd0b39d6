//! Every screen of the app and the one place that knows its URL.

/// A screen reachable from the navigation. Route definitions and links both come from here,
/// so a path is spelled once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Overview,
    Deployments,
    Health,
    Alerts,
    Slos,
    Audit,
    Settings,
    Users,
    Catalog,
    Notifications,
    Silences,
}

impl Page {
    /// The pages in navigation order (Users and Catalog are tabs inside Settings, not nav entries).
    pub const NAV: [Page; 7] = [
        Page::Overview,
        Page::Deployments,
        Page::Health,
        Page::Alerts,
        Page::Slos,
        Page::Audit,
        Page::Settings,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Page::Overview => "/",
            Page::Deployments => "/deployments",
            Page::Health => "/health",
            Page::Alerts => "/alerts",
            Page::Slos => "/slos",
            Page::Audit => "/audit",
            Page::Settings => "/settings",
            Page::Users => "/settings/users",
            Page::Catalog => "/settings/catalog",
            Page::Notifications => "/settings/notifications",
            Page::Silences => "/settings/silences",
        }
    }

    /// The first path segment, for `StaticSegment` route definitions.
    pub fn segment(self) -> &'static str {
        self.path()
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
    }

    /// The second path segment of a page nested under another (Users, Catalog under Settings).
    pub fn subsegment(self) -> &'static str {
        self.path()
            .trim_start_matches('/')
            .split('/')
            .nth(1)
            .unwrap_or("")
    }

    pub fn title(self) -> &'static str {
        match self {
            Page::Overview => "Overview",
            Page::Deployments => "Deployments",
            Page::Health => "Health",
            Page::Alerts => "Alerts",
            Page::Slos => "SLOs",
            Page::Audit => "Audit log",
            Page::Settings => "Settings",
            Page::Users => "Users",
            Page::Catalog => "Catalog",
            Page::Notifications => "Notifications",
            Page::Silences => "Silences",
        }
    }

    /// Short name for the nav and for `data-testid="nav-<id>"`.
    pub fn id(self) -> &'static str {
        match self {
            Page::Overview => "overview",
            Page::Deployments => "deployments",
            Page::Health => "health",
            Page::Alerts => "alerts",
            Page::Slos => "slos",
            Page::Audit => "audit",
            Page::Settings => "settings",
            Page::Users => "users",
            Page::Catalog => "catalog",
            Page::Notifications => "notifications",
            Page::Silences => "silences",
        }
    }

    /// The page a location belongs to (the most specific one).
    pub fn for_path(path: &str) -> Option<Page> {
        [
            Page::Users,
            Page::Catalog,
            Page::Notifications,
            Page::Silences,
        ]
        .into_iter()
        .chain(Page::NAV)
        .find(|p| p.is_active(path))
    }

    /// Whether `path` (the current location) belongs to this page, for highlighting the nav.
    pub fn is_active(self, path: &str) -> bool {
        match self {
            Page::Overview => path == "/" || path.is_empty(),
            _ => path == self.path() || path.starts_with(&format!("{}/", self.path())),
        }
    }
}

/// The detail page of one deployment.
pub fn deployment_path(id: impl std::fmt::Display) -> String {
    format!("{}/{id}", Page::Deployments.path())
}

/// The page of one alert episode; notifications link here (`<public_url>/alerts/<id>`).
pub fn alert_path(id: impl std::fmt::Display) -> String {
    format!("{}/{id}", Page::Alerts.path())
}
