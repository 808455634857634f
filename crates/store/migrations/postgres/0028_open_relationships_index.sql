-- Who may see a family is decided by its open team memberships and open
-- involvements (search's and the lists' visibility condition, and the
-- policy's facts). Covering partial indexes answer "is this user on the team",
-- "is this organisation involved" and "who is" from the index alone, without
-- a table lookup per membership; and a person's families come from one index.
-- A user's unexpired break-glass overrides are read once per list or search.
CREATE INDEX team_members_open ON team_members (family_id, user_id) WHERE until_date IS NULL;
CREATE INDEX involvements_open ON involvements (family_id, organisation_id) WHERE ended_on IS NULL;
CREATE INDEX family_members_person_family ON family_members (person_id, family_id);
DROP INDEX family_members_person;
CREATE INDEX access_overrides_user ON access_overrides (user_id, expires_at_ms) WHERE kind = 'break_glass';
ANALYZE team_members;
ANALYZE involvements;
ANALYZE family_members;
ANALYZE access_overrides;
