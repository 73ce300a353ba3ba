//! Tests of the ratio benchmark's pure helpers: `cargo test --test bench_helpers`.

#[path = "stats.rs"]
mod stats;

use stats::*;
use std::time::Duration;

#[test]
fn percentiles_by_nearest_rank() {
    let ms_ = Duration::from_millis;
    let s: Vec<Duration> = (1..=100).map(ms_).collect();
    assert_eq!(percentile(&s, 50.0), Some(ms_(50)));
    assert_eq!(percentile(&s, 99.0), Some(ms_(99)));
    assert_eq!(percentile(&s, 100.0), Some(ms_(100)));
    assert_eq!(percentile(&s, 0.0), Some(ms_(1)));
    assert_eq!(percentile(&[ms_(7)], 99.0), Some(ms_(7)));
    assert_eq!(percentile(&[], 99.0), None);
    // order of the samples does not matter
    assert_eq!(percentile(&[ms_(3), ms_(1), ms_(2)], 50.0), Some(ms_(2)));
}

#[test]
fn medians() {
    assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    assert_eq!(median(&[]), 0.0);
}

#[test]
fn open_loop_schedule_is_fixed_by_rate_not_by_answers() {
    assert_eq!(intended_offset(0, 100.0), Duration::ZERO);
    assert_eq!(intended_offset(100, 100.0), Duration::from_secs(1));
    assert_eq!(intended_offset(5, 1000.0), Duration::from_millis(5));
    assert_eq!(schedule_len(100.0, 2.5), 250);
    assert_eq!(schedule_len(0.1, 1.0), 1);
}

#[test]
fn fsync_moving_more_than_three_times_voids_the_run() {
    let ms_ = Duration::from_millis;
    assert!(matches!(fsync_verdict(ms_(1), ms_(2), 3.0), FsyncVerdict::Valid { .. }));
    assert!(matches!(fsync_verdict(ms_(1), ms_(3), 3.0), FsyncVerdict::Valid { .. }));
    assert!(matches!(fsync_verdict(ms_(1), ms_(4), 3.0), FsyncVerdict::Void { .. }));
    assert!(matches!(fsync_verdict(ms_(4), ms_(1), 3.0), FsyncVerdict::Void { .. }), "both ways");
    assert!(matches!(fsync_verdict(Duration::ZERO, Duration::ZERO, 3.0), FsyncVerdict::Valid { .. }));
}

#[test]
fn targets_and_the_table() {
    assert_eq!(Target::AtLeast(0.7).met(0.69), Some(false));
    assert_eq!(Target::AtLeast(0.7).met(0.7), Some(true));
    assert_eq!(Target::AtMost(1.5).met(1.4), Some(true));
    assert_eq!(Target::MillisAtMost(25.0).met(30.0), Some(false));
    assert_eq!(Target::PlusMegabytes(16.0).met(3.0), Some(true));
    assert_eq!(Target::None.met(1.0), None);
    let t = table(&[
        Row::new("save, 1 client", "1.00k", "2.00k").checked(0.5, Target::AtLeast(0.7)),
        Row::new("p99", "12.0 ms", "—").checked(12.0, Target::MillisAtMost(25.0)),
        Row::new("info", "x", "y"),
    ]);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines[0], "| what | product | engine | ratio | target | met? |");
    assert_eq!(lines[2], "| save, 1 client | 1.00k | 2.00k | 0.50 | ≥ 0.7 | NO |");
    assert_eq!(lines[3], "| p99 | 12.0 ms | — | 12.0 ms | ≤ 25 ms | yes |");
    assert_eq!(lines[4], "| info | x | y | — | — | — |");
}

#[test]
fn formats() {
    assert_eq!(rate(1234.5), "1.23k");
    assert_eq!(rate(812.4), "812");
    assert_eq!(ms(Duration::from_micros(1260)), "1.3 ms");
    assert_eq!(vm_hwm_kb("Name:\tx\nVmHWM:\t   51234 kB\nVmRSS:\t 1 kB\n"), Some(51234));
    assert_eq!(vm_hwm_kb("Name:\tx\n"), None);
}

#[test]
fn parts_are_all_by_default_and_a_wrong_name_is_refused() {
    assert_eq!(parts(None).unwrap(), PARTS);
    assert_eq!(parts(Some(" ")).unwrap(), PARTS);
    assert_eq!(parts(Some("csv, during")).unwrap(), ["csv", "during"]);
    let e = parts(Some("csv,csvv")).unwrap_err();
    assert!(e.contains("\"csvv\"") && e.contains("saves, list, csv, during"), "{e}");
}
