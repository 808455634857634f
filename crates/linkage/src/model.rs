//! The Fellegi–Sunter model: m and u per comparison level, the prior, term
//! frequencies, and the family-aware household context.
//!
//! A pair's match weight is `log2` of its Bayes factor plus the prior's log
//! odds: `w = log2(λ/(1−λ)) + Σ_k log2(m_k(l)/u_k(l))`, with a term-frequency
//! adjustment `log2(u_exact / f(v))` on exact first names, surnames and
//! postcodes (a shared rare surname says more than a shared `smith`). The
//! probability is `1 / (1 + 2^−w)`.
//!
//! **Household context.** Twins, siblings and a parent and child share a
//! surname, an address and a postcode, so among non-matching pairs in that
//! context ([`crate::compare::household_context`]) agreement on surname,
//! postcode and address is not independent of the rest; adding up their
//! random-pair weights would count the household several times and make twins
//! one person. Pairs in household context are scored instead with their own
//! prior `λ_H` (the share of matches among such pairs) and their own u
//! probabilities `u_H` for NHS number, first name, date of birth and sex (how
//! often two *different* members of one household agree on them). Both are
//! estimated by EM over the household-context pairs with m held at the global
//! estimate; surname, postcode and address then add nothing (their agreement
//! is what the context is). So a shared date of birth counts for less (twins
//! share one), a different first name counts against strongly, and the NHS
//! number level "exact, dates of birth 10+ years apart" (a mother's number on
//! her baby's record) is learnt to be evidence against.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::compare::{self, DOB, FIRST, K, Levels, NHS, NULL, POSTCODE, SEX, SURNAME};
use crate::dataset::Dataset;
use crate::em::{MAX_LEVELS, Table};
use crate::{Record, config::Config};

/// m and u of one level.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LevelParams {
    pub label: String,
    /// P(level | match).
    pub m: f64,
    /// P(level | non-match), from random pairs.
    pub u: f64,
    /// P(level | non-match, household context); `None` for the comparisons
    /// that define the context (surname, postcode, address).
    pub u_household: Option<f64>,
}

/// One comparison's levels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ComparisonParams {
    pub name: String,
    pub levels: Vec<LevelParams>,
}

/// Relative frequencies of values among the training records. Empty tables
/// mean no term-frequency adjustment.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TermFrequencies {
    pub records: u64,
    pub first_name: BTreeMap<String, f64>,
    pub surname: BTreeMap<String, f64>,
    pub postcode: BTreeMap<String, f64>,
}

/// A trained (or built-in) linkage model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// λ: the probability that two records drawn at random are one person.
    pub prior: f64,
    /// λ_H: the probability that a pair in household context is one person.
    pub household_prior: f64,
    pub comparisons: Vec<ComparisonParams>,
    pub term_frequencies: TermFrequencies,
    /// Term-frequency adjustments are clamped to ± this many bits.
    pub tf_limit: f64,
}

/// One comparison's part of a pair's weight.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Contribution {
    /// "NHS number", "First name", "Surname", "Date of birth", "Postcode",
    /// "Address", "Sex", or "Household context".
    pub comparison: &'static str,
    /// The level's label, e.g. "one transposition", "nickname", "missing".
    pub level: String,
    pub left: Option<String>,
    pub right: Option<String>,
    /// log2 Bayes factor, including any term-frequency adjustment.
    pub weight: f64,
}

/// Why a pair scored as it did: `weight == prior_weight + Σ contributions`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    pub prior_weight: f64,
    pub contributions: Vec<Contribution>,
    pub weight: f64,
    pub probability: f64,
}

/// Log2 odds.
pub fn logit2(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

/// The probability of a match weight.
pub fn probability_of(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// Whether comparison `k` is scored in household context (the others define it).
pub const fn scored_in_household(k: usize) -> bool {
    matches!(k, NHS | FIRST | DOB | SEX)
}

// Built-in parameters, learnt by `kindred link` on the 1,000,000-record
// synthetic benchmark (seed 42) and rounded; see `Model::default`. Where the
// random sample saw a level too rarely (NHS number agreement), u is the
// expected rate among random pairs instead.
const DEFAULT_PRIOR: f64 = 2.3e-6;
const DEFAULT_HOUSEHOLD_PRIOR: f64 = 0.41;
#[rustfmt::skip]
const DEFAULT_M: [&[f64]; K] = [
    &[0.968, 0.00023, 0.0097, 0.021, 0.00076, 0.00021],
    &[0.8976, 0.0108, 0.013, 0.0062, 0.0419, 0.0143, 0.0094, 0.0068],
    &[0.8613, 0.0282, 0.0435, 0.0017, 0.0653],
    &[0.9625, 0.0118, 0.024, 0.0014, 0.00024],
    &[0.8684, 0.0131, 0.0007, 0.1178],
    &[0.8578, 0.028, 0.1142],
    &[0.9899, 0.0101],
];
#[rustfmt::skip]
const DEFAULT_U: [&[f64]; K] = [
    &[2e-6, 1e-7, 1e-7, 1e-6, 0.9668, 0.0332],
    &[0.00192, 0.0003, 0.00112, 1.3e-6, 0.00044, 0.00765, 0.00069, 0.98788],
    &[0.00072, 0.000086, 0.00046, 0.00638, 0.99234],
    &[0.0001, 0.000052, 0.00248, 0.000034, 0.99733],
    &[0.000089, 0.00087, 0.00766, 0.99138],
    &[0.0000105, 0.0000446, 0.999945],
    &[0.5023, 0.4977],
];
#[rustfmt::skip]
const DEFAULT_UH: [&[f64]; K] = [
    &[1e-6, 0.00031, 1e-6, 2.7e-6, 0.9687, 0.031],
    &[0.00234, 0.00037, 0.00097, 1e-6, 0.00043, 0.00737, 0.00071, 0.98781],
    &[],
    &[0.01234, 0.000127, 0.00136, 0.0000657, 0.9861],
    &[],
    &[],
    &[0.4552, 0.5448],
];

impl Default for Model {
    /// Built-in parameters, usable with no training (for matching one new
    /// record against existing persons): m, u, u_H and both priors as learnt
    /// on the synthetic 1,000,000-record benchmark. No term-frequency
    /// adjustment. The prior belongs to a population of about a million
    /// records; for another size the probabilities shift, the weights' order
    /// does not.
    fn default() -> Model {
        let mut m = [[0.0; MAX_LEVELS]; K];
        let mut u = [[0.0; MAX_LEVELS]; K];
        let mut uh = [[0.0; MAX_LEVELS]; K];
        for k in 0..K {
            for l in 0..compare::level_count(k) {
                m[k][l] = DEFAULT_M[k][l];
                u[k][l] = DEFAULT_U[k][l];
                uh[k][l] = if scored_in_household(k) { DEFAULT_UH[k][l] } else { 0.0 };
            }
        }
        Model::from_tables(
            DEFAULT_PRIOR,
            DEFAULT_HOUSEHOLD_PRIOR,
            &m,
            &u,
            &uh,
            TermFrequencies::default(),
        )
    }
}

impl Model {
    /// Build a model from probability tables (indexed by comparison and level).
    pub fn from_tables(
        prior: f64,
        household_prior: f64,
        m: &Table,
        u: &Table,
        uh: &Table,
        tf: TermFrequencies,
    ) -> Model {
        let comparisons = (0..K)
            .map(|k| ComparisonParams {
                name: compare::NAMES[k].to_owned(),
                levels: (0..compare::level_count(k))
                    .map(|l| LevelParams {
                        label: compare::LEVELS[k][l].to_owned(),
                        m: m[k][l],
                        u: u[k][l],
                        u_household: scored_in_household(k).then_some(uh[k][l]),
                    })
                    .collect(),
            })
            .collect();
        Model {
            prior,
            household_prior,
            comparisons,
            term_frequencies: tf,
            tf_limit: 8.0,
        }
    }

    /// The m, u and u_H tables.
    pub fn tables(&self) -> (Table, Table, Table) {
        let mut m = [[0.0; MAX_LEVELS]; K];
        let mut u = [[0.0; MAX_LEVELS]; K];
        let mut uh = [[0.0; MAX_LEVELS]; K];
        for (k, c) in self.comparisons.iter().enumerate().take(K) {
            for (l, p) in c.levels.iter().enumerate().take(MAX_LEVELS) {
                m[k][l] = p.m;
                u[k][l] = p.u;
                uh[k][l] = p.u_household.unwrap_or(0.0);
            }
        }
        (m, u, uh)
    }

    /// Train on standardised records (deduplication): see [`crate::link`].
    pub fn train(records: &[Record], seed: u64, cfg: &Config) -> Model {
        let ds = Dataset::from_records(records);
        crate::link::train(&ds, seed, cfg, &crate::NoProgress).0
    }

    /// The match weight of a pair (log2 odds); symmetric.
    pub fn weight(&self, a: &Record, b: &Record) -> f64 {
        self.explain(a, b).weight
    }

    /// The match probability of a pair; symmetric.
    pub fn probability(&self, a: &Record, b: &Record) -> f64 {
        probability_of(self.weight(a, b))
    }

    /// Each comparison's contribution to the pair's weight.
    pub fn explain(&self, a: &Record, b: &Record) -> Explanation {
        let ds = Dataset::from_records(&[a.clone(), b.clone()]);
        let scorer = Scorer::new(self, &ds);
        let l = compare::levels(&ds, 0, 1);
        let household = compare::household_context(&l);
        let prior_weight = logit2(self.prior);
        let mut contributions = Vec::with_capacity(K + 1);
        if household {
            contributions.push(Contribution {
                comparison: "Household context",
                level: "same surname and address or postcode".to_owned(),
                left: None,
                right: None,
                weight: scorer.prior_h - scorer.prior_g,
            });
        }
        let (ra, rb) = (ds.record(0), ds.record(1));
        for k in 0..K {
            let (left, right) = display(k, &ra, &rb);
            let mut level = compare::label(k, l[k]).to_owned();
            if household && !scored_in_household(k) && l[k] != NULL {
                level.push_str(" (household context)");
            }
            contributions.push(Contribution {
                comparison: compare::NAMES[k],
                level,
                left,
                right,
                weight: scorer.part(&ds, 0, k, l[k], household),
            });
        }
        let weight = prior_weight + contributions.iter().map(|c| c.weight).sum::<f64>();
        Explanation {
            prior_weight,
            contributions,
            weight,
            probability: probability_of(weight),
        }
    }
}

fn display(k: usize, a: &Record, b: &Record) -> (Option<String>, Option<String>) {
    let f = |r: &Record| -> Option<String> {
        match k {
            NHS => r.nhs_number.clone(),
            FIRST => r.given_name.clone(),
            SURNAME => r.family_name.clone(),
            DOB => r.date_of_birth.map(|d| d.to_string()),
            POSTCODE => r.postcode.as_ref().map(|p| p.full.clone()),
            compare::ADDRESS => r.address.clone(),
            _ => r.sex.map(|s| s.code().to_owned()),
        }
    };
    (f(a), f(b))
}

/// Weights of a model over one dataset's vocabularies, for fast scoring.
pub(crate) struct Scorer {
    wg: [[f64; MAX_LEVELS]; K],
    wh: [[f64; MAX_LEVELS]; K],
    pub(crate) prior_g: f64,
    pub(crate) prior_h: f64,
    tf_first: Vec<f32>,
    tf_sur: Vec<f32>,
    tf_pc: Vec<f32>,
}

fn safe_log2_ratio(m: f64, u: f64) -> f64 {
    (m.max(1e-12) / u.max(1e-12)).log2()
}

impl Scorer {
    pub(crate) fn new(model: &Model, ds: &Dataset) -> Scorer {
        let (m, u, uh) = model.tables();
        let mut wg = [[0.0; MAX_LEVELS]; K];
        let mut wh = [[0.0; MAX_LEVELS]; K];
        for k in 0..K {
            for l in 0..compare::level_count(k) {
                wg[k][l] = safe_log2_ratio(m[k][l], u[k][l]);
                if scored_in_household(k) {
                    wh[k][l] = safe_log2_ratio(m[k][l], uh[k][l]);
                }
            }
        }
        let tf = &model.term_frequencies;
        let lim = model.tf_limit;
        let table = |map: &BTreeMap<String, f64>, u_exact: f64, vocab: &crate::dataset::Vocab| -> Vec<f32> {
            if map.is_empty() || tf.records == 0 {
                return vec![0.0; vocab.len()];
            }
            let unseen = 1.0 / tf.records as f64;
            (0..vocab.len() as u32)
                .map(|id| {
                    let f = map.get(vocab.get(id)).copied().unwrap_or(unseen).max(unseen);
                    (u_exact / f).log2().clamp(-lim, lim) as f32
                })
                .collect()
        };
        Scorer {
            wg,
            wh,
            prior_g: logit2(model.prior),
            prior_h: logit2(model.household_prior),
            tf_first: table(&tf.first_name, u[FIRST][0], &ds.fore),
            tf_sur: table(&tf.surname, u[SURNAME][0], &ds.sur),
            tf_pc: table(&tf.postcode, u[POSTCODE][0], &ds.pc),
        }
    }

    /// Comparison `k`'s part of the weight of a pair whose left record is `i`.
    #[inline]
    pub(crate) fn part(&self, ds: &Dataset, i: usize, k: usize, level: u8, household: bool) -> f64 {
        if level == NULL {
            return 0.0;
        }
        if household {
            return if scored_in_household(k) {
                self.wh[k][level as usize]
            } else {
                0.0
            };
        }
        let mut w = self.wg[k][level as usize];
        if level == 0 {
            w += match k {
                FIRST => self.tf_first[ds.rec[i].given as usize] as f64,
                SURNAME => self.tf_sur[ds.rec[i].surname as usize] as f64,
                POSTCODE => self.tf_pc[ds.rec[i].postcode as usize] as f64,
                _ => 0.0,
            };
        }
        w
    }

    /// The match weight of records `i` and `j` with levels `l`.
    #[inline]
    pub(crate) fn weight(&self, ds: &Dataset, i: usize, l: &Levels) -> f64 {
        let household = compare::household_context(l);
        let mut w = if household { self.prior_h } else { self.prior_g };
        for (k, &level) in l.iter().enumerate() {
            w += self.part(ds, i, k, level, household);
        }
        w
    }
}
