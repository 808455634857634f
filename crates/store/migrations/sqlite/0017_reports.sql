-- Issue 7 (the report builder, F16): saved reports, and what makes reports fast.

-- A report saved by its owner, shared (or not) with the owner's organisation.
-- The definition is the builder's fields as JSON, read back through the same checks.
CREATE TABLE saved_reports (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    owner_user_id BIGINT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    definition TEXT NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX saved_reports_owner ON saved_reports (owner_user_id, updated_at_ms);
CREATE INDEX saved_reports_shared ON saved_reports (organisation_id, shared);

-- A contact's family hub: the hub whose reach area covered the family's
-- address (its first current member with a current address; a reach sector
-- before a district) when the contact was recorded. Stored, so a report of
-- millions of contacts by hub and month reads one index.
ALTER TABLE contacts ADD COLUMN hub_site_id BIGINT REFERENCES hub_sites(id);
UPDATE contacts SET hub_site_id = COALESCE(
    (SELECT MIN(r.hub_site_id) FROM hub_reach_areas r JOIN hub_sites h ON h.id = r.hub_site_id WHERE h.tenant_id = contacts.tenant_id AND upper(trim(r.area)) = substr((SELECT a.postcode FROM family_members m JOIN addresses a ON a.person_id = m.person_id WHERE m.family_id = contacts.family_id AND m.left_on IS NULL AND a.to_date IS NULL ORDER BY m.id, a.id LIMIT 1), 1, length((SELECT a.postcode FROM family_members m JOIN addresses a ON a.person_id = m.person_id WHERE m.family_id = contacts.family_id AND m.left_on IS NULL AND a.to_date IS NULL ORDER BY m.id, a.id LIMIT 1)) - 2)),
    (SELECT MIN(r.hub_site_id) FROM hub_reach_areas r JOIN hub_sites h ON h.id = r.hub_site_id WHERE h.tenant_id = contacts.tenant_id AND upper(trim(r.area)) = substr((SELECT a.postcode FROM family_members m JOIN addresses a ON a.person_id = m.person_id WHERE m.family_id = contacts.family_id AND m.left_on IS NULL AND a.to_date IS NULL ORDER BY m.id, a.id LIMIT 1), 1, length((SELECT a.postcode FROM family_members m JOIN addresses a ON a.person_id = m.person_id WHERE m.family_id = contacts.family_id AND m.left_on IS NULL AND a.to_date IS NULL ORDER BY m.id, a.id LIMIT 1)) - 4)));
-- Grouping by hub and month (the month as the report query writes it) reads
-- this index in order, with the date, organisation and family for filters
-- and distinct counts.
CREATE INDEX contacts_report ON contacts (tenant_id, hub_site_id, substr(CAST(occurred_on AS TEXT), 1, 7), occurred_on, organisation_id, family_id);
