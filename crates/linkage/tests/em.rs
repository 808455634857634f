//! EM recovers known m, u and λ from comparison vectors drawn from them.

#![allow(clippy::needless_range_loop)]

use kindred_linkage::compare::{K, Levels, NULL};
use kindred_linkage::em::{self, EmSettings, MAX_LEVELS, Table};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn table(rows: &[&[f64]]) -> Table {
    let mut t = [[0.0; MAX_LEVELS]; K];
    for (k, r) in rows.iter().enumerate() {
        t[k][..r.len()].copy_from_slice(r);
    }
    t
}

fn draw(rng: &mut ChaCha8Rng, p: &[f64]) -> u8 {
    let x: f64 = rng.r#gen();
    let mut acc = 0.0;
    for (i, v) in p.iter().enumerate() {
        acc += v;
        if x < acc {
            return i as u8;
        }
    }
    (p.len() - 1) as u8
}

#[test]
fn em_recovers_known_m_u_and_lambda() {
    let levels: [usize; K] = [3, 3, 2, 3, 2, 2, 2];
    let m = table(&[
        &[0.9, 0.07, 0.03],
        &[0.85, 0.1, 0.05],
        &[0.9, 0.1],
        &[0.92, 0.05, 0.03],
        &[0.8, 0.2],
        &[0.75, 0.25],
        &[0.97, 0.03],
    ]);
    let u = table(&[
        &[0.01, 0.04, 0.95],
        &[0.05, 0.15, 0.8],
        &[0.1, 0.9],
        &[0.02, 0.08, 0.9],
        &[0.1, 0.9],
        &[0.05, 0.95],
        &[0.5, 0.5],
    ]);
    let lambda = 0.2;
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut counts = std::collections::BTreeMap::<Levels, f64>::new();
    for _ in 0..200_000 {
        let matched = rng.gen_bool(lambda);
        let mut l = [NULL; K];
        for k in 0..K {
            let p = if matched {
                &m[k][..levels[k]]
            } else {
                &u[k][..levels[k]]
            };
            l[k] = if rng.gen_bool(0.05) { NULL } else { draw(&mut rng, p) };
        }
        *counts.entry(l).or_default() += 1.0;
    }
    let patterns: Vec<(Levels, f64)> = counts.into_iter().collect();
    // Start from a flat guess; estimate everything.
    let flat = |lo: bool| {
        let mut t = [[0.0; MAX_LEVELS]; K];
        for k in 0..K {
            for l in 0..levels[k] {
                // m leans to the first level, u to the last.
                let w = if lo { (levels[k] - l) as f64 } else { (l + 1) as f64 };
                t[k][l] = w;
            }
            let s: f64 = t[k].iter().sum();
            t[k].iter_mut().for_each(|v| *v /= s);
        }
        t
    };
    let s = EmSettings {
        estimate_u: [true; K],
        max_iterations: 500,
        tolerance: 1e-8,
        ..EmSettings::default()
    };
    let r = em::run(&patterns, &levels, 0.5, &flat(true), &flat(false), &s);
    assert!((r.lambda - lambda).abs() < 0.01, "λ {}", r.lambda);
    for k in 0..K {
        for l in 0..levels[k] {
            assert!(
                (r.m[k][l] - m[k][l]).abs() < 0.02,
                "m[{k}][{l}] {} vs {}",
                r.m[k][l],
                m[k][l]
            );
            assert!(
                (r.u[k][l] - u[k][l]).abs() < 0.02,
                "u[{k}][{l}] {} vs {}",
                r.u[k][l],
                u[k][l]
            );
        }
    }
    // With u fixed at the truth, m and λ alone are recovered too.
    let s = EmSettings {
        max_iterations: 500,
        tolerance: 1e-8,
        ..EmSettings::default()
    };
    let r = em::run(&patterns, &levels, 0.5, &flat(true), &u, &s);
    assert!((r.lambda - lambda).abs() < 0.01);
    for k in 0..K {
        for l in 0..levels[k] {
            assert!((r.m[k][l] - m[k][l]).abs() < 0.02);
        }
    }
}
