//! Threads → throughput: one workload's figures at each thread count, and a hand-written SVG
//! line chart of them (`mixes.svg`, the conc-map-bench mixes). No plotting dependency.

use crate::report::{escape, svg_document, COLORS};
use std::fmt::Write as _;

/// One workload measured at several thread counts, every map at each.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaling {
    /// The workload, e.g. "ReadHeavy, foldhash hasher".
    pub title: String,
    /// Unit of the figures (a throughput: higher is better).
    pub unit: &'static str,
    /// One name per map; a line each.
    pub columns: Vec<String>,
    /// Thread count and one figure per column (`None`: not run), in the order measured.
    pub points: Vec<(usize, Vec<Option<f64>>)>,
}

impl Scaling {
    /// The figures of column `c`, as (threads, figure) pairs, the ones not run left out.
    pub fn line(&self, c: usize) -> Vec<(usize, f64)> {
        self.points
            .iter()
            .filter_map(|(t, row)| Some((*t, row.get(c).copied().flatten()?)))
            .collect()
    }

    /// The distinct thread counts, ascending.
    pub fn threads(&self) -> Vec<usize> {
        let mut threads: Vec<usize> = self.points.iter().map(|(t, _)| *t).collect();
        threads.sort_unstable();
        threads.dedup();
        threads
    }
}

/// A "nice" upper bound for an axis whose largest figure is `max`: 1, 2 or 5 times a power of
/// ten, at least `max`.
fn axis_top(max: f64) -> f64 {
    if max.is_nan() || max <= 0.0 {
        return 1.0;
    }
    let decade = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * decade)
        .find(|&top| top >= max)
        .unwrap_or(10.0 * decade)
}

/// One panel per workload, stacked: thread counts along x (evenly spaced, as they double), the
/// figure along y from zero, one line per map (column 0, ours, drawn thicker), the legend on the
/// right. A map with a single point shows as a dot.
pub fn scaling_svg(title: &str, panels: &[Scaling]) -> String {
    let (left, plot_w, plot_h, legend_w) = (60.0, 420.0, 200.0, 190.0);
    let width = left + plot_w + legend_w + 20.0;
    let mut body = String::new();
    let mut y = 40.0;
    for panel in panels {
        let threads = panel.threads();
        let max = panel
            .points
            .iter()
            .flat_map(|(_, row)| row.iter().flatten().copied())
            .fold(0.0, f64::max);
        let top = axis_top(max);
        let _ = writeln!(
            body,
            r#"<text x="10" y="{:.1}" font-weight="bold">{}</text>"#,
            y + 12.0,
            escape(&format!("{} ({})", panel.title, panel.unit))
        );
        let y0 = y + 24.0;
        let x_of = |t: usize| {
            let at = threads.iter().position(|&u| u == t).unwrap_or(0);
            let steps = threads.len().saturating_sub(1).max(1) as f64;
            left + 20.0 + (plot_w - 40.0) * at as f64 / steps
        };
        let y_of = |v: f64| y0 + plot_h - plot_h * (v / top).clamp(0.0, 1.0);
        // Grid: five horizontal lines, one vertical per thread count.
        for k in 0..=4 {
            let v = top * f64::from(k) / 4.0;
            let gy = y_of(v);
            let _ = writeln!(
                body,
                r##"<line x1="{left:.1}" y1="{gy:.1}" x2="{:.1}" y2="{gy:.1}" stroke="{}" stroke-width="0.5"/><text x="{:.1}" y="{:.1}" text-anchor="end" font-size="10">{}</text>"##,
                left + plot_w,
                if k == 0 { "#000" } else { "#ddd" },
                left - 4.0,
                gy + 3.0,
                format_tick(v)
            );
        }
        for &t in &threads {
            let gx = x_of(t);
            let _ = writeln!(
                body,
                r##"<line x1="{gx:.1}" y1="{y0:.1}" x2="{gx:.1}" y2="{:.1}" stroke="#eee" stroke-width="0.5"/><text x="{gx:.1}" y="{:.1}" text-anchor="middle" font-size="10">{t}</text>"##,
                y0 + plot_h,
                y0 + plot_h + 12.0
            );
        }
        let _ = writeln!(
            body,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">threads</text>"#,
            left + plot_w / 2.0,
            y0 + plot_h + 24.0
        );
        for (c, name) in panel.columns.iter().enumerate() {
            let color = COLORS[c % COLORS.len()];
            let stroke = if c == 0 { 3.0 } else { 1.5 };
            let line = panel.line(c);
            if line.len() > 1 {
                let points: Vec<String> = line
                    .iter()
                    .map(|&(t, v)| format!("{:.1},{:.1}", x_of(t), y_of(v)))
                    .collect();
                let _ = writeln!(
                    body,
                    r#"<polyline fill="none" stroke="{color}" stroke-width="{stroke}" points="{}"/>"#,
                    points.join(" ")
                );
            }
            for &(t, v) in &line {
                let _ = writeln!(
                    body,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="{:.1}" fill="{color}"/>"#,
                    x_of(t),
                    y_of(v),
                    stroke + 0.5
                );
            }
            let ly = y0 + 14.0 * c as f64;
            let _ = writeln!(
                body,
                r#"<rect x="{:.1}" y="{ly:.1}" width="10" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                left + plot_w + 20.0,
                left + plot_w + 34.0,
                ly + 9.0,
                escape(name)
            );
        }
        y = y0 + plot_h + 44.0;
    }
    svg_document(title, width, y, &body)
}

fn format_tick(v: f64) -> String {
    if v == 0.0 || v >= 10.0 {
        format!("{v:.0}")
    } else if v >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn panel() -> Scaling {
        Scaling {
            title: "ReadHeavy, foldhash hasher".into(),
            unit: "Mops/s",
            columns: vec!["SyncMap".into(), "dashmap <6>".into()],
            points: vec![
                (1, vec![Some(3.0), Some(20.0)]),
                (2, vec![Some(5.5), None]),
                (4, vec![Some(9.0), Some(70.0)]),
            ],
        }
    }

    #[test]
    fn a_line_leaves_out_the_cells_not_run() {
        let p = panel();
        assert_eq!(p.line(0), vec![(1, 3.0), (2, 5.5), (4, 9.0)]);
        assert_eq!(p.line(1), vec![(1, 20.0), (4, 70.0)]);
        assert_eq!(p.line(7), vec![]);
        assert_eq!(p.threads(), vec![1, 2, 4]);
    }

    #[test]
    fn the_axis_ends_at_a_round_figure_at_or_above_the_largest() {
        assert_eq!(axis_top(70.0), 100.0);
        assert_eq!(axis_top(100.0), 100.0);
        assert_eq!(axis_top(101.0), 200.0);
        assert_eq!(axis_top(3.7), 5.0);
        assert_eq!(axis_top(0.0), 1.0);
        assert_eq!(axis_top(f64::NAN), 1.0);
    }

    #[test]
    fn the_chart_draws_one_line_per_map_and_one_dot_per_figure() {
        let svg = scaling_svg("mixes", &[panel(), panel()]);
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
        // Two panels, two maps each with at least two figures: four lines; 5 dots a panel.
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert_eq!(svg.matches("<circle").count(), 10);
        // Names are escaped.
        assert!(svg.contains("dashmap &lt;6&gt;"));
        assert!(!svg.contains("dashmap <6>"));
    }

    #[test]
    fn dots_sit_at_their_figure_and_thread_count() {
        let svg = scaling_svg("t", &[panel()]);
        // Plot from y0 = 64 to 264, axis top 100: 70 Mops/s at y = 264 - 140 = 124; threads 4 is
        // the last of three columns, at x = 60 + 20 + 380 = 460; threads 1 at x = 80.
        assert!(svg.contains(r#"<circle cx="460.0" cy="124.0""#), "{svg}");
        assert!(svg.contains(r#"<circle cx="80.0" cy="224.0""#), "{svg}");
    }
}
