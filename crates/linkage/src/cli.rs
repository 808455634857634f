//! `kindred link` as a function, so the binary only parses arguments.

use std::path::PathBuf;

use crate::config::{Config, ConfigError};
use crate::csvio::{self, CsvError};
use crate::link::LinkStats;
use crate::{Progress, link_dataset};

/// The options of `kindred link`.
#[derive(Clone, Debug)]
pub struct LinkOptions {
    /// One input (deduplicate) or two (link the first to the second).
    pub inputs: Vec<PathBuf>,
    pub output: PathBuf,
    pub clusters: Option<PathBuf>,
    /// Overrides the configuration's threshold.
    pub threshold: Option<f64>,
    pub config: Option<PathBuf>,
    pub seed: u64,
}

/// Why `kindred link` failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error(transparent)]
    Csv(#[from] CsvError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("{path}: {source}")]
    ReadConfig { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Usage(String),
}

/// What a run did (counts only).
#[derive(Clone, Debug)]
pub struct LinkSummary {
    pub stats: LinkStats,
    pub pairs_written: usize,
    pub threshold: f64,
}

/// Read the inputs, link, write the pairs (and clusters).
pub fn run(opts: &LinkOptions, progress: &dyn Progress) -> Result<LinkSummary, LinkError> {
    if opts.inputs.is_empty() || opts.inputs.len() > 2 {
        return Err(LinkError::Usage(
            "give one --input to deduplicate or two to link".into(),
        ));
    }
    let mut cfg = match &opts.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| LinkError::ReadConfig {
                path: path.clone(),
                source,
            })?;
            Config::from_toml(&text)?
        }
        None => Config::default(),
    };
    if let Some(t) = opts.threshold {
        cfg.threshold = t;
    }
    cfg.check()?;
    let paths: Vec<&std::path::Path> = opts.inputs.iter().map(PathBuf::as_path).collect();
    let ds = csvio::read_inputs(&paths, progress)?;
    let linked = link_dataset(&ds, &cfg, opts.seed, progress);
    progress.start("writing", None);
    csvio::write_pairs(&opts.output, &ds, &linked)?;
    if let Some(c) = &opts.clusters {
        csvio::write_clusters(c, &ds, &linked)?;
    }
    progress.finish(&format!("{} pairs", linked.pairs.len()));
    Ok(LinkSummary {
        pairs_written: linked.pairs.len(),
        stats: linked.stats,
        threshold: cfg.threshold,
    })
}
