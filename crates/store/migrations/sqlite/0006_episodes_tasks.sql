-- Episodes run through stages (assessment, plan, review, closure), close with
-- a reason and an outcome, can be reopened or stepped up and down, and keep a
-- timeline. Tasks: one model for every piece of dated work, assigned to a
-- worker or a team.

ALTER TABLE episodes ADD COLUMN stage TEXT NOT NULL DEFAULT 'assessment';
ALTER TABLE episodes ADD COLUMN outcome TEXT;
UPDATE episodes SET stage = 'closure' WHERE status = 'closed';
CREATE INDEX episodes_lead ON episodes (lead_user_id, status);

CREATE TABLE episode_events (
    id INTEGER PRIMARY KEY,
    episode_id BIGINT NOT NULL REFERENCES episodes(id),
    at_ms BIGINT NOT NULL,
    by_user_id BIGINT REFERENCES users(id),
    kind TEXT NOT NULL,
    from_value TEXT,
    to_value TEXT,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX episode_events_episode ON episode_events (episode_id, at_ms);

-- Episodes already recorded begin their timeline with when they opened and closed.
INSERT INTO episode_events (episode_id, at_ms, kind, to_value)
SELECT id, CAST(strftime('%s', opened_on) AS INTEGER) * 1000, 'opened', level FROM episodes;
INSERT INTO episode_events (episode_id, at_ms, kind, detail)
SELECT id, CAST(strftime('%s', closed_on) AS INTEGER) * 1000, 'closed', COALESCE(close_reason, '')
FROM episodes WHERE closed_on IS NOT NULL;

CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    kind TEXT NOT NULL,
    family_id BIGINT REFERENCES families(id),
    episode_id BIGINT REFERENCES episodes(id),
    assigned_user_id BIGINT REFERENCES users(id),
    assigned_team_id BIGINT REFERENCES teams(id),
    title TEXT NOT NULL,
    due_on TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    created_by_user_id BIGINT REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    completed_by_user_id BIGINT REFERENCES users(id),
    completed_at_ms BIGINT,
    CHECK (assigned_user_id IS NOT NULL OR assigned_team_id IS NOT NULL)
);
CREATE INDEX tasks_user ON tasks (assigned_user_id, status, due_on);
CREATE INDEX tasks_team ON tasks (assigned_team_id, status, due_on);
CREATE INDEX tasks_family ON tasks (family_id);
CREATE INDEX tasks_episode ON tasks (episode_id);
