//! `cargo run -p kindred-linkage --example explain_pair -- IN.csv ID1 ID2`: train on the
//! file and print one pair's explanation (a development aid; synthetic data only).

use kindred_linkage::{Config, Model, NoProgress, csvio};

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let ds = csvio::read_inputs(&[std::path::Path::new(&a[0])], &NoProgress).unwrap();
    let records: Vec<_> = (0..ds.len()).map(|i| ds.record(i)).collect();
    let model = Model::train(&records, 42, &Config::default());
    let find = |id: &str| records.iter().find(|r| r.id == id).unwrap();
    let e = model.explain(find(&a[1]), find(&a[2]));
    println!(
        "prior {:.3} weight {:.3} p {:.6}",
        e.prior_weight, e.weight, e.probability
    );
    for c in e.contributions {
        println!(
            "{:18} {:40} {:>8.3}  {:?} / {:?}",
            c.comparison, c.level, c.weight, c.left, c.right
        );
    }
}
