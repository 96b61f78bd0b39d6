//! The catalog's input rules (services, environments, deploy and rollback requests) and how
//! CI/CD webhooks are matched to services and environments by the names they use.
//!
//! Validation collects every problem at once, so a form can show them all; each names its field.

use flightdeck_model::{
    CreateDeployment, CreateEnvironment, CreateRollback, CreateService, Environment, FieldError,
    MarkBad, UpdateEnvironment, UpdateService,
};

use crate::freeze::validate_freeze_windows;

pub const MAX_SLUG_LEN: usize = 63;
pub const MAX_NAME_LEN: usize = 100;
pub const MAX_VERSION_LEN: usize = 128;
pub const MAX_REPOSITORY_LEN: usize = 300;
pub const MAX_TEXT_LEN: usize = 1000;
pub const MAX_URL_LEN: usize = 2000;

/// Collects field errors; `finish` turns them into the validators' result.
#[derive(Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn check(&mut self, field: &str, problem: Option<&str>) {
        if let Some(message) = problem {
            self.0.push(FieldError {
                field: field.to_owned(),
                message: message.to_owned(),
            });
        }
    }

    fn extend(&mut self, result: Result<(), Vec<FieldError>>) {
        if let Err(errors) = result {
            self.0.extend(errors);
        }
    }

    fn finish(self) -> Result<(), Vec<FieldError>> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.0)
        }
    }
}

/// `^[a-z0-9][a-z0-9-]{0,62}$`: safe in URLs, paths and label values without escaping.
pub fn slug_problem(s: &str) -> Option<&'static str> {
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let bytes = s.as_bytes();
    let valid = !bytes.is_empty()
        && bytes.len() <= MAX_SLUG_LEN
        && ok(bytes[0])
        && bytes.iter().all(|&c| ok(c) || c == b'-');
    (!valid).then_some(
        "must be 1 to 63 lowercase letters, digits or '-', starting with a letter or digit",
    )
}

/// A display name: 1 to 100 characters, not only spaces, no control characters.
pub fn name_problem(s: &str) -> Option<&'static str> {
    let valid = !s.trim().is_empty()
        && s.chars().count() <= MAX_NAME_LEN
        && !s.chars().any(char::is_control);
    (!valid).then_some("must be 1 to 100 characters without control characters")
}

/// A version as CI reports it (`1.4.2`, `v2`, a commit SHA, an image digest): 1 to 128
/// characters with no whitespace, so it reads the same in a log line, a URL and a shell argument.
pub fn version_problem(s: &str) -> Option<&'static str> {
    let valid = !s.is_empty()
        && s.chars().count() <= MAX_VERSION_LEN
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    (!valid).then_some("must be 1 to 128 characters without spaces or control characters")
}

/// A repository URL or `owner/name` path: 1 to 300 characters with no whitespace.
pub fn repository_problem(s: &str) -> Option<&'static str> {
    let valid = !s.is_empty()
        && s.chars().count() <= MAX_REPOSITORY_LEN
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && !normalize_repository(s).is_empty();
    (!valid).then_some("must be a repository URL or owner/name path of at most 300 characters")
}

/// Free text (descriptions, reasons): at most 1000 characters; newlines and tabs are fine.
fn text_problem(s: &str) -> Option<&'static str> {
    let valid = s.chars().count() <= MAX_TEXT_LEN
        && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t');
    (!valid).then_some("must be at most 1000 characters without control characters")
}

/// A required reason: like free text, and not blank.
fn reason_problem(s: &str) -> Option<&'static str> {
    if s.trim().is_empty() {
        Some("is required: say why")
    } else {
        text_problem(s)
    }
}

/// An optional team: empty means "no team" (and clears it on update).
fn team_problem(team: Option<&str>) -> Option<&'static str> {
    team.filter(|t| !t.is_empty()).and_then(name_problem)
}

/// Entries must be valid, and none may repeat an earlier one (same path, and no conflicting host).
fn check_repositories(errors: &mut Errors, repositories: &[String]) {
    for (i, repo) in repositories.iter().enumerate() {
        let field = format!("repositories[{i}]");
        errors.check(&field, repository_problem(repo));
        let earlier = &repositories[..i];
        if repository_problem(repo).is_none()
            && earlier.iter().any(|e| {
                repository_problem(e).is_none()
                    && normalize_repository(e) == normalize_repository(repo)
                    && repository_matches(e, repo)
            })
        {
            errors.check(&field, Some("is listed twice"));
        }
    }
}

fn check_aliases(errors: &mut Errors, aliases: &[String]) {
    for (i, alias) in aliases.iter().enumerate() {
        errors.check(&format!("aliases[{i}]"), name_problem(alias));
    }
}

pub fn validate_create_service(s: &CreateService) -> Result<(), Vec<FieldError>> {
    let mut errors = Errors::default();
    errors.check("slug", slug_problem(&s.slug));
    errors.check("name", name_problem(&s.name));
    errors.check("team", team_problem(s.team.as_deref()));
    check_repositories(&mut errors, &s.repositories);
    errors.finish()
}

pub fn validate_update_service(s: &UpdateService) -> Result<(), Vec<FieldError>> {
    let mut errors = Errors::default();
    errors.check("name", s.name.as_deref().and_then(name_problem));
    errors.check("team", team_problem(s.team.as_deref()));
    check_repositories(&mut errors, s.repositories.as_deref().unwrap_or_default());
    errors.finish()
}

pub fn validate_create_environment(e: &CreateEnvironment) -> Result<(), Vec<FieldError>> {
    let mut errors = Errors::default();
    errors.check("slug", slug_problem(&e.slug));
    errors.check("name", name_problem(&e.name));
    check_aliases(&mut errors, &e.aliases);
    errors.extend(validate_freeze_windows(&e.freeze_windows));
    errors.finish()
}

pub fn validate_update_environment(e: &UpdateEnvironment) -> Result<(), Vec<FieldError>> {
    let mut errors = Errors::default();
    errors.check("name", e.name.as_deref().and_then(name_problem));
    check_aliases(&mut errors, e.aliases.as_deref().unwrap_or_default());
    errors.extend(validate_freeze_windows(
        e.freeze_windows.as_deref().unwrap_or_default(),
    ));
    errors.finish()
}

/// `confirm` is not checked here: whether it is needed depends on the environment
/// ([`crate::rollback::check_confirmation`]).
pub fn validate_create_deployment(d: &CreateDeployment) -> Result<(), Vec<FieldError>> {
    let mut errors = Errors::default();
    errors.check("service", slug_problem(&d.service));
    errors.check("environment", slug_problem(&d.environment));
    errors.check("version", version_problem(&d.version));
    errors.check(
        "description",
        d.description.as_deref().and_then(text_problem),
    );
    errors.check(
        "commit_sha",
        d.commit_sha.as_deref().and_then(commit_sha_problem),
    );
    errors.check("commit_url", d.commit_url.as_deref().and_then(url_problem));
    errors.finish()
}

pub fn validate_create_rollback(r: &CreateRollback) -> Result<(), Vec<FieldError>> {
    let mut errors = Errors::default();
    errors.check("service", slug_problem(&r.service));
    errors.check("environment", slug_problem(&r.environment));
    errors.check("reason", reason_problem(&r.reason));
    errors.finish()
}

pub fn validate_mark_bad(m: &MarkBad) -> Result<(), Vec<FieldError>> {
    let mut errors = Errors::default();
    errors.check("reason", reason_problem(&m.reason));
    errors.finish()
}

/// A full or abbreviated git object id: 4 to 64 hex digits (SHA-1 or SHA-256).
fn commit_sha_problem(s: &str) -> Option<&'static str> {
    let valid = (4..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
    (!valid).then_some("must be 4 to 64 hexadecimal digits")
}

/// Links are shown to people as clickable; only http(s) ones, so no `javascript:` sneaks in.
fn url_problem(s: &str) -> Option<&'static str> {
    let lower = s.to_ascii_lowercase();
    let valid = (lower.starts_with("https://") || lower.starts_with("http://"))
        && s.len() <= MAX_URL_LEN
        && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    (!valid).then_some("must be an http(s) URL of at most 2000 characters")
}

/// The host (if any) and the lowercased path of a repository reference, without `.git`, query,
/// fragment, user, port or surrounding slashes. Understands `https://host/owner/name(.git)`,
/// `ssh://git@host:22/owner/name`, `git@host:owner/name.git`, `host.tld/owner/name` and plain
/// `owner/name` (or deeper GitLab group paths).
fn parse_repository(s: &str) -> (Option<String>, String) {
    let s = s.trim().to_lowercase();
    let s = s.split(['?', '#']).next().unwrap_or_default();
    let (has_scheme, rest) = match s.split_once("://") {
        Some((_, rest)) => (true, rest),
        None => (false, s),
    };
    let first_slash = rest.find('/').unwrap_or(rest.len());
    // scp-like `git@host:owner/name`: a colon before the first slash, and no scheme.
    let scp = !has_scheme && rest[..first_slash].contains(':');
    let (host, path) = if has_scheme || scp {
        let split = if scp {
            rest.find(':').unwrap_or(rest.len())
        } else {
            first_slash
        };
        (
            Some(&rest[..split]),
            rest.get(split + 1..).unwrap_or_default(),
        )
    } else {
        // `github.com/owner/name`: a dotted first segment followed by at least two more.
        let segments: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
        if segments.len() >= 3 && segments[0].contains('.') {
            (Some(&rest[..first_slash]), &rest[first_slash + 1..])
        } else {
            (None, rest)
        }
    };
    let host = host.map(|h| {
        let h = h.rsplit('@').next().unwrap_or(h);
        let h = h.split(':').next().unwrap_or(h);
        h.strip_prefix("www.").unwrap_or(h).to_owned()
    });
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    (host.filter(|h| !h.is_empty()), segments.join("/"))
}

/// The comparable form of a repository reference: its path, lowercased, without host, `.git`
/// and surrounding slashes. `https://github.com/Acme/Checkout-API.git`,
/// `git@github.com:acme/checkout-api.git` and `acme/checkout-api` all become
/// `acme/checkout-api`.
pub fn normalize_repository(s: &str) -> String {
    parse_repository(s).1
}

/// Whether a repository a webhook reported is one configured on a service. The paths match
/// when equal, or when the shorter one — of at least two segments, i.e. an `owner/name` — is the
/// tail of the longer (`sub/proj` matches `group/sub/proj`). When both name a host the hosts must
/// be equal too; a host-less entry matches any host, which is what people mean by `owner/name`.
pub fn repository_matches(configured: &str, reported: &str) -> bool {
    let (host_a, a) = parse_repository(configured);
    let (host_b, b) = parse_repository(reported);
    if let (Some(x), Some(y)) = (&host_a, &host_b)
        && x != y
    {
        return false;
    }
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    short == long || (short.contains('/') && long.ends_with(&format!("/{short}")))
}

/// Whether an environment name a CI system reported means `env`: its slug, name or one of its
/// aliases, ignoring case and surrounding spaces.
pub fn environment_matches(env: &Environment, reported: &str) -> bool {
    let reported = reported.trim();
    !reported.is_empty()
        && std::iter::once(&env.slug)
            .chain(std::iter::once(&env.name))
            .chain(&env.aliases)
            .any(|n| n.trim().to_lowercase() == reported.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use flightdeck_model::{FreezeWindow, Id};

    fn fields(result: Result<(), Vec<FieldError>>) -> Vec<String> {
        result
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.field)
            .collect()
    }

    #[test]
    fn slugs_are_lowercase_letters_digits_and_dashes_not_starting_with_a_dash() {
        for ok in ["checkout-api", "a", "0", "prod-2", &"a".repeat(63)] {
            assert_eq!(slug_problem(ok), None, "{ok}");
        }
        for bad in [
            "",
            "-api",
            "Checkout",
            "check_out",
            "api ",
            "é",
            &"a".repeat(64),
        ] {
            assert!(slug_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn names_are_one_to_a_hundred_characters_without_control_characters() {
        assert_eq!(name_problem("Checkout API"), None);
        assert_eq!(name_problem(&"é".repeat(100)), None);
        assert!(name_problem("").is_some());
        assert!(name_problem("   ").is_some());
        assert!(name_problem("a\nb").is_some());
        assert!(name_problem(&"a".repeat(101)).is_some());
    }

    #[test]
    fn versions_have_no_whitespace_and_at_most_128_characters() {
        assert_eq!(version_problem("1.4.2"), None);
        assert_eq!(version_problem("sha256:abc123"), None);
        assert!(version_problem("").is_some());
        assert!(version_problem("1.0 beta").is_some());
        assert!(version_problem(&"1".repeat(129)).is_some());
    }

    #[test]
    fn repositories_are_non_empty_paths_of_at_most_300_characters() {
        assert_eq!(repository_problem("acme/checkout-api"), None);
        assert_eq!(repository_problem("git@github.com:acme/x.git"), None);
        assert!(repository_problem("").is_some());
        assert!(repository_problem("https://github.com/").is_some());
        assert!(repository_problem("acme/ x").is_some());
        assert!(repository_problem(&format!("acme/{}", "x".repeat(296))).is_some());
    }

    #[test]
    fn a_new_service_reports_every_bad_field_at_once() {
        let s = CreateService {
            slug: "Checkout".into(),
            name: "".into(),
            team: Some("\u{7}".into()),
            repositories: vec![
                "acme/x".into(),
                "".into(),
                "https://github.com/Acme/X.git".into(),
            ],
        };
        assert_eq!(
            fields(validate_create_service(&s)),
            ["slug", "name", "team", "repositories[1]", "repositories[2]"]
        );
    }

    #[test]
    fn a_valid_service_passes_and_an_empty_team_means_none() {
        let s = CreateService {
            slug: "checkout-api".into(),
            name: "Checkout API".into(),
            team: Some("".into()),
            repositories: vec![
                "acme/checkout-api".into(),
                "gitlab.example.com/acme/checkout-web".into(),
            ],
        };
        assert_eq!(validate_create_service(&s), Ok(()));
    }

    #[test]
    fn a_service_update_checks_only_the_fields_present() {
        assert_eq!(validate_update_service(&UpdateService::default()), Ok(()));
        let u = UpdateService {
            name: Some(" ".into()),
            team: Some("".into()),
            repositories: Some(vec!["a b".into()]),
        };
        assert_eq!(
            fields(validate_update_service(&u)),
            ["name", "repositories[0]"]
        );
    }

    fn weekly(from: &str) -> FreezeWindow {
        FreezeWindow::Weekly {
            name: None,
            weekdays: vec![5],
            from: from.into(),
            to: "06:00".into(),
        }
    }

    #[test]
    fn a_new_environment_checks_slug_name_aliases_and_freeze_windows() {
        let e = CreateEnvironment {
            slug: "production".into(),
            name: "Production".into(),
            rank: 30,
            protected: true,
            aliases: vec!["prod".into(), "".into()],
            freeze_windows: vec![weekly("22:00"), weekly("22")],
        };
        assert_eq!(
            fields(validate_create_environment(&e)),
            ["aliases[1]", "freeze_windows[1].from"]
        );
    }

    #[test]
    fn an_environment_update_checks_only_the_fields_present() {
        assert_eq!(
            validate_update_environment(&UpdateEnvironment::default()),
            Ok(())
        );
        let u = UpdateEnvironment {
            name: Some("".into()),
            aliases: Some(vec!["live".into()]),
            freeze_windows: Some(vec![weekly("7:00")]),
            ..Default::default()
        };
        assert_eq!(
            fields(validate_update_environment(&u)),
            ["name", "freeze_windows[0].from"]
        );
    }

    fn deploy() -> CreateDeployment {
        CreateDeployment {
            service: "checkout-api".into(),
            environment: "production".into(),
            version: "1.4.2".into(),
            description: Some("Fixes the basket total.\nSee #42.".into()),
            confirm: None,
            commit_sha: Some("9fceb02".into()),
            commit_url: Some("https://github.com/acme/checkout-api/commit/9fceb02".into()),
            committed_at: None,
        }
    }

    #[test]
    fn a_deploy_request_with_valid_fields_passes() {
        assert_eq!(validate_create_deployment(&deploy()), Ok(()));
    }

    #[test]
    fn a_deploy_request_reports_bad_version_description_sha_and_url() {
        let d = CreateDeployment {
            service: "".into(),
            version: "1 2".into(),
            description: Some("x".repeat(1001)),
            commit_sha: Some("xyz".into()),
            commit_url: Some("javascript:alert(1)".into()),
            ..deploy()
        };
        assert_eq!(
            fields(validate_create_deployment(&d)),
            [
                "service",
                "version",
                "description",
                "commit_sha",
                "commit_url"
            ]
        );
    }

    #[test]
    fn a_rollback_needs_a_reason_of_at_most_1000_characters() {
        let mut r = CreateRollback {
            service: "checkout-api".into(),
            environment: "production".into(),
            to_deployment: None,
            reason: "error rate doubled".into(),
            confirm: None,
        };
        assert_eq!(validate_create_rollback(&r), Ok(()));
        r.reason = "  ".into();
        let errors = validate_create_rollback(&r).unwrap_err();
        assert_eq!(
            (errors[0].field.as_str(), errors[0].message.as_str()),
            ("reason", "is required: say why")
        );
        r.reason = "x".repeat(1001);
        assert_eq!(fields(validate_create_rollback(&r)), ["reason"]);
    }

    #[test]
    fn marking_bad_needs_a_reason() {
        assert_eq!(
            validate_mark_bad(&MarkBad {
                reason: "corrupts carts".into()
            }),
            Ok(())
        );
        assert_eq!(
            fields(validate_mark_bad(&MarkBad { reason: "".into() })),
            ["reason"]
        );
    }

    #[test]
    fn repository_references_normalize_to_their_lowercase_path() {
        for s in [
            "https://github.com/Acme/Checkout-API.git",
            "git@github.com:acme/checkout-api.git",
            "ssh://git@github.com:22/acme/checkout-api",
            "github.com/acme/checkout-api/",
            "acme/checkout-api",
            "https://github.com/acme/checkout-api?tab=readme#top",
        ] {
            assert_eq!(normalize_repository(s), "acme/checkout-api", "{s}");
        }
        assert_eq!(
            normalize_repository("https://gitlab.example.com/group/sub/proj"),
            "group/sub/proj"
        );
    }

    #[test]
    fn repositories_match_by_path_or_owner_and_name_tail() {
        assert!(repository_matches(
            "acme/checkout-api",
            "https://github.com/Acme/Checkout-API.git"
        ));
        assert!(repository_matches(
            "git@github.com:acme/checkout-api.git",
            "https://github.com/acme/checkout-api"
        ));
        assert!(repository_matches(
            "sub/proj",
            "https://gitlab.example.com/group/sub/proj"
        ));
        assert!(repository_matches(
            "https://gitlab.example.com/group/sub/proj",
            "group/sub/proj"
        ));
    }

    #[test]
    fn repositories_on_different_hosts_or_groups_do_not_match() {
        assert!(!repository_matches(
            "https://github.com/acme/x",
            "https://gitlab.com/acme/x"
        ));
        assert!(!repository_matches("group/sub/proj", "other/sub/proj"));
        assert!(
            !repository_matches("proj", "group/proj"),
            "a bare name is too loose"
        );
        assert!(!repository_matches("acme/checkout", "acme/checkout-api"));
        assert!(!repository_matches("", ""));
    }

    #[test]
    fn environments_match_slug_name_and_aliases_ignoring_case() {
        let env = Environment {
            id: Id::from_u128(1),
            slug: "production".into(),
            name: "Production EU".into(),
            rank: 30,
            protected: true,
            aliases: vec!["prod".into(), "Live".into()],
            lock: None,
            freeze_windows: vec![],
            created_at: Utc.timestamp_opt(0, 0).unwrap(),
        };
        for ok in [
            "production",
            "PRODUCTION",
            "production eu",
            "prod",
            "live",
            " Prod ",
        ] {
            assert!(environment_matches(&env, ok), "{ok}");
        }
        for bad in ["staging", "prod-eu", ""] {
            assert!(!environment_matches(&env, bad), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_spelling_of_a_repository_matches_every_other(
            owner in "[a-z0-9][a-z0-9-]{0,15}",
            name in "[a-z0-9][a-z0-9_-]{0,15}(\\.[a-z]{1,2})?",
            upper in proptest::bool::ANY,
        ) {
            let path = format!("{owner}/{name}");
            let spellings = [
                format!("https://github.com/{path}.git"),
                format!("git@github.com:{path}.git"),
                format!("ssh://git@github.com:22/{path}"),
                format!("github.com/{path}/"),
                if upper { path.to_uppercase() } else { path.clone() },
            ];
            for a in &spellings {
                proptest::prop_assert_eq!(normalize_repository(a), path.clone());
                for b in &spellings {
                    proptest::prop_assert!(repository_matches(a, b), "{} vs {}", a, b);
                }
                let other = format!("{path}-other");
                let matches_other = repository_matches(a, &other);
                proptest::prop_assert!(!matches_other);
            }
        }

        #[test]
        fn repository_matching_is_symmetric(a in "[a-zA-Z0-9./:@_-]{0,30}", b in "[a-zA-Z0-9./:@_-]{0,30}") {
            proptest::prop_assert_eq!(repository_matches(&a, &b), repository_matches(&b, &a));
        }
    }
}
