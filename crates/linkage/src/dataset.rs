//! Records as columns of small integers: every standard value interned once.
//!
//! Names, postcodes and addresses come from small vocabularies, so each is
//! stored as a `u32` id into a [`Vocab`] (id 0 is "missing"), dates as packed
//! `yyyymmdd`, NHS numbers as integers. A record costs about 50 bytes; a
//! comparison of two ids is one integer compare, and each distinct raw value is
//! standardised once.

use crate::fx::FxHashMap;
use crate::{Record, Sex, addresses, dates, names, nhs, postcodes};

/// Interned strings; id 0 is reserved for "missing".
#[derive(Debug, Clone)]
pub struct Vocab {
    strings: Vec<Box<str>>,
    map: FxHashMap<Box<str>, u32>,
}

impl Default for Vocab {
    fn default() -> Self {
        Vocab {
            strings: vec!["".into()],
            map: FxHashMap::default(),
        }
    }
}

impl Vocab {
    pub fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.map.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.into());
        self.map.insert(s.into(), id);
        id
    }
    pub fn get(&self, id: u32) -> &str {
        &self.strings[id as usize]
    }
    pub fn id(&self, s: &str) -> Option<u32> {
        self.map.get(s).copied()
    }
    pub fn len(&self) -> usize {
        self.strings.len()
    }
    pub fn is_empty(&self) -> bool {
        self.strings.len() <= 1
    }
}

/// NHS number bits: the ten digits as an integer, plus these flags.
pub(crate) const NHS_PRESENT: u64 = 1 << 40;
pub(crate) const NHS_VALID: u64 = 1 << 41;
pub(crate) const NHS_DIGITS: u64 = (1 << 40) - 1;

/// One record's compared fields: ids into the vocabularies (0 = missing),
/// the date of birth as `yyyymmdd`, the NHS number's bits.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Rec {
    pub nhs: u64,
    pub given: u32,
    pub middle: u32,
    pub surname: u32,
    pub dob: u32,
    pub postcode: u32,
    pub address: u32,
    pub sex: u8,
}

/// Standardised records of one or two inputs, as columns.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    id_bytes: Vec<u8>,
    id_ends: Vec<u64>,
    /// Records `[0, n_left)` come from the first input; the rest (if any) from the second.
    pub(crate) n_left: Option<usize>,
    /// The compared fields, one 40-byte row per record (a pair costs two
    /// cache lines).
    pub(crate) rec: Vec<Rec>,
    pub(crate) source: Vec<u32>,
    pub(crate) fore: Vocab,
    pub(crate) sur: Vocab,
    pub(crate) pc: Vocab,
    pub(crate) pc_parts: Vocab,
    pub(crate) addr: Vocab,
    pub(crate) src: Vocab,
    // Derived by `finish`.
    /// Per forename id: the canonical (formal) name's id.
    pub(crate) fore_canon: Vec<u32>,
    /// Per forename id: `group_items[group_start[id]..group_start[id+1]]`, the
    /// name and its formal names, sorted.
    pub(crate) group_start: Vec<u32>,
    pub(crate) group_items: Vec<u32>,
    /// Per postcode id: sector and outward ids (in `pc_parts`).
    pub(crate) pc_sector: Vec<u32>,
    pub(crate) pc_outward: Vec<u32>,
    /// Occurrences of each value as a given name, surname, postcode.
    pub(crate) given_count: Vec<u32>,
    pub(crate) sur_count: Vec<u32>,
    pub(crate) pc_count: Vec<u32>,
    /// Per surname id: whether it has several parts.
    pub(crate) sur_parts: Vec<bool>,
    /// Per forename and surname id: byte histograms (for a cheap
    /// Jaro-Winkler bound).
    pub(crate) fore_hist: Vec<[u8; 32]>,
    pub(crate) sur_hist: Vec<[u8; 32]>,
    /// Per forename and surname id: a hash of the string (for swapped names).
    pub(crate) fore_hash: Vec<u64>,
    pub(crate) sur_hash: Vec<u64>,
    /// Per address id: a hash of its numbers (house, flat).
    pub(crate) addr_numbers: Vec<u64>,
    finished: bool,
}

/// Builds a [`Dataset`] from raw text fields, standardising each distinct raw
/// value once.
#[derive(Default)]
pub struct Builder {
    ds: Dataset,
    fore_cache: FxHashMap<RawKey, u32>,
    sur_cache: FxHashMap<RawKey, u32>,
    pc_cache: FxHashMap<RawKey, u32>,
    addr_cache: FxHashMap<RawKey, u32>,
    src_cache: FxHashMap<RawKey, u32>,
    dob_cache: FxHashMap<RawKey, u32>,
}

/// Raw fields of one row, as bytes (UTF-8; invalid sequences are replaced).
#[derive(Default, Clone, Copy)]
pub struct RawFields<'a> {
    pub id: &'a [u8],
    pub nhs_number: Option<&'a [u8]>,
    pub given_name: Option<&'a [u8]>,
    pub middle_name: Option<&'a [u8]>,
    pub family_name: Option<&'a [u8]>,
    pub date_of_birth: Option<&'a [u8]>,
    pub sex: Option<&'a [u8]>,
    pub postcode: Option<&'a [u8]>,
    pub address: Option<&'a [u8]>,
    pub source_system: Option<&'a [u8]>,
}

/// A raw field value as a hash key: up to 31 bytes inline (compared and
/// hashed as four words, no allocation), longer ones boxed.
#[derive(Clone, PartialEq, Eq, Hash)]
enum RawKey {
    Short([u64; 4]),
    Long(Box<[u8]>),
}

impl RawKey {
    #[inline]
    fn new(raw: &[u8]) -> RawKey {
        if raw.len() <= 31 {
            let mut b = [0u8; 32];
            b[..raw.len()].copy_from_slice(raw);
            b[31] = raw.len() as u8;
            let w = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap());
            RawKey::Short([w(0), w(1), w(2), w(3)])
        } else {
            RawKey::Long(raw.into())
        }
    }

    fn text(&self) -> String {
        match self {
            RawKey::Short(w) => {
                let mut b = [0u8; 32];
                for (i, x) in w.iter().enumerate() {
                    b[i * 8..i * 8 + 8].copy_from_slice(&x.to_le_bytes());
                }
                String::from_utf8_lossy(&b[..b[31] as usize]).into_owned()
            }
            RawKey::Long(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
}

/// Distinct raw values of one chunk, in order of first appearance (id 0 is
/// "missing or empty").
#[derive(Default)]
struct LocalVocab {
    values: Vec<RawKey>,
    map: FxHashMap<RawKey, u32>,
}

impl LocalVocab {
    #[inline]
    fn id(&mut self, raw: Option<&[u8]>) -> u32 {
        let Some(raw) = raw.filter(|r| !r.is_empty()) else {
            return 0;
        };
        let next = self.values.len() as u32 + 1;
        match self.map.entry(RawKey::new(raw)) {
            std::collections::hash_map::Entry::Occupied(e) => *e.get(),
            std::collections::hash_map::Entry::Vacant(e) => {
                self.values.push(e.key().clone());
                e.insert(next);
                next
            }
        }
    }

    /// Global ids for the local ones, through the builder's cache of raw values.
    fn translate(&self, cache: &mut FxHashMap<RawKey, u32>, mut make: impl FnMut(&str) -> u32) -> Vec<u32> {
        let mut out = Vec::with_capacity(self.values.len() + 1);
        out.push(0);
        for raw in &self.values {
            let v = match cache.get(raw) {
                Some(&v) => v,
                None => {
                    let v = make(&raw.text());
                    cache.insert(raw.clone(), v);
                    v
                }
            };
            out.push(v);
        }
        out
    }
}

#[derive(Clone, Copy)]
struct LocalRow {
    nhs: u64,
    given: u32,
    middle: u32,
    surname: u32,
    dob: u32,
    postcode: u32,
    address: u32,
    source: u32,
    sex: u8,
}

/// Rows parsed apart from the [`Builder`], with chunk-local value ids; many
/// chunks can be filled in parallel and then pushed in order.
#[derive(Default)]
pub struct Chunk {
    ids: Vec<u8>,
    id_ends: Vec<u32>,
    /// The input line of each row (for error messages).
    pub lines: Vec<u64>,
    rows: Vec<LocalRow>,
    fore: LocalVocab,
    sur: LocalVocab,
    dob: LocalVocab,
    pc: LocalVocab,
    addr: LocalVocab,
    src: LocalVocab,
}

impl Chunk {
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    pub fn push(&mut self, f: &RawFields<'_>, line: u64) {
        let id = String::from_utf8_lossy(f.id);
        self.ids.extend_from_slice(id.trim().as_bytes());
        self.id_ends.push(self.ids.len() as u32);
        self.lines.push(line);
        let nhs = f
            .nhs_number
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(nhs::normalise)
            .map_or(0, |d| nhs_bits(&d));
        let sex = match f.sex {
            Some([b'm' | b'M']) => 1,
            Some([b'f' | b'F']) => 2,
            Some(b) => std::str::from_utf8(b).ok().and_then(Sex::parse).map_or(0, sex_code),
            None => 0,
        };
        let given = self.fore.id(f.given_name);
        let middle = self.fore.id(f.middle_name);
        self.rows.push(LocalRow {
            nhs,
            given,
            middle,
            surname: self.sur.id(f.family_name),
            dob: self.dob.id(f.date_of_birth),
            postcode: self.pc.id(f.postcode),
            address: self.addr.id(f.address),
            source: self.src.id(f.source_system),
            sex,
        });
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    pub fn len(&self) -> usize {
        self.ds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ds.len() == 0
    }

    /// Marks the end of the first input: what follows is the second.
    pub fn end_left(&mut self) {
        self.ds.n_left = Some(self.ds.len());
    }

    /// Push one row of raw fields.
    pub fn push_raw(&mut self, f: &RawFields<'_>) {
        let mut c = Chunk::default();
        c.push(f, 0);
        self.push_chunk(&c);
    }

    /// Push the rows of a chunk parsed on its own (in parallel with others),
    /// standardising each raw value not seen before. The result is the same
    /// as pushing the rows one by one.
    pub fn push_chunk(&mut self, c: &Chunk) {
        let ds = &mut self.ds;
        let fore = &mut ds.fore;
        let given_name = |s: &str| names::standard_given_name(s).map_or(0, |n| fore.intern(&n));
        let fore_ids = c.fore.translate(&mut self.fore_cache, given_name);
        let sur = &mut ds.sur;
        let sur_ids = c.sur.translate(&mut self.sur_cache, |s| {
            names::standard_family_name(s).map_or(0, |n| sur.intern(&n))
        });
        let dob_ids = c.dob.translate(&mut self.dob_cache, |s| {
            dates::parse_date(s).map_or(0, dates::Date::packed)
        });
        let pc = &mut ds.pc;
        let pc_ids = c.pc.translate(&mut self.pc_cache, |s| {
            postcodes::parse(s).map_or(0, |p| pc.intern(&p.full))
        });
        let addr = &mut ds.addr;
        let addr_ids = c.addr.translate(&mut self.addr_cache, |s| {
            addresses::standard_address(s).map_or(0, |a| addr.intern(&a))
        });
        let src = &mut ds.src;
        let src_ids = c.src.translate(&mut self.src_cache, |s| {
            crate::standard_source(s).map_or(0, |a| src.intern(&a))
        });
        ds.rec.reserve(c.len());
        let mut start = 0usize;
        for (k, r) in c.rows.iter().enumerate() {
            let end = c.id_ends[k] as usize;
            ds.id_bytes.extend_from_slice(&c.ids[start..end]);
            ds.id_ends.push(ds.id_bytes.len() as u64);
            start = end;
            ds.rec.push(Rec {
                nhs: r.nhs,
                given: fore_ids[r.given as usize],
                middle: fore_ids[r.middle as usize],
                surname: sur_ids[r.surname as usize],
                dob: dob_ids[r.dob as usize],
                postcode: pc_ids[r.postcode as usize],
                address: addr_ids[r.address as usize],
                sex: r.sex,
            });
            ds.source.push(src_ids[r.source as usize]);
        }
    }

    pub fn push_record(&mut self, r: &Record) {
        self.ds.push_record(r);
    }

    pub fn finish(self) -> Dataset {
        let mut ds = self.ds;
        ds.finish();
        ds
    }
}

fn sex_code(s: Sex) -> u8 {
    match s {
        Sex::Male => 1,
        Sex::Female => 2,
    }
}

fn nhs_bits(digits: &str) -> u64 {
    let v: u64 = digits.parse().unwrap_or(0);
    v | NHS_PRESENT | if nhs::check_digit_ok(digits) { NHS_VALID } else { 0 }
}

impl Dataset {
    /// Interns standardised records (one input, or the first of two).
    pub fn from_records(records: &[Record]) -> Dataset {
        let mut ds = Dataset::default();
        for r in records {
            ds.push_record(r);
        }
        ds.finish();
        ds
    }

    /// Two inputs: `left` then `right`; only cross pairs are linked.
    pub fn from_two(left: &[Record], right: &[Record]) -> Dataset {
        let mut ds = Dataset::default();
        for r in left {
            ds.push_record(r);
        }
        ds.n_left = Some(left.len());
        for r in right {
            ds.push_record(r);
        }
        ds.finish();
        ds
    }

    fn push_id(&mut self, id: &str) {
        self.id_bytes.extend_from_slice(id.trim().as_bytes());
        self.id_ends.push(self.id_bytes.len() as u64);
    }

    fn push_record(&mut self, r: &Record) {
        assert!(!self.finished, "push after finish");
        self.push_id(&r.id);
        let f = |v: &mut Vocab, s: &Option<String>| s.as_deref().map_or(0, |s| v.intern(s));
        let rec = Rec {
            nhs: r.nhs_number.as_deref().map_or(0, nhs_bits),
            given: f(&mut self.fore, &r.given_name),
            middle: f(&mut self.fore, &r.middle_name),
            surname: f(&mut self.sur, &r.family_name),
            dob: r.date_of_birth.map_or(0, dates::Date::packed),
            postcode: r.postcode.as_ref().map_or(0, |p| self.pc.intern(&p.full)),
            address: f(&mut self.addr, &r.address),
            sex: r.sex.map_or(0, sex_code),
        };
        self.rec.push(rec);
        let s = f(&mut self.src, &r.source_system);
        self.source.push(s);
    }

    fn finish(&mut self) {
        // Canonical names and nickname groups.
        let n0 = self.fore.len();
        let mut canon = Vec::with_capacity(n0);
        let mut groups: Vec<Vec<u32>> = Vec::with_capacity(n0);
        for id in 0..n0 as u32 {
            let s = self.fore.get(id).to_owned();
            if id == 0 {
                canon.push(0);
                groups.push(vec![]);
                continue;
            }
            let c = names::canonical_given_name(&s).to_owned();
            canon.push(self.fore.intern(&c));
            let mut g = vec![id];
            for f in names::formal_names(&s) {
                g.push(self.fore.intern(f));
            }
            g.sort_unstable();
            g.dedup();
            groups.push(g);
        }
        // Names interned above (formal names) have no group of their own yet.
        for id in n0 as u32..self.fore.len() as u32 {
            canon.push(id);
            groups.push(vec![id]);
        }
        self.fore_canon = canon;
        self.group_start = Vec::with_capacity(groups.len() + 1);
        self.group_items.clear();
        for g in &groups {
            self.group_start.push(self.group_items.len() as u32);
            self.group_items.extend_from_slice(g);
        }
        self.group_start.push(self.group_items.len() as u32);
        // Postcode parts.
        self.pc_sector = vec![0; self.pc.len()];
        self.pc_outward = vec![0; self.pc.len()];
        for id in 1..self.pc.len() as u32 {
            if let Some(p) = postcodes::parse(self.pc.get(id)) {
                self.pc_sector[id as usize] = self.pc_parts.intern(&p.sector);
                self.pc_outward[id as usize] = self.pc_parts.intern(&p.outward);
            }
        }
        // Frequencies.
        let count = |get: fn(&Rec) -> u32, n: usize| {
            let mut c = vec![0u32; n];
            for r in &self.rec {
                c[get(r) as usize] += 1;
            }
            c[0] = 0;
            c
        };
        self.given_count = count(|r| r.given, self.fore.len());
        self.sur_count = count(|r| r.surname, self.sur.len());
        self.pc_count = count(|r| r.postcode, self.pc.len());
        let hist = |v: &Vocab| {
            (0..v.len() as u32)
                .map(|id| crate::strings::histogram(v.get(id)))
                .collect()
        };
        self.fore_hist = hist(&self.fore);
        let hash = |v: &Vocab| (0..v.len() as u32).map(|id| crate::fx::hash_str(v.get(id))).collect();
        self.fore_hash = hash(&self.fore);
        self.sur_hash = hash(&self.sur);
        self.sur_hist = hist(&self.sur);
        // Surnames of several parts, and the numbers of each address.
        self.sur_parts = (0..self.sur.len() as u32)
            .map(|id| self.sur.get(id).contains(' '))
            .collect();
        self.addr_numbers = (0..self.addr.len() as u32)
            .map(|id| {
                use std::hash::Hasher;
                let mut h = crate::fx::FxHasher::default();
                for n in addresses::numbers(self.addr.get(id)) {
                    h.write(n.as_bytes());
                    h.write_u8(0xff);
                }
                h.finish()
            })
            .collect();
        self.finished = true;
    }

    pub fn len(&self) -> usize {
        self.rec.len()
    }

    pub fn is_empty(&self) -> bool {
        self.id_ends.is_empty()
    }

    /// The number of records of the first input (all of them when deduplicating).
    pub fn left_len(&self) -> usize {
        self.n_left.unwrap_or(self.len())
    }

    /// Whether this dataset links two inputs (else it deduplicates one).
    pub fn is_link(&self) -> bool {
        self.n_left.is_some()
    }

    pub fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.id_ends[i - 1] as usize };
        std::str::from_utf8(&self.id_bytes[start..self.id_ends[i] as usize]).unwrap_or("")
    }

    pub(crate) fn group(&self, fore_id: u32) -> &[u32] {
        let i = fore_id as usize;
        &self.group_items[self.group_start[i] as usize..self.group_start[i + 1] as usize]
    }

    /// NHS number digits of record `i`, if any.
    pub(crate) fn nhs_digits(&self, i: usize) -> Option<[u8; 10]> {
        let v = self.rec[i].nhs;
        if v & NHS_PRESENT == 0 {
            return None;
        }
        let mut d = v & NHS_DIGITS;
        let mut out = [b'0'; 10];
        for k in (0..10).rev() {
            out[k] = b'0' + (d % 10) as u8;
            d /= 10;
        }
        Some(out)
    }

    /// The standardised record `i` (for explanations and tests).
    pub fn record(&self, i: usize) -> Record {
        let opt = |v: &Vocab, id: u32| (id != 0).then(|| v.get(id).to_owned());
        let nhs = self.nhs_digits(i).map(|d| String::from_utf8_lossy(&d).into_owned());
        Record {
            id: self.id(i).to_owned(),
            nhs_number_valid: self.rec[i].nhs & NHS_VALID != 0,
            nhs_number: nhs,
            given_name: opt(&self.fore, self.rec[i].given),
            middle_name: opt(&self.fore, self.rec[i].middle),
            family_name: opt(&self.sur, self.rec[i].surname),
            date_of_birth: (self.rec[i].dob != 0).then(|| dates::Date::unpack(self.rec[i].dob)),
            sex: match self.rec[i].sex {
                1 => Some(Sex::Male),
                2 => Some(Sex::Female),
                _ => None,
            },
            postcode: (self.rec[i].postcode != 0)
                .then(|| postcodes::parse(self.pc.get(self.rec[i].postcode)).expect("standard")),
            address: opt(&self.addr, self.rec[i].address),
            source_system: opt(&self.src, self.source[i]),
        }
    }
}

impl Builder {
    /// The records pushed so far (derived tables not yet built).
    pub(crate) fn peek(&self) -> &Dataset {
        &self.ds
    }
}
