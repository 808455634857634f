-- Sharing that a Caldicott guardian would sign off: consent per person and
-- purpose, information-sharing agreements between organisations (possibly
-- across local authorities), break-glass and safeguarding overrides with
-- their review, sealed families, restricted persons, alert rules and the
-- redaction rules of a subject access request.

-- A tenant's own consent purposes, beside the ones Kindred knows.
CREATE TABLE consent_purposes (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    PRIMARY KEY (tenant_id, code)
);

-- Consent about one person: given by a parent or carer on their behalf, or by
-- a young person judged competent to give it themselves.
CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    given_by_person_id BIGINT REFERENCES persons(id),
    competence_judgement TEXT,
    purpose TEXT NOT NULL,
    all_partners BOOLEAN NOT NULL,
    given_on TEXT NOT NULL,
    withdrawn_on TEXT,
    method TEXT NOT NULL,
    evidence TEXT NOT NULL,
    recorded_by_user_id BIGINT NOT NULL REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    withdrawn_by_user_id BIGINT REFERENCES users(id),
    withdrawal_note TEXT
);
CREATE INDEX consents_person ON consents (person_id);

-- Which organisations, or kinds of organisation, a consent covers (unless all partners).
CREATE TABLE consent_scopes (
    consent_id BIGINT NOT NULL REFERENCES consents(id),
    organisation_id BIGINT REFERENCES organisations(id),
    org_kind TEXT,
    CHECK (organisation_id IS NOT NULL OR org_kind IS NOT NULL)
);
CREATE INDEX consent_scopes_consent ON consent_scopes (consent_id);

-- An information-sharing agreement: what may flow between its parties, for
-- which purposes, on which lawful basis, and when.
CREATE TABLE sharing_agreements (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    title TEXT NOT NULL,
    lawful_basis TEXT NOT NULL,
    purposes TEXT NOT NULL,
    categories TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT,
    created_by_user_id BIGINT NOT NULL REFERENCES users(id),
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE sharing_agreement_parties (
    agreement_id BIGINT NOT NULL REFERENCES sharing_agreements(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    PRIMARY KEY (agreement_id, organisation_id)
);
CREATE INDEX sharing_agreement_parties_org ON sharing_agreement_parties (organisation_id);

-- Break-glass (one worker's time-limited access in an emergency) and
-- safeguarding overrides (sharing without consent for everyone working with
-- the family); each waits for the privacy officer's review.
CREATE TABLE access_overrides (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    started_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    review_status TEXT NOT NULL DEFAULT 'pending',
    reviewed_by_user_id BIGINT REFERENCES users(id),
    reviewed_at_ms BIGINT,
    review_note TEXT
);
CREATE INDEX access_overrides_family ON access_overrides (family_id, expires_at_ms);
CREATE INDEX access_overrides_review ON access_overrides (tenant_id, review_status, started_at_ms);

-- A sealed family (an adoption, say) cannot be opened by break-glass.
ALTER TABLE families ADD COLUMN sealed BOOLEAN NOT NULL DEFAULT FALSE;

-- A restricted person's address and contact details are hidden from everyone
-- not named in restricted_person_permissions.
ALTER TABLE persons ADD COLUMN restricted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE persons ADD COLUMN phone TEXT;
ALTER TABLE persons ADD COLUMN email TEXT;
CREATE TABLE restricted_person_permissions (
    person_id BIGINT NOT NULL REFERENCES persons(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    granted_by_user_id BIGINT NOT NULL REFERENCES users(id),
    granted_at_ms BIGINT NOT NULL,
    PRIMARY KEY (person_id, user_id)
);

ALTER TABLE flags ADD COLUMN ended_by_user_id BIGINT REFERENCES users(id);

-- When a flag of one kind is raised, partners with a given involvement get an alert task.
CREATE TABLE alert_rules (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    trigger_flag TEXT NOT NULL,
    involved_org_kind TEXT NOT NULL,
    task_title TEXT NOT NULL,
    created_by_user_id BIGINT NOT NULL REFERENCES users(id),
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX alert_rules_tenant ON alert_rules (tenant_id, trigger_flag);

-- A tenant's choices for redacting third parties from a subject access request.
CREATE TABLE redaction_rules (
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    rule TEXT NOT NULL,
    enabled BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, rule)
);
