-- Kindred foundation: tenants, organisations, people, families, sign-in, audit.
-- Timestamps are unix milliseconds (BIGINT) and dates ISO text, bound from Rust.

CREATE TABLE tenants (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE organisations (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (tenant_id, name)
);

CREATE TABLE hub_sites (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    organisation_id BIGINT REFERENCES organisations(id),
    name TEXT NOT NULL,
    postcode TEXT,
    UNIQUE (tenant_id, name)
);

-- A reach area is a postcode district (W2) or sector (W2 5).
CREATE TABLE hub_reach_areas (
    hub_site_id BIGINT NOT NULL REFERENCES hub_sites(id),
    area TEXT NOT NULL,
    PRIMARY KEY (hub_site_id, area)
);

CREATE TABLE teams (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    hub_site_id BIGINT REFERENCES hub_sites(id),
    name TEXT NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    team_id BIGINT REFERENCES teams(id),
    email TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    profession TEXT NOT NULL,
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX users_tenant ON users (tenant_id, organisation_id);

-- Only a hash of the session token is stored, so a copy of the table signs nobody in.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_seen_ms BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    key_hash TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key_hash, at_ms);

CREATE TABLE persons (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    preferred_name TEXT,
    given_norm TEXT NOT NULL,
    family_norm TEXT NOT NULL,
    given_phon TEXT NOT NULL,
    family_phon TEXT NOT NULL,
    date_of_birth TEXT,
    expected_delivery TEXT,
    sex TEXT NOT NULL,
    nhs_number TEXT,
    upn TEXT,
    language TEXT,
    interpreter_needed BOOLEAN NOT NULL DEFAULT FALSE,
    send BOOLEAN NOT NULL DEFAULT FALSE,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX persons_nhs ON persons (tenant_id, nhs_number);
CREATE INDEX persons_family_phon ON persons (tenant_id, family_phon);
CREATE INDEX persons_given_phon ON persons (tenant_id, given_phon);
CREATE INDEX persons_given_norm ON persons (tenant_id, given_norm);
CREATE INDEX persons_family_norm ON persons (tenant_id, family_norm);
CREATE INDEX persons_dob ON persons (tenant_id, date_of_birth);

CREATE TABLE person_previous_names (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    until_date TEXT
);
CREATE INDEX person_previous_names_person ON person_previous_names (person_id);

CREATE TABLE addresses (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    line1 TEXT NOT NULL,
    line2 TEXT,
    town TEXT NOT NULL,
    postcode TEXT NOT NULL,
    from_date TEXT NOT NULL,
    to_date TEXT
);
CREATE INDEX addresses_person ON addresses (person_id);
CREATE INDEX addresses_postcode ON addresses (postcode);

CREATE TABLE families (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    lead_user_id BIGINT REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX families_lead ON families (lead_user_id);
CREATE INDEX families_tenant_updated ON families (tenant_id, updated_at_ms);

CREATE TABLE family_members (
    id INTEGER PRIMARY KEY,
    family_id BIGINT NOT NULL REFERENCES families(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    role TEXT NOT NULL,
    joined_on TEXT NOT NULL,
    left_on TEXT
);
CREATE INDEX family_members_family ON family_members (family_id);
CREATE INDEX family_members_person ON family_members (person_id);

CREATE TABLE relationships (
    id INTEGER PRIMARY KEY,
    from_person_id BIGINT NOT NULL REFERENCES persons(id),
    to_person_id BIGINT NOT NULL REFERENCES persons(id),
    kind TEXT NOT NULL,
    UNIQUE (from_person_id, to_person_id, kind)
);
CREATE INDEX relationships_to ON relationships (to_person_id);

-- The team around the family: workers, and the lead professional's history.
CREATE TABLE team_members (
    id INTEGER PRIMARY KEY,
    family_id BIGINT NOT NULL REFERENCES families(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    since TEXT NOT NULL,
    until_date TEXT
);
CREATE INDEX team_members_family ON team_members (family_id);
CREATE INDEX team_members_user ON team_members (user_id, family_id);

CREATE TABLE lead_history (
    id INTEGER PRIMARY KEY,
    family_id BIGINT NOT NULL REFERENCES families(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    from_ms BIGINT NOT NULL,
    to_ms BIGINT
);
CREATE INDEX lead_history_family ON lead_history (family_id);

-- An organisation's recorded involvement with a family: the basis of "who is involved".
CREATE TABLE involvements (
    id INTEGER PRIMARY KEY,
    family_id BIGINT NOT NULL REFERENCES families(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    service TEXT NOT NULL,
    started_on TEXT NOT NULL,
    ended_on TEXT
);
CREATE INDEX involvements_family ON involvements (family_id);
CREATE INDEX involvements_org ON involvements (organisation_id, family_id);

-- Just enough of a referral for the access policy (triage of an open referral);
-- the front-door issue grows this table.
CREATE TABLE referrals (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    status TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL
);
CREATE INDEX referrals_family ON referrals (family_id, status);
CREATE INDEX referrals_tenant_status ON referrals (tenant_id, status);

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    tenant_id BIGINT,
    actor_user_id BIGINT,
    action TEXT NOT NULL,
    record_kind TEXT NOT NULL,
    record_id BIGINT,
    family_id BIGINT,
    route TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_family ON audit_events (family_id, seq);

CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
