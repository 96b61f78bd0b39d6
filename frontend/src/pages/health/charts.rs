//! Hand-drawn SVG charts: line charts over a shared time axis with deploy and alert markers,
//! and sparklines. The SVG is built as markup and handed to the browser whole, so it is parsed
//! in the SVG namespace (a `<title>` then is a real tooltip) and hundreds of points cost one
//! DOM update rather than one reactive node each. Everything that reaches the markup from the
//! server goes through [`esc`].

use chrono::{DateTime, Local, TimeZone, Utc};

/// The drawing area in viewBox units; the SVG itself is `width: 100%` and scales.
/// Small enough that, scaled into a third of a wide screen or a phone's width, tick labels
/// stay readable.
const W: f64 = 480.0;
const H: f64 = 200.0;
const LEFT: f64 = 88.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 26.0;

/// How a metric's values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Requests per second.
    PerSecond,
    /// A ratio 0..1 shown as a percentage.
    Percent,
    /// Seconds shown as milliseconds.
    Millis,
    Plain,
}

impl Unit {
    /// The value as displayed (a ratio becomes percent, seconds become ms).
    fn scale(self, v: f64) -> f64 {
        match self {
            Unit::Percent => v * 100.0,
            Unit::Millis => v * 1000.0,
            Unit::PerSecond | Unit::Plain => v,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Unit::PerSecond => " req/s",
            Unit::Percent => " %",
            Unit::Millis => " ms",
            Unit::Plain => "",
        }
    }

    /// A displayed (already scaled) value with its unit.
    pub fn label(self, shown: f64) -> String {
        format!("{}{}", number(shown), self.suffix())
    }

    /// A raw value with its unit.
    pub fn format(self, raw: f64) -> String {
        self.label(self.scale(raw))
    }
}

/// A number with as many decimals as its size deserves.
pub fn number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        trim(format!("{v:.1}"))
    } else if a >= 0.1 {
        trim(format!("{v:.2}"))
    } else {
        trim(format!("{v:.4}"))
    }
}

fn trim(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Escapes text for SVG/HTML markup (content and attribute values).
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub label: String,
    /// `(time, value)`; `None` (NaN, ±Inf, a gap) breaks the line.
    pub points: Vec<(DateTime<Utc>, Option<f64>)>,
}

/// Something that happened at a moment, drawn as a vertical line across the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub at: DateTime<Utc>,
    /// `deploy` or `alert`.
    pub kind: &'static str,
    /// Deploy status or alert severity, for colour and `data-status`.
    pub status: String,
    /// The tooltip.
    pub title: String,
}

/// The shared time axis of a page's charts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl TimeRange {
    fn span_ms(&self) -> f64 {
        ((self.end - self.start).num_milliseconds() as f64).max(1.0)
    }

    fn x(&self, at: DateTime<Utc>) -> f64 {
        let f = (at - self.start).num_milliseconds() as f64 / self.span_ms();
        LEFT + f * (W - LEFT - RIGHT)
    }

    fn contains(&self, at: DateTime<Utc>) -> bool {
        at >= self.start && at <= self.end
    }
}

/// Tick positions on the time axis: a round step giving at most six ticks.
fn time_ticks(range: &TimeRange) -> Vec<DateTime<Utc>> {
    const STEPS: [i64; 14] = [
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
    ];
    let span = (range.end - range.start).num_seconds().max(1);
    let step = STEPS.into_iter().find(|s| span / s <= 6).unwrap_or(604_800);
    // Round in local time, so ticks fall on the hours people read.
    let offset = Local
        .timestamp_opt(range.start.timestamp(), 0)
        .single()
        .map_or(0, |t| i64::from(t.offset().local_minus_utc()));
    let first = (range.start.timestamp() + offset).div_euclid(step) * step + step - offset;
    (0..)
        .map(|i| first + i * step)
        .take_while(|&t| t <= range.end.timestamp())
        .filter_map(|t| Utc.timestamp_opt(t, 0).single())
        .collect()
}

fn time_label(at: DateTime<Utc>, range: &TimeRange) -> String {
    let local = at.with_timezone(&Local);
    let span = (range.end - range.start).num_seconds();
    if span > 2 * 86_400 {
        local.format("%a %d %H:%M").to_string()
    } else if span > 86_400 / 2 {
        local.format("%d %H:%M").to_string()
    } else {
        local.format("%H:%M").to_string()
    }
}

/// A round step for about four value ticks over `span`.
fn nice_step(span: f64) -> f64 {
    let raw = (span / 4.0).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let nice = if norm <= 1.0 {
        1.0
    } else if norm <= 2.0 {
        2.0
    } else if norm <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// The displayed value range `[lo, hi]` (starting at 0 unless values go below) and its step.
fn value_scale(values: impl Iterator<Item = f64>) -> (f64, f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in values {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let step = nice_step(hi - lo);
    ((lo / step).floor() * step, (hi / step).ceil() * step, step)
}

/// Whether any series has at least one value.
pub fn has_data(series: &[Series]) -> bool {
    series
        .iter()
        .any(|s| s.points.iter().any(|(_, v)| v.is_some()))
}

/// A line chart (one or more series) over `range`, with `markers` as vertical lines. `title`
/// names the chart for screen readers.
pub fn line_chart(
    title: &str,
    unit: Unit,
    range: &TimeRange,
    series: &[Series],
    markers: &[Marker],
) -> String {
    let shown = |v: f64| unit.scale(v);
    let (lo, hi, step) = value_scale(
        series
            .iter()
            .flat_map(|s| s.points.iter().filter_map(|(_, v)| *v))
            .map(shown),
    );
    let y = |v: f64| TOP + (1.0 - (v - lo) / (hi - lo)) * (H - TOP - BOTTOM);
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{t}" data-testid="metric-chart" data-series="{n}"><title>{t}</title>"#,
        t = esc(title),
        n = series.len(),
    );

    // Grid and value axis.
    let mut v = lo;
    while v <= hi + step / 2.0 {
        let yy = y(v);
        svg.push_str(&format!(
            r#"<line class="chart-grid" x1="{LEFT}" x2="{x2}" y1="{yy:.1}" y2="{yy:.1}"/><text class="chart-tick" x="{tx}" y="{ty:.1}" text-anchor="end">{l}</text>"#,
            x2 = W - RIGHT,
            tx = LEFT - 6.0,
            ty = yy + 4.0,
            l = esc(&unit.label(v)),
        ));
        v += step;
    }
    // Time axis.
    for t in time_ticks(range) {
        let xx = range.x(t);
        svg.push_str(&format!(
            r#"<line class="chart-grid chart-grid-x" x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{yb}"/><text class="chart-tick" x="{xx:.1}" y="{ty}" text-anchor="middle">{l}</text>"#,
            yb = H - BOTTOM,
            ty = H - 8.0,
            l = esc(&time_label(t, range)),
        ));
    }

    // Markers under the lines, so the data stays readable.
    for m in markers.iter().filter(|m| range.contains(m.at)) {
        let xx = range.x(m.at);
        let head = if m.kind == "deploy" {
            format!(
                r#"<path class="marker-head" d="M{a:.1} {TOP} l5 -8 h-10 z"/>"#,
                a = xx
            )
        } else {
            format!(r#"<circle class="marker-head" cx="{xx:.1}" cy="{TOP}" r="4"/>"#)
        };
        svg.push_str(&format!(
            r#"<g class="marker marker-{k} marker-{s}" data-testid="{k}-marker" data-status="{s}"><title>{t}</title><line x1="{xx:.1}" x2="{xx:.1}" y1="{TOP}" y2="{yb}"/>{head}<rect class="marker-hit" x="{hx:.1}" y="{TOP}" width="8" height="{hh}"/></g>"#,
            k = m.kind,
            s = esc(&m.status),
            t = esc(&m.title),
            yb = H - BOTTOM,
            hx = xx - 4.0,
            hh = H - TOP - BOTTOM,
        ));
    }

    // The lines: a gap (None) ends a segment; each point carries its own tooltip.
    for (i, s) in series.iter().enumerate() {
        let mut d = String::new();
        let mut pen_down = false;
        let mut dots = String::new();
        for (at, value) in &s.points {
            match value {
                Some(raw) if range.contains(*at) => {
                    let (xx, yy) = (range.x(*at), y(shown(*raw)));
                    d.push_str(&format!(
                        "{}{xx:.1} {yy:.1}",
                        if pen_down { " L" } else { " M" }
                    ));
                    pen_down = true;
                    dots.push_str(&format!(
                        r#"<circle class="chart-pt" cx="{xx:.1}" cy="{yy:.1}" r="3"><title>{t}</title></circle>"#,
                        t = esc(&format!(
                            "{} · {}{}",
                            at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S"),
                            unit.format(*raw),
                            if series.len() > 1 {
                                format!(" · {}", s.label)
                            } else {
                                String::new()
                            }
                        )),
                    ));
                }
                _ => pen_down = false,
            }
        }
        svg.push_str(&format!(
            r#"<g class="chart-series series-{c}"><path class="chart-line" d="{d}"/>{dots}</g>"#,
            c = i % 6,
            d = d.trim(),
        ));
    }
    svg.push_str("</svg>");
    svg
}

/// A small trend line of `values` (oldest first); gaps break it. `reference` is a level that
/// gives the line its meaning (no budget left; a burn rate of 1×, which spends the budget exactly
/// over the window): the scale always takes it in, and it is drawn as a dashed line.
pub fn sparkline(values: &[Option<f64>], reference: Option<f64>) -> String {
    const SW: f64 = 120.0;
    const SH: f64 = 28.0;
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        return String::new();
    }
    let lo = present.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = present.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = match reference {
        Some(r) => (lo.min(r), hi.max(r)),
        None => (lo, hi),
    };
    let span = if hi - lo < 1e-12 { 1.0 } else { hi - lo };
    let n = values.len().max(2) - 1;
    let x = |i: usize| 1.0 + i as f64 / n as f64 * (SW - 2.0);
    let y = |v: f64| 2.0 + (1.0 - (v - lo) / span) * (SH - 4.0);
    let mut d = String::new();
    let mut pen_down = false;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                d.push_str(&format!(
                    "{}{:.1} {:.1}",
                    if pen_down { " L" } else { " M" },
                    x(i),
                    y(*v)
                ));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    let zero = reference
        .map(|r| {
            format!(
                r#"<line class="spark-zero" x1="0" x2="{SW}" y1="{z:.1}" y2="{z:.1}"/>"#,
                z = y(r)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<svg class="sparkline" viewBox="0 0 {SW} {SH}" preserveAspectRatio="none" aria-hidden="true" data-testid="sparkline" data-points="{p}">{zero}<path d="{d}"/></svg>"#,
        p = present.len(),
        d = d.trim(),
    )
}
