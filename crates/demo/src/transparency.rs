//! Transparency in the demo: a realistic audit trail on each borough's large
//! family (its lead professional, the team around the family and a manager
//! reading the family and its members' records, one download of who viewed
//! it), so "who viewed", the family's access report and the privacy
//! officer's audit search have something to show; and, for each borough, a
//! parent present at contacts (with consents when the demo records them)
//! whose subject access request bundle is worth reading.

use kindred_domain::audit::{AuditAction, NewEvent};
use kindred_store::Db;

use crate::Partnership;

/// Appends the reads and returns (tenant code, person id, name) of the parent.
pub(crate) async fn seed(
    db: &Db,
    p: &Partnership,
    large_family: i64,
) -> anyhow::Result<Option<(&'static str, i64, String)>> {
    let Some(facts) = db.family_facts(large_family).await? else {
        return Ok(None);
    };
    let members = db.members(large_family).await?;
    let event = |actor: i64, action: AuditAction, kind: &'static str, id: i64, route: &str, why: &str| NewEvent {
        tenant_id: Some(p.tenant_id),
        actor_user_id: Some(actor),
        action,
        record_kind: kind,
        record_id: Some(id),
        family_id: Some(large_family),
        route: route.into(),
        detail: why.into(),
    };
    if let Some(lead) = facts.lead_user_id {
        db.audit(event(
            lead,
            AuditAction::Read,
            "family",
            large_family,
            "web GET /families/{id}",
            "lead_professional",
        ))
        .await?;
        db.audit(event(
            lead,
            AuditAction::Read,
            "plan",
            large_family,
            "web GET /families/{id}/plan",
            "lead_professional",
        ))
        .await?;
        db.audit(event(
            lead,
            AuditAction::Export,
            "family",
            large_family,
            "web GET /families/{id}/access-log.csv",
            "lead_professional",
        ))
        .await?;
    }
    for (n, worker) in facts.team_user_ids.iter().take(4).enumerate() {
        db.audit(event(
            *worker,
            AuditAction::Read,
            "family",
            large_family,
            "web GET /families/{id}",
            "team_around_the_family",
        ))
        .await?;
        if let Some(m) = members.get(n) {
            db.audit(event(
                *worker,
                AuditAction::Read,
                "person",
                m.person.id,
                "web GET /persons/{id}",
                "team_around_the_family",
            ))
            .await?;
        }
    }
    if let Some(manager) = p.named.get("manager").copied() {
        let user = db.user(manager).await?;
        if facts.involved_organisation_ids.contains(&user.organisation_id) {
            db.audit(event(
                manager,
                AuditAction::Read,
                "family",
                large_family,
                "web GET /families/{id}",
                "manager_of_involved_organisation",
            ))
            .await?;
        }
    }
    Ok(db
        .sar_candidate(large_family)
        .await?
        .map(|(id, name)| (p.code, id, name)))
}
