//! Label matchers, as Prometheus and Alertmanager write them, and routing an alert to the
//! component it belongs to.
//!
//! A matcher is `label op value` with `op` one of `=`, `!=`, `=~`, `!~`: `component="checkout-api"`,
//! `service=~"checkout-.*"`, `job!="batch"`. As in Prometheus, regexes are fully anchored
//! (`=~"checkout"` does not match `checkout-api`), `.` also matches a newline (Prometheus 3), and a
//! missing label reads as the empty string, so `job!="x"` matches an alert without a `job`.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use flightdeck_model::FieldError;
use regex::Regex;
use serde::{Deserialize, Serialize};

/// Longest matcher value (or regex), in bytes; longer ones are refused rather than compiled.
pub const MAX_VALUE_LEN: usize = 1000;

/// The four matcher operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchOp {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regex,
    /// `!~`
    NotRegex,
}

impl MatchOp {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchOp::Equal => "=",
            MatchOp::NotEqual => "!=",
            MatchOp::Regex => "=~",
            MatchOp::NotRegex => "!~",
        }
    }

    /// `=` and `=~` select; `!=` and `!~` exclude.
    pub fn is_positive(self) -> bool {
        matches!(self, MatchOp::Equal | MatchOp::Regex)
    }
}

/// One parsed matcher. It travels as its text (`service=~"checkout-.*"`), and only valid text
/// deserializes, so a held `Matcher` always has a compiled regex when it needs one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Matcher {
    name: String,
    op: MatchOp,
    value: String,
    /// The anchored regex for `=~` and `!~`.
    regex: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, self.op, &self.value) == (&other.name, other.op, &other.value)
    }
}

impl Eq for Matcher {}

/// Why a matcher does not parse. Messages are shown to people as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    #[error("a matcher is empty; write it as label=\"value\"")]
    Empty,
    #[error("a matcher starts with a label name, as in job=\"api\"")]
    MissingName,
    #[error(
        "`{0}` is not a label name: use letters, digits and underscores, not starting with a digit"
    )]
    BadLabelName(String),
    #[error("expected =, !=, =~ or !~ after the label name `{0}`")]
    MissingOperator(String),
    #[error("expected a value after `{0}`; write an empty one as \"\"")]
    MissingValue(String),
    #[error("the quoted value is never closed")]
    UnterminatedQuote,
    #[error("unknown escape \\{0} in a quoted value; use \\\\, \\\", \\', \\n or \\t")]
    BadEscape(char),
    #[error("unexpected `{0}` after the value; quote values that contain spaces or commas")]
    TrailingInput(String),
    #[error("the value is longer than 1000 bytes")]
    TooLong,
    #[error("`{pattern}` is not a valid regular expression: {message}")]
    BadRegex { pattern: String, message: String },
    #[error("the selector's braces do not match")]
    UnbalancedBraces,
}

impl Matcher {
    /// Builds a matcher from its parts, compiling the regex for `=~`/`!~`.
    pub fn new(name: &str, op: MatchOp, value: &str) -> Result<Matcher, MatcherError> {
        if !is_label_name(name) {
            return Err(MatcherError::BadLabelName(name.to_owned()));
        }
        if value.len() > MAX_VALUE_LEN {
            return Err(MatcherError::TooLong);
        }
        let regex = match op {
            MatchOp::Regex | MatchOp::NotRegex => {
                Some(Regex::new(&format!("^(?s:{value})$")).map_err(|e| {
                    MatcherError::BadRegex {
                        pattern: value.to_owned(),
                        message: regex_message(&e),
                    }
                })?)
            }
            MatchOp::Equal | MatchOp::NotEqual => None,
        };
        Ok(Matcher {
            name: name.to_owned(),
            op,
            value: value.to_owned(),
            regex,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn op(&self) -> MatchOp {
        self.op
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether `value` (a label's value, `""` when the label is missing) satisfies the matcher.
    pub fn matches_value(&self, value: &str) -> bool {
        let regex = || self.regex.as_ref().is_some_and(|r| r.is_match(value));
        match self.op {
            MatchOp::Equal => value == self.value,
            MatchOp::NotEqual => value != self.value,
            MatchOp::Regex => regex(),
            MatchOp::NotRegex => !regex(),
        }
    }

    /// Whether an alert's labels satisfy the matcher; a missing label is the empty string.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_value(labels.get(&self.name).map_or("", String::as_str))
    }

    /// Whether the matcher selects on its label: it is positive and refuses the empty string, so
    /// it only matches alerts that carry the label (`component=~".*"` does not select).
    pub fn selects(&self) -> bool {
        self.op.is_positive() && !self.matches_value("")
    }
}

/// The regex crate's message is multi-line with a caret diagram; keep its last line, the reason.
fn regex_message(e: &regex::Error) -> String {
    let text = e.to_string();
    let line = text.lines().rev().find(|l| !l.trim().is_empty());
    line.unwrap_or("invalid")
        .trim()
        .trim_start_matches("error: ")
        .to_owned()
}

/// Writes the matcher as Prometheus does, the value always double-quoted and escaped, so that
/// parsing the text gives the same matcher back.
impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}\"", self.name, self.op.as_str())?;
        for c in self.value.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '"' => f.write_str("\\\"")?,
                '\n' => f.write_str("\\n")?,
                '\t' => f.write_str("\\t")?,
                c => write!(f, "{c}")?,
            }
        }
        f.write_str("\"")
    }
}

impl From<Matcher> for String {
    fn from(m: Matcher) -> String {
        m.to_string()
    }
}

impl TryFrom<String> for Matcher {
    type Error = MatcherError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        parse_matcher(&s)
    }
}

impl std::str::FromStr for Matcher {
    type Err = MatcherError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_matcher(s)
    }
}

/// Prometheus' classic label names: `[a-zA-Z_][a-zA-Z0-9_]*`.
fn is_label_name(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Parses one matcher: `name op value`, spaces allowed around each part. The value is
/// double-quoted (`"a\"b"`, with `\\ \" \' \n \t` escapes), single-quoted, or — as Alertmanager
/// allows — bare when it has no spaces, quotes, commas or braces (`severity=critical`).
pub fn parse_matcher(input: &str) -> Result<Matcher, MatcherError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(MatcherError::Empty);
    }
    // Every operator starts with `=` or `!`; what comes before is the name.
    let (name, rest) = s.split_at(s.find(['=', '!']).unwrap_or(s.len()));
    let name = name.trim();
    if name.is_empty() {
        return Err(MatcherError::MissingName);
    }
    if !is_label_name(name) {
        return Err(MatcherError::BadLabelName(name.to_owned()));
    }
    let (op, rest) = [
        ("=~", MatchOp::Regex),
        ("!~", MatchOp::NotRegex),
        ("!=", MatchOp::NotEqual),
        ("=", MatchOp::Equal),
    ]
    .iter()
    .find_map(|(text, op)| rest.strip_prefix(text).map(|r| (*op, r.trim_start())))
    .ok_or_else(|| MatcherError::MissingOperator(name.to_owned()))?;
    let (value, rest) = match rest.chars().next() {
        None => return Err(MatcherError::MissingValue(format!("{name}{}", op.as_str()))),
        Some(q @ ('"' | '\'')) => unquote(&rest[1..], q)?,
        Some(_) => {
            let end = rest
                .find(|c: char| c.is_whitespace() || "\"'`,{}".contains(c))
                .unwrap_or(rest.len());
            (rest[..end].to_owned(), &rest[end..])
        }
    };
    let rest = rest.trim();
    if !rest.is_empty() {
        return Err(MatcherError::TrailingInput(rest.to_owned()));
    }
    Matcher::new(name, op, &value)
}

/// Reads a quoted value up to the closing `quote`; returns it unescaped and what follows.
fn unquote(s: &str, quote: char) -> Result<(String, &str), MatcherError> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == quote => return Ok((out, &s[i + c.len_utf8()..])),
            '\\' => match chars.next().map(|(_, e)| e) {
                Some('\\') => out.push('\\'),
                Some('"') => out.push('"'),
                Some('\'') => out.push('\''),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(e) => return Err(MatcherError::BadEscape(e)),
                None => return Err(MatcherError::UnterminatedQuote),
            },
            c => out.push(c),
        }
    }
    Err(MatcherError::UnterminatedQuote)
}

/// Parses a selector: matchers separated by commas, optionally in braces, as in
/// `{component="checkout-api", job!="batch"}`. Commas inside quotes are part of the value; a
/// trailing comma is allowed; `{}` and the empty string are no matchers.
pub fn parse_selector(input: &str) -> Result<Vec<Matcher>, MatcherError> {
    let s = input.trim();
    let inner = match (s.strip_prefix('{'), s.ends_with('}')) {
        (Some(rest), true) => &rest[..rest.len() - 1],
        (None, false) => s,
        _ => return Err(MatcherError::UnbalancedBraces),
    };
    let mut parts = Vec::new();
    let (mut start, mut quote, mut escaped) = (0, None, false);
    for (i, c) in inner.char_indices() {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, ',') => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        escaped = false;
    }
    parts.push(&inner[start..]);
    // A trailing comma (or nothing at all) leaves an empty last part; anything else empty is a mistake.
    if parts.last().is_some_and(|p| p.trim().is_empty()) {
        parts.pop();
    }
    parts.into_iter().map(parse_matcher).collect()
}

/// Checks a component's matchers as given in a request; errors name the field `matchers[i]`.
pub fn validate_matchers(matchers: &[String]) -> Result<Vec<Matcher>, Vec<FieldError>> {
    let mut parsed = Vec::new();
    let mut errors = Vec::new();
    for (i, text) in matchers.iter().enumerate() {
        match parse_matcher(text) {
            Ok(m) => parsed.push(m),
            Err(e) => errors.push(FieldError {
                field: format!("matchers[{i}]"),
                message: e.to_string(),
            }),
        }
    }
    if errors.is_empty() {
        Ok(parsed)
    } else {
        Err(errors)
    }
}

/// The matchers a component without any gets by default: `component="<slug>"`, so an alert
/// labelled with the component's slug finds it with no configuration.
pub fn default_matchers(slug: &str) -> Vec<Matcher> {
    Matcher::new("component", MatchOp::Equal, slug)
        .map(|m| vec![m])
        .unwrap_or_default()
}

/// Whether every matcher matches. No matchers match nothing: an unconfigured component must not
/// swallow every alert.
pub fn matches_all(matchers: &[Matcher], labels: &BTreeMap<String, String>) -> bool {
    !matchers.is_empty() && matchers.iter().all(|m| m.matches(labels))
}

/// A silence: while it lasts (`starts_at` inclusive to `ends_at` exclusive), alerts whose labels
/// match all its matchers are recorded as usual but not notified about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Silence {
    pub matchers: Vec<Matcher>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl Silence {
    pub fn silences(&self, labels: &BTreeMap<String, String>, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now < self.ends_at && matches_all(&self.matchers, labels)
    }
}

/// Whether any silence in force at `now` covers an alert with these labels. A silence without
/// matchers silences nothing, as in Alertmanager, which refuses them.
pub fn is_silenced(
    labels: &BTreeMap<String, String>,
    silences: &[Silence],
    now: DateTime<Utc>,
) -> bool {
    silences.iter().any(|s| s.silences(labels, now))
}

/// A component and the matchers that route alerts to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentMatchers {
    /// The component's slug.
    pub component: String,
    pub matchers: Vec<Matcher>,
}

/// Which label decided a route, in order of preference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteLabel {
    Component,
    Service,
    Job,
    /// The component selects on none of the three; some other label decided.
    Other,
}

/// Where an alert goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub component: String,
    pub by: RouteLabel,
}

/// Routes an alert to one component by its labels.
///
/// A component is a candidate when all its matchers match (and it has at least one). Among
/// candidates, the one whose matchers select on the most telling label wins: a component with a
/// selecting matcher ([`Matcher::selects`]) on `component` beats one selecting on `service`,
/// which beats `job`, which beats any other label. Ties go, in turn, to an exact `=` on that
/// label over a regex, to more matchers (the more specific), and to the smaller slug, so the
/// answer never depends on the order components are listed in. `None` when nothing matches.
pub fn route(labels: &BTreeMap<String, String>, components: &[ComponentMatchers]) -> Option<Route> {
    components
        .iter()
        .filter(|c| matches_all(&c.matchers, labels))
        .map(|c| {
            let (by, exact) = route_label(&c.matchers);
            ((by, !exact, usize::MAX - c.matchers.len(), &c.component), c)
        })
        .min_by(|a, b| a.0.cmp(&b.0))
        .map(|((by, ..), c)| Route {
            component: c.component.clone(),
            by,
        })
}

/// The most telling label a component's matchers select on, and whether one of its selecting
/// matchers on that label is an exact `=`.
fn route_label(matchers: &[Matcher]) -> (RouteLabel, bool) {
    let on = |label: &str| {
        let selecting: Vec<_> = matchers
            .iter()
            .filter(|m| m.name == label && m.selects())
            .collect();
        (!selecting.is_empty()).then(|| selecting.iter().any(|m| m.op == MatchOp::Equal))
    };
    [
        ("component", RouteLabel::Component),
        ("service", RouteLabel::Service),
        ("job", RouteLabel::Job),
    ]
    .iter()
    .find_map(|(label, by)| on(label).map(|exact| (*by, exact)))
    .unwrap_or((RouteLabel::Other, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> Matcher {
        parse_matcher(s).unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn comp(slug: &str, matchers: &[&str]) -> ComponentMatchers {
        ComponentMatchers {
            component: slug.into(),
            matchers: matchers.iter().map(|s| m(s)).collect(),
        }
    }

    #[test]
    fn the_four_operators_parse_with_or_without_spaces() {
        assert_eq!(m(r#"component="checkout-api""#).op(), MatchOp::Equal);
        assert_eq!(m(r#"service =~ "checkout-.*""#).op(), MatchOp::Regex);
        assert_eq!(m(r#" job!="x" "#).op(), MatchOp::NotEqual);
        let nre = m(r#"env!~"dev|staging""#);
        assert_eq!(
            (nre.name(), nre.op(), nre.value()),
            ("env", MatchOp::NotRegex, "dev|staging")
        );
    }

    #[test]
    fn values_may_be_single_quoted_escaped_or_bare() {
        assert_eq!(m("severity=critical").value(), "critical");
        assert_eq!(m("team='sre'").value(), "sre");
        assert_eq!(m(r#"msg="a \"b\" \\ c\n""#).value(), "a \"b\" \\ c\n");
        assert_eq!(m(r#"path="""#).value(), "");
    }

    #[test]
    fn malformed_matchers_say_what_is_wrong() {
        let err = |s: &str| parse_matcher(s).unwrap_err();
        assert_eq!(err("  "), MatcherError::Empty);
        assert_eq!(
            err(r#"1job="x""#),
            MatcherError::BadLabelName("1job".into())
        );
        assert_eq!(
            err(r#"my-label="x""#),
            MatcherError::BadLabelName("my-label".into())
        );
        assert_eq!(err("job"), MatcherError::MissingOperator("job".into()));
        assert_eq!(err("job~x"), MatcherError::BadLabelName("job~x".into()));
        assert_eq!(err(r#"="x""#), MatcherError::MissingName);
        assert_eq!(err("job="), MatcherError::MissingValue("job=".into()));
        assert_eq!(err(r#"job="x"#), MatcherError::UnterminatedQuote);
        assert_eq!(err(r#"job="\q""#), MatcherError::BadEscape('q'));
        assert_eq!(err(r#"job="x" y"#), MatcherError::TrailingInput("y".into()));
        assert_eq!(
            err("job=a b").to_string(),
            "unexpected `b` after the value; quote values that contain spaces or commas"
        );
        assert_eq!(
            err(&format!("job=\"{}\"", "x".repeat(1001))),
            MatcherError::TooLong
        );
    }

    #[test]
    fn an_invalid_regex_is_refused_with_the_reason() {
        let e = parse_matcher(r#"service=~"checkout-(""#).unwrap_err();
        let MatcherError::BadRegex { pattern, message } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(pattern, "checkout-(");
        assert!(!message.contains('\n'), "{message}");
        assert!(
            e.to_string()
                .starts_with("`checkout-(` is not a valid regular expression: "),
            "{e}"
        );
    }

    #[test]
    fn regexes_are_fully_anchored_like_prometheus() {
        let r = m(r#"service=~"checkout""#);
        assert!(r.matches_value("checkout"));
        assert!(!r.matches_value("checkout-api"));
        assert!(!r.matches_value("my-checkout"));
        let alt = m(r#"service=~"a|b""#);
        assert!(alt.matches_value("a") && alt.matches_value("b") && !alt.matches_value("ab"));
        assert!(m(r#"msg=~"a.b""#).matches_value("a\nb"));
    }

    #[test]
    fn a_missing_label_reads_as_the_empty_string() {
        let none = labels(&[]);
        assert!(m(r#"job!="x""#).matches(&none));
        assert!(m(r#"job="""#).matches(&none));
        assert!(m(r#"job=~".*""#).matches(&none));
        assert!(!m(r#"job=~".+""#).matches(&none));
        assert!(!m(r#"job="x""#).matches(&none));
        assert!(m(r#"job!~"x.*""#).matches(&labels(&[("job", "api")])));
    }

    #[test]
    fn a_matcher_is_written_back_as_text_that_parses_to_it() {
        let original = m(r"msg=~'it\'s'");
        assert_eq!(original.to_string(), r#"msg=~"it's""#);
        let tricky = Matcher::new("msg", MatchOp::Equal, "a\"b\\c\nd").unwrap();
        assert_eq!(m(&tricky.to_string()), tricky);
    }

    #[test]
    fn matchers_travel_as_text_and_bad_text_is_refused() {
        let json = serde_json::to_string(&m("job!=batch")).unwrap();
        assert_eq!(json, r#""job!=\"batch\"""#);
        let back: Matcher = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m(r#"job!="batch""#));
        assert!(serde_json::from_str::<Matcher>(r#""job""#).is_err());
    }

    #[test]
    fn a_selector_splits_on_commas_outside_quotes() {
        let ms =
            parse_selector(r#"{component="checkout-api", msg="a,b}", job!~"x\",y",}"#).unwrap();
        let names: Vec<_> = ms.iter().map(|m| (m.name(), m.value())).collect();
        assert_eq!(
            names,
            [
                ("component", "checkout-api"),
                ("msg", "a,b}"),
                ("job", "x\",y")
            ]
        );
        assert_eq!(parse_selector("{}").unwrap(), []);
        assert_eq!(parse_selector("").unwrap(), []);
        assert_eq!(parse_selector("a=b, c=d").unwrap().len(), 2);
        assert_eq!(parse_selector("{a=b"), Err(MatcherError::UnbalancedBraces));
        assert_eq!(parse_selector("a=b,,c=d"), Err(MatcherError::Empty));
    }

    #[test]
    fn invalid_matchers_are_reported_per_field() {
        let errors = validate_matchers(&["job=\"api\"".into(), "bad".into(), "x=~\"(\"".into()])
            .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["matchers[1]", "matchers[2]"]);
        assert_eq!(
            validate_matchers(&["job=api".into()]).unwrap(),
            [m("job=api")]
        );
    }

    #[test]
    fn no_matchers_match_nothing_and_all_must_match() {
        let l = labels(&[("job", "api"), ("env", "prod")]);
        assert!(!matches_all(&[], &l));
        assert!(matches_all(&[m("job=api"), m("env=prod")], &l));
        assert!(!matches_all(&[m("job=api"), m("env=dev")], &l));
    }

    #[test]
    fn only_positive_matchers_that_need_the_label_select_on_it() {
        assert!(m("component=x").selects());
        assert!(m(r#"component=~"x.+""#).selects());
        assert!(!m(r#"component=~".*""#).selects());
        assert!(!m(r#"component="""#).selects());
        assert!(!m("component!=x").selects());
    }

    #[test]
    fn a_component_matcher_beats_a_service_matcher_which_beats_a_job_matcher() {
        let l = labels(&[
            ("component", "checkout-api"),
            ("service", "checkout"),
            ("job", "checkout-api"),
        ]);
        let comps = [
            comp("by-job", &["job=checkout-api"]),
            comp("by-service", &["service=checkout"]),
            comp("by-component", &["component=checkout-api"]),
            comp("by-env", &[r#"job=~".+""#, "job!=batch"]),
        ];
        assert_eq!(
            route(&l, &comps),
            Some(Route {
                component: "by-component".into(),
                by: RouteLabel::Component
            })
        );
        assert_eq!(route(&l, &comps[..2]).unwrap().by, RouteLabel::Service);
        assert_eq!(route(&l, &comps[..1]).unwrap().component, "by-job");
        // A selecting regex on `job` counts as selecting on `job`.
        assert_eq!(route(&l, &comps[3..]).unwrap().by, RouteLabel::Job);
    }

    #[test]
    fn an_exact_match_beats_a_regex_then_more_matchers_then_the_smaller_slug() {
        let l = labels(&[("service", "checkout-api"), ("env", "prod")]);
        let regex = comp("a-regex", &[r#"service=~"checkout-.*""#]);
        let exact = comp("z-exact", &["service=checkout-api"]);
        let narrower = comp("y-narrow", &["service=checkout-api", "env=prod"]);
        assert_eq!(
            route(&l, &[regex.clone(), exact.clone()])
                .unwrap()
                .component,
            "z-exact"
        );
        assert_eq!(
            route(&l, &[exact.clone(), narrower.clone()])
                .unwrap()
                .component,
            "y-narrow"
        );
        let twin = comp("b-twin", &["service=checkout-api"]);
        assert_eq!(
            route(&l, &[exact.clone(), twin.clone()]).unwrap().component,
            "b-twin"
        );
        assert_eq!(route(&l, &[twin, exact]).unwrap().component, "b-twin");
    }

    #[test]
    fn an_alert_no_component_matches_is_unrouted() {
        let l = labels(&[("job", "other")]);
        assert_eq!(route(&l, &[comp("api", &["job=api"])]), None);
        assert_eq!(
            route(
                &l,
                &[ComponentMatchers {
                    component: "bare".into(),
                    matchers: vec![]
                }]
            ),
            None
        );
    }

    #[test]
    fn a_component_without_matchers_can_default_to_its_slug() {
        let c = ComponentMatchers {
            component: "checkout-api".into(),
            matchers: default_matchers("checkout-api"),
        };
        let route = route(&labels(&[("component", "checkout-api")]), &[c]).unwrap();
        assert_eq!(route.by, RouteLabel::Component);
        assert_eq!(
            default_matchers("checkout-api")[0].to_string(),
            r#"component="checkout-api""#
        );
    }

    #[test]
    fn a_silence_covers_matching_alerts_only_while_it_lasts() {
        use chrono::TimeZone;
        let t = |h| Utc.with_ymd_and_hms(2026, 11, 25, h, 0, 0).unwrap();
        let silence = Silence {
            matchers: vec![m("service=checkout"), m(r#"alertname=~"High.*""#)],
            starts_at: t(10),
            ends_at: t(12),
        };
        let hit = labels(&[("service", "checkout"), ("alertname", "HighLatency")]);
        let miss = labels(&[("service", "checkout"), ("alertname", "DiskFull")]);
        assert!(is_silenced(&hit, std::slice::from_ref(&silence), t(10)));
        assert!(!is_silenced(&miss, std::slice::from_ref(&silence), t(11)));
        assert!(!is_silenced(&hit, std::slice::from_ref(&silence), t(12)));
        assert!(!is_silenced(&hit, std::slice::from_ref(&silence), t(9)));
        let empty = Silence {
            matchers: vec![],
            ..silence
        };
        assert!(!is_silenced(&hit, &[empty], t(11)));
    }

    proptest! {
        #[test]
        fn any_matcher_round_trips_through_its_text(
            name in "[a-zA-Z_][a-zA-Z0-9_]{0,10}",
            op in prop_oneof![Just(MatchOp::Equal), Just(MatchOp::NotEqual)],
            value in "\\PC{0,20}",
        ) {
            let matcher = Matcher::new(&name, op, &value).unwrap();
            prop_assert_eq!(parse_matcher(&matcher.to_string()).unwrap(), matcher);
        }

        #[test]
        fn routing_ignores_the_order_components_are_listed_in(
            labels_in in proptest::collection::btree_map("(component|service|job|env)", "[ab]", 0..4),
            picks in proptest::collection::vec((0usize..6, 0usize..6), 1..6),
        ) {
            let pool = ["component=a", "service=a", "service=~\"a|b\"", "job=b", "env=a", "job!=a"];
            let comps: Vec<_> = picks.iter().enumerate()
                .map(|(i, (x, y))| comp(&format!("c{i}"), &[pool[*x], pool[*y]]))
                .collect();
            let mut reversed = comps.clone();
            reversed.reverse();
            prop_assert_eq!(route(&labels_in, &comps), route(&labels_in, &reversed));
        }
    }
}
