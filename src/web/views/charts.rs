//! Server-side SVG charts (no chart library in the browser). Every chart is
//! drawn from the same numbers the page also shows in a table, so the
//! figures are readable without the picture. All text is escaped here.

use std::fmt::Write as _;

use crate::domain::svg::{Svg, escape};

/// Every chart is drawn at its natural size, 360 wide, with 12-unit text:
/// shown at most that wide, its text is never smaller than 11 px on a
/// screen 330 px wide or more (issue 14, item 8).
pub const W: i64 = 360;
/// The text size in the picture's units.
pub const FONT: i64 = 12;
const LABEL_W: i64 = 128;
const ROW: i64 = 26;

/// A horizontal bar chart of labelled counts: a row each, its label on the
/// left (whole in its tooltip when long), its count after the bar.
pub fn bars(title: &str, id: &str, data: &[(String, i64)]) -> Svg {
    let max = data.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let h = 8 + ROW * data.len().max(1) as i64;
    let span = W - LABEL_W - 44;
    let mut svg = open(title, id, h);
    for (i, (label, v)) in data.iter().enumerate() {
        let y = 4 + ROW * i as i64;
        let w = span * v / max;
        let shown = clip(label, 17);
        let _ = write!(
            svg,
            r##"<text class="label" x="{}" y="{}" text-anchor="end" fill="#5b6676"><title>{}</title>{}</text><rect class="bar" x="{LABEL_W}" y="{}" width="{}" height="{}" fill="#1f4e79"><title>{}: {v}</title></rect><text class="value" x="{}" y="{}" fill="#1b2330" font-weight="600">{v}</text>"##,
            LABEL_W - 6,
            y + 16,
            escape(label),
            escape(&shown),
            y + 4,
            w.max(1),
            ROW - 8,
            escape(label),
            LABEL_W + w.max(1) + 5,
            y + 16,
        );
    }
    svg.push_str("</svg>");
    Svg::drawn(svg)
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}

fn open(title: &str, id: &str, h: i64) -> String {
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {W} {h}" width="{W}" height="{h}" font-family="system-ui, sans-serif" font-size="{FONT}" role="img" aria-labelledby="{id}"><title id="{id}">{}</title>"#,
        escape(title)
    );
    svg
}

const LEFT: i64 = 36;
const PLOT_H: i64 = 140;
const TOP: i64 = 16;

/// A line chart of counts over labelled points (left to right), every
/// other point labelled.
pub fn line(title: &str, id: &str, data: &[(String, i64)]) -> Svg {
    let max = data.iter().map(|d| d.1).max().unwrap_or(0).max(1);
    let base = TOP + PLOT_H;
    let mut svg = open(title, id, base + 28);
    axes(&mut svg, base, max);
    let n = data.len().max(2) as i64;
    let step = (W - LEFT - 24) / (n - 1);
    let point = |i: usize, v: i64| (LEFT + 8 + step * i as i64, base - PLOT_H * v / max);
    let path: Vec<String> = data
        .iter()
        .enumerate()
        .map(|(i, (_, v))| {
            let (x, y) = point(i, *v);
            format!("{x},{y}")
        })
        .collect();
    let _ = write!(
        svg,
        r##"<polyline class="series" fill="none" stroke="#1f4e79" stroke-width="2" points="{}"/>"##,
        path.join(" ")
    );
    for (i, (label, v)) in data.iter().enumerate() {
        let (x, y) = point(i, *v);
        let _ = write!(
            svg,
            r##"<circle class="dot" cx="{x}" cy="{y}" r="3" fill="#1f4e79"><title>{}: {v}</title></circle>"##,
            escape(label)
        );
        if i % 2 == (data.len() + 1) % 2 {
            let _ = write!(
                svg,
                r##"<text class="label" x="{x}" y="{}" text-anchor="middle" fill="#5b6676">{}</text>"##,
                base + 18,
                escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    Svg::drawn(svg)
}

fn axes(svg: &mut String, base: i64, max: i64) {
    let _ = write!(
        svg,
        r##"<line class="axis" x1="{LEFT}" y1="{base}" x2="{}" y2="{base}" stroke="#8d98a7"/><line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}" stroke="#8d98a7"/><text class="tick" x="{}" y="{}" text-anchor="end" fill="#5b6676">{max}</text><text class="tick" x="{}" y="{base}" text-anchor="end" fill="#5b6676">0</text>"##,
        W - 8,
        LEFT - 6,
        TOP + 4,
        LEFT - 6
    );
}

/// The colours of stacked series, each distinct on white and in print.
pub const SERIES: [&str; 7] = [
    "#1f4e79", "#b5541c", "#2e7d32", "#7b3f98", "#a31545", "#00796b", "#5d4037",
];

/// Stacked columns: for each labelled column, the counts of each series
/// (in `series` order), with a legend of the series under the plot.
pub fn stacked(title: &str, id: &str, columns: &[(String, Vec<i64>)], series: &[&str]) -> Svg {
    let max = columns
        .iter()
        .map(|(_, v)| v.iter().sum::<i64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let base = TOP + PLOT_H;
    let legend_rows = (series.len() as i64 + 1) / 2;
    let mut svg = open(title, id, base + 28 + 20 * legend_rows);
    axes(&mut svg, base, max);
    let n = columns.len().max(1) as i64;
    let slot = (W - LEFT - 12) / n;
    for (i, (label, values)) in columns.iter().enumerate() {
        let x = LEFT + 6 + slot * i as i64;
        let mut y = base;
        for (k, v) in values.iter().enumerate().filter(|(_, v)| **v > 0) {
            let h = PLOT_H * v / max;
            y -= h;
            let _ = write!(
                svg,
                r#"<rect class="bar series-{k}" x="{x}" y="{y}" width="{}" height="{h}" fill="{}"><title>{}, {}: {v}</title></rect>"#,
                (slot - 4).max(2),
                SERIES[k % SERIES.len()],
                escape(label),
                escape(series.get(k).copied().unwrap_or_default()),
            );
        }
        let total: i64 = values.iter().sum();
        if total > 0 {
            let _ = write!(
                svg,
                r##"<text class="value" x="{}" y="{}" text-anchor="middle" fill="#1b2330">{total}</text>"##,
                x + (slot - 4) / 2,
                y - 3
            );
        }
        let _ = write!(
            svg,
            r##"<text class="label" x="{}" y="{}" text-anchor="middle" fill="#5b6676">{}</text>"##,
            x + (slot - 4) / 2,
            base + 18,
            escape(label)
        );
    }
    for (k, name) in series.iter().enumerate() {
        let (col, row) = (k as i64 % 2, k as i64 / 2);
        let (x, y) = (LEFT + col * 160, base + 34 + row * 20);
        let _ = write!(
            svg,
            r##"<rect class="series-{k}" x="{x}" y="{}" width="12" height="12" fill="{}"/><text class="legend" x="{}" y="{}" fill="#1b2330">{}</text>"##,
            y - 10,
            SERIES[k % SERIES.len()],
            x + 17,
            y,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    Svg::drawn(svg)
}

/// One cell of a risk heat map: its count, its verdict's stored name and
/// where its risks are listed.
pub struct HeatCell {
    pub count: i64,
    pub verdict: &'static str,
    pub href: String,
}

/// A risk heat map (ISO 14971): severity up the side (highest at the top),
/// probability along the bottom, each cell coloured by the plan's verdict
/// and showing how many risks it holds, a link to them. `rows[s - 1][p - 1]`.
pub fn heat_map(
    title: &str,
    id: &str,
    severity: &[String],
    probability: &[String],
    rows: &[Vec<HeatCell>],
) -> Svg {
    const CELL: i64 = 48;
    const SIDE: i64 = 96;
    let (ns, np) = (severity.len() as i64, probability.len() as i64);
    let h = 8 + CELL * ns + 44;
    let mut svg = open(title, id, h);
    let fill = |v: &str| match v {
        "acceptable" => "#d6ecd2",
        "review" => "#fbe3a6",
        _ => "#f4bcb8",
    };
    for (si, row) in rows.iter().enumerate() {
        // Severity n is drawn on row ns - n (the most severe at the top).
        let y = 4 + CELL * (ns - 1 - si as i64);
        let label = severity.get(si).map_or("", String::as_str);
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end" fill="#1b2330"><title>{}</title>{}</text>"##,
            SIDE - 6,
            y + CELL / 2 + 4,
            escape(label),
            escape(&clip(label, 13)),
        );
        for (pi, cell) in row.iter().enumerate() {
            let x = SIDE + (CELL * pi as i64).min(W - SIDE - CELL);
            let words = format!(
                "{} risk(s): severity {}, probability {}: {}",
                cell.count,
                label,
                probability.get(pi).map_or("", String::as_str),
                cell.verdict
            );
            let _ = write!(
                svg,
                r##"<a href="{}"><rect x="{x}" y="{y}" width="{}" height="{}" fill="{}" stroke="#ffffff" stroke-width="2"><title>{}</title></rect><text x="{}" y="{}" text-anchor="middle" fill="#1b2330" font-weight="600">{}</text></a>"##,
                escape(&cell.href),
                CELL,
                CELL,
                fill(cell.verdict),
                escape(&words),
                x + CELL / 2,
                y + CELL / 2 + 4,
                if cell.count == 0 {
                    String::new()
                } else {
                    cell.count.to_string()
                },
            );
        }
    }
    let base = 4 + CELL * ns;
    for (pi, label) in probability.iter().enumerate() {
        let x = SIDE + CELL * pi as i64 + CELL / 2;
        let _ = write!(
            svg,
            r##"<text x="{x}" y="{}" text-anchor="middle" fill="#1b2330" font-size="10"><title>{}</title>{}</text>"##,
            base + 14,
            escape(label),
            escape(&clip(label, 8)),
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#5b6676">Probability →</text>"##,
        SIDE + CELL * np / 2,
        base + 34,
    );
    svg.push_str("</svg>");
    Svg::drawn(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each text's size in the picture's units: its own, or the picture's.
    fn font_sizes(svg: &str) -> Vec<i64> {
        let whole = svg
            .split("font-size=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        svg.split("<text ")
            .skip(1)
            .map(|t| {
                t.split('>')
                    .next()
                    .and_then(|attrs| attrs.split("font-size=\"").nth(1))
                    .and_then(|r| r.split('"').next())
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(whole)
            })
            .collect()
    }

    #[test]
    fn bars_scale_to_the_largest_value_escape_labels_and_stay_legible() {
        let svg = bars(
            "Open <CAPAs>",
            "c1",
            &[
                ("A&B".into(), 4),
                ("C".into(), 2),
                ("Incoming inspection and more".into(), 0),
            ],
        );
        assert!(svg.contains("<title id=\"c1\">Open &lt;CAPAs&gt;</title>"));
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3);
        // The longest bar fills the span; half the value, half the width.
        let span = W - LABEL_W - 44;
        assert!(svg.contains(&format!("width=\"{span}\"")));
        assert!(svg.contains(&format!("width=\"{}\"", span / 2)));
        assert!(svg.contains("A&amp;B: 4"));
        // A long label is cut in the picture and whole in its tooltip.
        assert!(svg.contains("<title>Incoming inspection and more</title>Incoming inspect…"));
        // 360 wide at most, 12-unit text: 11 px or more from 330 px up.
        assert!(svg.contains(&format!("width=\"{W}\"")));
        assert!(
            font_sizes(&svg)
                .iter()
                .all(|s| *s as f64 * 330.0 / W as f64 >= 11.0)
        );
    }

    #[test]
    fn a_line_has_one_point_per_value() {
        let data: Vec<(String, i64)> = (0..12).map(|i| (format!("w{i}"), i)).collect();
        let svg = line("Overdue", "c2", &data);
        assert_eq!(svg.matches("<circle class=\"dot\"").count(), 12);
        assert!(svg.contains("<polyline class=\"series\""));
        assert!(font_sizes(&svg).iter().all(|s| *s >= FONT));
    }

    #[test]
    fn stacked_columns_add_up_and_name_every_series() {
        let columns = vec![
            ("Jan".to_string(), vec![2, 0, 1]),
            ("Feb".to_string(), vec![0, 0, 0]),
        ];
        let svg = stacked(
            "Reported",
            "c3",
            &columns,
            &["Production", "Complaint", "Supplier"],
        );
        assert_eq!(
            svg.matches("<rect class=\"bar ").count(),
            2,
            "no empty pieces"
        );
        assert!(svg.contains("<title>Jan, Supplier: 1</title>"));
        assert!(svg.contains(">3</text>"), "the column's total");
        for name in ["Production", "Complaint", "Supplier"] {
            assert!(
                svg.contains(&format!(">{name}</text>")),
                "{name} in the legend"
            );
        }
    }
}
