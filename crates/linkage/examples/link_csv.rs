//! `cargo run --release -p kindred-linkage --example link_csv -- IN.csv [IN2.csv] OUT_PAIRS.csv OUT_CLUSTERS.csv [THRESHOLD] [SEED]`
//! The same work as `kindred link`, without building the whole binary (for benchmarks).

use std::path::Path;

use kindred_linkage::{Config, csvio, link_dataset, progress::StderrProgress};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let split = args
        .iter()
        .position(|a| a.ends_with("pairs.csv"))
        .expect("an output ending in pairs.csv");
    let inputs: Vec<&Path> = args[..split].iter().map(Path::new).collect();
    let pairs = Path::new(&args[split]);
    let clusters = Path::new(&args[split + 1]);
    let mut cfg = match std::env::var("LINK_CONFIG") {
        Ok(p) => Config::from_toml(&std::fs::read_to_string(p).unwrap()).unwrap(),
        Err(_) => Config::default(),
    };
    if let Some(t) = args.get(split + 2) {
        cfg.threshold = t.parse().unwrap();
    }
    let seed = args.get(split + 3).map_or(42, |s| s.parse().unwrap());
    let p = StderrProgress::new();
    let ds = csvio::read_inputs(&inputs, &p).unwrap();
    if std::env::var_os("LINK_READ_ONLY").is_some() {
        eprintln!("{} records", ds.len());
        return;
    }
    let linked = link_dataset(&ds, &cfg, seed, &p);
    csvio::write_pairs(pairs, &ds, &linked).unwrap();
    csvio::write_clusters(clusters, &ds, &linked).unwrap();
    if std::env::var_os("LINK_MODEL").is_some() {
        eprintln!("{:#?}", linked.model.comparisons);
        eprintln!(
            "prior {} household {}",
            linked.model.prior, linked.model.household_prior
        );
    }
    eprintln!("{:?}", linked.stats);
}
