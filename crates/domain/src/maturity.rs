//! The partnership maturity matrix (F21): the Early Intervention Foundation's
//! integrated early years matrix, five dimensions each at four levels, as a
//! self-assessment a partnership repeats over time. The descriptors are a
//! summary in our words of EIF's Table 1; the evidence each dimension
//! suggests comes from the system's own figures.

use crate::model::code_enum;

code_enum!(
    Level {
        Basic = "basic": "Basic: principle accepted and commitment to action",
        EarlyProgress = "early_progress": "Early progress in development",
        Substantial = "substantial": "Substantial progress: initial results and outcomes evident",
        Maturity = "maturity": "Maturity: embedded good practice, others learning from it",
    }
);

impl Level {
    /// 1 to 4, for charts and comparisons.
    pub fn rank(self) -> u8 {
        match self {
            Level::Basic => 1,
            Level::EarlyProgress => 2,
            Level::Substantial => 3,
            Level::Maturity => 4,
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Level::Basic => "Basic",
            Level::EarlyProgress => "Early progress",
            Level::Substantial => "Substantial progress",
            Level::Maturity => "Maturity",
        }
    }
}

code_enum!(
    Dimension {
        Leadership = "leadership": "Leadership and governance",
        Commissioning = "commissioning": "Commissioning",
        InformationSharing = "information_sharing": "Information sharing",
        IntegratedWorking = "integrated_working": "Integrated working and workforce",
        It = "it": "IT systems and data",
    }
);

impl Dimension {
    /// What each level looks like on this dimension.
    pub fn descriptor(self, level: Level) -> &'static str {
        use Dimension::*;
        use Level::*;
        match (self, level) {
            (Leadership, Basic) => {
                "Leaders of some partners agree to explore integration between health and the council; existing boards (Health and Wellbeing Board, children's partnership) could govern it."
            }
            (Leadership, EarlyProgress) => {
                "Leaders across partners agree to develop integrated services; a partnership board oversees the work, accountable into each organisation."
            }
            (Leadership, Substantial) => {
                "Strategic leadership across health, social care and education, with joint governance through the Health and Wellbeing Board and partnership boards."
            }
            (Leadership, Maturity) => {
                "Strong strategic leadership across health, social care and education; joint governance is how decisions are made."
            }
            (Commissioning, Basic) => {
                "Partners commission separately but agree priority areas and explore shared outcomes."
            }
            (Commissioning, EarlyProgress) => {
                "Partners commission separately but with aligned outcome frameworks and strategic planning."
            }
            (Commissioning, Substantial) => {
                "Joint commissioning for some areas (aligned budgets or Section 75 agreements), some jointly funded posts, shared outcomes."
            }
            (Commissioning, Maturity) => {
                "Fully integrated commissioning under Section 75 agreements, joint commissioning posts at every level, shared outcomes."
            }
            (InformationSharing, Basic) => {
                "Limited sharing for specific purposes, such as live birth data and an individual's information."
            }
            (InformationSharing, EarlyProgress) => {
                "Strategic information-sharing agreements are in place but not yet fully working."
            }
            (InformationSharing, Substantial) => {
                "One reporting and performance process; strategic and operational agreements support current and future work."
            }
            (InformationSharing, Maturity) => {
                "Agreements are fully working and actively used by professionals; one reporting and performance process."
            }
            (IntegratedWorking, Basic) => {
                "Isolated examples of integrated working, such as a common assessment; services aligned through partnership agreements; some joint training."
            }
            (IntegratedWorking, EarlyProgress) => {
                "Joint or seconded posts; organisations develop integrated processes such as integrated assessments; joint training planned to grow."
            }
            (IntegratedWorking, Substantial) => {
                "Multi-professional teams work to shared outcomes while line-managed by their own agencies; integrated training in place."
            }
            (IntegratedWorking, Maturity) => {
                "One employer of an integrated, multi-agency workforce with professional supervision in each profession; training builds common skills."
            }
            (It, Basic) => "Stand-alone systems, with integrated systems being explored.",
            (It, EarlyProgress) => "Options for an integrated system are appraised.",
            (It, Substantial) => {
                "Single assessment and often a single referral process; limited electronic data sharing."
            }
            (It, Maturity) => "Integrated systems or shared access, with single assessment and referral processes.",
        }
    }
}

/// One dimension's rating in a self-assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rating {
    pub dimension: Dimension,
    pub level: Level,
    pub comment: String,
}

/// The longest comment a rating may carry.
pub const MAX_COMMENT: usize = 2000;

/// A problem with one field of a self-assessment form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Reads a self-assessment from form fields `level_<dimension>` and
/// `comment_<dimension>`: every dimension must be rated.
pub fn parse_ratings(get: impl Fn(&str) -> Option<String>) -> Result<Vec<Rating>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for d in Dimension::ALL {
        let field = format!("level_{}", d.code());
        let comment = get(&format!("comment_{}", d.code()))
            .unwrap_or_default()
            .trim()
            .to_string();
        match get(&field).as_deref().and_then(Level::parse) {
            Some(level) if comment.chars().count() <= MAX_COMMENT => out.push(Rating {
                dimension: *d,
                level,
                comment,
            }),
            Some(_) => errors.push(FieldError {
                field: format!("comment_{}", d.code()),
                message: format!(
                    "The comment on {} must be {MAX_COMMENT} characters or fewer",
                    d.label().to_lowercase()
                ),
            }),
            None => errors.push(FieldError {
                field,
                message: format!("Choose a level for {}", d.label().to_lowercase()),
            }),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// How a dimension moved between two assessments.
pub fn movement(before: Option<Level>, now: Level) -> &'static str {
    match before {
        None => "First rating",
        Some(b) if b.rank() < now.rank() => "Up",
        Some(b) if b.rank() > now.rank() => "Down",
        Some(_) => "No change",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn every_dimension_must_be_rated() {
        let mut form: HashMap<String, String> = Dimension::ALL
            .iter()
            .map(|d| (format!("level_{}", d.code()), "early_progress".to_string()))
            .collect();
        form.remove("level_it");
        form.insert("level_commissioning".into(), "excellent".into());
        let errors = parse_ratings(|k| form.get(k).cloned()).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["level_commissioning", "level_it"]);
        form.insert("level_it".into(), "basic".into());
        form.insert("level_commissioning".into(), "maturity".into());
        let ratings = parse_ratings(|k| form.get(k).cloned()).unwrap();
        assert_eq!(ratings.len(), 5);
        assert_eq!(ratings[1].level, Level::Maturity);
    }

    #[test]
    fn every_cell_of_the_matrix_is_described() {
        for d in Dimension::ALL {
            for l in Level::ALL {
                assert!(d.descriptor(*l).len() > 20);
            }
        }
        assert_eq!(movement(Some(Level::Basic), Level::Substantial), "Up");
        assert_eq!(movement(None, Level::Basic), "First rating");
    }
}
