-- Each sealing and unsealing of a family by a privacy officer, with the
-- reason: families.sealed is the current state, this is its history.
CREATE TABLE family_seals (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    sealed BOOLEAN NOT NULL,
    reason TEXT NOT NULL,
    by_user_id BIGINT NOT NULL REFERENCES users(id),
    at_ms BIGINT NOT NULL
);
CREATE INDEX family_seals_family ON family_seals (family_id, at_ms);
