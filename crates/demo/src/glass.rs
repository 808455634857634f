//! Break-glass in the demo: in each borough one sealed family, a few
//! break-glass uses in the last weeks (accepted, waiting, one referred), one
//! active now for the triage officer on a family they could not otherwise
//! see, and a safeguarding override on one of the health visitor's families;
//! and, for a newcomer to try, the NHS number of a family member whom a named
//! worker cannot see.

use std::collections::BTreeSet;

use kindred_domain::NhsNumber;
use kindred_domain::access::{self, FamilyAction};
use kindred_domain::sharing::{BREAK_GLASS_MS, OverrideKind, ReviewStatus, SAFEGUARDING_OVERRIDE_MS};
use kindred_store::Db;
use kindred_store::overrides::NewOverride;

use crate::Partnership;

/// What to tell a newcomer about break-glass in one borough.
#[derive(Debug, Clone)]
pub struct Glass {
    pub tenant: &'static str,
    /// The sealed family: break-glass on it is refused.
    pub sealed_family: i64,
    /// A demo worker who may try a break-glass …
    pub email: String,
    /// … with the NHS number of a member of a family they cannot see.
    pub nhs_number: NhsNumber,
    pub family_id: i64,
    /// The family the triage officer has broken the glass on now.
    pub triage_family: Option<i64>,
}

const DAY: i64 = 24 * 60 * 60 * 1000;

pub(crate) async fn seed(db: &Db, p: &Partnership, showcase: &[i64]) -> anyhow::Result<Option<Glass>> {
    let domain = format!("{}.example", p.code);
    let Some(&officer) = p.named.get("privacy") else {
        return Ok(None);
    };
    let now = kindred_store::now_ms();
    // Families with a member's NHS number, and who of the named workers sees each.
    let candidates: Vec<_> = db
        .families_with_nhs_numbers(p.tenant_id, 400)
        .await?
        .into_iter()
        .filter(|(f, _)| !showcase.contains(f))
        .collect();
    let ids: Vec<i64> = candidates.iter().map(|(f, _)| *f).collect();
    let facts = db.family_facts_many(&ids).await?;
    let mut subjects = vec![];
    for (&local, &id) in &p.named {
        if !matches!(local, "privacy" | "admin") {
            subjects.push((local, db.user(id).await?.subject()));
        }
    }
    let seen_by = |family: i64, who: &str| {
        facts.get(&family).is_some_and(|f| {
            subjects
                .iter()
                .any(|(l, s)| (who.is_empty() || *l == who) && access::family(s, f, FamilyAction::View).allowed())
        })
    };
    // Families no named worker sees: the sealed one, the emergencies.
    let mut unseen = candidates.iter().filter(|(f, _)| !seen_by(*f, "")).cloned();
    let Some((sealed, _)) = unseen.next() else {
        return Ok(None);
    };
    db.set_family_sealed(
        p.tenant_id,
        sealed,
        true,
        "Adoption order made: the record stays with the adoption team and the workers already involved.",
        officer,
        now - 60 * DAY,
    )
    .await?;
    let mut used = BTreeSet::from([sealed]);

    // Past uses: (who, days ago, reason, review, note).
    let past: [(&str, i64, &str, ReviewStatus, Option<&str>); 5] = [
        (
            "hv",
            21,
            "Called by A&E at night: a baby brought in with a head injury, the parent named this family's address.",
            ReviewStatus::Accepted,
            None,
        ),
        (
            "manager",
            14,
            "Police welfare check requested out of hours; needed to know which agencies were already involved.",
            ReviewStatus::Accepted,
            Some("Justified: the police request is logged with the out-of-hours team."),
        ),
        (
            "earlyhelp",
            9,
            "Wanted to check whether my neighbour's family was known to services before a school meeting.",
            ReviewStatus::Referred,
            Some("No emergency: curiosity about a neighbour. Referred to the worker's manager and HR."),
        ),
        (
            "hv",
            4,
            "Child presented at clinic with unexplained bruising; the family is not on my caseload.",
            ReviewStatus::Pending,
            None,
        ),
        (
            "triage",
            2,
            "Hospital discharge planning call about a newborn: safeguarding concerns raised by the ward.",
            ReviewStatus::Pending,
            None,
        ),
    ];
    for (who, days, reason, status, note) in past {
        let Some(&user) = p.named.get(who) else { continue };
        let Some((family, _)) = candidates
            .iter()
            .find(|(f, _)| !used.contains(f) && !seen_by(*f, who))
            .cloned()
        else {
            continue;
        };
        used.insert(family);
        let started = now - days * DAY;
        let id = db
            .create_override(&NewOverride {
                tenant_id: p.tenant_id,
                family_id: family,
                user_id: user,
                kind: OverrideKind::BreakGlass,
                reason,
                started_at_ms: started,
                expires_at_ms: started + BREAK_GLASS_MS,
            })
            .await?;
        if status != ReviewStatus::Pending {
            db.review_override(p.tenant_id, id, status, officer, note, started + DAY)
                .await?;
        }
    }
    // Active now: the triage officer, on a family they could not see.
    let mut triage_family = None;
    if let Some(&triage) = p.named.get("triage")
        && let Some((family, _)) = candidates
            .iter()
            .find(|(f, _)| !used.contains(f) && !seen_by(*f, ""))
            .cloned()
    {
        used.insert(family);
        let started = now - 30 * 60 * 1000;
        db.create_override(&NewOverride {
            tenant_id: p.tenant_id,
            family_id: family,
            user_id: triage,
            kind: OverrideKind::BreakGlass,
            reason: "Police at the door of the family hub with a child found alone; need to know who to call.",
            started_at_ms: started,
            expires_at_ms: started + BREAK_GLASS_MS,
        })
        .await?;
        triage_family = Some(family);
    }
    // A safeguarding override on a family the health visitor may change.
    if let Some(&hv) = p.named.get("hv") {
        let subject = db.user(hv).await?.subject();
        let (theirs, _) = db.visible_families(&subject, 50, 0).await?;
        let theirs_ids: Vec<i64> = theirs.iter().map(|f| f.id).collect();
        let theirs_facts = db.family_facts_many(&theirs_ids).await?;
        if let Some(family) = theirs_ids.iter().copied().find(|f| {
            !showcase.contains(f)
                && theirs_facts
                    .get(f)
                    .is_some_and(|x| !x.sealed && access::family(&subject, x, FamilyAction::Edit).allowed())
        }) {
            let started = now - 2 * DAY;
            db.create_override(&NewOverride {
                tenant_id: p.tenant_id,
                family_id: family,
                user_id: hv,
                kind: OverrideKind::Safeguarding,
                reason: "Disclosure of domestic abuse at a home visit: the school and the GP must know now, and asking for consent would put the mother at risk.",
                started_at_ms: started,
                expires_at_ms: started + SAFEGUARDING_OVERRIDE_MS,
            })
            .await?;
        }
    }
    // For a newcomer: a worker and a number to try.
    let local = if p.named.contains_key("socialworker") {
        "socialworker"
    } else {
        "hv"
    };
    let Some((family, nhs)) = candidates
        .iter()
        .find(|(f, _)| !used.contains(f) && !seen_by(*f, local))
        .cloned()
    else {
        return Ok(None);
    };
    Ok(Some(Glass {
        tenant: p.code,
        sealed_family: sealed,
        email: format!("{local}@{domain}"),
        nhs_number: nhs,
        family_id: family,
        triage_family,
    }))
}
