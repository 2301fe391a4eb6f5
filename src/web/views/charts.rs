//! Server-side SVG charts (no chart library in the browser). Every chart is
//! drawn from the same numbers the page also shows in a table, so the
//! figures are readable without the picture. All text is escaped here.

use std::fmt::Write as _;

use crate::domain::svg::{Svg, escape};

const W: i64 = 560;
const H: i64 = 220;
const LEFT: i64 = 40;
const BOTTOM: i64 = 40;
const TOP: i64 = 16;

fn scale_max(values: impl Iterator<Item = i64>) -> i64 {
    values.max().unwrap_or(0).max(1)
}

fn frame(svg: &mut String, title: &str, id: &str, max: i64) {
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="{id}"><title id="{id}">{}</title>"#,
        escape(title)
    );
    let base = H - BOTTOM;
    let _ = write!(
        svg,
        r#"<line class="axis" x1="{LEFT}" y1="{base}" x2="{}" y2="{base}"/><line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{base}"/><text class="tick" x="{}" y="{}" text-anchor="end">{max}</text><text class="tick" x="{}" y="{base}" text-anchor="end">0</text>"#,
        W - 8,
        LEFT - 6,
        TOP + 4,
        LEFT - 6
    );
}

/// A bar chart of labelled counts.
pub fn bars(title: &str, id: &str, data: &[(String, i64)]) -> Svg {
    let mut svg = String::new();
    let max = scale_max(data.iter().map(|d| d.1));
    frame(&mut svg, title, id, max);
    let n = data.len().max(1) as i64;
    let slot = (W - LEFT - 16) / n;
    let base = H - BOTTOM;
    for (i, (label, v)) in data.iter().enumerate() {
        let h = (base - TOP) * v / max;
        let x = LEFT + 8 + slot * i as i64;
        let _ = write!(
            svg,
            r#"<rect class="bar" x="{x}" y="{}" width="{}" height="{h}"><title>{}: {v}</title></rect><text class="value" x="{}" y="{}" text-anchor="middle">{v}</text><text class="label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            base - h,
            (slot - 10).max(4),
            escape(label),
            x + (slot - 10).max(4) / 2,
            base - h - 4,
            x + (slot - 10).max(4) / 2,
            base + 16,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    Svg::drawn(svg)
}

/// A line chart of counts over labelled points (left to right).
pub fn line(title: &str, id: &str, data: &[(String, i64)]) -> Svg {
    let mut svg = String::new();
    let max = scale_max(data.iter().map(|d| d.1));
    frame(&mut svg, title, id, max);
    let base = H - BOTTOM;
    let n = data.len().max(2) as i64;
    let step = (W - LEFT - 24) / (n - 1);
    let point = |i: usize, v: i64| (LEFT + 8 + step * i as i64, base - (base - TOP) * v / max);
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
        r#"<polyline class="series" fill="none" points="{}"/>"#,
        path.join(" ")
    );
    for (i, (label, v)) in data.iter().enumerate() {
        let (x, y) = point(i, *v);
        let _ = write!(
            svg,
            r#"<circle class="dot" cx="{x}" cy="{y}" r="3"><title>{}: {v}</title></circle>"#,
            escape(label)
        );
        if i % 2 == (data.len() + 1) % 2 {
            let _ = write!(
                svg,
                r#"<text class="label" x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                base + 16,
                escape(label)
            );
        }
    }
    svg.push_str("</svg>");
    Svg::drawn(svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_escape_labels() {
        let svg = bars(
            "Open <CAPAs>",
            "c1",
            &[("A&B".into(), 4), ("C".into(), 2), ("D".into(), 0)],
        );
        assert!(svg.contains("<title id=\"c1\">Open &lt;CAPAs&gt;</title>"));
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 3);
        // The tallest bar fills the plot; half the value, half the height.
        assert!(svg.contains(&format!("height=\"{}\"", H - BOTTOM - TOP)));
        assert!(svg.contains(&format!("height=\"{}\"", (H - BOTTOM - TOP) / 2)));
        assert!(svg.contains("A&amp;B: 4"));
    }

    #[test]
    fn a_line_has_one_point_per_value() {
        let data: Vec<(String, i64)> = (0..12).map(|i| (format!("w{i}"), i)).collect();
        let svg = line("Overdue", "c2", &data);
        assert_eq!(svg.matches("<circle class=\"dot\"").count(), 12);
        assert!(svg.contains("<polyline class=\"series\""));
    }
}
