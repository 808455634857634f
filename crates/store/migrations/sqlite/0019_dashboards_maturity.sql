-- Issue 7 (KPI dashboards and the partnership maturity matrix): wards made
-- of postcode districts and sectors, breastfeeding at the 6–8 week review
-- from the health visiting feed, and the partnership's self-assessments.
CREATE TABLE wards (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE ward_areas (
    ward_id BIGINT NOT NULL REFERENCES wards(id),
    area TEXT NOT NULL,
    PRIMARY KEY (ward_id, area)
);

-- 'total', 'partial' or 'none', as the 6–8 week review recorded it.
ALTER TABLE pathway_completions ADD COLUMN breastfeeding TEXT;

CREATE TABLE maturity_assessments (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    assessed_on TEXT NOT NULL,
    assessed_by_user_id BIGINT NOT NULL REFERENCES users(id),
    summary TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX maturity_assessments_tenant ON maturity_assessments (tenant_id, assessed_on);

CREATE TABLE maturity_ratings (
    assessment_id BIGINT NOT NULL REFERENCES maturity_assessments(id),
    dimension TEXT NOT NULL,
    level TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (assessment_id, dimension)
);

CREATE INDEX kpi_contacts_tenant_occurred ON contacts (tenant_id, occurred_on);
CREATE INDEX kpi_episodes_tenant_closed ON episodes (tenant_id, closed_on);
