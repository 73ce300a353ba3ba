//! Standardisation statistics: how far each scorer leans, and how far the seats of a panel agree.
//!
//! Pure arithmetic over scores; nothing here knows where the scores come from. Callers feed one
//! assessment at a time ([`Standardisation::add_assessment`]) from a streaming read, and the
//! estimator keeps only per-assessment, per-scorer sums (a handful of numbers for each scorer on
//! each panel) and small contingency tables — never the score rows themselves.
//!
//! **Lean** is estimated with a fixed-effects model: every score is
//! `score = level of that item in that assessment + the scorer's lean + noise`. The item-in-
//! assessment levels are nuisance parameters (one per cell), so a scorer's lean is measured only
//! against the other members of the same panels, with each of those members' own leans taken
//! out — a lenient scorer's pull on the agreed score cannot hide their lean, and the people who
//! sat with them are not blamed for it. Leans are centred: within each group of scorers linked by
//! shared panels the median scorer's lean is zero, so a lean reads "points above the typical
//! scorer" (a mean of zero would let a few biased scorers push everyone else's figure the other way).
//! Eliminating the cell levels leaves a weighted graph Laplacian system `L · lean = Y` over the
//! scorers, solved by conjugate gradients. The 95 % interval is a cluster-robust (sandwich)
//! interval with each assessment as one cluster, so the items of one EPA are not counted as
//! independent evidence, with Student's t on (assessments − 1) degrees of freedom.
//!
//! **Agreement**: Krippendorff's alpha (nominal, ordinal and interval metrics) from coincidence
//! matrices, pairwise exact and adjacent agreement between seats, and quadratic-weighted Cohen's
//! kappa for each pair of seats. A figure that is undefined (no pairs, no variation) is `None`.

use std::collections::{BTreeMap, HashMap};

/// Fewer assessments than this and a lean is flagged `too_few`, whatever its interval says.
pub const MIN_ASSESSMENTS: usize = 5;

/// Differences smaller than this are rounding, not lean.
const NEGLIGIBLE: f64 = 1e-9;

/// One scorer's score of one item in one assessment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating<'a> {
    /// The seat's position in the panel (0-based; the same order for every assessment).
    pub seat: usize,
    pub scorer: &'a str,
    pub score: i64,
}

/// The scores of one score item (component × criterion) in one assessment.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemRatings<'a> {
    /// The caller's index of the score item (0-based, below the `items` given to `new`).
    pub item: usize,
    pub ratings: Vec<Rating<'a>>,
}

/// What a lean says, in the report's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeanFlag {
    /// The interval lies wholly above zero.
    Lenient,
    /// The interval lies wholly below zero.
    Severe,
    /// Fewer than [`MIN_ASSESSMENTS`] assessments: not enough to judge.
    TooFew,
}

impl LeanFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lenient => "lenient",
            Self::Severe => "severe",
            Self::TooFew => "too_few",
        }
    }
}

/// One scorer's estimated lean.
#[derive(Debug, Clone, PartialEq)]
pub struct Lean {
    pub scorer: String,
    /// Assessments in which the scorer's scores could be compared with another member's.
    pub assessments: usize,
    /// Points above (+) or below (−) the average scorer; `None` when nothing could be compared.
    pub lean: Option<f64>,
    /// The 95 % interval; `None` with fewer than two assessments.
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub flag: Option<LeanFlag>,
}

/// Agreement figures over one score item, or over all of them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgreementFigures {
    /// Assessments with at least two scores of the item.
    pub assessments: usize,
    pub alpha_nominal: Option<f64>,
    pub alpha_ordinal: Option<f64>,
    pub alpha_interval: Option<f64>,
    /// Fractions of pairs of seats that gave the same score / scores at most one apart.
    pub exact_pairwise: Option<f64>,
    pub adjacent_pairwise: Option<f64>,
    /// Quadratic-weighted Cohen's kappa for each pair of seats `(a, b)` with `a < b`, in the order
    /// (0,1), (0,2), …, (1,2), …
    pub kappa: Vec<Option<f64>>,
}

/// The figures for every item, then the overall ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    pub items: Vec<AgreementFigures>,
    pub all: AgreementFigures,
}

/// The running sums behind the agreement figures of one item (or of all). Scores are kept as the
/// values themselves, so any integer scale works and values nobody gave take no room.
#[derive(Debug, Clone)]
struct AgreementSums {
    assessments: usize,
    /// Krippendorff's coincidence matrix: (value, value) → weight.
    coincidence: BTreeMap<(i64, i64), f64>,
    pairs: u64,
    exact: u64,
    adjacent: u64,
    /// For each pair of seats, a contingency table: (first seat's score, second's) → units.
    tables: Vec<BTreeMap<(i64, i64), u64>>,
}

impl AgreementSums {
    fn new(seat_pairs: usize) -> Self {
        Self {
            assessments: 0,
            coincidence: BTreeMap::new(),
            pairs: 0,
            exact: 0,
            adjacent: 0,
            tables: vec![BTreeMap::new(); seat_pairs],
        }
    }

    fn figures(&self) -> AgreementFigures {
        let fraction = |n: u64| (self.pairs > 0).then(|| n as f64 / self.pairs as f64);
        AgreementFigures {
            assessments: self.assessments,
            alpha_nominal: alpha(&self.coincidence, Metric::Nominal),
            alpha_ordinal: alpha(&self.coincidence, Metric::Ordinal),
            alpha_interval: alpha(&self.coincidence, Metric::Interval),
            exact_pairwise: fraction(self.exact),
            adjacent_pairwise: fraction(self.adjacent),
            kappa: self.tables.iter().map(weighted_kappa).collect(),
        }
    }
}

/// A scorer's share of one assessment: the sums the lean and its interval are made of.
#[derive(Debug, Clone)]
struct Share {
    scorer: usize,
    /// Σ over the assessment's cells of ω · (own score − mean of the others' scores).
    y: f64,
    /// Σ ω (ω = (n − 1)/n for a cell scored by n members).
    n: f64,
    /// For each co-member, Σ ω/(n − 1) over the cells they shared.
    with: Vec<(usize, f64)>,
}

/// The estimator: feed it assessments, then ask for leans and agreement.
#[derive(Debug, Clone)]
pub struct Standardisation {
    seats: usize,
    scorers: Vec<String>,
    index: HashMap<String, usize>,
    /// One entry per assessment: each member's share.
    assessments: Vec<Vec<Share>>,
    items: Vec<AgreementSums>,
    all: AgreementSums,
}

impl Standardisation {
    /// A panel of `seats` seats; score items are numbered by the caller from 0.
    pub fn new(seats: usize) -> Self {
        Self {
            seats,
            scorers: Vec::new(),
            index: HashMap::new(),
            assessments: Vec::new(),
            items: Vec::new(),
            all: AgreementSums::new(Self::pairs_of(seats)),
        }
    }

    fn pairs_of(seats: usize) -> usize {
        seats * seats.saturating_sub(1) / 2
    }

    fn scorer_index(&mut self, scorer: &str) -> usize {
        if let Some(&i) = self.index.get(scorer) {
            return i;
        }
        let i = self.scorers.len();
        self.scorers.push(scorer.to_string());
        self.index.insert(scorer.to_string(), i);
        i
    }

    /// The index of the pair of seats `(a, b)`, `a < b`, in the kappa list.
    fn seat_pair(&self, a: usize, b: usize) -> usize {
        // Pairs before row a: Σ_{i<a} (seats − 1 − i).
        a * (2 * self.seats - a - 1) / 2 + (b - a - 1)
    }

    /// Adds one assessment's scores. A seat beyond the panel's, and a second score by the same
    /// scorer or for the same seat on one item, are left out.
    pub fn add_assessment(&mut self, cells: &[ItemRatings<'_>]) {
        let mut shares: Vec<Share> = Vec::new();
        let mut counted_items: Vec<usize> = Vec::new();
        let mut counted_overall = false;
        for cell in cells {
            if cell.item >= self.items.len() {
                let pairs = Self::pairs_of(self.seats);
                self.items.resize_with(cell.item + 1, || AgreementSums::new(pairs));
            }
            // (scorer index, seat, score) with each scorer and each seat once.
            let mut scored: Vec<(usize, usize, i64)> = Vec::with_capacity(cell.ratings.len());
            for rating in &cell.ratings {
                let value = rating.score;
                if rating.seat >= self.seats {
                    continue;
                }
                let scorer = self.scorer_index(rating.scorer);
                if scored.iter().any(|&(s, seat, _)| s == scorer || seat == rating.seat) {
                    continue;
                }
                scored.push((scorer, rating.seat, value));
            }
            let m = scored.len();
            if m < 2 {
                continue;
            }
            if !counted_items.contains(&cell.item) {
                counted_items.push(cell.item);
                self.items[cell.item].assessments += 1;
            }
            if !counted_overall {
                counted_overall = true;
                self.all.assessments += 1;
            }
            self.add_agreement(cell.item, &scored);

            // The lean model's sums for this cell.
            let omega = (m as f64 - 1.0) / m as f64;
            let total: f64 = scored.iter().map(|&(_, _, v)| v as f64).sum();
            for &(scorer, _, value) in &scored {
                let others = (total - value as f64) / (m as f64 - 1.0);
                let share = match shares.iter_mut().position(|s| s.scorer == scorer) {
                    Some(p) => &mut shares[p],
                    None => {
                        shares.push(Share { scorer, y: 0.0, n: 0.0, with: Vec::new() });
                        let last = shares.len() - 1;
                        &mut shares[last]
                    }
                };
                share.y += omega * (value as f64 - others);
                share.n += omega;
                for &(other, _, _) in &scored {
                    if other == scorer {
                        continue;
                    }
                    let w = omega / (m as f64 - 1.0);
                    match share.with.iter_mut().find(|(o, _)| *o == other) {
                        Some((_, sum)) => *sum += w,
                        None => share.with.push((other, w)),
                    }
                }
            }
        }
        if !shares.is_empty() {
            self.assessments.push(shares);
        }
    }

    fn add_agreement(&mut self, item: usize, scored: &[(usize, usize, i64)]) {
        let m = scored.len() as f64;
        let pair_index: Vec<((i64, i64), usize)> = scored
            .iter()
            .enumerate()
            .flat_map(|(i, a)| scored[i + 1..].iter().map(move |b| (a, b)))
            .map(|(a, b)| {
                let (lo, hi) = if a.1 < b.1 { (a, b) } else { (b, a) };
                ((lo.2, hi.2), self.seat_pair(lo.1, hi.1))
            })
            .collect();
        for sums in [&mut self.items[item], &mut self.all] {
            for (i, a) in scored.iter().enumerate() {
                for (j, b) in scored.iter().enumerate() {
                    if i != j {
                        *sums.coincidence.entry((a.2, b.2)).or_insert(0.0) += 1.0 / (m - 1.0);
                    }
                }
            }
            for &((va, vb), pair) in &pair_index {
                sums.pairs += 1;
                if va == vb {
                    sums.exact += 1;
                }
                if va.abs_diff(vb) <= 1 {
                    sums.adjacent += 1;
                }
                *sums.tables[pair].entry((va, vb)).or_insert(0) += 1;
            }
        }
    }

    /// Agreement per item and overall.
    pub fn agreement(&self) -> Agreement {
        Agreement { items: self.items.iter().map(AgreementSums::figures).collect(), all: self.all.figures() }
    }

    /// Every scorer's lean with its interval and flag, in the order the scorers were first met.
    pub fn leans(&self) -> Vec<Lean> {
        let r = self.scorers.len();
        let mut n = vec![0.0; r];
        let mut y = vec![0.0; r];
        let mut clusters = vec![0usize; r];
        let mut links: Vec<HashMap<usize, f64>> = vec![HashMap::new(); r];
        for shares in &self.assessments {
            for share in shares {
                n[share.scorer] += share.n;
                y[share.scorer] += share.y;
                clusters[share.scorer] += 1;
                for &(other, w) in &share.with {
                    *links[share.scorer].entry(other).or_insert(0.0) += w;
                }
            }
        }
        let laplacian = Laplacian::new(n, links.into_iter().map(|l| l.into_iter().collect()).collect());
        let mut lean = laplacian.solve(&y);

        // Each member's score contribution in each assessment at the estimate (the sandwich's meat).
        let residuals: Vec<Vec<(usize, f64)>> = self
            .assessments
            .iter()
            .map(|shares| {
                shares
                    .iter()
                    .map(|s| {
                        let fitted = s.n * lean[s.scorer] - s.with.iter().map(|&(o, w)| w * lean[o]).sum::<f64>();
                        (s.scorer, s.y - fitted)
                    })
                    .collect()
            })
            .collect();
        // Zero is the typical scorer: each group's median lean, so that a few biased scorers do
        // not shift everyone else's figure (the mean of all leans would).
        laplacian.centre_on_median(&mut lean);

        (0..r)
            .map(|i| {
                let g = clusters[i];
                let estimate = (laplacian.degree[i] > 0.0).then_some(lean[i]);
                let interval = estimate.filter(|_| g >= 2).map(|l| {
                    let mut unit = vec![0.0; r];
                    unit[i] = 1.0;
                    let z = laplacian.solve(&unit);
                    let meat: f64 = residuals
                        .iter()
                        .map(|members| members.iter().map(|&(s, u)| z[s] * u).sum::<f64>().powi(2))
                        .sum();
                    let variance = meat * g as f64 / (g as f64 - 1.0);
                    let half = t_975(g - 1) * variance.max(0.0).sqrt();
                    (l - half, l + half)
                });
                let flag = if g < MIN_ASSESSMENTS {
                    Some(LeanFlag::TooFew)
                } else {
                    match interval {
                        Some((low, _)) if low > NEGLIGIBLE => Some(LeanFlag::Lenient),
                        Some((_, high)) if high < -NEGLIGIBLE => Some(LeanFlag::Severe),
                        _ => None,
                    }
                };
                Lean {
                    scorer: self.scorers[i].clone(),
                    assessments: g,
                    lean: estimate,
                    low: interval.map(|(low, _)| low),
                    high: interval.map(|(_, high)| high),
                    flag,
                }
            })
            .collect()
    }
}

/// `L = diag(degree) − links`, a weighted graph Laplacian over the scorers.
struct Laplacian {
    degree: Vec<f64>,
    links: Vec<Vec<(usize, f64)>>,
    /// The connected group each scorer belongs to, and the groups' sizes.
    group: Vec<usize>,
    group_size: Vec<usize>,
}

impl Laplacian {
    fn new(degree: Vec<f64>, links: Vec<Vec<(usize, f64)>>) -> Self {
        let r = degree.len();
        let mut group = vec![usize::MAX; r];
        let mut group_size = Vec::new();
        for start in 0..r {
            if group[start] != usize::MAX {
                continue;
            }
            let id = group_size.len();
            let mut size = 0;
            let mut stack = vec![start];
            group[start] = id;
            while let Some(v) = stack.pop() {
                size += 1;
                for &(w, _) in &links[v] {
                    if group[w] == usize::MAX {
                        group[w] = id;
                        stack.push(w);
                    }
                }
            }
            group_size.push(size);
        }
        Self { degree, links, group, group_size }
    }

    fn apply(&self, x: &[f64]) -> Vec<f64> {
        (0..x.len())
            .map(|i| self.degree[i] * x[i] - self.links[i].iter().map(|&(j, w)| w * x[j]).sum::<f64>())
            .collect()
    }

    /// Removes each connected group's mean (the Laplacian's null space).
    fn centre(&self, x: &mut [f64]) {
        let mut sums = vec![0.0; self.group_size.len()];
        for (i, v) in x.iter().enumerate() {
            sums[self.group[i]] += v;
        }
        for (i, v) in x.iter_mut().enumerate() {
            *v -= sums[self.group[i]] / self.group_size[self.group[i]] as f64;
        }
    }

    /// Shifts each connected group so that its median (over scorers with anything to compare) is 0.
    fn centre_on_median(&self, x: &mut [f64]) {
        for g in 0..self.group_size.len() {
            let mut members: Vec<f64> =
                (0..x.len()).filter(|&i| self.group[i] == g && self.degree[i] > 0.0).map(|i| x[i]).collect();
            if members.is_empty() {
                continue;
            }
            members.sort_by(f64::total_cmp);
            let mid = members.len() / 2;
            let median =
                if members.len().is_multiple_of(2) { (members[mid - 1] + members[mid]) / 2.0 } else { members[mid] };
            for (i, v) in x.iter_mut().enumerate() {
                if self.group[i] == g {
                    *v -= median;
                }
            }
        }
    }

    /// The centred solution of `L x = b` (conjugate gradients on the centred right-hand side:
    /// the minimum-norm solution, `L⁺ b`).
    fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = b.len();
        let mut rhs = b.to_vec();
        self.centre(&mut rhs);
        let mut x = vec![0.0; n];
        let mut r = rhs.clone();
        let mut p = r.clone();
        let mut rr: f64 = r.iter().map(|v| v * v).sum();
        let target = 1e-24 * rhs.iter().map(|v| v * v).sum::<f64>().max(1e-300);
        for _ in 0..(10 * n + 100) {
            if rr <= target {
                break;
            }
            let lp = self.apply(&p);
            let plp: f64 = p.iter().zip(&lp).map(|(a, b)| a * b).sum();
            if plp <= 0.0 {
                break;
            }
            let step = rr / plp;
            for i in 0..n {
                x[i] += step * p[i];
                r[i] -= step * lp[i];
            }
            self.centre(&mut r);
            let next: f64 = r.iter().map(|v| v * v).sum();
            let beta = next / rr;
            rr = next;
            for i in 0..n {
                p[i] = r[i] + beta * p[i];
            }
        }
        self.centre(&mut x);
        x
    }
}

/// Krippendorff's difference functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Nominal,
    Ordinal,
    Interval,
}

/// Krippendorff's alpha from a coincidence matrix ((value, value) → weight); `None` when
/// undefined (fewer than two pairable values, or no variation at all).
pub fn alpha(coincidence: &BTreeMap<(i64, i64), f64>, metric: Metric) -> Option<f64> {
    let mut marginal: BTreeMap<i64, f64> = BTreeMap::new();
    for (&(c, _), &o) in coincidence {
        *marginal.entry(c).or_insert(0.0) += o;
    }
    let total: f64 = marginal.values().sum();
    if total < 2.0 - 1e-9 {
        return None;
    }
    let values: Vec<(i64, f64)> = marginal.into_iter().collect();
    let delta = |c: usize, k: usize| -> f64 {
        match metric {
            Metric::Nominal => f64::from(u8::from(c != k)),
            Metric::Interval => (values[c].0 as f64 - values[k].0 as f64).powi(2),
            Metric::Ordinal => {
                let (lo, hi) = if c <= k { (c, k) } else { (k, c) };
                let between: f64 = values[lo..=hi].iter().map(|(_, n)| n).sum();
                (between - (values[lo].1 + values[hi].1) / 2.0).powi(2)
            }
        }
    };
    let mut observed = 0.0;
    let mut expected = 0.0;
    for c in 0..values.len() {
        for k in 0..values.len() {
            let d = delta(c, k);
            observed += coincidence.get(&(values[c].0, values[k].0)).copied().unwrap_or(0.0) * d;
            expected += values[c].1 * values[k].1 * d;
        }
    }
    if expected <= 0.0 {
        return None;
    }
    Some(1.0 - (total - 1.0) * observed / expected)
}

/// Quadratic-weighted Cohen's kappa from a contingency table ((first rater's score, second's) →
/// units); `None` when there are no units or the expected disagreement is zero.
pub fn weighted_kappa(table: &BTreeMap<(i64, i64), u64>) -> Option<f64> {
    let total: u64 = table.values().sum();
    if total == 0 {
        return None;
    }
    let mut rows: BTreeMap<i64, f64> = BTreeMap::new();
    let mut cols: BTreeMap<i64, f64> = BTreeMap::new();
    for (&(a, b), &n) in table {
        *rows.entry(a).or_insert(0.0) += n as f64;
        *cols.entry(b).or_insert(0.0) += n as f64;
    }
    let n = total as f64;
    let observed: f64 = table.iter().map(|(&(a, b), &o)| (a as f64 - b as f64).powi(2) * o as f64).sum();
    let expected: f64 = rows
        .iter()
        .flat_map(|(&a, &r)| cols.iter().map(move |(&b, &c)| (a as f64 - b as f64).powi(2) * r * c / n))
        .sum();
    if expected <= 0.0 {
        return None;
    }
    Some(1.0 - observed / expected)
}

/// The 97.5th percentile of Student's t with `df` degrees of freedom (two-sided 95 %).
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => {
            // Cornish–Fisher expansion around the normal quantile.
            let z = 1.959_964_f64;
            let v = df as f64;
            z + (z.powi(3) + z) / (4.0 * v) + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    /// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the worked example with
    /// missing data: four observers, twelve units, values 1–5.
    fn krippendorff_example() -> Standardisation {
        // Observers A–D (rows of the published table) for each of the twelve units.
        let by_observer: [[Option<i64>; 12]; 4] = [
            [Some(1), Some(2), Some(3), Some(3), Some(2), Some(1), Some(4), Some(1), Some(2), None, None, None],
            [Some(1), Some(2), Some(3), Some(3), Some(2), Some(2), Some(4), Some(1), Some(2), Some(5), None, Some(3)],
            [None, Some(3), Some(3), Some(3), Some(2), Some(3), Some(4), Some(2), Some(2), Some(5), Some(1), None],
            [Some(1), Some(2), Some(3), Some(3), Some(2), Some(4), Some(4), Some(1), Some(2), Some(5), Some(1), None],
        ];
        let names = ["A", "B", "C", "D"];
        let mut s = Standardisation::new(4);
        for unit in 0..12 {
            let ratings = by_observer
                .iter()
                .zip(names)
                .enumerate()
                .filter_map(|(seat, (row, scorer))| row[unit].map(|score| Rating { seat, scorer, score }))
                .collect();
            s.add_assessment(&[ItemRatings { item: 0, ratings }]);
        }
        s
    }

    #[test]
    fn krippendorffs_published_example() {
        let figures = krippendorff_example().agreement().all;
        // The published values: nominal 0.743, ordinal 0.815, interval 0.849.
        assert!(close(figures.alpha_nominal.unwrap(), 0.743, 0.0005), "{figures:?}");
        assert!(close(figures.alpha_ordinal.unwrap(), 0.815, 0.0005), "{figures:?}");
        assert!(close(figures.alpha_interval.unwrap(), 0.849, 0.0005), "{figures:?}");
        // Unit 12 has one value only: not pairable, so 11 units count.
        assert_eq!(figures.assessments, 11);
    }

    #[test]
    fn alpha_by_hand_and_undefined() {
        // Two units, two raters: (1,1) and (1,2). Coincidences: o11 = 2, o12 = o21 = 1; n1 = 3,
        // n2 = 1, n = 4. Nominal: Do = 2, De = 2·3·1/(n−1) → alpha = 1 − 3·2/6 = 0.
        let mut s = Standardisation::new(2);
        for (a, b) in [(1, 1), (1, 2)] {
            s.add_assessment(&[ItemRatings {
                item: 0,
                ratings: vec![Rating { seat: 0, scorer: "x", score: a }, Rating { seat: 1, scorer: "y", score: b }],
            }]);
        }
        let f = s.agreement().all;
        assert!(close(f.alpha_nominal.unwrap(), 0.0, 1e-12), "{f:?}");
        assert_eq!(f.exact_pairwise, Some(0.5));
        assert_eq!(f.adjacent_pairwise, Some(1.0));

        // Everyone gave 3: no variation, alpha and kappa undefined, agreement perfect.
        let mut same = Standardisation::new(3);
        for _ in 0..4 {
            same.add_assessment(&[ItemRatings {
                item: 0,
                ratings: (0..3).map(|seat| Rating { seat, scorer: ["a", "b", "c"][seat], score: 3 }).collect(),
            }]);
        }
        let f = same.agreement().all;
        assert_eq!(f.alpha_ordinal, None);
        assert_eq!(f.kappa, vec![None, None, None]);
        assert_eq!(f.exact_pairwise, Some(1.0));

        // Nothing at all: every figure undefined, no panic.
        let empty = Standardisation::new(3).agreement();
        assert_eq!(empty.all, AgreementFigures { kappa: vec![None, None, None], ..Default::default() });
        assert!(empty.items.is_empty());
        assert!(Standardisation::new(3).leans().is_empty());
    }

    #[test]
    fn weighted_kappa_by_hand() {
        // 3 categories. Table rows = rater 1: [[2,1,0],[0,2,1],[0,0,2]], n = 8.
        // Observed Σ w·o = 1·1 + 1·1 = 2. Rows (3,3,2), cols (2,3,3).
        // Expected Σ w·r·c/n = [1·(3·3) + 4·(3·3) + 1·(3·2) + 1·(3·3) + 4·(2·2) + 1·(2·3)]/8 = 82/8.
        let table = |cells: &[(i64, i64, u64)]| cells.iter().map(|&(a, b, n)| ((a, b), n)).collect::<BTreeMap<_, _>>();
        let hand = table(&[(1, 1, 2), (1, 2, 1), (2, 2, 2), (2, 3, 1), (3, 3, 2)]);
        assert!(close(weighted_kappa(&hand).unwrap(), 1.0 - 2.0 / (82.0 / 8.0), 1e-12));
        // Perfect agreement over varied values: 1.
        assert_eq!(weighted_kappa(&table(&[(1, 1, 3), (3, 3, 2)])), Some(1.0));
        assert_eq!(weighted_kappa(&BTreeMap::new()), None);
    }

    #[test]
    fn kappa_pairs_follow_the_seats_not_the_order_given() {
        let mut s = Standardisation::new(3);
        // Seat 2 always scores one above seats 0 and 1, given in shuffled order.
        for level in [1, 2, 3, 4] {
            s.add_assessment(&[ItemRatings {
                item: 0,
                ratings: vec![
                    Rating { seat: 2, scorer: "ia", score: level + 1 },
                    Rating { seat: 0, scorer: "lm", score: level },
                    Rating { seat: 1, scorer: "tp", score: level },
                ],
            }]);
        }
        let f = s.agreement().all;
        assert_eq!(f.kappa[0], Some(1.0)); // lm–tp agree exactly
        assert!(f.kappa[1].unwrap() < 1.0 && f.kappa[2].unwrap() < 1.0);
        assert_eq!(f.kappa[1], f.kappa[2]);
    }

    #[test]
    fn a_lean_is_measured_against_the_others_and_not_passed_on() {
        // Two fixed co-members (0 lean) and one scorer always one point higher, on panels that vary.
        let mut s = Standardisation::new(3);
        for a in 0..8 {
            let cells: Vec<ItemRatings> = (0..4)
                .map(|item| {
                    let level = 2 + ((a + item) % 4) as i64;
                    ItemRatings {
                        item,
                        ratings: vec![
                            Rating { seat: 0, scorer: "lm", score: level },
                            Rating { seat: 1, scorer: "tp", score: level },
                            Rating { seat: 2, scorer: "ia", score: level + 1 },
                        ],
                    }
                })
                .collect();
            s.add_assessment(&cells);
        }
        let leans = s.leans();
        let of = |name: &str| leans.iter().find(|l| l.scorer == name).unwrap();
        // Centred on the median scorer: +1 for the lenient one, 0 for the others (not −1/2 each, as
        // a plain leave-one-out difference against the panel would make them).
        assert!(close(of("ia").lean.unwrap(), 1.0, 1e-9), "{leans:?}");
        assert!(close(of("lm").lean.unwrap(), 0.0, 1e-9), "{leans:?}");
        assert!(close(of("tp").lean.unwrap(), 0.0, 1e-9), "{leans:?}");
        assert_eq!(of("ia").assessments, 8);
        // No noise at all: a zero-width interval; only the interval that excludes zero is flagged.
        assert!(close(of("ia").low.unwrap(), 1.0, 1e-9) && close(of("ia").high.unwrap(), 1.0, 1e-9));
        assert_eq!(of("ia").flag, Some(LeanFlag::Lenient));
        assert_eq!(of("lm").flag, None);
        assert_eq!(of("tp").flag, None);
    }

    #[test]
    fn too_few_below_five_assessments_and_no_interval_from_one() {
        let mut s = Standardisation::new(2);
        s.add_assessment(&[ItemRatings {
            item: 0,
            ratings: vec![Rating { seat: 0, scorer: "a", score: 2 }, Rating { seat: 1, scorer: "b", score: 4 }],
        }]);
        let leans = s.leans();
        assert_eq!(leans[0].assessments, 1);
        assert_eq!(leans[0].flag, Some(LeanFlag::TooFew));
        assert!(leans[0].low.is_none() && leans[0].high.is_none());
        assert!(close(leans[0].lean.unwrap(), -1.0, 1e-9));
    }

    #[test]
    fn a_seat_given_twice_or_beyond_the_panel_is_left_out() {
        let mut s = Standardisation::new(3);
        s.add_assessment(&[
            ItemRatings {
                item: 0,
                ratings: vec![
                    Rating { seat: 0, scorer: "a", score: 9 },
                    Rating { seat: 1, scorer: "b", score: 3 },
                    Rating { seat: 1, scorer: "c", score: 3 },
                    Rating { seat: 7, scorer: "d", score: 3 },
                ],
            },
            ItemRatings { item: 5, ratings: vec![] },
        ]);
        // a's 9 is a score like any other; seat 1 twice and seat 7 are left out: a and b pair once.
        let f = s.agreement();
        assert_eq!(f.all.assessments, 1);
        assert_eq!(f.items.len(), 6);
        assert_eq!(f.items[5].assessments, 0);
        assert_eq!(f.all.exact_pairwise, Some(0.0));
        let leans = s.leans();
        let scored: Vec<&str> = leans.iter().filter(|l| l.assessments > 0).map(|l| l.scorer.as_str()).collect();
        assert_eq!(scored, vec!["a", "b"]);
    }

    #[test]
    fn the_interval_treats_an_assessment_as_one_cluster() {
        // Two scorers, one item in each of three assessments, a − b = 1, 2, 3: mean difference 2,
        // centred leans +1 and −1. Sandwich: Var(lean a) = G/(G−1) · Σ (d − 2)² / (4 M²) with M = 3
        // cells → 3/2 · 2/36 = 1/12; t(2) = 4.303, so the interval is 1 ± 4.303 · √(1/12).
        let mut s = Standardisation::new(2);
        for d in [1, 2, 3] {
            s.add_assessment(&[ItemRatings {
                item: 0,
                ratings: vec![Rating { seat: 0, scorer: "a", score: 1 + d }, Rating { seat: 1, scorer: "b", score: 1 }],
            }]);
        }
        let leans = s.leans();
        let half = 4.303 * (1.0_f64 / 12.0).sqrt();
        assert!(close(leans[0].lean.unwrap(), 1.0, 1e-9), "{leans:?}");
        assert!(close(leans[0].low.unwrap(), 1.0 - half, 1e-9), "{leans:?}");
        assert!(close(leans[0].high.unwrap(), 1.0 + half, 1e-9), "{leans:?}");
        assert!(close(leans[1].lean.unwrap(), -1.0, 1e-9), "{leans:?}");

        // The same differences as three items of ONE assessment: one cluster, so no interval
        // (items of one EPA are not independent evidence).
        let mut one = Standardisation::new(2);
        let cells: Vec<ItemRatings> = [1, 2, 3]
            .iter()
            .enumerate()
            .map(|(item, d)| ItemRatings {
                item,
                ratings: vec![Rating { seat: 0, scorer: "a", score: 1 + d }, Rating { seat: 1, scorer: "b", score: 1 }],
            })
            .collect();
        one.add_assessment(&cells);
        let leans = one.leans();
        assert!(close(leans[0].lean.unwrap(), 1.0, 1e-9));
        assert_eq!((leans[0].assessments, leans[0].low, leans[0].flag), (1, None, Some(LeanFlag::TooFew)));
    }

    #[test]
    fn t_quantiles() {
        assert_eq!(t_975(5), 2.571);
        assert!(close(t_975(60), 2.000, 0.001));
        assert!(close(t_975(1000), 1.962, 0.001));
        assert!(t_975(0).is_infinite());
    }

    /// A small, seeded generator for the simulated histories (SplitMix64 and Box–Muller).
    pub(crate) struct Simulated(u64);

    impl Simulated {
        pub(crate) fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn uniform(&mut self) -> f64 {
            (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
        }
        fn normal(&mut self) -> f64 {
            let u = self.uniform().max(1e-300);
            let v = self.uniform();
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next_u64() % n as u64) as usize
        }
    }

    /// The history: 8 independent assessors, 10 employers (one line manager each),
    /// 4 providers (one tutor each); scores = true level + lean + noise, rounded onto 1–5.
    /// Planted: assessor ia0 +0.5, line manager lm0 +0.7, tutor tp0 −0.5.
    fn simulate(seed: u64, epas: usize, mut check: impl FnMut(&[String; 3], &Standardisation)) -> Standardisation {
        const ITEMS: usize = 26;
        let mut rng = Simulated(seed);
        let difficulty: Vec<f64> = (0..ITEMS).map(|_| 0.3 * rng.normal()).collect();
        let lean_of = |name: &str| match name {
            "ia0" => 0.5,
            "lm0" => 0.7,
            "tp0" => -0.5,
            _ => 0.0,
        };
        let mut s = Standardisation::new(3);
        for _ in 0..epas {
            let ability = 3.2 + 0.5 * rng.normal();
            let panel = [format!("lm{}", rng.below(10)), format!("tp{}", rng.below(4)), format!("ia{}", rng.below(8))];
            let cells: Vec<ItemRatings> = (0..ITEMS)
                .map(|item| ItemRatings {
                    item,
                    ratings: panel
                        .iter()
                        .enumerate()
                        .map(|(seat, scorer)| {
                            let raw = ability + difficulty[item] + lean_of(scorer) + 0.6 * rng.normal();
                            Rating { seat, scorer, score: raw.round().clamp(1.0, 5.0) as i64 }
                        })
                        .collect(),
                })
                .collect();
            s.add_assessment(&cells);
            check(&panel, &s);
        }
        s
    }

    #[test]
    fn planted_leans_are_found_quickly_recovered_and_nobody_else_is_blamed() {
        let planted = [("ia0", 0.5), ("lm0", 0.7), ("tp0", -0.5)];
        let mut false_flags = 0;
        let mut unbiased = 0;
        for seed in 1..=10u64 {
            // Each planted scorer is flagged once they have six assessments (at the latest).
            let mut flagged_at_six = [None; 3];
            let mut seen = [0; 3];
            simulate(seed, 300, |panel, s| {
                for (p, (name, _)) in planted.iter().enumerate() {
                    if panel.iter().any(|m| m == name) {
                        seen[p] += 1;
                        if seen[p] == 6 {
                            flagged_at_six[p] = s.leans().into_iter().find(|l| l.scorer == *name).map(|l| l.flag);
                        }
                    }
                }
            });
            for (p, (name, value)) in planted.iter().enumerate() {
                let want = if *value > 0.0 { LeanFlag::Lenient } else { LeanFlag::Severe };
                assert_eq!(flagged_at_six[p], Some(Some(want)), "seed {seed}: {name} at six assessments");
            }
            let s = simulate(seed, 300, |_, _| {});
            for lean in s.leans() {
                match planted.iter().find(|(name, _)| *name == lean.scorer) {
                    Some((name, value)) => {
                        let got = lean.lean.unwrap();
                        assert!(
                            (got - value).abs() <= 0.2 * value.abs(),
                            "seed {seed}: {name} lean {got}, planted {value}"
                        );
                    }
                    None => {
                        unbiased += 1;
                        if matches!(lean.flag, Some(LeanFlag::Lenient | LeanFlag::Severe)) {
                            false_flags += 1;
                        }
                        assert!(lean.lean.unwrap().abs() < 0.2, "seed {seed}: {} blamed: {:?}", lean.scorer, lean);
                    }
                }
            }
        }
        // At most 10 % of the unbiased scorers flagged (over ten seeded histories of 300 EPAs; the
        // interval is a 95 % one, so about 5 % is what calibration gives).
        assert!(false_flags * 10 <= unbiased, "{false_flags} of {unbiased} unbiased scorers flagged");
    }
}
