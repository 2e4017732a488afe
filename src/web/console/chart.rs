//! Charts drawn on the server as SVG (no script, no library): a table's pass rate per version
//! against its threshold, and requests per hour or day.

use maud::{Markup, html};

use crate::audit::activity::Count;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 52.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 34.0;

/// One version of a table in the pass-rate chart.
pub struct Version {
    pub version: u64,
    /// `None`: not validated yet (no point is drawn).
    pub pass_rate: Option<f64>,
    /// Whether recipients may read it.
    pub served: bool,
    /// Whether a query of the latest version reads it.
    pub latest_served: bool,
}

fn x_of(index: usize, count: usize) -> f64 {
    let span = WIDTH - LEFT - RIGHT;
    if count <= 1 {
        LEFT + span / 2.0
    } else {
        LEFT + span * index as f64 / (count - 1) as f64
    }
}

/// The pass rate of each validated version (a point each, red when held back), the threshold
/// as a dashed line, and the version a latest query reads circled.
pub fn pass_rates(versions: &[Version], threshold: Option<f64>) -> Markup {
    let rates = versions.iter().filter_map(|v| v.pass_rate);
    let lowest = rates.chain(threshold).fold(1.0_f64, f64::min);
    // The scale starts at the tenth below the lowest rate, so that 93% and 100% look apart.
    let floor = ((lowest * 10.0).floor() / 10.0).clamp(0.0, 0.9);
    let y_of = |rate: f64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - (rate - floor) / (1.0 - floor));
    let count = versions.len();
    let points: Vec<(f64, f64, &Version)> = versions
        .iter()
        .enumerate()
        .filter_map(|(i, v)| Some((x_of(i, count), y_of(v.pass_rate?), v)))
        .collect();
    let line: String = points
        .iter()
        .map(|(x, y, _)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ");
    let ticks: Vec<f64> = (0..=4)
        .map(|i| floor + (1.0 - floor) * i as f64 / 4.0)
        .collect();
    let label_every = count.div_ceil(12).max(1);
    html! {
        figure.chart {
            svg viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img" aria-labelledby="pass-rate-title" {
                title id="pass-rate-title" { "Pass rate per version" }
                @for t in &ticks {
                    line.grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_of(*t)) y2=(y_of(*t)) {}
                    text x=(LEFT - 6.0) y=(y_of(*t) + 4.0) text-anchor="end" { (format!("{:.1}%", t * 100.0)) }
                }
                line.axis x1=(LEFT) x2=(WIDTH - RIGHT) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) {}
                @for (i, v) in versions.iter().enumerate() {
                    @if i % label_every == 0 || i + 1 == count {
                        text x=(x_of(i, count)) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle" { "v" (v.version) }
                    }
                }
                @if let Some(t) = threshold {
                    line.threshold x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_of(t)) y2=(y_of(t)) {}
                    text.label-threshold x=(WIDTH - RIGHT) y=(y_of(t) - 5.0) text-anchor="end" {
                        "threshold " (format!("{:.1}%", t * 100.0))
                    }
                }
                @if points.len() > 1 { polyline.line points=(line) {} }
                @for (x, y, v) in &points {
                    circle.point.held[!v.served] cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="4" data-version=(v.version) {
                        title { "version " (v.version) ": " (format!("{:.2}%", v.pass_rate.unwrap_or(0.0) * 100.0))
                            @if !v.served { " (held back)" } }
                    }
                    @if v.latest_served {
                        circle.served cx=(format!("{x:.1}")) cy=(format!("{y:.1}")) r="9" {}
                        text.label-served x=(format!("{x:.1}")) y=(format!("{:.1}", y - 13.0)) text-anchor="middle" { "served" }
                    }
                }
            }
            figcaption.legend {
                span { "● pass rate of a validated version (red: held back)" }
                span { "◯ the version recipients read as latest" }
                @if threshold.is_some() { span { "- - minimum pass rate" } }
            }
        }
    }
}

/// Requests per bucket as bars, refusals in red over them; `label` names a bucket on the axis.
pub fn activity(
    title: &str,
    id: &str,
    counts: &[Count],
    label: impl Fn(&Count) -> String,
) -> Markup {
    let top = counts.iter().map(|c| c.requests).max().unwrap_or(0).max(1);
    let y_of = |n: u64| TOP + (HEIGHT - TOP - BOTTOM) * (1.0 - n as f64 / top as f64);
    let slot = (WIDTH - LEFT - RIGHT) / counts.len().max(1) as f64;
    let label_every = counts.len().div_ceil(8).max(1);
    html! {
        figure.chart {
            svg viewBox={"0 0 " (WIDTH) " " (HEIGHT)} role="img" aria-labelledby={(id) "-title"} id=(id) {
                title id={(id) "-title"} { (title) }
                @for n in [0, top / 2, top] {
                    line.grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(y_of(n)) y2=(y_of(n)) {}
                    text x=(LEFT - 6.0) y=(y_of(n) + 4.0) text-anchor="end" { (n) }
                }
                line.axis x1=(LEFT) x2=(WIDTH - RIGHT) y1=(HEIGHT - BOTTOM) y2=(HEIGHT - BOTTOM) {}
                @for (i, c) in counts.iter().enumerate() {
                    @let x = LEFT + slot * i as f64 + slot * 0.15;
                    rect.bar x=(format!("{x:.1}")) width=(format!("{:.1}", slot * 0.7))
                        y=(format!("{:.1}", y_of(c.requests))) height=(format!("{:.1}", HEIGHT - BOTTOM - y_of(c.requests))) {
                        title { (label(c)) ": " (c.requests) " requests, " (c.refused) " refused" }
                    }
                    @if c.refused > 0 {
                        rect.bar.refused x=(format!("{x:.1}")) width=(format!("{:.1}", slot * 0.7))
                            y=(format!("{:.1}", y_of(c.refused))) height=(format!("{:.1}", HEIGHT - BOTTOM - y_of(c.refused))) {}
                    }
                    @if i % label_every == 0 {
                        text x=(format!("{:.1}", x + slot * 0.35)) y=(HEIGHT - BOTTOM + 16.0) text-anchor="middle" { (label(c)) }
                    }
                }
            }
            figcaption.legend {
                span { (title) ": " (counts.iter().map(|c| c.requests).sum::<u64>()) " requests, "
                    (counts.iter().map(|c| c.refused).sum::<u64>()) " refused (red)" }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_point_per_validated_version_and_the_served_one_circled() {
        let versions: Vec<Version> = (0..4)
            .map(|v| Version {
                version: v,
                pass_rate: (v != 1).then_some(if v == 3 { 0.9 } else { 1.0 }),
                served: v != 3,
                latest_served: v == 2,
            })
            .collect();
        let svg = pass_rates(&versions, Some(0.95)).into_string();
        assert_eq!(svg.matches("data-version=").count(), 3, "{svg}");
        assert_eq!(svg.matches("class=\"point held\"").count(), 1);
        assert_eq!(svg.matches("class=\"served\"").count(), 1);
        assert!(svg.contains("threshold 95.0%"));
        // The scale starts at the tenth below the lowest rate.
        assert!(svg.contains(">90.0%<"), "{svg}");
    }

    #[test]
    fn bars_count_requests_and_refusals() {
        let counts = vec![
            Count {
                bucket: "2026-12-01".into(),
                requests: 10,
                refused: 2,
            },
            Count {
                bucket: "2026-12-02".into(),
                requests: 0,
                refused: 0,
            },
        ];
        let svg = activity("Last 2 days", "days", &counts, |c| c.bucket.clone()).into_string();
        assert_eq!(svg.matches("class=\"bar\"").count(), 2);
        assert_eq!(svg.matches("class=\"bar refused\"").count(), 1);
        assert!(svg.contains("10 requests, 2 refused"));
    }
}
