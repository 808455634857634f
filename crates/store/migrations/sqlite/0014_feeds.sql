-- Issue 6: the health and agency data feeds, and identity matching.
--
-- An import run is one file of one feed. Each row becomes (or updates) one
-- source record, keyed by (tenant, source system, source key), so a re-run or
-- a crash halfway never duplicates a row. A source record is never destroyed:
-- linking points it at a person, and undoing the link points it away again.

CREATE TABLE import_runs (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    kind TEXT NOT NULL,
    source_system TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    started_by_user_id BIGINT REFERENCES users(id),
    started_at_ms BIGINT NOT NULL,
    finished_at_ms BIGINT,
    status TEXT NOT NULL,
    rows_total BIGINT NOT NULL DEFAULT 0,
    rows_done BIGINT NOT NULL DEFAULT 0,
    rows_new BIGINT NOT NULL DEFAULT 0,
    rows_updated BIGINT NOT NULL DEFAULT 0,
    rows_unchanged BIGINT NOT NULL DEFAULT 0,
    rows_rejected BIGINT NOT NULL DEFAULT 0,
    linked BIGINT NOT NULL DEFAULT 0,
    to_review BIGINT NOT NULL DEFAULT 0,
    new_persons BIGINT NOT NULL DEFAULT 0,
    counted_only BIGINT NOT NULL DEFAULT 0,
    tasks_made BIGINT NOT NULL DEFAULT 0,
    not_shared BIGINT NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX import_runs_tenant ON import_runs (tenant_id, started_at_ms);

-- Rows that failed their checks, kept with the reason (line and column).
CREATE TABLE import_rejects (
    id INTEGER PRIMARY KEY,
    import_run_id BIGINT NOT NULL REFERENCES import_runs(id),
    line BIGINT NOT NULL,
    column_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    raw TEXT NOT NULL
);
CREATE INDEX import_rejects_run ON import_rejects (import_run_id, line);

CREATE TABLE source_records (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    kind TEXT NOT NULL,
    source_system TEXT NOT NULL,
    source_key TEXT NOT NULL,
    first_run_id BIGINT NOT NULL REFERENCES import_runs(id),
    last_run_id BIGINT NOT NULL REFERENCES import_runs(id),
    payload TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    person_id BIGINT REFERENCES persons(id),
    family_id BIGINT REFERENCES families(id),
    hub_site_id BIGINT REFERENCES hub_sites(id),
    event_on TEXT,
    consent BOOLEAN NOT NULL DEFAULT FALSE,
    status TEXT NOT NULL,
    match_probability DOUBLE PRECISION,
    match_weight DOUBLE PRECISION,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (tenant_id, source_system, source_key)
);
CREATE INDEX source_records_person ON source_records (person_id);
CREATE INDEX source_records_status ON source_records (tenant_id, status);
CREATE INDEX source_records_reach ON source_records (tenant_id, kind, event_on);

-- Candidates for a record whose best match fell between the thresholds.
CREATE TABLE match_reviews (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    source_record_id BIGINT NOT NULL REFERENCES source_records(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    match_probability DOUBLE PRECISION NOT NULL,
    match_weight DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    decided_by_user_id BIGINT REFERENCES users(id),
    decided_at_ms BIGINT,
    created_at_ms BIGINT NOT NULL,
    UNIQUE (source_record_id, person_id)
);
CREATE INDEX match_reviews_queue ON match_reviews (tenant_id, status, match_probability);

-- Every link made or undone, by whom and how: a link can be undone, and the
-- history stays.
CREATE TABLE record_links (
    id INTEGER PRIMARY KEY,
    source_record_id BIGINT NOT NULL REFERENCES source_records(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    method TEXT NOT NULL,
    match_probability DOUBLE PRECISION,
    linked_by_user_id BIGINT REFERENCES users(id),
    linked_at_ms BIGINT NOT NULL,
    undone_by_user_id BIGINT REFERENCES users(id),
    undone_at_ms BIGINT
);
CREATE INDEX record_links_record ON record_links (source_record_id);
CREATE INDEX record_links_person ON record_links (person_id);
