//! Expectation–maximisation for the Fellegi–Sunter model, on pattern counts.
//!
//! Pairs are aggregated by comparison pattern (their vector of levels) first,
//! so an iteration costs one pass over the distinct patterns (a few thousand),
//! however many pairs there are. Any of λ, m and u can be held fixed.

use crate::compare::{K, Levels, NULL};

/// The most levels a comparison has.
pub const MAX_LEVELS: usize = 8;

/// Probabilities per comparison and level.
pub type Table = [[f64; MAX_LEVELS]; K];

/// What to estimate and how long to iterate.
#[derive(Clone, Copy, Debug)]
pub struct EmSettings {
    pub estimate_lambda: bool,
    pub estimate_m: [bool; K],
    pub estimate_u: [bool; K],
    pub max_iterations: usize,
    /// Stop when no parameter moves more than this.
    pub tolerance: f64,
    /// Smallest probability a level may get (keeps log weights finite).
    pub floor: f64,
    /// Pseudo-counts (a Dirichlet prior centred on the starting m and u, and
    /// a Beta prior on λ), so a small input leans on the starting values and
    /// a large one on its own data.
    pub pseudo_count: f64,
}

impl Default for EmSettings {
    fn default() -> Self {
        EmSettings {
            estimate_lambda: true,
            estimate_m: [true; K],
            estimate_u: [false; K],
            max_iterations: 100,
            tolerance: 1e-6,
            floor: 1e-6,
            pseudo_count: 0.0,
        }
    }
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct EmResult {
    pub lambda: f64,
    pub m: Table,
    pub u: Table,
    pub iterations: usize,
}

/// The posterior probability of a match for one pattern.
#[inline]
pub fn posterior(l: &Levels, lambda: f64, m: &Table, u: &Table) -> f64 {
    let (mut a, mut b) = (lambda, 1.0 - lambda);
    for k in 0..K {
        if l[k] != NULL {
            a *= m[k][l[k] as usize];
            b *= u[k][l[k] as usize];
        }
    }
    if a + b <= 0.0 { 0.0 } else { a / (a + b) }
}

/// Run EM over `patterns` (levels and a count each) from the given start.
/// `levels[k]` is the number of levels of comparison `k`.
pub fn run(
    patterns: &[(Levels, f64)],
    levels: &[usize; K],
    lambda: f64,
    m: &Table,
    u: &Table,
    s: &EmSettings,
) -> EmResult {
    let (lambda0, m0, u0) = (lambda, *m, *u);
    let (mut lambda, mut m, mut u) = (lambda, *m, *u);
    let a = s.pseudo_count;
    let mut iterations = 0;
    for it in 0..s.max_iterations {
        iterations = it + 1;
        let mut mc = [[0.0f64; MAX_LEVELS]; K];
        let mut uc = [[0.0f64; MAX_LEVELS]; K];
        let (mut match_total, mut total) = (0.0, 0.0);
        for (l, c) in patterns {
            let p = posterior(l, lambda, &m, &u);
            match_total += p * c;
            total += c;
            for k in 0..K {
                if l[k] != NULL {
                    mc[k][l[k] as usize] += p * c;
                    uc[k][l[k] as usize] += (1.0 - p) * c;
                }
            }
        }
        let mut delta: f64 = 0.0;
        if s.estimate_lambda && total > 0.0 {
            let nl = ((match_total + a * lambda0) / (total + a)).clamp(1e-12, 1.0 - 1e-12);
            delta = delta.max((nl - lambda).abs());
            lambda = nl;
        }
        for k in 0..K {
            for (est, counts, table, start) in
                [(s.estimate_m[k], &mc, &mut m, &m0), (s.estimate_u[k], &uc, &mut u, &u0)]
            {
                if !est {
                    continue;
                }
                let sum: f64 = counts[k][..levels[k]].iter().sum();
                if sum + a <= 0.0 {
                    continue;
                }
                let mut new = [0.0; MAX_LEVELS];
                let mut norm = 0.0;
                for l in 0..levels[k] {
                    new[l] = ((counts[k][l] + a * start[k][l]) / (sum + a)).max(s.floor);
                    norm += new[l];
                }
                for l in 0..levels[k] {
                    let v = new[l] / norm;
                    delta = delta.max((v - table[k][l]).abs());
                    table[k][l] = v;
                }
            }
        }
        if delta < s.tolerance {
            break;
        }
    }
    EmResult {
        lambda,
        m,
        u,
        iterations,
    }
}
