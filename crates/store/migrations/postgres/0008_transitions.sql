-- Transitions (F19): a transition-plan task is about one young person, and
-- each young person has at most one, so making the missing ones twice (or
-- from two places at once) makes them once.
ALTER TABLE tasks ADD COLUMN person_id BIGINT REFERENCES persons(id);
CREATE UNIQUE INDEX tasks_transition_plan ON tasks (person_id) WHERE kind = 'transition_plan';
