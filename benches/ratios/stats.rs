//! The ratio benchmark's pure helpers: percentiles, the open-loop schedule, the fsync verdict,
//! ratios against targets and the table. Plain std, so they are unit-tested on their own:
//!
//!     cargo test --test bench_helpers
//!
//! (`benches/ratios.rs` includes this file as a module; the tests are in `stats_tests.rs`.)

use std::fmt::Write as _;
use std::time::Duration;

/// The `p`-th percentile (0–100) of `samples` by nearest rank; None when there are none.
pub fn percentile(samples: &[Duration], p: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    // nearest rank: the smallest value with at least p % of the samples at or below it
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// The median of some measurements (rounds of one kind), or 0 when there are none.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// Open loop: when the `i`-th request (from 0) is due, at `rate` requests a second from the
/// start. Latency is measured from this intended time, not from when a connection was free to
/// send it (coordinated omission corrected).
pub fn intended_offset(i: u64, rate: f64) -> Duration {
    if rate <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(i as f64 / rate)
}

/// How many requests an open-loop run of `secs` at `rate` sends (at least one).
pub fn schedule_len(rate: f64, secs: f64) -> u64 {
    ((rate * secs).round() as u64).max(1)
}

/// Whether the machine stayed comparable through a run: the fsync p99 before and after must be
/// within `factor` of each other (both ways), else the run is VOID.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FsyncVerdict {
    Valid { moved: f64 },
    Void { moved: f64 },
}

pub fn fsync_verdict(before: Duration, after: Duration, factor: f64) -> FsyncVerdict {
    let (b, a) = (before.as_secs_f64().max(1e-9), after.as_secs_f64().max(1e-9));
    let moved = if a > b { a / b } else { b / a };
    if moved > factor {
        FsyncVerdict::Void { moved }
    } else {
        FsyncVerdict::Valid { moved }
    }
}

/// A target for a row of the table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// ratio ≥ x (product throughput over the engine's)
    AtLeast(f64),
    /// ratio ≤ x (product time over the engine's, or during over idle)
    AtMost(f64),
    /// an absolute ceiling in milliseconds on the product's figure
    MillisAtMost(f64),
    /// bytes: peak at N ≤ peak at N/10 + x MB
    PlusMegabytes(f64),
    /// shown for information, no target
    None,
}

impl Target {
    /// Whether `value` (a ratio, milliseconds, or extra megabytes) meets the target.
    pub fn met(self, value: f64) -> Option<bool> {
        match self {
            Target::AtLeast(x) => Some(value >= x),
            Target::AtMost(x) | Target::MillisAtMost(x) | Target::PlusMegabytes(x) => Some(value <= x),
            Target::None => None,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Target::AtLeast(x) => format!("≥ {x}"),
            Target::AtMost(x) => format!("≤ {x}×"),
            Target::MillisAtMost(x) => format!("≤ {x} ms"),
            Target::PlusMegabytes(x) => format!("≤ +{x} MB"),
            Target::None => "—".into(),
        }
    }
}

/// One row of the printed table. `value` is what the target is checked against.
#[derive(Debug, Clone)]
pub struct Row {
    pub what: String,
    pub product: String,
    pub engine: String,
    pub value: Option<f64>,
    pub target: Target,
}

impl Row {
    pub fn new(what: impl Into<String>, product: impl Into<String>, engine: impl Into<String>) -> Self {
        Row { what: what.into(), product: product.into(), engine: engine.into(), value: None, target: Target::None }
    }

    pub fn checked(mut self, value: f64, target: Target) -> Self {
        self.value = Some(value);
        self.target = target;
        self
    }

    fn ratio_cell(&self) -> String {
        match (self.value, self.target) {
            (None, _) => "—".into(),
            (Some(v), Target::MillisAtMost(_)) => format!("{v:.1} ms"),
            (Some(v), Target::PlusMegabytes(_)) => format!("{v:+.1} MB"),
            (Some(v), _) => format!("{v:.2}"),
        }
    }

    fn met_cell(&self) -> &'static str {
        match self.value.and_then(|v| self.target.met(v)) {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "—",
        }
    }
}

/// The table as Markdown (what | product | engine | ratio | target | met?), ready to paste
/// into the README.
pub fn table(rows: &[Row]) -> String {
    let mut out = String::from("| what | product | engine | ratio | target | met? |\n|---|---|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            r.what,
            r.product,
            r.engine,
            r.ratio_cell(),
            r.target.describe(),
            r.met_cell()
        );
    }
    out
}

/// A rate for the table: `1234.5` → `1.23k`, below a thousand as it is.
pub fn rate(per_sec: f64) -> String {
    if per_sec >= 1000.0 {
        format!("{:.2}k", per_sec / 1000.0)
    } else {
        format!("{per_sec:.0}")
    }
}

/// Milliseconds with one decimal.
pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// `VmHWM` (peak resident set) in kB from the text of `/proc/<pid>/status`.
pub fn vm_hwm_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The benchmark's parts, for `EPA_BENCH_ONLY`: closed-loop saves and the open-loop p99, the
/// list, scores.csv (its time and its memory), saves during the export.
pub const PARTS: &[&str] = &["saves", "list", "csv", "during"];

/// The parts `EPA_BENCH_ONLY` names (comma-separated; unset or blank: all of them), or what is
/// wrong with it: a name that is not one of [`PARTS`] would otherwise run nothing it names.
pub fn parts(only: Option<&str>) -> Result<Vec<String>, String> {
    let named: Vec<&str> = only.unwrap_or("").split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    if named.is_empty() {
        return Ok(PARTS.iter().map(|p| p.to_string()).collect());
    }
    match named.iter().find(|p| !PARTS.contains(p)) {
        Some(unknown) => Err(format!("{unknown:?} is not a part; the parts are {}", PARTS.join(", "))),
        None => Ok(named.iter().map(|p| p.to_string()).collect()),
    }
}
