//! Settings of a linkage run; every field has a default, so no file is needed.
//!
//! ```toml
//! threshold = 0.9
//! max_block_size = 2000
//! u_sample_pairs = 400000
//! em_max_iterations = 100
//! blocking_rules = [["nhs_number"], ["surname", "dob"], ["first_name:3", "surname:4"]]
//! ```

use serde::{Deserialize, Serialize};

/// Settings of a linkage run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Pairs at or above this match probability are written and clustered.
    pub threshold: f64,
    /// Blocking rules, tried in order; each is a list of key fields that must
    /// all agree (see [`crate::blocking::Field`] for the names).
    pub blocking_rules: Vec<Vec<String>>,
    /// Blocks with more records than this are skipped (their pairs would cost
    /// quadratic time; other rules find their matches). The run reports how
    /// many blocks and records were skipped.
    pub max_block_size: usize,
    /// Random pairs drawn to estimate u.
    pub u_sample_pairs: usize,
    /// EM iterations at most, per training session.
    pub em_max_iterations: usize,
    /// Term-frequency adjustments on exact first names, surnames and postcodes.
    pub term_frequency_adjustments: bool,
    /// With fewer blocked pairs than this the input is too small to train on:
    /// the built-in model's m, u and household parameters are used (and no
    /// term frequencies); only the prior is estimated from the input.
    pub min_training_pairs: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            threshold: 0.9,
            blocking_rules: crate::blocking::DEFAULT_RULES
                .iter()
                .map(|r| r.iter().map(|s| (*s).to_owned()).collect())
                .collect(),
            max_block_size: 2000,
            u_sample_pairs: 400_000,
            em_max_iterations: 100,
            term_frequency_adjustments: true,
            min_training_pairs: 20_000,
        }
    }
}

/// A configuration error.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("link config: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("link config: {0}")]
    Invalid(String),
}

impl Config {
    /// Parse a TOML configuration and check it.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let c: Config = toml::from_str(text)?;
        c.check()?;
        Ok(c)
    }

    /// Check values and blocking rules.
    pub fn check(&self) -> Result<(), ConfigError> {
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(ConfigError::Invalid(format!(
                "threshold {} is not in [0, 1]",
                self.threshold
            )));
        }
        if self.blocking_rules.is_empty() {
            return Err(ConfigError::Invalid("no blocking rules".into()));
        }
        if self.max_block_size < 2 {
            return Err(ConfigError::Invalid("max_block_size must be at least 2".into()));
        }
        crate::blocking::parse_rules(&self.blocking_rules).map_err(ConfigError::Invalid)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_settings_and_their_checks() {
        let c = Config::from_toml(
            "threshold = 0.95\nmax_block_size = 500\nblocking_rules = [[\"nhs_number\"], [\"surname:3\", \"dob_year\"]]\n",
        )
        .unwrap();
        assert_eq!(c.threshold, 0.95);
        assert_eq!(c.max_block_size, 500);
        assert_eq!(c.blocking_rules.len(), 2);
        assert_eq!(
            c.u_sample_pairs,
            Config::default().u_sample_pairs,
            "defaults fill the rest"
        );
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
        assert!(
            Config::from_toml("threshold = 1.5")
                .unwrap_err()
                .to_string()
                .contains("threshold")
        );
        assert!(
            Config::from_toml("blocking_rules = [[\"shoe_size\"]]")
                .unwrap_err()
                .to_string()
                .contains("shoe_size")
        );
        assert!(Config::from_toml("tresholds = 1").is_err(), "unknown keys are refused");
    }
}
