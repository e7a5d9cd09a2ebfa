//! Markdown tables and a hand-written SVG bar chart.

use std::fmt::Write as _;

/// A table of figures; the first column is `SyncMap`, the one every ratio is taken against.
#[derive(Clone, Debug)]
pub struct Table {
    /// Heading.
    pub title: String,
    /// Unit of the figures, e.g. "ns/op" or "Mops/s".
    pub unit: &'static str,
    /// Whether a larger figure is better (throughput) or worse (time).
    pub higher_is_better: bool,
    /// Column names; column 0 is ours.
    pub columns: Vec<String>,
    /// Row name and one figure per column (`None`: not run).
    pub rows: Vec<(String, Vec<Option<f64>>)>,
}

/// How many times faster ours is than `peer` (> 1: ours is faster).
pub fn speedup(ours: f64, peer: f64, higher_is_better: bool) -> f64 {
    if higher_is_better {
        ours / peer
    } else {
        peer / ours
    }
}

fn fmt_figure(v: f64) -> String {
    if v >= 1000.0 {
        format!("{v:.0}")
    } else if v >= 100.0 {
        format!("{v:.1}")
    } else if v >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

impl Table {
    /// Renders the table; each peer cell carries the speedup of ours over it.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "#### {} ({})\n", self.title, self.unit);
        let _ = write!(out, "| |");
        for c in &self.columns {
            let _ = write!(out, " {c} |");
        }
        let _ = write!(out, "\n|---|");
        for _ in &self.columns {
            let _ = write!(out, "---:|");
        }
        out.push('\n');
        for (name, figures) in &self.rows {
            let _ = write!(out, "| {name} |");
            let ours = figures.first().copied().flatten();
            for (i, f) in figures.iter().enumerate() {
                match (f, ours) {
                    (None, _) => out.push_str(" – |"),
                    (Some(v), Some(o)) if i > 0 => {
                        let s = speedup(o, *v, self.higher_is_better);
                        let mark = if s >= 1.0 { "" } else { "**" };
                        let _ = write!(out, " {} ({mark}{s:.2}×{mark}) |", fmt_figure(*v));
                    }
                    (Some(v), _) => {
                        let _ = write!(out, " {} |", fmt_figure(*v));
                    }
                }
            }
            out.push('\n');
        }
        out
    }
}

/// The series colours of both charts, column by column.
pub(crate) const COLORS: [&str; 8] = [
    "#d62728", "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#7f7f7f",
];

/// `s` as SVG text.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A horizontal grouped bar chart of several tables, one panel per table: for each row, one bar
/// per column, the speedup of ours over that column on a log2 axis (bars to the right: ours is
/// faster). Written by hand; no plotting dependency.
pub fn svg(title: &str, tables: &[&Table]) -> String {
    let bar_h = 7.0;
    let label_w = 250.0;
    let plot_w = 560.0;
    let legend_w = 170.0;
    let width = label_w + plot_w + legend_w + 20.0;
    let max_log = 5.0_f64; // ±32×
    let x0 = label_w + plot_w / 2.0;
    let scale = plot_w / 2.0 / max_log;
    let mut body = String::new();
    let mut y = 40.0;
    for table in tables {
        let peers = table.columns.len().saturating_sub(1);
        let _ = writeln!(
            body,
            r#"<text x="10" y="{:.1}" font-weight="bold">{}</text>"#,
            y + 12.0,
            escape(&format!("{} ({})", table.title, table.unit))
        );
        y += 24.0;
        let top = y;
        for (name, figures) in &table.rows {
            let group_h = bar_h * peers as f64 + 6.0;
            let _ = writeln!(
                body,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="11">{}</text>"#,
                label_w - 6.0,
                y + group_h / 2.0 + 3.0,
                escape(name)
            );
            let ours = figures.first().copied().flatten();
            for (i, f) in figures.iter().enumerate().skip(1) {
                if let (Some(v), Some(o)) = (f, ours) {
                    let s = speedup(o, *v, table.higher_is_better).log2();
                    let s = s.clamp(-max_log, max_log);
                    let (x, w) = if s >= 0.0 {
                        (x0, s * scale)
                    } else {
                        (x0 + s * scale, -s * scale)
                    };
                    let _ = writeln!(
                        body,
                        r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{}"/>"#,
                        y + bar_h * (i - 1) as f64,
                        w.max(0.5),
                        bar_h - 1.0,
                        COLORS[(i - 1) % COLORS.len()]
                    );
                }
            }
            y += group_h;
        }
        // Axis and grid.
        for k in -5..=5 {
            let x = x0 + k as f64 * scale;
            let _ = writeln!(
                body,
                r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{y:.1}" stroke="{}" stroke-width="{}"/>"##,
                if k == 0 { "#000" } else { "#ddd" },
                if k == 0 { 1.5 } else { 0.5 }
            );
            let label = if k >= 0 {
                format!("{}×", 1 << k)
            } else {
                format!("1/{}", 1 << -k)
            };
            let _ = writeln!(
                body,
                r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="10">{label}</text>"#,
                y + 12.0
            );
        }
        // Legend.
        for (i, c) in table.columns.iter().enumerate().skip(1) {
            let ly = top + 14.0 * (i - 1) as f64;
            let _ = writeln!(
                body,
                r#"<rect x="{:.1}" y="{ly:.1}" width="10" height="10" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="11">{}</text>"#,
                label_w + plot_w + 20.0,
                COLORS[(i - 1) % COLORS.len()],
                label_w + plot_w + 34.0,
                ly + 9.0,
                escape(c)
            );
        }
        y += 30.0;
    }
    svg_document(title, width, y + 10.0, &body)
}

/// A whole SVG document of `width` × `height`: a white background, `title` at the top, then
/// `body`.
pub(crate) fn svg_document(title: &str, width: f64, height: f64, body: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#,
        escape(title)
    );
    out.push_str(body);
    out.push_str("</svg>\n");
    out
}

/// Folds one more run into `best`, cell by cell, keeping the smaller figure (a `row` starts
/// `best` when it is empty; a cell missing from either stays as `best` has it). For figures
/// where higher is better, pass them negated.
pub fn keep_best(best: &mut Vec<Option<f64>>, row: Vec<Option<f64>>) {
    if best.is_empty() {
        *best = row;
    } else {
        for (b, r) in best.iter_mut().zip(row) {
            if let (Some(b), Some(r)) = (b.as_mut(), r) {
                *b = b.min(r);
            }
        }
    }
}
