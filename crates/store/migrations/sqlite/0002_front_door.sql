-- The front door: referrals by every route, triage, decisions, notifications,
-- the panel, and the first of the records a 360 degree profile reads
-- (contacts, episodes, flags) that later issues grow.

ALTER TABLE tenants ADD COLUMN triage_hours BIGINT NOT NULL DEFAULT 48;
ALTER TABLE tenants ADD COLUMN triage_working_hours BOOLEAN NOT NULL DEFAULT FALSE;

-- Possible matches look unborn babies up by their expected date.
CREATE INDEX persons_edd ON persons (tenant_id, expected_delivery);

-- SQLite cannot drop NOT NULL from family_id, so the table is rebuilt.

CREATE TABLE referrals_new (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    reference TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL,
    status TEXT NOT NULL,
    family_id BIGINT REFERENCES families(id),
    urgency TEXT NOT NULL DEFAULT 'routine',
    received_at_ms BIGINT NOT NULL,
    due_at_ms BIGINT NOT NULL,
    hub_site_id BIGINT REFERENCES hub_sites(id),
    referrer_user_id BIGINT REFERENCES users(id),
    referrer_organisation_id BIGINT REFERENCES organisations(id),
    referrer_name TEXT NOT NULL DEFAULT '',
    referrer_role TEXT NOT NULL DEFAULT '',
    referrer_phone TEXT NOT NULL DEFAULT '',
    referrer_email TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    family_aware BOOLEAN NOT NULL DEFAULT FALSE,
    consent_given BOOLEAN NOT NULL DEFAULT FALSE,
    consent_by TEXT NOT NULL DEFAULT '',
    consent_on TEXT,
    consent_scope TEXT NOT NULL DEFAULT '',
    claimed_by_user_id BIGINT REFERENCES users(id),
    decided_at_ms BIGINT,
    decided_by_user_id BIGINT REFERENCES users(id),
    level TEXT,
    outcome TEXT,
    rationale TEXT,
    outcome_detail TEXT,
    outcome_organisation_id BIGINT REFERENCES organisations(id),
    lead_user_id BIGINT REFERENCES users(id)
);
INSERT INTO referrals_new (id, tenant_id, reference, route, status, family_id, received_at_ms, due_at_ms)
SELECT id, tenant_id, 'KR-OLD-' || CAST(id AS TEXT), 'professional',
       CASE status WHEN 'open' THEN 'open' ELSE 'decided' END,
       family_id, received_at_ms, received_at_ms + 172800000
FROM referrals;
DROP TABLE referrals;
ALTER TABLE referrals_new RENAME TO referrals;
CREATE INDEX referrals_family ON referrals (family_id, status);
CREATE INDEX referrals_queue ON referrals (tenant_id, status, due_at_ms);
CREATE INDEX referrals_referrer ON referrals (referrer_user_id, received_at_ms);

-- The needs a referral names, from the needs list (kindred_domain::referral::NEEDS).
CREATE TABLE referral_needs (
    referral_id BIGINT NOT NULL REFERENCES referrals(id),
    need TEXT NOT NULL,
    PRIMARY KEY (referral_id, need)
);
CREATE INDEX referral_needs_need ON referral_needs (need, referral_id);

-- The people a referral is about: a known person (person_id), or details as
-- given until triage links them to a person or creates one.
CREATE TABLE referral_people (
    id INTEGER PRIMARY KEY,
    referral_id BIGINT NOT NULL REFERENCES referrals(id),
    person_id BIGINT REFERENCES persons(id),
    role TEXT NOT NULL,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    date_of_birth TEXT,
    expected_delivery TEXT,
    sex TEXT NOT NULL DEFAULT 'unknown',
    nhs_number TEXT,
    postcode TEXT,
    address_line TEXT
);
CREATE INDEX referral_people_referral ON referral_people (referral_id);
CREATE INDEX referral_people_person ON referral_people (person_id);

-- What happened to a referral, for the referrer and for triage.
CREATE TABLE referral_events (
    id INTEGER PRIMARY KEY,
    referral_id BIGINT NOT NULL REFERENCES referrals(id),
    at_ms BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    kind TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX referral_events_referral ON referral_events (referral_id, at_ms);

-- A self-referral being filled in: the browser holds a random token, the row its hash.
CREATE TABLE self_referral_drafts (
    token_hash TEXT PRIMARY KEY,
    tenant_id BIGINT REFERENCES tenants(id),
    data TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);

-- Rate limits on public endpoints: one row per counted event, keyed by a hash.
CREATE TABLE rate_events (
    id INTEGER PRIMARY KEY,
    key_hash TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX rate_events_key ON rate_events (key_hash, at_ms);

CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    at_ms BIGINT NOT NULL,
    referral_id BIGINT REFERENCES referrals(id),
    message TEXT NOT NULL,
    read_at_ms BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, at_ms);

-- Email waits here until the sender task hands it to the SMTP server.
CREATE TABLE email_outbox (
    id INTEGER PRIMARY KEY,
    to_address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    sent_at_ms BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX email_outbox_pending ON email_outbox (sent_at_ms, id);

-- Contacts with a family: who, which service, when, how, and the note.
-- The working-with-a-family issue builds the pages; triage reads the counts.
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    author_user_id BIGINT NOT NULL REFERENCES users(id),
    occurred_on TEXT NOT NULL,
    mode TEXT NOT NULL,
    visibility TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX contacts_family ON contacts (family_id, occurred_on);

CREATE TABLE contact_people (
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    PRIMARY KEY (contact_id, person_id)
);
CREATE INDEX contact_people_person ON contact_people (person_id, contact_id);

-- A period of early help work with a family.
CREATE TABLE episodes (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    referral_id BIGINT REFERENCES referrals(id),
    lead_user_id BIGINT REFERENCES users(id),
    level TEXT NOT NULL,
    status TEXT NOT NULL,
    opened_on TEXT NOT NULL,
    closed_on TEXT,
    close_reason TEXT
);
CREATE INDEX episodes_family ON episodes (family_id);

CREATE TABLE flags (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    person_id BIGINT REFERENCES persons(id),
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    raised_by_user_id BIGINT REFERENCES users(id),
    raised_on TEXT NOT NULL,
    ended_on TEXT
);
CREATE INDEX flags_family ON flags (family_id);

-- The multi-agency panel: meetings, who attends, the families discussed, and actions.
CREATE TABLE panel_meetings (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    title TEXT NOT NULL,
    meets_on TEXT NOT NULL,
    hub_site_id BIGINT REFERENCES hub_sites(id),
    created_by_user_id BIGINT NOT NULL REFERENCES users(id),
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX panel_meetings_tenant ON panel_meetings (tenant_id, meets_on);

CREATE TABLE panel_attendees (
    meeting_id BIGINT NOT NULL REFERENCES panel_meetings(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX panel_attendees_user ON panel_attendees (user_id);

CREATE TABLE panel_items (
    id INTEGER PRIMARY KEY,
    meeting_id BIGINT NOT NULL REFERENCES panel_meetings(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    referral_id BIGINT REFERENCES referrals(id),
    reason TEXT NOT NULL,
    decision TEXT,
    lead_user_id BIGINT REFERENCES users(id),
    decided_at_ms BIGINT,
    decided_by_user_id BIGINT REFERENCES users(id)
);
CREATE INDEX panel_items_meeting ON panel_items (meeting_id);
CREATE INDEX panel_items_family ON panel_items (family_id);

CREATE TABLE panel_actions (
    id INTEGER PRIMARY KEY,
    item_id BIGINT NOT NULL REFERENCES panel_items(id),
    description TEXT NOT NULL,
    owner TEXT NOT NULL,
    due_on TEXT,
    done BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX panel_actions_item ON panel_actions (item_id);
