//! The whole run: block, train, score, cluster.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use crate::blocking::{Blocks, parse_rules};
use crate::compare::{self, ADDRESS, DOB, FIRST, K, Levels, NHS, NULL, PATTERNS, POSTCODE, SEX, SURNAME};
use crate::dataset::Dataset;
use crate::em::{self, EmSettings, MAX_LEVELS, Table};
use crate::model::{Model, Scorer, TermFrequencies, probability_of, scored_in_household};
use crate::{Config, Progress, Record};

/// A scored pair: `left` and `right` index the first and second input (both
/// the one input when deduplicating, with `left < right`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoredPair {
    pub left: u32,
    pub right: u32,
    pub weight: f64,
    pub probability: f64,
}

/// A compared pair: record indices and the dense index of its pattern.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Compared {
    i: u32,
    j: u32,
    pattern: u32,
}

/// Counts of a run (no personal data).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkStats {
    pub records: usize,
    pub blocked_pairs: u64,
    pub skipped_blocks: usize,
    pub skipped_records: usize,
    pub household_pairs: u64,
    pub clusters: usize,
}

/// The result of [`link`].
#[derive(Clone, Debug)]
pub struct Linked {
    pub model: Model,
    /// Pairs at or above the threshold, ordered by (left, right).
    pub pairs: Vec<ScoredPair>,
    /// A cluster id per record: the first input's records, then the second's.
    pub clusters: Vec<u32>,
    pub stats: LinkStats,
}

/// Link standardised records: deduplicate `left`, or, with `right`, find the
/// pairs across the two. Trains the model on the same records (u by random
/// sampling with `seed`, m and the priors by EM), scores every blocked pair,
/// keeps those at or above `cfg.threshold` and clusters them. Deterministic
/// for a given input and seed.
pub fn link(left: &[Record], right: Option<&[Record]>, cfg: &Config, seed: u64, progress: &dyn Progress) -> Linked {
    let ds = match right {
        Some(r) => Dataset::from_two(left, r),
        None => Dataset::from_records(left),
    };
    link_dataset(&ds, cfg, seed, progress)
}

/// [`link`] over records already interned (what `kindred link` uses).
pub fn link_dataset(ds: &Dataset, cfg: &Config, seed: u64, progress: &dyn Progress) -> Linked {
    let (model, compared, mut stats) = train(ds, seed, cfg, progress);
    let scorer = Scorer::new(&model, ds);
    let nl = ds.n_left;
    let w_min = crate::model::logit2(cfg.threshold.clamp(1e-300, 1.0)) - 1e-9;
    progress.start("scoring pairs", Some(stats.blocked_pairs));
    let chunks: Vec<Vec<ScoredPair>> = compared
        .into_par_iter()
        .map(|task| {
            let mut out = Vec::new();
            for c in &task {
                let l = compare::pattern_levels(c.pattern as usize);
                let w = scorer.weight(ds, c.i as usize, &l);
                if w >= w_min {
                    let p = probability_of(w);
                    if p >= cfg.threshold {
                        let right = nl.map_or(c.j, |n| c.j - n as u32);
                        out.push(ScoredPair {
                            left: c.i,
                            right,
                            weight: w,
                            probability: p,
                        });
                    }
                }
            }
            progress.advance(task.len() as u64);
            out
        })
        .collect();
    let mut pairs: Vec<ScoredPair> = chunks.concat();
    pairs.par_sort_unstable_by_key(|p| (p.left, p.right));
    progress.finish(&format!("{} pairs at or above {}", pairs.len(), cfg.threshold));
    progress.start("clustering", None);
    let offset = nl.unwrap_or(0) as u32;
    let clusters = crate::cluster::components(ds.len(), pairs.iter().map(|p| (p.left, p.right + offset)));
    stats.clusters = clusters.iter().copied().max().map_or(0, |m| m as usize + 1);
    progress.finish(&format!("{} clusters", stats.clusters));
    Linked {
        model,
        pairs,
        clusters,
        stats,
    }
}

fn level_counts() -> [usize; K] {
    std::array::from_fn(compare::level_count)
}

/// Pseudo-counts of the built-in model in u sampling and in EM: negligible
/// beside a large input's data, decisive for a handful of records.
const U_PSEUDO_COUNT: f64 = 1_000.0;
const EM_PSEUDO_COUNT: f64 = 100.0;

/// u by random record pairs, per comparison.
fn sample_u(ds: &Dataset, seed: u64, n: usize) -> Option<[[f64; MAX_LEVELS]; K]> {
    let total = ds.len();
    let nl = ds.n_left;
    let possible = match nl {
        None => total >= 2,
        Some(l) => l >= 1 && total > l,
    };
    if !possible || n == 0 {
        return None;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pairs: Vec<(u32, u32)> = (0..n)
        .map(|_| match nl {
            None => {
                let i = rng.gen_range(0..total);
                let mut j = rng.gen_range(0..total - 1);
                if j >= i {
                    j += 1;
                }
                (i as u32, j as u32)
            }
            Some(l) => (rng.gen_range(0..l) as u32, rng.gen_range(l..total) as u32),
        })
        .collect();
    let counts = pairs
        .par_chunks(1 << 14)
        .map(|c| {
            let mut acc = [[0u64; MAX_LEVELS]; K];
            for &(i, j) in c {
                let l = compare::levels(ds, i as usize, j as usize);
                for k in 0..K {
                    if l[k] != NULL {
                        acc[k][l[k] as usize] += 1;
                    }
                }
            }
            acc
        })
        .reduce(
            || [[0u64; MAX_LEVELS]; K],
            |mut a, b| {
                for k in 0..K {
                    for l in 0..MAX_LEVELS {
                        a[k][l] += b[k][l];
                    }
                }
                a
            },
        );
    // A small input has fewer distinct pairs than draws: count each draw for
    // what it is worth, and lean on the built-in u with pseudo-counts.
    let distinct = match nl {
        None => total as f64 * (total as f64 - 1.0) / 2.0,
        Some(l) => l as f64 * (total - l) as f64,
    };
    let worth = (distinct / n as f64).min(1.0);
    let mut u = [[0.0; MAX_LEVELS]; K];
    let defaults = Model::default().tables().1;
    for k in 0..K {
        let nk = compare::level_count(k);
        let sum: f64 = counts[k][..nk].iter().map(|&c| c as f64 * worth).sum();
        let raw: Vec<f64> = (0..nk)
            .map(|l| (counts[k][l] as f64 * worth + U_PSEUDO_COUNT * defaults[k][l]).max(0.5 * worth))
            .collect();
        let norm: f64 = raw.iter().sum::<f64>().max(sum);
        for l in 0..nk {
            u[k][l] = raw[l] / norm;
        }
    }
    Some(u)
}

fn with_null(l: &Levels, null: &[usize]) -> Levels {
    let mut x = *l;
    for &k in null {
        x[k] = NULL;
    }
    x
}

/// Train a model on a dataset; also returns the blocks for scoring.
pub(crate) fn train(
    ds: &Dataset,
    seed: u64,
    cfg: &Config,
    progress: &dyn Progress,
) -> (Model, Vec<Vec<Compared>>, LinkStats) {
    let rules = parse_rules(&cfg.blocking_rules).unwrap_or_else(|e| panic!("invalid blocking rules: {e}"));
    progress.start("blocking", None);
    let blocks = Blocks::build(ds, &rules, cfg.max_block_size);
    progress.finish(&format!(
        "{} rules, {} candidate pairs, {} oversize blocks ({} records) skipped",
        rules.len(),
        blocks.work,
        blocks.skipped_blocks,
        blocks.skipped_records
    ));

    // Pass 1: compare every blocked pair once; keep its pattern for scoring
    // and count the patterns for training.
    progress.start("comparing pairs", Some(blocks.work));
    let compared: Vec<Vec<Compared>> = blocks
        .tasks
        .par_iter()
        .map(|t| {
            let mut out = Vec::with_capacity(t.work as usize);
            blocks.for_each_pair(t, |i, j| {
                out.push(Compared {
                    i: i as u32,
                    j: j as u32,
                    pattern: compare::pattern_index(&compare::levels(ds, i, j)) as u32,
                })
            });
            out.shrink_to_fit();
            progress.advance(t.work);
            out
        })
        .collect();
    let n_chunks = (rayon::current_num_threads() * 4).max(1);
    let per = compared.len().div_ceil(n_chunks).max(1);
    let counts: Vec<u64> = compared
        .par_chunks(per)
        .map(|cs| {
            let mut acc = vec![0u64; PATTERNS];
            for c in cs.iter().flatten() {
                acc[c.pattern as usize] += 1;
            }
            acc
        })
        .reduce(
            || vec![0u64; PATTERNS],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    let patterns: Vec<(Levels, f64)> = counts
        .iter()
        .enumerate()
        .filter(|(_, c)| **c > 0)
        .map(|(i, c)| (compare::pattern_levels(i), *c as f64))
        .collect();
    let blocked_pairs: u64 = counts.iter().sum();
    progress.finish(&format!("{blocked_pairs} pairs, {} patterns", patterns.len()));

    progress.start("estimating u (random pairs)", None);
    let defaults = Model::default();
    let (m0, u0, uh0) = defaults.tables();
    let u = sample_u(ds, seed, cfg.u_sample_pairs).unwrap_or(u0);
    progress.finish(&format!("{} pairs", cfg.u_sample_pairs));

    progress.start("estimating m (EM)", None);
    let levels = level_counts();
    let small = blocked_pairs < cfg.min_training_pairs;
    let (m, stats_em) = if small {
        (m0, 0)
    } else {
        estimate_m(&patterns, &levels, &m0, &u, cfg.em_max_iterations)
    };
    let u = if small { u0 } else { u };
    // Household context: λ_H and u_H with m fixed.
    let household: Vec<(Levels, f64)> = patterns
        .iter()
        .filter(|(l, _)| compare::household_context(l))
        .map(|(l, c)| (with_null(l, &[SURNAME, POSTCODE, ADDRESS]), *c))
        .collect();
    let household_pairs: f64 = household.iter().map(|(_, c)| c).sum();
    let (lambda_h, uh) = if household_pairs > 0.0 && !small {
        let mut s = EmSettings {
            estimate_m: [false; K],
            max_iterations: cfg.em_max_iterations,
            pseudo_count: EM_PSEUDO_COUNT,
            ..EmSettings::default()
        };
        for (k, e) in s.estimate_u.iter_mut().enumerate() {
            *e = scored_in_household(k);
        }
        let r = em::run(&household, &levels, defaults.household_prior, &m, &uh0, &s);
        (r.lambda, r.u)
    } else {
        (defaults.household_prior, uh0)
    };
    // The prior over all pairs: the expected number of matches among the
    // blocked pairs (pairs outside the blocks are taken as non-matches),
    // solved as a fixed point.
    let n = ds.len() as f64;
    let all_pairs = match ds.n_left {
        None => n * (n - 1.0) / 2.0,
        Some(l) => l as f64 * (n - l as f64),
    };
    let prior = if all_pairs > 0.0 && blocked_pairs > 0 {
        let matches_h: f64 = household
            .iter()
            .map(|(l, c)| c * em::posterior(l, lambda_h, &m, &uh))
            .sum();
        let mut lambda = (blocked_pairs as f64 / all_pairs * 0.1).clamp(1e-12, 0.5);
        for _ in 0..200 {
            let matches_g: f64 = patterns
                .iter()
                .filter(|(l, _)| !compare::household_context(l))
                .map(|(l, c)| c * em::posterior(l, lambda, &m, &u))
                .sum();
            let next = ((matches_g + matches_h) / all_pairs).clamp(1e-12, 0.5);
            let done = (next / lambda - 1.0).abs() < 1e-7;
            lambda = next;
            if done {
                break;
            }
        }
        lambda
    } else {
        defaults.prior
    };
    progress.finish(&format!(
        "{} EM iterations; {} pairs in household context",
        stats_em, household_pairs as u64
    ));

    let tf = if cfg.term_frequency_adjustments && !small {
        term_frequencies(ds)
    } else {
        TermFrequencies::default()
    };
    let model = Model::from_tables(prior, lambda_h, &m, &u, &uh, tf);
    let stats = LinkStats {
        records: ds.len(),
        blocked_pairs,
        skipped_blocks: blocks.skipped_blocks,
        skipped_records: blocks.skipped_records,
        household_pairs: household_pairs as u64,
        clusters: 0,
    };
    (model, compared, stats)
}

/// m by EM in two sessions over the blocked pairs' patterns, u held fixed:
/// pairs agreeing on NHS number train every other comparison; pairs agreeing
/// exactly on first name, surname and date of birth train the NHS number.
/// Returns m and the number of iterations used.
pub(crate) fn estimate_m(
    patterns: &[(Levels, f64)],
    levels: &[usize; K],
    m0: &Table,
    u: &Table,
    max_iterations: usize,
) -> (Table, usize) {
    let mut m = *m0;
    let mut iterations = 0;
    let a: Vec<(Levels, f64)> = patterns
        .iter()
        .filter(|(l, _)| l[NHS] == 0)
        .map(|(l, c)| (with_null(l, &[NHS]), *c))
        .collect();
    if !a.is_empty() {
        let mut s = EmSettings {
            max_iterations,
            pseudo_count: EM_PSEUDO_COUNT,
            ..EmSettings::default()
        };
        s.estimate_m[NHS] = false;
        let r = em::run(&a, levels, 0.9, &m, u, &s);
        iterations += r.iterations;
        for k in 0..K {
            if k != NHS {
                m[k] = r.m[k];
            }
        }
    }
    let b: Vec<(Levels, f64)> = patterns
        .iter()
        .filter(|(l, _)| l[FIRST] == 0 && l[SURNAME] == 0 && l[DOB] == 0)
        .map(|(l, c)| (with_null(l, &[FIRST, SURNAME, DOB]), *c))
        .collect();
    if b.iter().any(|(l, _)| l[NHS] != NULL) {
        let mut s = EmSettings {
            max_iterations,
            estimate_m: [false; K],
            pseudo_count: EM_PSEUDO_COUNT,
            ..EmSettings::default()
        };
        s.estimate_m[NHS] = true;
        let r = em::run(&b, levels, 0.9, &m, u, &s);
        iterations += r.iterations;
        m[NHS] = r.m[NHS];
        // "Exact, dates of birth 10+ years apart" cannot occur where dates of
        // birth agree: its m is P(NHS exact) × P(dates of birth different).
        let apart = m[NHS][0] * m[DOB][compare::level_count(DOB) - 1];
        m[NHS][1] = apart.max(1e-6);
        m[NHS][0] -= apart;
    }
    let _ = (POSTCODE, SEX);
    (m, iterations)
}

fn term_frequencies(ds: &Dataset) -> TermFrequencies {
    let table = |vocab: &crate::dataset::Vocab, counts: &[u32]| {
        let total: u64 = counts.iter().map(|&c| c as u64).sum();
        (1..vocab.len() as u32)
            .filter(|&id| counts[id as usize] > 0)
            .map(|id| (vocab.get(id).to_owned(), counts[id as usize] as f64 / total as f64))
            .collect()
    };
    TermFrequencies {
        records: ds.len() as u64,
        first_name: table(&ds.fore, &ds.given_count),
        surname: table(&ds.sur, &ds.sur_count),
        postcode: table(&ds.pc, &ds.pc_count),
    }
}
