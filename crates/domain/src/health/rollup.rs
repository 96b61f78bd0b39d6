//! A component's status, and why: the worst of its live alerts, SLO burn, probes and data
//! freshness — unless it is in maintenance — and which components a broken dependency impacts.
//!
//! What each signal implies on its own:
//!
//! | signal                                              | implies          |
//! | --------------------------------------------------- | ---------------- |
//! | live critical alert (open, acknowledged, escalated) | `major_outage`   |
//! | live warning alert                                  | `degraded`       |
//! | info alert, ticket-level burn                       | nothing          |
//! | fast burn (1 h and 5 m above 14.4×)                 | `partial_outage` |
//! | slow burn (6 h and 30 m above 6×)                   | `degraded`       |
//! | every fresh probe down / some down / any slow       | `major_outage` / `partial_outage` / `degraded` |
//! | an SLO or probe without data newer than the limit   | `unknown`        |
//!
//! Acknowledging an alert does not make the component healthier: it says someone is on it, not
//! that it is fixed. Only resolving (by hand or by the source) removes its effect.
//!
//! `unknown` ranks just above `operational`, so any fresh evidence of a problem beats it ("unknown
//! unless the alerts say worse"), and one blind spot is enough to stop vouching for `operational`.
//! A component with no SLOs and no probes has nothing to go stale: it is `operational` when no
//! alert says otherwise.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::health::alerts::{AlertEpisode, Severity, TriageState};
use crate::health::burn::{BurnAlert, BurnAssessment, PAIRS};
use crate::health::human_time;

/// A component's status (DESIGN.md "Domain", contract for the names).
///
/// Ordered from best to worst: `operational` < `maintenance` < `unknown` < `degraded` <
/// `partial_outage` < `major_outage`. The order is the worst-of rule and the grid's "worst first"
/// sort. Maintenance sits low because it is planned: it never comes out of worst-of (it overrides
/// instead), and a grid sorted worst first should not lead with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    Degraded,
    PartialOutage,
    MajorOutage,
    Maintenance,
    Unknown,
}

impl ComponentStatus {
    /// Every status, best to worst.
    pub const ALL: [ComponentStatus; 6] = [
        ComponentStatus::Operational,
        ComponentStatus::Maintenance,
        ComponentStatus::Unknown,
        ComponentStatus::Degraded,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
    ];

    /// Position in the best-to-worst order, 0 for `operational`.
    pub fn rank(self) -> u8 {
        match self {
            ComponentStatus::Operational => 0,
            ComponentStatus::Maintenance => 1,
            ComponentStatus::Unknown => 2,
            ComponentStatus::Degraded => 3,
            ComponentStatus::PartialOutage => 4,
            ComponentStatus::MajorOutage => 5,
        }
    }

    pub fn worst(self, other: ComponentStatus) -> ComponentStatus {
        self.max(other)
    }

    /// Whether a dependency in this status impacts the components that depend on it: a
    /// dependency that is degraded, in an outage or in maintenance does; one whose status is
    /// `unknown` does not, since nothing says it is broken.
    pub fn impacts_dependents(self) -> bool {
        !matches!(
            self,
            ComponentStatus::Operational | ComponentStatus::Unknown
        )
    }
}

impl Ord for ComponentStatus {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for ComponentStatus {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An SLO's latest evaluation, as far as the rollup cares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SloSignal {
    /// The SLO's name, as people read it (`availability`).
    pub name: String,
    /// When its newest data was evaluated; `None`: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluated_at: Option<DateTime<Utc>>,
    /// The burn assessment of that evaluation; `None`: no burn data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burn: Option<BurnAssessment>,
}

/// What a probe (a blackbox check) last saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeState {
    Up,
    /// Answered, but slower than its limit.
    Slow,
    Down,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeSignal {
    pub name: String,
    pub state: ProbeState,
    pub checked_at: DateTime<Utc>,
}

/// A one-off maintenance window, `starts_at` inclusive to `ends_at` exclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaintenanceWindow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

impl MaintenanceWindow {
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

/// Everything known about one component. Alerts may include resolved ones; they are skipped.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signals<'a> {
    pub alerts: &'a [AlertEpisode],
    pub slos: &'a [SloSignal],
    pub probes: &'a [ProbeSignal],
    pub maintenance: &'a [MaintenanceWindow],
}

/// One line of "why": a signal and the status it implies on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub status: ComponentStatus,
    pub text: String,
}

/// A component's status and its reasons, worst first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollup {
    pub status: ComponentStatus,
    /// What the status would be without maintenance; equal to `status` outside maintenance.
    pub underlying: ComponentStatus,
    /// Worst first; a maintenance window comes first. Signals that imply nothing are left out.
    pub reasons: Vec<Reason>,
}

/// How many poll intervals without data make an SLO or probe stale, when nothing says otherwise:
/// one missed poll is a blip, three are an outage of the monitoring.
pub const DEFAULT_STALE_POLLS: i32 = 3;

/// Rolls a component's signals up into its status at `now`. An SLO or probe whose newest data is
/// older than `stale_after` (the poll interval × [`DEFAULT_STALE_POLLS`], say) is `unknown` and
/// its old values are disregarded: a burn last seen an hour ago is no evidence now. Data exactly
/// `stale_after` old is still fresh; data from the future (clock skew) is fresh.
pub fn rollup(signals: Signals<'_>, now: DateTime<Utc>, stale_after: Duration) -> Rollup {
    let mut reasons = Vec::new();
    let mut push = |status, text: String| reasons.push(Reason { status, text });
    let fresh = |at: DateTime<Utc>| now - at <= stale_after;

    for alert in signals.alerts.iter().filter(|a| a.is_live()) {
        let status = match alert.severity {
            Severity::Critical => ComponentStatus::MajorOutage,
            Severity::Warning => ComponentStatus::Degraded,
            Severity::Info => continue,
        };
        let triage = match alert.state {
            TriageState::Acknowledged => " (acknowledged)",
            TriageState::Escalated => " (escalated)",
            _ => "",
        };
        push(
            status,
            format!(
                "{} alert {} firing since {}{triage}",
                severity_word(alert.severity),
                alert.name,
                human_time(&alert.starts_at)
            ),
        );
    }

    for slo in signals.slos {
        match slo.evaluated_at {
            None => push(
                ComponentStatus::Unknown,
                format!("no data yet for {} SLO", slo.name),
            ),
            Some(at) if !fresh(at) => push(
                ComponentStatus::Unknown,
                format!("no data for {} SLO since {}", slo.name, human_time(&at)),
            ),
            Some(_) => {
                if let Some((status, text)) = slo.burn.as_ref().and_then(burn_reason) {
                    push(status, format!("{text} on {} SLO", slo.name));
                }
            }
        }
    }

    let (live, stale): (Vec<_>, Vec<_>) = signals.probes.iter().partition(|p| fresh(p.checked_at));
    for probe in stale {
        push(
            ComponentStatus::Unknown,
            format!(
                "probe {} not checked since {}",
                probe.name,
                human_time(&probe.checked_at)
            ),
        );
    }
    let all_down = !live.is_empty() && live.iter().all(|p| p.state == ProbeState::Down);
    for probe in live {
        match probe.state {
            ProbeState::Up => {}
            ProbeState::Slow => push(
                ComponentStatus::Degraded,
                format!("probe {} slow", probe.name),
            ),
            ProbeState::Down => push(
                if all_down {
                    ComponentStatus::MajorOutage
                } else {
                    ComponentStatus::PartialOutage
                },
                format!("probe {} down", probe.name),
            ),
        }
    }

    // Stable: equally bad reasons keep the order above (alerts, SLOs, probes).
    reasons.sort_by_key(|r| std::cmp::Reverse(r.status));
    let underlying = reasons
        .iter()
        .map(|r| r.status)
        .fold(ComponentStatus::Operational, ComponentStatus::worst);

    let window = signals
        .maintenance
        .iter()
        .filter(|w| w.is_active(now))
        .max_by_key(|w| w.ends_at);
    let status = match window {
        Some(w) => {
            let name = w
                .name
                .as_deref()
                .map(|n| format!(" {n}"))
                .unwrap_or_default();
            reasons.insert(
                0,
                Reason {
                    status: ComponentStatus::Maintenance,
                    text: format!("in maintenance{name} until {}", human_time(&w.ends_at)),
                },
            );
            ComponentStatus::Maintenance
        }
        None => underlying,
    };
    Rollup {
        status,
        underlying,
        reasons,
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// The status a burn assessment implies and its words, e.g. "fast burn 16.2× over 1h (20.0× over
/// 5m)". A ticket-level burn implies nothing for the status.
fn burn_reason(burn: &BurnAssessment) -> Option<(ComponentStatus, String)> {
    let alert = burn.most_urgent()?;
    let (status, words) = match alert {
        BurnAlert::FastBurn => (ComponentStatus::PartialOutage, "fast burn"),
        BurnAlert::SlowBurn => (ComponentStatus::Degraded, "slow burn"),
        BurnAlert::Ticket => return None,
    };
    let pair = PAIRS.iter().find(|p| p.alert == alert)?;
    let rate = |w: crate::health::burn::BurnWindow| {
        burn.rate(w)
            .map(|r| format!("{r:.1}× over {}", w.promql()))
            .unwrap_or_default()
    };
    Some((
        status,
        format!("{words} {} ({})", rate(pair.long), rate(pair.short)),
    ))
}

/// A component in the dependency graph, with its own rolled-up status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentNode {
    pub component: String,
    pub status: ComponentStatus,
    /// Slugs of the components it depends on.
    #[serde(default)]
    pub depends_on: Vec<String>,
}

/// One dependency that impacts a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpactedBy {
    /// The broken dependency.
    pub dependency: String,
    pub status: ComponentStatus,
    /// The components in between, nearest first; empty when it is a direct dependency.
    pub via: Vec<String>,
}

/// A component that a broken dependency impacts. Its own status is unchanged: the UI shows
/// "impacted by X" next to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impact {
    pub component: String,
    /// Worst first, then by name.
    pub impacted_by: Vec<ImpactedBy>,
}

/// Which components depend, directly or through others, on a component whose status
/// [`ComponentStatus::impacts_dependents`]. Each impact takes the shortest path through the
/// graph; cycles and dependencies on unknown slugs are harmless. Components nothing impacts are
/// left out; the result is sorted by slug.
///
/// The search starts from the broken components and walks the dependency edges backwards, so
/// the cost is (broken components) × (graph size): cheap when, as usual, few are broken.
pub fn impacts(nodes: &[ComponentNode]) -> Vec<Impact> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        index.entry(n.component.as_str()).or_insert(i);
    }
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        if index[n.component.as_str()] != i {
            continue; // a duplicate slug: the first one stands
        }
        for dep in &n.depends_on {
            if let Some(&d) = index.get(dep.as_str())
                && d != i
            {
                dependents[d].push(i);
            }
        }
    }
    let mut found: BTreeMap<&str, Vec<ImpactedBy>> = BTreeMap::new();
    for (b, broken) in nodes.iter().enumerate() {
        if index[broken.component.as_str()] != b || !broken.status.impacts_dependents() {
            continue;
        }
        // Breadth first from the broken component; `toward[c]` is c's next step toward it.
        let mut toward: Vec<Option<usize>> = vec![None; nodes.len()];
        let mut queue = VecDeque::from([b]);
        while let Some(n) = queue.pop_front() {
            for &c in &dependents[n] {
                if c != b && toward[c].is_none() {
                    toward[c] = Some(n);
                    queue.push_back(c);
                }
            }
        }
        for (c, next) in toward.iter().enumerate() {
            let Some(mut step) = *next else { continue };
            let mut via = Vec::new();
            while step != b {
                via.push(nodes[step].component.clone());
                step = toward[step].unwrap_or(b);
            }
            found
                .entry(nodes[c].component.as_str())
                .or_default()
                .push(ImpactedBy {
                    dependency: broken.component.clone(),
                    status: broken.status,
                    via,
                });
        }
    }
    found
        .into_iter()
        .map(|(component, mut impacted_by)| {
            impacted_by.sort_by(|a, b| {
                b.status
                    .cmp(&a.status)
                    .then_with(|| a.dependency.cmp(&b.dependency))
            });
            Impact {
                component: component.to_owned(),
                impacted_by,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::alerts::SourceStatus;
    use crate::health::alerts::tests::{at, firing};
    use crate::health::burn::{BurnWindow, WindowBurnRate};
    use ComponentStatus::*;
    use proptest::prelude::*;

    fn stale_after() -> Duration {
        Duration::minutes(3)
    }

    fn status_of(signals: Signals<'_>) -> ComponentStatus {
        rollup(signals, at(10), stale_after()).status
    }

    fn burn(fast: bool, slow: bool, ticket: bool) -> BurnAssessment {
        let rate = |w: BurnWindow| match w {
            BurnWindow::H1 => 16.2,
            BurnWindow::M5 => 20.0,
            _ => 7.0,
        };
        BurnAssessment {
            fast_burn: fast,
            slow_burn: slow,
            ticket,
            rates: BurnWindow::ALL
                .iter()
                .map(|&window| WindowBurnRate {
                    window,
                    burn_rate: Some(rate(window)),
                })
                .collect(),
        }
    }

    fn slo(name: &str, minute: Option<i64>, b: Option<BurnAssessment>) -> SloSignal {
        SloSignal {
            name: name.into(),
            evaluated_at: minute.map(at),
            burn: b,
        }
    }

    fn probe(name: &str, state: ProbeState, minute: i64) -> ProbeSignal {
        ProbeSignal {
            name: name.into(),
            state,
            checked_at: at(minute),
        }
    }

    #[test]
    fn statuses_are_totally_ordered_from_operational_to_major_outage() {
        let mut shuffled = [
            MajorOutage,
            Unknown,
            Operational,
            PartialOutage,
            Maintenance,
            Degraded,
        ];
        shuffled.sort();
        assert_eq!(shuffled, ComponentStatus::ALL);
        for a in ComponentStatus::ALL {
            for b in ComponentStatus::ALL {
                assert_eq!(a.cmp(&b), a.rank().cmp(&b.rank()));
                assert_eq!(a == b, a.cmp(&b) == Ordering::Equal);
                assert_eq!(a.worst(b), b.worst(a));
                assert!(a.worst(b) >= a && a.worst(b) >= b);
            }
        }
    }

    #[test]
    fn statuses_travel_with_their_contract_names() {
        let names: Vec<String> = ComponentStatus::ALL
            .iter()
            .map(|s| serde_json::to_string(s).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "\"operational\"",
                "\"maintenance\"",
                "\"unknown\"",
                "\"degraded\"",
                "\"partial_outage\"",
                "\"major_outage\""
            ]
        );
    }

    #[test]
    fn nothing_wrong_is_operational_with_no_reasons() {
        let r = rollup(Signals::default(), at(10), stale_after());
        assert_eq!((r.status, r.underlying), (Operational, Operational));
        assert!(r.reasons.is_empty());
    }

    #[test]
    fn a_critical_alert_is_a_major_outage_and_says_since_when() {
        let alerts = [firing("HighErrorRate", Severity::Critical, 2)];
        let r = rollup(
            Signals {
                alerts: &alerts,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.status, MajorOutage);
        assert_eq!(
            r.reasons,
            [Reason {
                status: MajorOutage,
                text: "critical alert HighErrorRate firing since 2026-11-25 10:02 UTC".into()
            }]
        );
    }

    #[test]
    fn an_acknowledged_critical_alert_still_counts_but_a_resolved_one_does_not() {
        let mut alert = firing("HighErrorRate", Severity::Critical, 0);
        alert.state = TriageState::Acknowledged;
        let alerts = [alert.clone()];
        let r = rollup(
            Signals {
                alerts: &alerts,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.status, MajorOutage);
        assert!(r.reasons[0].text.ends_with("(acknowledged)"));
        for (state, source) in [
            (TriageState::Resolved, SourceStatus::Firing),
            (TriageState::Resolved, SourceStatus::Resolved),
        ] {
            let alerts = [AlertEpisode {
                state,
                source_status: source,
                ..alert.clone()
            }];
            assert_eq!(
                status_of(Signals {
                    alerts: &alerts,
                    ..Default::default()
                }),
                Operational
            );
        }
    }

    #[test]
    fn a_warning_degrades_and_an_info_alert_changes_nothing() {
        let alerts = [
            firing("DiskFilling", Severity::Warning, 0),
            firing("Deployed", Severity::Info, 0),
        ];
        let r = rollup(
            Signals {
                alerts: &alerts,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.status, Degraded);
        assert_eq!(r.reasons.len(), 1);
    }

    #[test]
    fn a_fast_burn_is_a_partial_outage_and_a_slow_burn_degrades() {
        let slos = [slo("availability", Some(9), Some(burn(true, true, true)))];
        let r = rollup(
            Signals {
                slos: &slos,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.status, PartialOutage);
        assert_eq!(
            r.reasons[0].text,
            "fast burn 16.2× over 1h (20.0× over 5m) on availability SLO"
        );
        let slow = [slo("latency", Some(9), Some(burn(false, true, false)))];
        let r = rollup(
            Signals {
                slos: &slow,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.status, Degraded);
        assert_eq!(
            r.reasons[0].text,
            "slow burn 7.0× over 6h (7.0× over 30m) on latency SLO"
        );
    }

    #[test]
    fn a_ticket_level_burn_or_no_burn_leaves_the_component_operational() {
        let slos = [
            slo("availability", Some(9), Some(burn(false, false, true))),
            slo("latency", Some(9), None),
        ];
        let r = rollup(
            Signals {
                slos: &slos,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.status, Operational);
        assert!(r.reasons.is_empty());
    }

    #[test]
    fn stale_slo_data_is_unknown_and_its_old_burn_is_disregarded() {
        let slos = [slo("availability", Some(6), Some(burn(true, true, true)))];
        let r = rollup(
            Signals {
                slos: &slos,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.status, Unknown);
        assert_eq!(
            r.reasons[0].text,
            "no data for availability SLO since 2026-11-25 10:06 UTC"
        );
        // Exactly at the limit is still fresh.
        let edge = [slo("availability", Some(7), None)];
        assert_eq!(
            status_of(Signals {
                slos: &edge,
                ..Default::default()
            }),
            Operational
        );
        let never = [slo("availability", None, None)];
        let r = rollup(
            Signals {
                slos: &never,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.reasons[0].text, "no data yet for availability SLO");
    }

    #[test]
    fn alerts_that_say_worse_beat_unknown() {
        let slos = [slo("availability", None, None)];
        let warning = [firing("DiskFilling", Severity::Warning, 0)];
        let r = rollup(
            Signals {
                alerts: &warning,
                slos: &slos,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.status, Degraded);
        assert_eq!(
            r.reasons.iter().map(|r| r.status).collect::<Vec<_>>(),
            [Degraded, Unknown]
        );
    }

    #[test]
    fn probes_all_down_are_a_major_outage_some_down_a_partial_one_and_slow_degrades() {
        let all_down = [
            probe("https", ProbeState::Down, 9),
            probe("tcp", ProbeState::Down, 9),
        ];
        let some_down = [
            probe("https", ProbeState::Down, 9),
            probe("tcp", ProbeState::Up, 9),
        ];
        let slow = [probe("https", ProbeState::Slow, 9)];
        let of = |probes: &[ProbeSignal]| {
            status_of(Signals {
                probes,
                ..Default::default()
            })
        };
        assert_eq!(of(&all_down), MajorOutage);
        assert_eq!(of(&some_down), PartialOutage);
        assert_eq!(of(&slow), Degraded);
        assert_eq!(of(&[probe("https", ProbeState::Up, 9)]), Operational);
    }

    #[test]
    fn a_stale_probe_is_unknown_and_does_not_count_towards_all_down() {
        let probes = [
            probe("https", ProbeState::Down, 9),
            probe("tcp", ProbeState::Up, 1),
        ];
        let r = rollup(
            Signals {
                probes: &probes,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!(r.status, MajorOutage);
        assert_eq!(
            r.reasons[1].text,
            "probe tcp not checked since 2026-11-25 10:01 UTC"
        );
    }

    #[test]
    fn maintenance_wins_and_records_what_the_status_would_be_otherwise() {
        let alerts = [firing("HighErrorRate", Severity::Critical, 0)];
        let windows = [
            MaintenanceWindow {
                name: Some("db upgrade".into()),
                starts_at: at(0),
                ends_at: at(60),
            },
            MaintenanceWindow {
                name: None,
                starts_at: at(-60),
                ends_at: at(0),
            },
        ];
        let r = rollup(
            Signals {
                alerts: &alerts,
                maintenance: &windows,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        assert_eq!((r.status, r.underlying), (Maintenance, MajorOutage));
        assert_eq!(
            r.reasons[0].text,
            "in maintenance db upgrade until 2026-11-25 11:00 UTC"
        );
        assert_eq!(r.reasons.len(), 2);
        // After the window, the alert shows through.
        let r = rollup(
            Signals {
                alerts: &alerts,
                maintenance: &windows,
                ..Default::default()
            },
            at(60),
            stale_after(),
        );
        assert_eq!(r.status, MajorOutage);
    }

    #[test]
    fn reasons_are_listed_worst_first() {
        let alerts = [
            firing("DiskFilling", Severity::Warning, 0),
            firing("HighErrorRate", Severity::Critical, 1),
        ];
        let slos = [slo("availability", Some(9), Some(burn(true, false, false)))];
        let r = rollup(
            Signals {
                alerts: &alerts,
                slos: &slos,
                ..Default::default()
            },
            at(10),
            stale_after(),
        );
        let order: Vec<_> = r.reasons.iter().map(|r| r.status).collect();
        assert_eq!(order, [MajorOutage, PartialOutage, Degraded]);
    }

    fn node(slug: &str, status: ComponentStatus, deps: &[&str]) -> ComponentNode {
        ComponentNode {
            component: slug.into(),
            status,
            depends_on: deps.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn a_broken_dependency_impacts_its_dependents_directly_and_through_others() {
        let graph = [
            node("web", Operational, &["checkout-api"]),
            node("checkout-api", Operational, &["postgres", "redis"]),
            node("postgres", MajorOutage, &[]),
            node("redis", Operational, &[]),
            node("batch", Operational, &["redis"]),
        ];
        let found = impacts(&graph);
        assert_eq!(
            found,
            [
                Impact {
                    component: "checkout-api".into(),
                    impacted_by: vec![ImpactedBy {
                        dependency: "postgres".into(),
                        status: MajorOutage,
                        via: vec![],
                    }],
                },
                Impact {
                    component: "web".into(),
                    impacted_by: vec![ImpactedBy {
                        dependency: "postgres".into(),
                        status: MajorOutage,
                        via: vec!["checkout-api".into()],
                    }],
                },
            ]
        );
    }

    #[test]
    fn impacts_list_the_worst_dependency_first_and_ignore_unknown_ones() {
        let graph = [
            node("api", Operational, &["cache", "db", "queue"]),
            node("cache", Degraded, &[]),
            node("db", MajorOutage, &[]),
            node("queue", Unknown, &[]),
        ];
        let found = impacts(&graph);
        let deps: Vec<_> = found[0]
            .impacted_by
            .iter()
            .map(|i| i.dependency.as_str())
            .collect();
        assert_eq!(deps, ["db", "cache"]);
        // Maintenance impacts; unknown does not.
        assert!(Maintenance.impacts_dependents());
        assert!(!Unknown.impacts_dependents());
    }

    #[test]
    fn cycles_self_loops_and_unknown_slugs_are_harmless() {
        let graph = [
            node("a", Degraded, &["b", "a", "ghost"]),
            node("b", Operational, &["a"]),
        ];
        let found = impacts(&graph);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].component, "b");
        assert_eq!(found[0].impacted_by[0].dependency, "a");
    }

    #[test]
    fn the_shortest_path_to_a_broken_dependency_is_reported() {
        let graph = [
            node("top", Operational, &["long1", "short"]),
            node("long1", Operational, &["long2"]),
            node("long2", Operational, &["db"]),
            node("short", Operational, &["db"]),
            node("db", PartialOutage, &[]),
        ];
        let found = impacts(&graph);
        let top = found.iter().find(|i| i.component == "top").unwrap();
        assert_eq!(top.impacted_by[0].via, ["short"]);
        let long1 = found.iter().find(|i| i.component == "long1").unwrap();
        assert_eq!(long1.impacted_by[0].via, ["long2"]);
    }

    fn any_alert() -> impl Strategy<Value = AlertEpisode> {
        (
            prop_oneof![
                Just(Severity::Critical),
                Just(Severity::Warning),
                Just(Severity::Info)
            ],
            prop_oneof![
                Just(TriageState::Open),
                Just(TriageState::Acknowledged),
                Just(TriageState::Escalated),
                Just(TriageState::Resolved)
            ],
            any::<bool>(),
            0i64..10,
        )
            .prop_map(|(severity, state, resolved, start)| AlertEpisode {
                state,
                source_status: if resolved {
                    SourceStatus::Resolved
                } else {
                    SourceStatus::Firing
                },
                ..firing("A", severity, start)
            })
    }

    fn any_slo() -> impl Strategy<Value = SloSignal> {
        (
            proptest::option::of(0i64..=10),
            proptest::option::of((any::<bool>(), any::<bool>(), any::<bool>())),
        )
            .prop_map(|(minute, b)| slo("s", minute, b.map(|(f, s, t)| burn(f, s, t))))
    }

    fn any_probe() -> impl Strategy<Value = ProbeSignal> {
        (
            prop_oneof![
                Just(ProbeState::Up),
                Just(ProbeState::Slow),
                Just(ProbeState::Down)
            ],
            0i64..=10,
        )
            .prop_map(|(state, minute)| probe("p", state, minute))
    }

    proptest! {
        #[test]
        fn adding_an_alert_never_improves_the_status(
            alerts in proptest::collection::vec(any_alert(), 0..5),
            slos in proptest::collection::vec(any_slo(), 0..3),
            probes in proptest::collection::vec(any_probe(), 0..3),
            extra in any_alert(),
            in_maintenance in any::<bool>(),
        ) {
            let windows = [MaintenanceWindow { name: None, starts_at: at(0), ends_at: at(60) }];
            let maintenance: &[MaintenanceWindow] = if in_maintenance { &windows } else { &[] };
            let before = rollup(
                Signals { alerts: &alerts, slos: &slos, probes: &probes, maintenance },
                at(10), stale_after(),
            );
            let mut more = alerts.clone();
            more.push(extra);
            let after = rollup(
                Signals { alerts: &more, slos: &slos, probes: &probes, maintenance },
                at(10), stale_after(),
            );
            prop_assert!(after.underlying >= before.underlying);
            prop_assert!(after.status >= before.status);
            // The status is the worst reason, or maintenance over it.
            let worst = after.reasons.iter().map(|r| r.status).filter(|s| *s != Maintenance).max();
            prop_assert_eq!(after.underlying, worst.unwrap_or(Operational));
            prop_assert_eq!(after.status == Maintenance, in_maintenance);
        }
    }
}
