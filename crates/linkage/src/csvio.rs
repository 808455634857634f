//! CSV in and out for `kindred link` — the only IO of this crate.
//!
//! Input columns are recognised by header name, case-insensitively: `id` or
//! `record_id` (required); `nhs_number`; `given_name` or `first_name`;
//! `middle_name`; `family_name` or `surname`; `date_of_birth` or `dob`;
//! `sex`; `postcode`; `address` or `address_line`; `source_system`. Any other
//! column is ignored and never read.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::dataset::{Builder, Chunk, Dataset, RawFields};
use crate::{Linked, Progress};

/// A problem with an input or output file.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
    #[error("{path}: no id column (expected a header named `id` or `record_id`)")]
    MissingId { path: PathBuf },
    #[error("{path}: line {line}: the id is empty")]
    EmptyId { path: PathBuf, line: u64 },
    #[error("{path}: duplicate id {id:?} on lines {first_line} and {line}")]
    DuplicateId {
        path: PathBuf,
        id: String,
        first_line: u64,
        line: u64,
    },
}

#[derive(Default)]
struct Columns {
    id: Option<usize>,
    nhs: Option<usize>,
    given: Option<usize>,
    middle: Option<usize>,
    family: Option<usize>,
    dob: Option<usize>,
    sex: Option<usize>,
    postcode: Option<usize>,
    address: Option<usize>,
    source: Option<usize>,
}

fn columns(header: &csv::ByteRecord) -> Columns {
    let mut c = Columns::default();
    for (i, h) in header.iter().enumerate() {
        let name = String::from_utf8_lossy(h)
            .trim()
            .trim_start_matches('\u{feff}')
            .to_ascii_lowercase();
        let slot = match name.as_str() {
            "id" | "record_id" => &mut c.id,
            "nhs_number" => &mut c.nhs,
            "given_name" | "first_name" => &mut c.given,
            "middle_name" => &mut c.middle,
            "family_name" | "surname" => &mut c.family,
            "date_of_birth" | "dob" => &mut c.dob,
            "sex" => &mut c.sex,
            "postcode" => &mut c.postcode,
            "address" | "address_line" => &mut c.address,
            "source_system" => &mut c.source,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(i);
        }
    }
    c
}

/// Read one input (deduplication) or two (linking the first to the second).
pub fn read_inputs(paths: &[&Path], progress: &dyn Progress) -> Result<Dataset, CsvError> {
    let mut b = Builder::new();
    for (n, path) in paths.iter().enumerate() {
        if n == 1 {
            b.end_left();
        }
        progress.start(&format!("reading input {}", n + 1), None);
        let start = b.len();
        let lines = read_one(&mut b, path)?;
        progress.finish(&format!("{} records", b.len() - start));
        check_unique(&b, start, &lines, path)?;
    }
    Ok(b.finish())
}

/// Bytes read per block; each block is cut at record boundaries into chunks
/// parsed in parallel.
const BLOCK: usize = 32 << 20;

fn read_one(b: &mut Builder, path: &Path) -> Result<Vec<u64>, CsvError> {
    let io = |source| CsvError::Io {
        path: path.into(),
        source,
    };
    let csv_err = |source| CsvError::Csv {
        path: path.into(),
        source,
    };
    // The header, and where the data begins.
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(File::open(path).map_err(io)?);
    let header = rdr.byte_headers().map_err(csv_err)?.clone();
    let c = columns(&header);
    let id_col = c.id.ok_or_else(|| CsvError::MissingId { path: path.into() })?;
    let (start_byte, mut line) = (rdr.position().byte(), rdr.position().line());
    drop(rdr);

    let mut file = File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(start_byte)).map_err(io)?;
    let mut lines = Vec::new();
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK + (1 << 16));
    let mut eof = false;
    while !eof {
        // fill the buffer up to BLOCK bytes
        let have = buf.len();
        buf.resize(have.max(BLOCK), 0);
        let mut filled = have;
        while filled < buf.len() {
            let n = file.read(&mut buf[filled..]).map_err(io)?;
            if n == 0 {
                eof = true;
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        // cut after the last complete record (all of it at the end of the file)
        let quoted = buf.contains(&b'"');
        let cut = if eof {
            buf.len()
        } else if quoted {
            last_record_end(&buf)
        } else {
            buf.iter().rposition(|&x| x == b'\n').map_or(0, |i| i + 1)
        };
        if cut == 0 && !eof {
            // a record longer than a block: read more
            buf.reserve(BLOCK);
            let more = buf.len() + BLOCK;
            let mut tmp = std::mem::take(&mut buf);
            let before = tmp.len();
            tmp.resize(more, 0);
            let n = file.read(&mut tmp[before..]).map_err(io)?;
            tmp.truncate(before + n);
            eof = n == 0;
            buf = tmp;
            continue;
        }
        let data = &buf[..cut];
        // chunks: split at newlines only when there are no quotes (a quoted
        // field may hold a newline); else one chunk
        let parts = if quoted { 1 } else { rayon::current_num_threads() * 2 };
        let mut bounds = vec![0usize];
        for k in 1..parts {
            let target = data.len() * k / parts;
            let last = *bounds.last().unwrap();
            if target <= last {
                continue;
            }
            if let Some(nl) = data[target..].iter().position(|&x| x == b'\n') {
                bounds.push(target + nl + 1);
            }
        }
        bounds.push(data.len());
        bounds.dedup();
        let mut first_lines = Vec::with_capacity(bounds.len());
        for w in bounds.windows(2) {
            first_lines.push(line);
            line += data[w[0]..w[1]].iter().filter(|&&x| x == b'\n').count() as u64;
        }
        let chunks: Vec<Result<Chunk, CsvError>> = bounds
            .par_windows(2)
            .zip(first_lines.par_iter())
            .map(|(w, &first)| parse_chunk(&data[w[0]..w[1]], first, &c, id_col, path))
            .collect();
        for ch in chunks {
            let ch = ch?;
            lines.extend_from_slice(&ch.lines);
            b.push_chunk(&ch);
        }
        buf.drain(..cut);
    }
    Ok(lines)
}

/// The end of the last complete record in `buf`, honouring quoted fields.
fn last_record_end(buf: &[u8]) -> usize {
    let mut in_quotes = false;
    let mut end = 0;
    for (i, &x) in buf.iter().enumerate() {
        if x == b'"' {
            in_quotes = !in_quotes;
        } else if x == b'\n' && !in_quotes {
            end = i + 1;
        }
    }
    end
}

fn parse_chunk(data: &[u8], first_line: u64, c: &Columns, id_col: usize, path: &Path) -> Result<Chunk, CsvError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut rec = csv::ByteRecord::new();
    let mut chunk = Chunk::default();
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(source) => {
                return Err(CsvError::Csv {
                    path: path.into(),
                    source,
                });
            }
        }
        let line = first_line + rec.position().map_or(1, |p| p.line()) - 1;
        if rec.len() == 1 && rec.get(0).is_some_and(|f| f.is_empty()) {
            continue; // a blank line
        }
        let id = get(&rec, Some(id_col)).unwrap_or(b"");
        if id.is_empty() {
            return Err(CsvError::EmptyId {
                path: path.into(),
                line,
            });
        }
        chunk.push(
            &RawFields {
                id,
                nhs_number: get(&rec, c.nhs),
                given_name: get(&rec, c.given),
                middle_name: get(&rec, c.middle),
                family_name: get(&rec, c.family),
                date_of_birth: get(&rec, c.dob),
                sex: get(&rec, c.sex),
                postcode: get(&rec, c.postcode),
                address: get(&rec, c.address),
                source_system: get(&rec, c.source),
            },
            line,
        );
    }
    Ok(chunk)
}

fn get(rec: &csv::ByteRecord, col: Option<usize>) -> Option<&[u8]> {
    col.and_then(|i| rec.get(i)).map(trim)
}

fn trim(b: &[u8]) -> &[u8] {
    let s = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let e = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(s, |e| e + 1);
    &b[s..e]
}

fn check_unique(b: &Builder, start: usize, lines: &[u64], path: &Path) -> Result<(), CsvError> {
    let ds = b.peek();
    let mut keyed: Vec<(u64, u32)> = (start..ds.len())
        .into_par_iter()
        .map(|i| (crate::fx::mix(hash_bytes(ds.id(i).as_bytes())), (i - start) as u32))
        .collect();
    keyed.par_sort_unstable();
    let mut first_dup: Option<(usize, usize)> = None;
    for w in keyed.windows(2) {
        if w[0].0 == w[1].0 {
            let (a, c) = (w[0].1 as usize, w[1].1 as usize);
            if ds.id(start + a) == ds.id(start + c) {
                let (a, c) = (a.min(c), a.max(c));
                if first_dup.is_none_or(|(_, fc)| c < fc) {
                    first_dup = Some((a, c));
                }
            }
        }
    }
    match first_dup {
        None => Ok(()),
        Some((a, c)) => Err(CsvError::DuplicateId {
            path: path.into(),
            id: ds.id(start + a).to_owned(),
            first_line: lines[a],
            line: lines[c],
        }),
    }
}

fn hash_bytes(b: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = crate::fx::FxHasher::default();
    h.write(b);
    h.write_usize(b.len());
    h.finish()
}

fn quoted(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// `x` with `decimals` decimal places, rounded half away from zero.
fn fixed(out: &mut Vec<u8>, x: f64, decimals: u32) {
    let scale = 10u64.pow(decimals);
    if x < 0.0 {
        let v = (-x * scale as f64).round() as u64;
        if v != 0 {
            out.push(b'-');
        }
        write_scaled(out, v, scale, decimals);
    } else {
        write_scaled(out, (x * scale as f64).round() as u64, scale, decimals);
    }
}

fn write_scaled(out: &mut Vec<u8>, v: u64, scale: u64, decimals: u32) {
    let (int, frac) = (v / scale, v % scale);
    let mut buf = [0u8; 20];
    let mut n = 0;
    let mut x = int;
    loop {
        buf[n] = b'0' + (x % 10) as u8;
        n += 1;
        x /= 10;
        if x == 0 {
            break;
        }
    }
    out.extend(buf[..n].iter().rev());
    out.push(b'.');
    let mut d = [b'0'; 20];
    let mut f = frac;
    for k in (0..decimals as usize).rev() {
        d[k] = b'0' + (f % 10) as u8;
        f /= 10;
    }
    out.extend_from_slice(&d[..decimals as usize]);
}

fn create(path: &Path) -> Result<BufWriter<File>, CsvError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|source| CsvError::Io {
            path: path.into(),
            source,
        })
}

/// Write `left_id,right_id,match_probability,match_weight`, one row per pair
/// (probability with 6 decimals, weight with 3).
pub fn write_pairs(path: &Path, ds: &Dataset, linked: &Linked) -> Result<(), CsvError> {
    let io = |source| CsvError::Io {
        path: path.into(),
        source,
    };
    let mut w = create(path)?;
    w.write_all(b"left_id,right_id,match_probability,match_weight\n")
        .map_err(io)?;
    let offset = ds.n_left.unwrap_or(0);
    let chunks: Vec<Vec<u8>> = linked
        .pairs
        .par_chunks(1 << 15)
        .map(|ps| {
            let mut out = Vec::with_capacity(ps.len() * 40);
            for p in ps {
                quoted(&mut out, ds.id(p.left as usize));
                out.push(b',');
                quoted(&mut out, ds.id(p.right as usize + offset));
                out.push(b',');
                fixed(&mut out, p.probability, 6);
                out.push(b',');
                fixed(&mut out, p.weight, 3);
                out.push(b'\n');
            }
            out
        })
        .collect();
    for c in chunks {
        w.write_all(&c).map_err(io)?;
    }
    w.flush().map_err(io)
}

/// Write `id,cluster_id` for every record (the first input's, then the second's).
pub fn write_clusters(path: &Path, ds: &Dataset, linked: &Linked) -> Result<(), CsvError> {
    let io = |source| CsvError::Io {
        path: path.into(),
        source,
    };
    let mut w = create(path)?;
    w.write_all(b"id,cluster_id\n").map_err(io)?;
    let mut out = Vec::with_capacity(1 << 20);
    for (i, c) in linked.clusters.iter().enumerate() {
        quoted(&mut out, ds.id(i));
        out.push(b',');
        out.extend_from_slice(c.to_string().as_bytes());
        out.push(b'\n');
        if out.len() > 1 << 20 {
            w.write_all(&out).map_err(io)?;
            out.clear();
        }
    }
    w.write_all(&out).map_err(io)?;
    w.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_formatting() {
        let f = |x: f64, d: u32| {
            let mut v = Vec::new();
            fixed(&mut v, x, d);
            String::from_utf8(v).unwrap()
        };
        assert_eq!(f(0.9, 6), "0.900000");
        assert_eq!(f(0.9999999, 6), "1.000000");
        assert_eq!(f(12.3456, 3), "12.346");
        assert_eq!(f(-3.2, 3), "-3.200");
        assert_eq!(f(-0.0001, 3), "0.000");
        assert_eq!(f(0.05, 6), "0.050000");
    }
}
