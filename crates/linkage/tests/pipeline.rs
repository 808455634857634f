//! The whole run on a small synthetic population of families: duplicates are
//! found, twins are not merged, every record is clustered, and a seed gives
//! the same result every time.

use kindred_linkage::{Config, Model, NoProgress, RawRecord, Record, link, standardise};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const GIVEN: &[&str] = &[
    "oliver",
    "george",
    "noah",
    "arthur",
    "leo",
    "harry",
    "oscar",
    "archie",
    "henry",
    "jack",
    "olivia",
    "amelia",
    "isla",
    "ava",
    "ivy",
    "freya",
    "lily",
    "florence",
    "mia",
    "willow",
    "rosie",
    "sophia",
    "grace",
    "daisy",
    "william",
    "robert",
    "margaret",
    "elizabeth",
    "thomas",
    "james",
    "zara",
    "aisha",
    "kwame",
    "chidi",
    "jakub",
    "maja",
];
const SURNAMES: &[&str] = &[
    "smith", "jones", "taylor", "brown", "davies", "evans", "wilson", "patel", "khan", "okafor", "nowak", "begum",
    "walker", "wright", "robinson", "thompson", "hughes", "green", "hall", "clarke",
];

struct Person {
    household: usize,
    given: String,
    surname: String,
    dob: (u16, u8, u8),
    nhs: String,
    postcode: String,
    address: String,
    sex: &'static str,
}

fn nhs(rng: &mut ChaCha8Rng) -> String {
    loop {
        let d: Vec<u32> = (0..9)
            .map(|i| {
                if i == 0 {
                    rng.gen_range(4..10)
                } else {
                    rng.gen_range(0..10)
                }
            })
            .collect();
        let s: u32 = d.iter().enumerate().map(|(i, v)| v * (10 - i as u32)).sum();
        let c = match 11 - s % 11 {
            11 => 0,
            10 => continue,
            c => c,
        };
        return d
            .iter()
            .map(|v| char::from(b'0' + *v as u8))
            .chain([char::from(b'0' + c as u8)])
            .collect();
    }
}

/// Persons in households of two parents and children (about one household
/// in six has twins), and 1–4 records per person with errors.
fn population(households: usize, seed: u64) -> (Vec<Record>, Vec<usize>, Vec<Person>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut people = Vec::new();
    for h in 0..households {
        let surname = SURNAMES[rng.gen_range(0..SURNAMES.len())].to_owned();
        let postcode = format!(
            "LS{} {}{}{}",
            rng.gen_range(1..20),
            rng.gen_range(0..10),
            ['A', 'B', 'D', 'E'][h % 4],
            ['X', 'Y', 'Z'][h % 3]
        );
        let address = format!(
            "{} {} road",
            rng.gen_range(1..200),
            ["oak", "elm", "mill", "church"][rng.gen_range(0..4)]
        );
        let mother = ["margaret", "elizabeth", "olivia", "grace", "aisha", "maja"][rng.gen_range(0..6)];
        let father = ["robert", "william", "james", "thomas", "kwame", "jakub"][rng.gen_range(0..6)];
        let y = rng.gen_range(1970..1995);
        let (m1, d1) = (rng.gen_range(1..13), rng.gen_range(1..29));
        let (m2, d2) = (rng.gen_range(1..13), rng.gen_range(1..29));
        let mut add = |given: String, dob, sex, nhs: String| {
            people.push(Person {
                household: h,
                given,
                surname: surname.clone(),
                dob,
                nhs,
                postcode: postcode.clone(),
                address: address.clone(),
                sex,
            })
        };
        add(mother.into(), (y, m1, d1), "F", nhs(&mut rng));
        add(father.into(), (y - 2, m2, d2), "M", nhs(&mut rng));
        let kids = 1 + h % 3;
        let mut year = rng.gen_range(2005..2015);
        for k in 0..kids {
            let dob = (year, rng.gen_range(1..13), rng.gen_range(1..29));
            year += rng.gen_range(1..4);
            let name = GIVEN[rng.gen_range(0..GIVEN.len())];
            if h % 6 == 0 && k == 0 {
                let mut twin = GIVEN[rng.gen_range(0..GIVEN.len())];
                while twin == name {
                    twin = GIVEN[rng.gen_range(0..GIVEN.len())];
                }
                add(twin.to_owned(), dob, "F", nhs(&mut rng));
            }
            add(name.to_owned(), dob, "M", nhs(&mut rng));
        }
    }
    let mut records = Vec::new();
    let mut truth = Vec::new();
    for (p, person) in people.iter().enumerate() {
        let n = rng.gen_range(1..5);
        for r in 0..n {
            let mut given = person.given.clone();
            if r > 0 && rng.gen_bool(0.15) {
                given = match given.as_str() {
                    "robert" => "bob".into(),
                    "margaret" => "peggy".into(),
                    "william" => "bill".into(),
                    "elizabeth" => "liz".into(),
                    g => {
                        let mut b = g.as_bytes().to_vec();
                        let i = rng.gen_range(1..b.len());
                        b.swap(i - 1, i);
                        String::from_utf8(b).unwrap()
                    }
                };
            }
            let (y, m, d) = person.dob;
            let dob = if r > 0 && rng.gen_bool(0.1) && d <= 12 {
                format!("{y}-{d:02}-{m:02}")
            } else if rng.gen_bool(0.5) {
                format!("{d:02}/{m:02}/{y}")
            } else {
                format!("{y}-{m:02}-{d:02}")
            };
            records.push(standardise(&RawRecord {
                id: format!("p{p}r{r}"),
                nhs_number: rng.gen_bool(0.6).then(|| person.nhs.clone()),
                given_name: Some(given),
                middle_name: None,
                family_name: Some(person.surname.clone()),
                date_of_birth: Some(dob),
                sex: Some(person.sex.into()),
                postcode: Some(person.postcode.clone()),
                address: Some(person.address.clone()),
                source_system: Some(format!("s{r}")),
            }));
            truth.push(p);
        }
    }
    (records, truth, people)
}

#[test]
fn duplicates_are_found_twins_are_not_and_every_record_is_clustered() {
    let (records, truth, people) = population(300, 1);
    let cfg = Config {
        u_sample_pairs: 50_000,
        ..Config::default()
    };
    let linked = link(&records, None, &cfg, 7, &NoProgress);
    assert_eq!(linked.clusters.len(), records.len());
    let true_pairs: usize = {
        let mut per = std::collections::HashMap::new();
        for p in &truth {
            *per.entry(p).or_insert(0usize) += 1;
        }
        per.values().map(|n| n * (n - 1) / 2).sum()
    };
    let tp = linked
        .pairs
        .iter()
        .filter(|p| truth[p.left as usize] == truth[p.right as usize])
        .count();
    let household_fp = linked
        .pairs
        .iter()
        .filter(|p| {
            let (a, b) = (truth[p.left as usize], truth[p.right as usize]);
            a != b && people[a].household == people[b].household
        })
        .count();
    let fp = linked.pairs.len() - tp;
    assert!(tp as f64 >= 0.9 * true_pairs as f64, "recall: {tp} of {true_pairs}");
    assert!(
        fp as f64 <= 0.02 * linked.pairs.len() as f64,
        "{fp} false of {}",
        linked.pairs.len()
    );
    assert_eq!(household_fp, 0, "twins, siblings or parents linked");
    for p in &linked.pairs {
        assert!(p.left < p.right && p.probability >= cfg.threshold);
        assert_eq!(linked.clusters[p.left as usize], linked.clusters[p.right as usize]);
    }
    // The trained model serialises and scores like the run.
    let json = serde_json::to_string(&linked.model).unwrap();
    let back: Model = serde_json::from_str(&json).unwrap();
    let p = &linked.pairs[0];
    let w = back.weight(&records[p.left as usize], &records[p.right as usize]);
    assert!((w - p.weight).abs() < 1e-6, "{w} vs {}", p.weight);
}

#[test]
fn a_seed_gives_the_same_result() {
    let (records, _, _) = population(120, 2);
    let cfg = Config {
        u_sample_pairs: 20_000,
        ..Config::default()
    };
    let a = link(&records, None, &cfg, 3, &NoProgress);
    let b = link(&records, None, &cfg, 3, &NoProgress);
    assert_eq!(a.pairs, b.pairs);
    assert_eq!(a.clusters, b.clusters);
    assert_eq!(a.model, b.model);
}

#[test]
fn link_mode_gives_only_cross_pairs() {
    let (records, truth, _) = population(100, 3);
    // alternate records go to the two inputs
    let left: Vec<Record> = records.iter().step_by(2).cloned().collect();
    let right: Vec<Record> = records.iter().skip(1).step_by(2).cloned().collect();
    let (tl, tr): (Vec<usize>, Vec<usize>) = (
        truth.iter().step_by(2).copied().collect(),
        truth.iter().skip(1).step_by(2).copied().collect(),
    );
    let cfg = Config {
        u_sample_pairs: 20_000,
        ..Config::default()
    };
    let linked = link(&left, Some(&right), &cfg, 5, &NoProgress);
    assert_eq!(linked.clusters.len(), records.len());
    assert!(!linked.pairs.is_empty());
    let cross_true = {
        let mut n = 0;
        for a in &tl {
            n += tr.iter().filter(|b| *b == a).count();
        }
        n
    };
    let mut tp = 0;
    for p in &linked.pairs {
        assert!((p.left as usize) < left.len() && (p.right as usize) < right.len());
        if tl[p.left as usize] == tr[p.right as usize] {
            tp += 1;
        }
        assert_eq!(
            linked.clusters[p.left as usize],
            linked.clusters[left.len() + p.right as usize]
        );
    }
    assert!(
        tp as f64 >= 0.95 * linked.pairs.len() as f64,
        "{tp} of {}",
        linked.pairs.len()
    );
    assert!(tp as f64 >= 0.9 * cross_true as f64, "{tp} of {cross_true}");
}

#[test]
fn training_gives_a_usable_model() {
    let (records, _, _) = population(150, 4);
    let cfg = Config {
        u_sample_pairs: 20_000,
        ..Config::default()
    };
    // Too few pairs to train on: the built-in parameters, no term frequencies.
    let small = Model::train(&records, 9, &cfg);
    assert!(small.term_frequencies.surname.is_empty());
    assert_eq!(small.comparisons, Model::default().comparisons);
    let cfg = Config {
        min_training_pairs: 0,
        ..cfg
    };
    let m = Model::train(&records, 9, &cfg);
    assert!(m.prior > 0.0 && m.prior < 0.5);
    assert!(!m.term_frequencies.surname.is_empty());
    // records 0 and 1 of the first person (if it has two) score high
    let e = m.explain(&records[0], &records[0]);
    assert!(e.probability > 0.99);
}
