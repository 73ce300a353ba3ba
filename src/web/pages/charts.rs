//! Charts drawn on the server as SVG, so a person looks rather than reads: the grade
//! distribution, and each assessor's lean against the agreed scores. Pure functions (numbers in,
//! markup out). Every chart carries a title and a description for screen readers, escapes its
//! text, and uses presentation attributes and classes only (no `style`, which the pages' CSP
//! does not allow inline).

use std::fmt::Write;

/// Escapes text for SVG (XML) content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
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

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

const WIDTH: f64 = 640.0;
const LABEL_W: f64 = 170.0;
const ROW_H: f64 = 34.0;
const BAR_H: f64 = 22.0;
const TOP: f64 = 10.0;

/// Horizontal bars, one per (label, count), e.g. outcomes per grade, lowest first (coloured low,
/// middle, top). `id` makes the title and description ids unique on the page.
pub fn bar_chart(id: &str, title: &str, bars: &[(String, usize)]) -> String {
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let total: usize = bars.iter().map(|(_, n)| n).sum();
    let height = TOP * 2.0 + ROW_H * bars.len().max(1) as f64;
    let plot = WIDTH - LABEL_W - 60.0;
    let desc: Vec<String> = bars.iter().map(|(l, n)| format!("{l}: {n}")).collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{} of {total}.</desc>"#,
        escape(title),
        escape(&desc.join("; "))
    );
    if bars.is_empty() || total == 0 {
        let _ = write!(
            svg,
            r#"<text class="chart-empty" x="{}" y="{}">No decided assessments match.</text>"#,
            10.0,
            TOP + 20.0
        );
    }
    for (i, (label, n)) in bars.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        let w = if *n == 0 { 0.0 } else { (plot * *n as f64 / max).max(2.0) };
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="{}" y="{}" text-anchor="end">{}</text><rect class="chart-bar chart-bar-{}" x="{LABEL_W}" y="{y}" width="{w:.1}" height="{BAR_H}" rx="3"/><text class="chart-value" x="{:.1}" y="{}">{n}</text>"#,
            LABEL_W - 8.0,
            y + BAR_H * 0.72,
            escape(&shorten(label, 24)),
            if i == 0 && bars.len() > 1 {
                "low"
            } else if i + 1 == bars.len() && bars.len() > 1 {
                "top"
            } else {
                "mid"
            },
            LABEL_W + w + 6.0,
            y + BAR_H * 0.72,
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One scorer's lean: the mean of (their score − the agreed score); > 0 lenient, < 0 severe.
#[derive(Debug, Clone)]
pub struct Lean {
    pub name: String,
    pub mean_difference: f64,
    pub items: usize,
}

/// Bars either side of a zero line: severe to the left, lenient to the right.
pub fn lean_chart(id: &str, title: &str, leans: &[Lean]) -> String {
    let reach = leans.iter().map(|l| l.mean_difference.abs()).fold(0.0_f64, f64::max).max(1.0);
    let height = TOP * 2.0 + 24.0 + ROW_H * leans.len().max(1) as f64;
    let plot = WIDTH - LABEL_W - 20.0;
    let zero = LABEL_W + plot / 2.0;
    let half = plot / 2.0;
    let desc: Vec<String> = leans
        .iter()
        .map(|l| {
            format!("{}: {:+.2} over {} items ({})", l.name, l.mean_difference, l.items, lean_word(l.mean_difference))
        })
        .collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">Mean difference from the agreed score; above zero is lenient, below zero severe. {}</desc>"#,
        escape(title),
        escape(&desc.join("; "))
    );
    let axis_y = TOP + 14.0;
    let _ = write!(
        svg,
        r#"<text class="chart-axis" x="{:.1}" y="{axis_y}" text-anchor="start">severe −{reach:.1}</text><text class="chart-axis" x="{zero:.1}" y="{axis_y}" text-anchor="middle">0</text><text class="chart-axis" x="{:.1}" y="{axis_y}" text-anchor="end">+{reach:.1} lenient</text>"#,
        LABEL_W,
        LABEL_W + plot,
    );
    if leans.is_empty() {
        let _ = write!(svg, r#"<text class="chart-empty" x="10" y="{}">No scores match.</text>"#, axis_y + 30.0);
    }
    for (i, l) in leans.iter().enumerate() {
        let y = axis_y + 10.0 + ROW_H * i as f64;
        let w = (half * l.mean_difference.abs() / reach).max(if l.mean_difference == 0.0 { 0.0 } else { 2.0 });
        let (x, class) = if l.mean_difference < 0.0 { (zero - w, "chart-severe") } else { (zero, "chart-lenient") };
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="{}" y="{:.1}" text-anchor="end">{}</text><rect class="{class}" x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{BAR_H}" rx="3"/><text class="chart-value" x="{:.1}" y="{:.1}" text-anchor="{}">{:+.2}</text>"#,
            LABEL_W - 8.0,
            y + BAR_H * 0.72,
            escape(&shorten(&l.name, 24)),
            if l.mean_difference < 0.0 { zero + 6.0 } else { zero - 6.0 },
            y + BAR_H * 0.72,
            if l.mean_difference < 0.0 { "start" } else { "end" },
            l.mean_difference,
        );
    }
    let bottom = axis_y + 6.0 + ROW_H * leans.len().max(1) as f64;
    let _ = write!(
        svg,
        r#"<line class="chart-zero" x1="{zero:.1}" y1="{:.1}" x2="{zero:.1}" y2="{bottom:.1}"/>"#,
        axis_y + 6.0
    );
    svg.push_str("</svg>");
    svg
}

pub fn lean_word(mean_difference: f64) -> &'static str {
    if mean_difference > 0.25 {
        "lenient"
    } else if mean_difference < -0.25 {
        "severe"
    } else {
        "in line"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_proportional_and_labelled() {
        let svg =
            bar_chart("g", "Grades", &[("Pass".into(), 4), ("Distinction".into(), 2), ("Not achieved".into(), 0)]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"role="img""#) && svg.contains("<title id=\"g-title\">Grades</title>"));
        assert!(svg.contains("Pass: 4; Distinction: 2; Not achieved: 0 of 6."), "{svg}");
        assert!(svg.contains(r#"width="410.0""#), "the largest bar fills the plot: {svg}");
        assert!(svg.contains(r#"width="205.0""#), "half as many, half as long: {svg}");
        assert!(!svg.contains("style="), "no inline style (CSP)");
    }

    #[test]
    fn chart_text_is_escaped() {
        let svg = bar_chart("x", "<script>", &[("<b>&".into(), 1)]);
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        assert!(svg.contains("&lt;b&gt;&amp;"));
        let svg = lean_chart("l", "Lean", &[Lean { name: "<i>".into(), mean_difference: 0.5, items: 3 }]);
        assert!(!svg.contains("<i>"));
    }

    #[test]
    fn lean_goes_left_when_severe_and_right_when_lenient() {
        let svg = lean_chart(
            "l",
            "Lean",
            &[
                Lean { name: "Severe Sue".into(), mean_difference: -1.0, items: 10 },
                Lean { name: "Lenient Len".into(), mean_difference: 0.5, items: 10 },
            ],
        );
        assert!(svg.contains(r#"class="chart-severe""#) && svg.contains(r#"class="chart-lenient""#));
        assert!(svg.contains("Severe Sue: -1.00 over 10 items (severe)"), "{svg}");
        assert!(svg.contains("Lenient Len: +0.50 over 10 items (lenient)"));
        assert_eq!(lean_word(0.1), "in line");
        let empty = lean_chart("e", "Lean", &[]);
        assert!(empty.contains("No scores match."));
    }
}
