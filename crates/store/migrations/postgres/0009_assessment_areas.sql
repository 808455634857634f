-- Each local authority's areas for the family-led assessment: the ten
-- defaults reworded or no longer asked, and areas of its own. No row for a
-- default area means it is asked as Kindred words it.
CREATE TABLE assessment_areas (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    question TEXT NOT NULL,
    asked BOOLEAN NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, code)
);
