-- The services Kindred publishes through Open Referral UK (its own, active),
-- in id order: /openreferral/services pages through them and counts them
-- without sorting the whole directory for every page.
CREATE INDEX dir_services_published ON dir_services (id) WHERE source_id IS NULL AND status = 'active';
