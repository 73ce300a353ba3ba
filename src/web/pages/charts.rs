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
    let description =
        format!("Mean difference from the agreed score; above zero is lenient, below zero severe. {}", desc.join("; "));
    let (mut svg, axis_y) =
        open_lean_axis(id, title, &description, height, reach, leans.is_empty().then_some("No scores match."));
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

/// One scorer's row in a forest plot: the lean with its 95 % interval and flag.
#[derive(Debug, Clone)]
pub struct ForestRow {
    pub name: String,
    pub lean: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// `lenient`, `severe`, `too_few` or empty.
    pub flag: String,
}

/// How far either side of zero an axis reaches: the largest |value|, rounded up to a half point,
/// at least one point.
fn reach_of(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).map(f64::abs).fold(0.0_f64, f64::max);
    ((max * 2.0).ceil() / 2.0).max(1.0)
}

/// Opens a chart of leans either side of a zero line: the SVG with its title and description,
/// and the severe / 0 / lenient axis over `reach` points; `empty` is said when there are no rows.
/// Returns the SVG so far and the axis's y.
fn open_lean_axis(
    id: &str,
    title: &str,
    description: &str,
    height: f64,
    reach: f64,
    empty: Option<&str>,
) -> (String, f64) {
    let plot = WIDTH - LABEL_W - 20.0;
    let zero = LABEL_W + plot / 2.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(description)
    );
    let axis_y = TOP + 14.0;
    let _ = write!(
        svg,
        r#"<text class="chart-axis" x="{LABEL_W:.1}" y="{axis_y}" text-anchor="start">severe −{reach:.1}</text><text class="chart-axis" x="{zero:.1}" y="{axis_y}" text-anchor="middle">0</text><text class="chart-axis" x="{:.1}" y="{axis_y}" text-anchor="end">+{reach:.1} lenient</text>"#,
        LABEL_W + plot,
    );
    if let Some(text) = empty {
        let _ = write!(svg, r#"<text class="chart-empty" x="10" y="{}">{}</text>"#, axis_y + 30.0, escape(text));
    }
    (svg, axis_y)
}

/// A forest plot: each scorer a row, a dot at the lean and a line across its 95 % interval, a
/// zero line; lenient and severe scorers coloured, those with too few assessments greyed.
pub fn forest_plot(id: &str, title: &str, rows: &[ForestRow]) -> String {
    let reach = reach_of(rows.iter().flat_map(|r| [r.lean, r.low, r.high]).flatten());
    let height = TOP * 2.0 + 24.0 + ROW_H * rows.len().max(1) as f64;
    let plot = WIDTH - LABEL_W - 20.0;
    let zero = LABEL_W + plot / 2.0;
    let x_of = |v: f64| zero + (plot / 2.0) * (v / reach).clamp(-1.0, 1.0);
    let desc: Vec<String> = rows
        .iter()
        .map(|r| match (r.lean, r.low, r.high) {
            (Some(l), Some(lo), Some(hi)) => {
                format!("{}: {l:+.2} ({lo:+.2} to {hi:+.2}) {}", r.name, flag_words(&r.flag))
            }
            (Some(l), _, _) => format!("{}: {l:+.2}, no interval {}", r.name, flag_words(&r.flag)),
            _ => format!("{}: not estimated", r.name),
        })
        .collect();
    let description = format!(
        "Lean in score points against the other members of the same panels, with its 95 % interval. {}",
        desc.join("; ")
    );
    let (mut svg, axis_y) =
        open_lean_axis(id, title, &description, height, reach, rows.is_empty().then_some("No scorers in this seat."));
    for (i, r) in rows.iter().enumerate() {
        let mid = axis_y + 10.0 + ROW_H * i as f64 + BAR_H / 2.0;
        let class = match r.flag.as_str() {
            "lenient" => "forest-lenient",
            "severe" => "forest-severe",
            "too_few" => "forest-too-few",
            _ => "forest-in-line",
        };
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LABEL_W - 8.0,
            mid + 5.0,
            escape(&shorten(&r.name, 24)),
        );
        if let (Some(lo), Some(hi)) = (r.low, r.high) {
            let _ = write!(
                svg,
                r#"<line class="forest-interval {class}" x1="{:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}"/>"#,
                x_of(lo),
                x_of(hi),
            );
        }
        match r.lean {
            Some(l) => {
                let _ = write!(svg, r#"<circle class="forest-dot {class}" cx="{:.1}" cy="{mid:.1}" r="6"/>"#, x_of(l));
            }
            None => {
                let _ = write!(
                    svg,
                    r#"<text class="chart-axis" x="{:.1}" y="{:.1}">not estimated</text>"#,
                    zero + 8.0,
                    mid + 4.0
                );
            }
        }
    }
    let bottom = axis_y + 6.0 + ROW_H * rows.len().max(1) as f64;
    let _ = write!(
        svg,
        r#"<line class="chart-zero" x1="{zero:.1}" y1="{:.1}" x2="{zero:.1}" y2="{bottom:.1}"/>"#,
        axis_y + 6.0
    );
    svg.push_str("</svg>");
    svg
}

/// A flag as the chart's description says it.
pub fn flag_words(flag: &str) -> &'static str {
    match flag {
        "lenient" => "(lenient: the interval is above zero)",
        "severe" => "(severe: the interval is below zero)",
        "too_few" => "(too few assessments to judge)",
        _ => "(in line)",
    }
}

/// The reference line of Krippendorff's alpha: below it, agreement is too low to draw even
/// tentative conclusions from (Krippendorff's own rule of thumb).
pub const ALPHA_REFERENCE: f64 = 0.667;

/// Horizontal bars of Krippendorff's alpha per (label, alpha) from 0 to 1, with a line at
/// 0.667; an undefined alpha says so, and one below zero draws no bar.
pub fn alpha_chart(id: &str, title: &str, bars: &[(String, Option<f64>)]) -> String {
    let height = TOP * 2.0 + 24.0 + ROW_H * bars.len().max(1) as f64;
    let plot = WIDTH - LABEL_W - 60.0;
    let x_of = |v: f64| LABEL_W + plot * v.clamp(0.0, 1.0);
    let desc: Vec<String> = bars
        .iter()
        .map(|(l, a)| match a {
            Some(a) => format!("{l}: {a:.2}"),
            None => format!("{l}: undefined"),
        })
        .collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">Krippendorff's alpha (ordinal) from 0 to 1, a reference line at {ALPHA_REFERENCE}. {}</desc>"#,
        escape(title),
        escape(&desc.join("; "))
    );
    let axis_y = TOP + 14.0;
    let _ = write!(
        svg,
        r#"<text class="chart-axis" x="{LABEL_W:.1}" y="{axis_y}" text-anchor="start">0</text><text class="chart-axis" x="{:.1}" y="{axis_y}" text-anchor="middle">{ALPHA_REFERENCE}</text><text class="chart-axis" x="{:.1}" y="{axis_y}" text-anchor="end">1</text>"#,
        x_of(ALPHA_REFERENCE),
        LABEL_W + plot,
    );
    if bars.is_empty() {
        let _ = write!(svg, r#"<text class="chart-empty" x="10" y="{}">No scores match.</text>"#, axis_y + 30.0);
    }
    for (i, (label, alpha)) in bars.iter().enumerate() {
        let y = axis_y + 10.0 + ROW_H * i as f64;
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LABEL_W - 8.0,
            y + BAR_H * 0.72,
            escape(&shorten(label, 24)),
        );
        match alpha {
            Some(a) => {
                let w = x_of(*a) - LABEL_W;
                let class = if *a >= ALPHA_REFERENCE { "alpha-ok" } else { "alpha-low" };
                let _ = write!(
                    svg,
                    r#"<rect class="{class}" x="{LABEL_W}" y="{y:.1}" width="{w:.1}" height="{BAR_H}" rx="3"/><text class="chart-value" x="{:.1}" y="{:.1}">{a:.2}</text>"#,
                    LABEL_W + w + 6.0,
                    y + BAR_H * 0.72,
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r#"<text class="chart-axis" x="{:.1}" y="{:.1}">undefined</text>"#,
                    LABEL_W + 6.0,
                    y + BAR_H * 0.72
                );
            }
        }
    }
    let bottom = axis_y + 6.0 + ROW_H * bars.len().max(1) as f64;
    let reference = x_of(ALPHA_REFERENCE);
    let _ = write!(
        svg,
        r#"<line class="chart-reference" x1="{reference:.1}" y1="{:.1}" x2="{reference:.1}" y2="{bottom:.1}"/>"#,
        axis_y + 6.0
    );
    svg.push_str("</svg>");
    svg
}

/// One period of the trends chart: its label, how many assessments, their mean weighted score.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    pub period: String,
    pub assessments: usize,
    pub mean_weighted_score: Option<f64>,
}

/// Horizontal bars of the mean weighted score per period (the scale reaches the largest mean,
/// at least 5), each labelled with the score and how many assessments it averages.
pub fn trend_chart(id: &str, title: &str, points: &[TrendPoint]) -> String {
    let max = points.iter().filter_map(|p| p.mean_weighted_score).filter(|v| v.is_finite()).fold(5.0_f64, f64::max);
    let height = TOP * 2.0 + ROW_H * points.len().max(1) as f64;
    let plot = WIDTH - LABEL_W - 120.0;
    let desc: Vec<String> = points
        .iter()
        .map(|p| match p.mean_weighted_score {
            Some(m) => format!("{}: {m:.2} over {} assessments", p.period, p.assessments),
            None => format!("{}: no score", p.period),
        })
        .collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-labelledby="{id}-title {id}-desc"><title id="{id}-title">{}</title><desc id="{id}-desc">Mean weighted score per period, 0 to {max:.0}. {}</desc>"#,
        escape(title),
        escape(&desc.join("; "))
    );
    if points.is_empty() {
        let _ =
            write!(svg, r#"<text class="chart-empty" x="10" y="{}">No decided assessments match.</text>"#, TOP + 20.0);
    }
    for (i, p) in points.iter().enumerate() {
        let y = TOP + ROW_H * i as f64;
        let m = p.mean_weighted_score.filter(|v| v.is_finite()).unwrap_or(0.0).max(0.0);
        let w = plot * m / max;
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="chart-bar chart-bar-mid" x="{LABEL_W}" y="{y:.1}" width="{w:.1}" height="{BAR_H}" rx="3"/><text class="chart-value" x="{:.1}" y="{:.1}">{m:.2} (n = {})</text>"#,
            LABEL_W - 8.0,
            y + BAR_H * 0.72,
            escape(&shorten(&p.period, 24)),
            LABEL_W + w + 6.0,
            y + BAR_H * 0.72,
            p.assessments,
        );
    }
    svg.push_str("</svg>");
    svg
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

    #[test]
    fn forest_plot_puts_dot_and_interval_where_the_numbers_are() {
        // reach: the largest |value| 0.9 rounds up to 1.0; plot 450 wide, zero at 170 + 225.
        let rows = [
            ForestRow {
                name: "Len <&>".into(),
                lean: Some(0.5),
                low: Some(0.1),
                high: Some(0.9),
                flag: "lenient".into(),
            },
            ForestRow {
                name: "Sue".into(),
                lean: Some(-0.5),
                low: Some(-0.9),
                high: Some(-0.1),
                flag: "severe".into(),
            },
            ForestRow { name: "New".into(), lean: None, low: None, high: None, flag: "too_few".into() },
        ];
        let svg = forest_plot("f", "Leans", &rows);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"<circle class="forest-dot forest-lenient" cx="507.5""#), "{svg}");
        assert!(svg.contains(r#"x1="417.5" y1="45.0" x2="597.5" y2="45.0""#), "{svg}");
        assert!(svg.contains(r#"<circle class="forest-dot forest-severe" cx="282.5""#), "{svg}");
        assert!(svg.contains(r#"<line class="chart-zero" x1="395.0""#), "{svg}");
        assert!(svg.contains("not estimated"), "{svg}");
        assert!(svg.contains("Len &lt;&amp;&gt;") && !svg.contains("<&>"), "escaped: {svg}");
        assert!(svg.contains("(lenient: the interval is above zero)"));
        assert!(!svg.contains("style=") && !svg.contains("NaN"), "{svg}");
        assert!(forest_plot("e", "Leans", &[]).contains("No scorers in this seat."));
        assert_eq!(reach_of([2.2, f64::NAN].into_iter()), 2.5);
    }

    #[test]
    fn alpha_bars_run_from_zero_to_one_with_a_reference_line() {
        let svg = alpha_chart(
            "a",
            "Alpha",
            &[("project / S1".into(), Some(0.5)), ("viva / K1".into(), None), ("all".into(), Some(-0.2))],
        );
        // plot 410 wide from x = 170: 0.5 is 205 long; the reference at 0.667 is at 443.5.
        assert!(svg.contains(r#"<rect class="alpha-low" x="170" y="34.0" width="205.0""#), "{svg}");
        assert!(svg.contains(r#"width="0.0""#), "below zero, no bar: {svg}");
        assert!(svg.contains(r#"<line class="chart-reference" x1="443.5""#), "{svg}");
        assert!(svg.contains("viva / K1: undefined") && svg.contains(">undefined<"), "{svg}");
        assert!(!svg.contains("NaN"));
    }

    #[test]
    fn trend_bars_scale_to_five_and_say_how_many() {
        let svg = trend_chart(
            "t",
            "Trend <x>",
            &[TrendPoint { period: "2026-11".into(), assessments: 3, mean_weighted_score: Some(2.5) }],
        );
        // plot 350 wide; 2.5 of 5 is 175 long.
        assert!(svg.contains(r#"width="175.0""#), "{svg}");
        assert!(svg.contains("2.50 (n = 3)") && svg.contains("Trend &lt;x&gt;"), "{svg}");
        assert!(trend_chart("t", "T", &[]).contains("No decided assessments match."));
    }
}
