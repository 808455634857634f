-- Issue 7 (the universal pathway): each tenant's stage model, and each
-- child's completed stages, by a recorded contact or an imported one.
ALTER TABLE tenants ADD COLUMN pathway_model TEXT NOT NULL DEFAULT 'hcp';

CREATE TABLE pathway_completions (
    id INTEGER PRIMARY KEY,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    stage TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    contact_id BIGINT REFERENCES contacts(id),
    source_record_id BIGINT REFERENCES source_records(id),
    recorded_by_user_id BIGINT REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    UNIQUE (person_id, stage)
);
