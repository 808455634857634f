-- Child development and the common early help assessment (F6).

-- Each local authority's own ASQ cut-offs, per questionnaire interval and
-- area (ASQ:SE: area 'total'), in hundredths of a point. Kindred ships none.
CREATE TABLE asq_cutoffs (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    instrument TEXT NOT NULL CHECK (instrument IN ('asq3', 'asqse')),
    interval_months INTEGER NOT NULL,
    area TEXT NOT NULL,
    cutoff_centi INTEGER NOT NULL CHECK (cutoff_centi >= 0),
    monitoring_centi INTEGER NOT NULL CHECK (monitoring_centi >= 0),
    updated_by_user_id BIGINT REFERENCES users(id),
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, instrument, interval_months, area)
);

-- ASQ-3 and ASQ:SE questionnaires, one child each.
CREATE TABLE questionnaires (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    instrument TEXT NOT NULL CHECK (instrument IN ('asq3', 'asqse')),
    interval_months INTEGER NOT NULL,
    completed_on TEXT NOT NULL,
    author_user_id BIGINT NOT NULL REFERENCES users(id),
    notes TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX questionnaires_family ON questionnaires (family_id, completed_on);

CREATE TABLE questionnaire_scores (
    questionnaire_id BIGINT NOT NULL REFERENCES questionnaires(id),
    area TEXT NOT NULL,
    score INTEGER NOT NULL CHECK (score >= 0 AND score % 5 = 0),
    PRIMARY KEY (questionnaire_id, area)
);

-- The integrated review at two: the health visitor's check and the early
-- years setting's EYFS progress check, with the parent's views.
CREATE TABLE two_year_reviews (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    reviewed_on TEXT NOT NULL,
    author_user_id BIGINT NOT NULL REFERENCES users(id),
    questionnaire_id BIGINT REFERENCES questionnaires(id),
    weight_grams INTEGER,
    height_mm INTEGER,
    health_notes TEXT NOT NULL DEFAULT '',
    setting_name TEXT NOT NULL DEFAULT '',
    eyfs_communication TEXT NOT NULL,
    eyfs_physical TEXT NOT NULL,
    eyfs_psed TEXT NOT NULL,
    eyfs_notes TEXT NOT NULL DEFAULT '',
    parent_views TEXT NOT NULL DEFAULT '',
    next_steps TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX two_year_reviews_family ON two_year_reviews (family_id, reviewed_on);

-- The common early help assessment: one document per family at a time,
-- draft until completed, then read-only.
CREATE TABLE early_help_assessments (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    author_user_id BIGINT NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'completed')),
    started_on TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    child_development TEXT NOT NULL DEFAULT '',
    parenting_capacity TEXT NOT NULL DEFAULT '',
    family_environment TEXT NOT NULL DEFAULT '',
    child_views TEXT NOT NULL DEFAULT '',
    family_views TEXT NOT NULL DEFAULT '',
    strengths TEXT NOT NULL DEFAULT '',
    needs TEXT NOT NULL DEFAULT '',
    analysis TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    completed_on TEXT,
    completed_by_user_id BIGINT REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX early_help_assessments_family ON early_help_assessments (family_id, started_on);
