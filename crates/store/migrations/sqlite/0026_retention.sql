-- Issue 9: retention and erasure.
--
-- Each tenant's retention rule: a family whose work has ended (no open
-- episode, no referral awaiting triage) is flagged for the privacy officer's
-- review once `years` have passed since its last activity.
CREATE TABLE retention_rules (
    tenant_id BIGINT PRIMARY KEY REFERENCES tenants(id),
    years BIGINT NOT NULL,
    updated_by_user_id BIGINT REFERENCES users(id),
    updated_at_ms BIGINT NOT NULL
);

-- The privacy officer's decisions on flagged families: keep (until a date,
-- when the family is flagged again) or erase. `family_id` has no foreign key:
-- an erased family's row is gone, and this record of the decision, with ids
-- and counts only, is what remains.
CREATE TABLE retention_decisions (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    keep_until TEXT,
    persons_erased BIGINT NOT NULL DEFAULT 0,
    rows_erased BIGINT NOT NULL DEFAULT 0,
    decided_by_user_id BIGINT REFERENCES users(id),
    decided_at_ms BIGINT NOT NULL
);
CREATE INDEX retention_decisions_family ON retention_decisions (tenant_id, family_id);
