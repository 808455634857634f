-- The family-led assessment: scores from 1 to 10 per area of family life, in
-- the family's own words, repeated to show distance travelled.
CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    author_user_id BIGINT NOT NULL REFERENCES users(id),
    assessed_on TEXT NOT NULL,
    strengths TEXT NOT NULL DEFAULT '',
    changes TEXT NOT NULL DEFAULT '',
    future TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX assessments_family ON assessments (family_id, assessed_on);

CREATE TABLE assessment_scores (
    assessment_id BIGINT NOT NULL REFERENCES assessments(id),
    area TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
    words TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (assessment_id, area)
);
