-- Issue 7 (the outcomes framework, F15). Each local authority's framework:
-- Kindred's ten headline outcomes with their descriptors reworded or retired,
-- and outcomes of its own. No row for a default outcome means it is offered
-- as Kindred words it.
CREATE TABLE outcome_framework (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    title TEXT NOT NULL,
    need_descriptor TEXT NOT NULL,
    achieved_descriptor TEXT NOT NULL,
    offered BOOLEAN NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, code)
);

-- Each family's needs register: a need under an outcome of the framework,
-- about the family or one member, perhaps from a referral's needs list, in
-- an episode of work; its result at closure with the evidence; and whether
-- an achieved outcome was sustained six months on.
CREATE TABLE family_needs (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    episode_id BIGINT REFERENCES episodes(id),
    person_id BIGINT REFERENCES persons(id),
    outcome_code TEXT NOT NULL,
    need_code TEXT,
    referral_id BIGINT REFERENCES referrals(id),
    description TEXT NOT NULL,
    identified_on TEXT NOT NULL,
    identified_by_user_id BIGINT REFERENCES users(id),
    result TEXT CHECK (result IN ('achieved', 'progress', 'not_achieved')),
    evidence TEXT,
    result_on TEXT,
    result_by_user_id BIGINT REFERENCES users(id),
    sustained BOOLEAN,
    sustained_evidence TEXT,
    sustained_on TEXT,
    sustained_by_user_id BIGINT REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    -- A referral's need comes into the register once.
    UNIQUE (referral_id, need_code)
);
CREATE INDEX family_needs_family ON family_needs (family_id);
CREATE INDEX family_needs_episode ON family_needs (episode_id);
CREATE INDEX family_needs_tenant_outcome ON family_needs (tenant_id, outcome_code, result);
