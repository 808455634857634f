//! Blocking: which pairs are compared at all.
//!
//! A rule is a list of key fields that must all agree (a missing field puts
//! the record in no block of that rule). The blocked pairs are the union over
//! the rules. For each rule the records are sorted by their key (an array of
//! indices, no hash maps of strings) and each run of equal keys is a block. A
//! pair found by an earlier rule is not emitted again: when emitting a pair
//! for rule `r`, it is skipped if the two records also share the key of any
//! rule before `r` — no global pair set is needed.
//!
//! **Oversize blocks.** A block with more than `max_block_size` records (a
//! very common name in a very large file) is skipped whole: its pairs would
//! cost quadratic time and other rules find its true matches. Its records
//! count as "no key" for that rule, so later rules still emit their pairs.
//! The number of skipped blocks and records is reported.

use rayon::prelude::*;

use crate::dataset::{Dataset, NHS_DIGITS, NHS_PRESENT};
use crate::fx::mix;

/// The default rules, in order (most selective first).
pub const DEFAULT_RULES: &[&[&str]] = &[
    &["nhs_number"],
    &["surname", "dob"],
    &["first_name", "dob"],
    &["postcode", "first_name"],
    &["dob", "postcode"],
    &["surname", "postcode"],
    &["names_unordered"],
    &["first_name:3", "surname:3", "dob_year"],
];

/// A key field of a blocking rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `nhs_number`
    Nhs,
    /// `first_name`: the canonical (formal) given name, so `bob` meets `robert`.
    FirstName,
    /// `first_name:N`: its first N letters.
    FirstNamePrefix(u8),
    /// `surname`
    Surname,
    /// `surname:N`
    SurnamePrefix(u8),
    /// `dob`
    Dob,
    /// `dob_year`
    DobYear,
    /// `postcode`
    Postcode,
    /// `postcode_sector`
    PostcodeSector,
    /// `postcode_district`
    PostcodeDistrict,
    /// `address`
    Address,
    /// `names_unordered`: first name and surname as an unordered pair, so a
    /// record with the two swapped meets its twin.
    NamesUnordered,
}

impl Field {
    pub fn parse(s: &str) -> Result<Field, String> {
        let (name, n) = match s.split_once(':') {
            Some((a, b)) => {
                let n: u8 = b.parse().map_err(|_| format!("bad prefix length in {s:?}"))?;
                if !(1..=8).contains(&n) {
                    return Err(format!("prefix length in {s:?} must be 1 to 8"));
                }
                (a, Some(n))
            }
            None => (s, None),
        };
        Ok(match (name, n) {
            ("nhs_number", None) => Field::Nhs,
            ("first_name" | "given_name", None) => Field::FirstName,
            ("first_name" | "given_name", Some(n)) => Field::FirstNamePrefix(n),
            ("surname" | "family_name", None) => Field::Surname,
            ("surname" | "family_name", Some(n)) => Field::SurnamePrefix(n),
            ("dob" | "date_of_birth", None) => Field::Dob,
            ("dob_year", None) => Field::DobYear,
            ("postcode", None) => Field::Postcode,
            ("postcode_sector", None) => Field::PostcodeSector,
            ("postcode_district", None) => Field::PostcodeDistrict,
            ("address", None) => Field::Address,
            ("names_unordered", None) => Field::NamesUnordered,
            _ => return Err(format!("unknown blocking field {s:?}")),
        })
    }

    fn tag(self) -> u64 {
        match self {
            Field::Nhs => 1,
            Field::FirstName => 2,
            Field::FirstNamePrefix(n) => 3 + ((n as u64) << 2),
            Field::Surname => 4,
            Field::SurnamePrefix(n) => 5 + ((n as u64) << 2),
            Field::Dob => 6,
            Field::DobYear => 7,
            Field::Postcode => 8,
            Field::PostcodeSector => 9,
            Field::PostcodeDistrict => 10,
            Field::Address => 11,
            Field::NamesUnordered => 12,
        }
    }

    /// The field's value for record `i`, or `None` when missing.
    fn value(self, ds: &Dataset, i: usize) -> Option<u64> {
        let nz = |v: u32| (v != 0).then_some(v as u64);
        match self {
            Field::Nhs => (ds.rec[i].nhs & NHS_PRESENT != 0).then(|| ds.rec[i].nhs & NHS_DIGITS),
            Field::FirstName => nz(ds.rec[i].given).map(|g| ds.fore_canon[g as usize] as u64),
            Field::FirstNamePrefix(n) => nz(ds.rec[i].given).map(|g| prefix(ds.fore.get(ds.fore_canon[g as usize]), n)),
            Field::Surname => nz(ds.rec[i].surname),
            Field::SurnamePrefix(n) => nz(ds.rec[i].surname).map(|s| prefix(ds.sur.get(s as u32), n)),
            Field::Dob => nz(ds.rec[i].dob),
            Field::DobYear => nz(ds.rec[i].dob).map(|d| d / 10_000),
            Field::Postcode => nz(ds.rec[i].postcode),
            Field::PostcodeSector => nz(ds.rec[i].postcode).and_then(|p| nz(ds.pc_sector[p as usize])),
            Field::PostcodeDistrict => nz(ds.rec[i].postcode).and_then(|p| nz(ds.pc_outward[p as usize])),
            Field::Address => nz(ds.rec[i].address),
            Field::NamesUnordered => {
                let (g, s) = (ds.rec[i].given, ds.rec[i].surname);
                if g == 0 || s == 0 {
                    return None;
                }
                let (x, y) = (ds.fore_hash[g as usize], ds.sur_hash[s as usize]);
                Some(mix(x.min(y)) ^ x.max(y))
            }
        }
    }
}

fn prefix(s: &str, n: u8) -> u64 {
    let mut v = 0u64;
    for &b in s.as_bytes().iter().take(n as usize) {
        v = (v << 8) | b as u64;
    }
    v
}

/// Parse rules given as field names.
pub fn parse_rules(rules: &[Vec<String>]) -> Result<Vec<Vec<Field>>, String> {
    rules
        .iter()
        .map(|r| {
            if r.is_empty() {
                return Err("an empty blocking rule".to_owned());
            }
            r.iter().map(|f| Field::parse(f)).collect()
        })
        .collect()
}

/// A unit of work: a run of whole blocks of one rule.
#[derive(Clone, Copy, Debug)]
pub struct Task {
    pub rule: usize,
    start: u32,
    end: u32,
    /// Candidate pairs in the task (before skipping earlier rules' pairs).
    pub work: u64,
}

/// The blocks of every rule.
pub struct Blocks {
    /// Per record, per rule (`keys[i * rules + r]`): the key (0 = none, or in
    /// a skipped oversize block or a block of one). Record-major, so checking
    /// a pair against the earlier rules reads two cache lines.
    keys: Vec<u64>,
    rules: usize,
    /// Per rule: record indices sorted by (key, index), keyless records left out.
    orders: Vec<Vec<u32>>,
    pub tasks: Vec<Task>,
    pub skipped_blocks: usize,
    pub skipped_records: usize,
    /// Candidate pairs over all tasks.
    pub work: u64,
    n_left: Option<usize>,
}

const TASK_WORK: u64 = 1 << 16;

struct RuleBlocks {
    key: Vec<u64>,
    order: Vec<u32>,
    tasks: Vec<Task>,
    skipped_blocks: usize,
    skipped_records: usize,
    work: u64,
}

fn build_rule(ds: &Dataset, r: usize, rule: &[Field], max_block_size: usize) -> RuleBlocks {
    let n = ds.len();
    let link = ds.n_left;
    let mut key: Vec<u64> = (0..n)
        .into_par_iter()
        .map(|i| {
            let mut h = 0x9e37_79b9_7f4a_7c15u64 ^ r as u64;
            for f in rule {
                match f.value(ds, i) {
                    Some(v) => h = mix(h ^ mix(v ^ f.tag() << 58)),
                    None => return 0,
                }
            }
            h.max(1)
        })
        .collect();
    let mut sorted: Vec<(u64, u32)> = (0..n as u32)
        .filter(|&i| key[i as usize] != 0)
        .map(|i| (key[i as usize], i))
        .collect();
    sorted.par_sort_unstable();
    let mut out = RuleBlocks {
        key: Vec::new(),
        order: Vec::with_capacity(sorted.len()),
        tasks: Vec::new(),
        skipped_blocks: 0,
        skipped_records: 0,
        work: 0,
    };
    let order = &mut out.order;
    let mut start = 0usize;
    let mut task = Task {
        rule: r,
        start: 0,
        end: 0,
        work: 0,
    };
    while start < sorted.len() {
        let k = sorted[start].0;
        let mut end = start + 1;
        while end < sorted.len() && sorted[end].0 == k {
            end += 1;
        }
        let size = end - start;
        if size > max_block_size {
            out.skipped_blocks += 1;
            out.skipped_records += size;
            for &(_, i) in &sorted[start..end] {
                key[i as usize] = 0;
            }
        } else if size >= 2 {
            let block_start = order.len() as u32;
            order.extend(sorted[start..end].iter().map(|&(_, i)| i));
            let work = match link {
                None => (size * (size - 1) / 2) as u64,
                Some(nl) => {
                    let l = sorted[start..end].iter().filter(|&&(_, i)| (i as usize) < nl).count();
                    (l * (size - l)) as u64
                }
            };
            if task.work == 0 {
                task.start = block_start;
            }
            task.end = order.len() as u32;
            task.work += work.max(1);
            if task.work >= TASK_WORK {
                out.work += task.work;
                out.tasks.push(task);
                task.work = 0;
            }
        } else {
            // a single record: no pair, and no key needed for skipping
            key[sorted[start].1 as usize] = 0;
        }
        start = end;
    }
    if task.work > 0 {
        out.work += task.work;
        out.tasks.push(task);
    }
    out.key = key;
    out
}

impl Blocks {
    pub fn build(ds: &Dataset, rules: &[Vec<Field>], max_block_size: usize) -> Blocks {
        let n = ds.len();
        let nr = rules.len();
        // Rules are independent until their keys are interleaved: build them in parallel.
        let built: Vec<RuleBlocks> = rules
            .par_iter()
            .enumerate()
            .map(|(r, rule)| build_rule(ds, r, rule, max_block_size))
            .collect();
        let mut keys = vec![0u64; n * nr];
        keys.par_chunks_mut(nr).enumerate().for_each(|(i, row)| {
            for (r, b) in built.iter().enumerate() {
                row[r] = b.key[i];
            }
        });
        let mut blocks = Blocks {
            keys,
            rules: nr,
            orders: Vec::with_capacity(nr),
            tasks: Vec::new(),
            skipped_blocks: 0,
            skipped_records: 0,
            work: 0,
            n_left: ds.n_left,
        };
        for b in built {
            blocks.tasks.extend(b.tasks);
            blocks.orders.push(b.order);
            blocks.skipped_blocks += b.skipped_blocks;
            blocks.skipped_records += b.skipped_records;
            blocks.work += b.work;
        }
        blocks
    }

    /// Calls `f(i, j)` for every pair of the task not found by an earlier
    /// rule; `i < j`, and in link mode `i` is from the first input and `j`
    /// from the second.
    pub fn for_each_pair(&self, t: &Task, mut f: impl FnMut(usize, usize)) {
        let order = &self.orders[t.rule][t.start as usize..t.end as usize];
        let nr = self.rules;
        let r = t.rule;
        let key_of = |i: usize| self.keys[i * nr + r];
        let mut s = 0;
        while s < order.len() {
            let k = key_of(order[s] as usize);
            let mut e = s + 1;
            while e < order.len() && key_of(order[e] as usize) == k {
                e += 1;
            }
            let block = &order[s..e];
            for (a, &i) in block.iter().enumerate() {
                let i = i as usize;
                let ki = &self.keys[i * nr..i * nr + r];
                for &j in &block[a + 1..] {
                    let j = j as usize;
                    if let Some(nl) = self.n_left
                        && (i < nl) == (j < nl)
                    {
                        continue;
                    }
                    let kj = &self.keys[j * nr..j * nr + r];
                    if ki.iter().zip(kj).any(|(a, b)| *a != 0 && a == b) {
                        continue;
                    }
                    f(i, j);
                }
            }
            s = e;
        }
    }
}
