//! Saved reports (issue 7, F16) for each borough: the manager's three (one
//! shared in the early help service, so the analyst sees it) and the
//! analyst's own.

use kindred_store::Db;

use crate::Partnership;

/// The builder's fields of a report.
type Fields = &'static [(&'static str, &'static str)];

/// (owner's local name, report name, shared, builder fields)
const REPORTS: &[(&str, &str, bool, Fields)] = &[
    (
        "manager",
        "Contacts by hub and month",
        true,
        &[
            ("dataset", "contacts"),
            ("group1", "hub"),
            ("group2", "month"),
            ("measure_count", "yes"),
            ("measure_families", "yes"),
            ("chart", "line"),
        ],
    ),
    (
        "manager",
        "Outcomes of closed episodes",
        false,
        &[
            ("dataset", "outcomes"),
            ("group1", "outcome"),
            ("measure_count", "yes"),
            ("measure_share", "yes"),
            ("chart", "bar"),
        ],
    ),
    (
        "manager",
        "Referrals by level of need",
        false,
        &[
            ("dataset", "referrals"),
            ("group1", "level"),
            ("measure_count", "yes"),
            ("measure_rate", "yes"),
            ("chart", "bar"),
        ],
    ),
    (
        "analyst",
        "People by age band and hub",
        false,
        &[
            ("dataset", "persons"),
            ("group1", "age_band"),
            ("group2", "hub"),
            ("measure_count", "yes"),
            ("chart", "bar"),
        ],
    ),
];

pub(crate) async fn seed(db: &Db, p: &Partnership) -> anyhow::Result<Vec<(&'static str, i64, String, bool)>> {
    let mut out = vec![];
    for (who, name, shared, fields) in REPORTS {
        let Some(owner) = p.named.get(who).copied() else {
            continue;
        };
        let Some(org) = p.org_of.get(&owner).copied() else {
            continue;
        };
        let fields: Vec<(String, String)> = fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let def = kindred_domain::report::parse(&fields)
            .map_err(|e| anyhow::anyhow!("a demo report does not parse: {e:?}"))?;
        let json = serde_json::to_string(&def.to_fields())?;
        let id = db.create_saved_report(p.tenant_id, org, owner, name, &json).await?;
        if *shared {
            db.set_saved_report_shared(id, owner, true).await?;
        }
        out.push((p.code, id, name.to_string(), *shared));
    }
    Ok(out)
}
