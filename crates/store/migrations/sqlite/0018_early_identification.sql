-- Issue 7 (early identification, F20): workers' decisions about the families
-- the list showed them — "offer made" or "not appropriate", with a reason.
-- The latest decision about a family stands until a fact arrives after it.
-- The facts themselves are the feeds' source records and the involvements.

CREATE TABLE early_identification_decisions (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    decision TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    decided_by_user_id BIGINT NOT NULL REFERENCES users(id),
    decided_at_ms BIGINT NOT NULL
);
CREATE INDEX early_identification_decisions_tenant ON early_identification_decisions (tenant_id, decided_at_ms);
CREATE INDEX early_identification_decisions_family ON early_identification_decisions (family_id);
