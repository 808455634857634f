//! Comparisons: each field of a pair of records becomes a level.
//!
//! Levels are ordered from strongest agreement to disagreement; [`NULL`]
//! means a value is missing on either side (no evidence either way). The
//! functions here are pure and symmetric: `levels(i, j) == levels(j, i)`.

use crate::dataset::{Dataset, NHS_DIGITS, NHS_VALID};
use crate::dates::Date;
use crate::strings::{jaro_winkler, jaro_winkler_upper_bound, one_edit_fixed, within_one_edit};

/// Comparison indices.
pub const NHS: usize = 0;
pub const FIRST: usize = 1;
pub const SURNAME: usize = 2;
pub const DOB: usize = 3;
pub const POSTCODE: usize = 4;
pub const ADDRESS: usize = 5;
pub const SEX: usize = 6;
/// The number of comparisons.
pub const K: usize = 7;
/// The level "missing on either side".
pub const NULL: u8 = 15;

/// Names of the comparisons, in index order.
pub const NAMES: [&str; K] = [
    "NHS number",
    "First name",
    "Surname",
    "Date of birth",
    "Postcode",
    "Address",
    "Sex",
];

/// Human labels of each comparison's levels, in order.
pub const LEVELS: [&[&str]; K] = [
    &[
        "exact",
        "exact, dates of birth 10+ years apart",
        "one transposition",
        "one digit different",
        "both valid, different",
        "different",
    ],
    &[
        "exact",
        "nickname",
        "first and middle names swapped",
        "first name and surname swapped",
        "Jaro-Winkler ≥ 0.92",
        "Jaro-Winkler ≥ 0.80",
        "initial",
        "different",
    ],
    &[
        "exact",
        "double-barrelled part",
        "one edit or Jaro-Winkler ≥ 0.92",
        "Jaro-Winkler ≥ 0.80",
        "different",
    ],
    &[
        "exact",
        "day and month swapped",
        "one digit different",
        "year one apart",
        "different",
    ],
    &["exact", "same sector", "same district", "different"],
    &["exact", "same numbers, Jaro-Winkler ≥ 0.90", "different"],
    &["same", "different"],
];

/// The number of levels of each comparison (without [`NULL`]).
pub const fn level_count(k: usize) -> usize {
    LEVELS[k].len()
}

/// The label of a level.
pub fn label(k: usize, level: u8) -> &'static str {
    if level == NULL {
        "missing"
    } else {
        LEVELS[k][level as usize]
    }
}

/// One pair's levels, comparison by comparison.
pub type Levels = [u8; K];

/// The number of distinct patterns (levels with [`NULL`] as one more value).
pub const PATTERNS: usize = {
    let mut n = 1;
    let mut k = 0;
    while k < K {
        n *= LEVELS[k].len() + 1;
        k += 1;
    }
    n
};

/// A pattern's dense index (mixed radix, [`NULL`] as the last digit value).
#[inline]
pub fn pattern_index(l: &Levels) -> usize {
    let mut idx = 0;
    for k in 0..K {
        let r = level_count(k) + 1;
        let v = if l[k] == NULL { level_count(k) } else { l[k] as usize };
        idx = idx * r + v;
    }
    idx
}

/// The inverse of [`pattern_index`].
pub fn pattern_levels(mut idx: usize) -> Levels {
    let mut l = [0u8; K];
    for k in (0..K).rev() {
        let r = level_count(k) + 1;
        let v = idx % r;
        idx /= r;
        l[k] = if v == level_count(k) { NULL } else { v as u8 };
    }
    l
}

/// Household context: the same surname (or a close or double-barrelled form)
/// and the same postcode or address. Among non-matching pairs in this context
/// (twins, siblings, a parent and child) agreement on the other fields is far
/// more likely than among random pairs, so the model scores these pairs with
/// their own prior and u probabilities (see [`crate::model`]).
#[inline]
pub fn household_context(l: &Levels) -> bool {
    l[SURNAME] <= 2 && (l[POSTCODE] == 0 || l[ADDRESS] <= 1)
}

/// Compare records `i` and `j` of `ds`.
pub fn levels(ds: &Dataset, i: usize, j: usize) -> Levels {
    [
        nhs_level(ds, i, j),
        first_name_level(ds, i, j),
        surname_level(ds, i, j),
        dob_level(ds.rec[i].dob, ds.rec[j].dob),
        postcode_level(ds, i, j),
        address_level(ds, i, j),
        sex_level(ds.rec[i].sex, ds.rec[j].sex),
    ]
}

fn nhs_level(ds: &Dataset, i: usize, j: usize) -> u8 {
    let (a, b) = (ds.rec[i].nhs, ds.rec[j].nhs);
    if a == 0 || b == 0 {
        return NULL;
    }
    if a & NHS_DIGITS == b & NHS_DIGITS {
        let (da, db) = (ds.rec[i].dob, ds.rec[j].dob);
        if da != 0 && db != 0 && (da / 10_000).abs_diff(db / 10_000) >= 10 {
            return 1;
        }
        return 0;
    }
    let (x, y) = (ds.nhs_digits(i).unwrap(), ds.nhs_digits(j).unwrap());
    match one_edit_fixed(&x, &y) {
        Some("one transposition") => 2,
        Some(_) => 3,
        None if a & b & NHS_VALID != 0 => 4,
        None => 5,
    }
}

fn first_name_level(ds: &Dataset, i: usize, j: usize) -> u8 {
    let (a, b) = (ds.rec[i].given, ds.rec[j].given);
    if a == 0 || b == 0 {
        return NULL;
    }
    if a == b {
        return 0;
    }
    let (ga, gb) = (ds.group(a), ds.group(b));
    if (ga.len() > 1 || gb.len() > 1) && ga.iter().any(|x| gb.contains(x)) {
        return 1;
    }
    let (ma, mb) = (ds.rec[i].middle, ds.rec[j].middle);
    if (ma != 0 && ma == b) || (mb != 0 && mb == a) {
        return 2;
    }
    if names_swapped(ds, i, j) {
        return 3;
    }
    let (sa, sb) = (ds.fore.get(a), ds.fore.get(b));
    let jw = bounded_jw(sa, sb, &ds.fore_hist[a as usize], &ds.fore_hist[b as usize]);
    if jw >= 0.92 {
        4
    } else if jw >= 0.80 {
        5
    } else if (sa.len() == 1 || sb.len() == 1) && sa.as_bytes()[0] == sb.as_bytes()[0] {
        6
    } else {
        7
    }
}

/// Whether one record's first name is the other's surname and the other way
/// round (written in the wrong boxes).
fn names_swapped(ds: &Dataset, i: usize, j: usize) -> bool {
    let (a, b) = (&ds.rec[i], &ds.rec[j]);
    a.given != 0
        && b.given != 0
        && a.surname != 0
        && b.surname != 0
        && ds.fore_hash[a.given as usize] == ds.sur_hash[b.surname as usize]
        && ds.fore_hash[b.given as usize] == ds.sur_hash[a.surname as usize]
        && ds.fore.get(a.given) == ds.sur.get(b.surname)
        && ds.fore.get(b.given) == ds.sur.get(a.surname)
}

/// Surname levels. When the names are swapped the evidence is counted once,
/// by the first name ("first name and surname swapped"); the surname is then
/// missing.
fn surname_level(ds: &Dataset, i: usize, j: usize) -> u8 {
    let (a, b) = (ds.rec[i].surname, ds.rec[j].surname);
    if a == 0 || b == 0 {
        return NULL;
    }
    if a == b {
        return 0;
    }
    if ds.rec[i].given != ds.rec[j].given && names_swapped(ds, i, j) {
        return NULL;
    }
    let (sa, sb) = (ds.sur.get(a), ds.sur.get(b));
    if (ds.sur_parts[a as usize] || ds.sur_parts[b as usize]) && crate::names::surname_part_match(sa, sb) {
        return 1;
    }
    let jw = bounded_jw(sa, sb, &ds.sur_hist[a as usize], &ds.sur_hist[b as usize]);
    if jw >= 0.92 || within_one_edit(sa, sb) {
        2
    } else if jw >= 0.80 {
        3
    } else {
        4
    }
}

/// Jaro-Winkler when it can reach 0.80, else 0 (the levels below 0.80 do not
/// use its value).
#[inline]
fn bounded_jw(a: &str, b: &str, ha: &[u8; 32], hb: &[u8; 32]) -> f64 {
    if jaro_winkler_upper_bound(a, b, ha, hb) < 0.80 {
        0.0
    } else {
        jaro_winkler(a, b)
    }
}

/// Date of birth levels on packed `yyyymmdd` values (0 = missing).
pub fn dob_level(a: u32, b: u32) -> u8 {
    if a == 0 || b == 0 {
        return NULL;
    }
    if a == b {
        return 0;
    }
    let (x, y) = (Date::unpack(a), Date::unpack(b));
    if x.year == y.year && x.day == y.month && x.month == y.day {
        return 1;
    }
    // one decimal digit different in yyyymmdd
    let (mut p, mut q, mut diff) = (a, b, 0);
    for _ in 0..8 {
        if p % 10 != q % 10 {
            diff += 1;
        }
        p /= 10;
        q /= 10;
    }
    if diff == 1 {
        return 2;
    }
    if x.month == y.month && x.day == y.day && x.year.abs_diff(y.year) == 1 {
        return 3;
    }
    4
}

fn postcode_level(ds: &Dataset, i: usize, j: usize) -> u8 {
    let (a, b) = (ds.rec[i].postcode, ds.rec[j].postcode);
    if a == 0 || b == 0 {
        return NULL;
    }
    if a == b {
        0
    } else if ds.pc_sector[a as usize] == ds.pc_sector[b as usize] {
        1
    } else if ds.pc_outward[a as usize] == ds.pc_outward[b as usize] {
        2
    } else {
        3
    }
}

fn address_level(ds: &Dataset, i: usize, j: usize) -> u8 {
    let (a, b) = (ds.rec[i].address, ds.rec[j].address);
    if a == 0 || b == 0 {
        return NULL;
    }
    if a == b {
        return 0;
    }
    if ds.addr_numbers[a as usize] == ds.addr_numbers[b as usize]
        && jaro_winkler(ds.addr.get(a), ds.addr.get(b)) >= 0.90
    {
        1
    } else {
        2
    }
}

fn sex_level(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        NULL
    } else if a == b {
        0
    } else {
        1
    }
}
