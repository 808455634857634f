-- The family plan (F7): goals in the family's words, actions with an owner,
-- reviews that re-score the goals, a version per change; and the family
-- portal, where invited family members read what is shared with them.
CREATE TABLE plan_goals (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    area TEXT NOT NULL DEFAULT '',
    words TEXT NOT NULL,
    baseline_score INTEGER CHECK (baseline_score BETWEEN 1 AND 10),
    status TEXT NOT NULL DEFAULT 'active',
    shared_with_family BOOLEAN NOT NULL DEFAULT 1,
    created_by_user_id BIGINT NOT NULL REFERENCES users(id),
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX plan_goals_family ON plan_goals (family_id, id);

CREATE TABLE plan_actions (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    goal_id BIGINT NOT NULL REFERENCES plan_goals(id),
    description TEXT NOT NULL,
    owner_user_id BIGINT REFERENCES users(id),
    owner_organisation_id BIGINT REFERENCES organisations(id),
    owner_person_id BIGINT REFERENCES persons(id),
    due_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'not_started',
    shared_with_family BOOLEAN NOT NULL DEFAULT 1,
    completed_on TEXT,
    created_by_user_id BIGINT NOT NULL REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX plan_actions_family ON plan_actions (family_id, goal_id);
CREATE INDEX plan_actions_owner ON plan_actions (owner_user_id, status, due_on);
CREATE INDEX plan_actions_owner_org ON plan_actions (owner_organisation_id, status, due_on);

CREATE TABLE plan_reviews (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    reviewed_on TEXT NOT NULL,
    author_user_id BIGINT NOT NULL REFERENCES users(id),
    summary TEXT NOT NULL,
    next_review_on TEXT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX plan_reviews_family ON plan_reviews (family_id, reviewed_on);

CREATE TABLE plan_review_scores (
    review_id BIGINT NOT NULL REFERENCES plan_reviews(id),
    goal_id BIGINT NOT NULL REFERENCES plan_goals(id),
    score INTEGER NOT NULL CHECK (score BETWEEN 1 AND 10),
    PRIMARY KEY (review_id, goal_id)
);

-- Comments and progress on an action, by a worker or by a family member in the portal.
CREATE TABLE plan_comments (
    id INTEGER PRIMARY KEY,
    family_id BIGINT NOT NULL REFERENCES families(id),
    action_id BIGINT NOT NULL REFERENCES plan_actions(id),
    author_user_id BIGINT REFERENCES users(id),
    author_person_id BIGINT REFERENCES persons(id),
    body TEXT NOT NULL,
    progress TEXT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX plan_comments_action ON plan_comments (action_id, id);

-- Every change to a plan is a new version, with the plan as it then stood.
CREATE TABLE plan_versions (
    family_id BIGINT NOT NULL REFERENCES families(id),
    version BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    author_user_id BIGINT REFERENCES users(id),
    author_person_id BIGINT REFERENCES persons(id),
    summary TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    PRIMARY KEY (family_id, version)
);

-- A family member's access to the portal, until revoked.
CREATE TABLE portal_invites (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    email TEXT,
    invited_by_user_id BIGINT NOT NULL REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    revoked_at_ms BIGINT
);
CREATE INDEX portal_invites_family ON portal_invites (family_id);
CREATE INDEX portal_invites_email ON portal_invites (email);

-- One-time sign-in codes (stored as SHA-256), given in person or sent by email.
CREATE TABLE portal_codes (
    code_hash TEXT PRIMARY KEY,
    invite_id BIGINT NOT NULL REFERENCES portal_invites(id),
    expires_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT
);

CREATE TABLE portal_sessions (
    token_hash TEXT PRIMARY KEY,
    invite_id BIGINT NOT NULL REFERENCES portal_invites(id),
    csrf_token TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
);
