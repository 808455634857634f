-- Restricted persons are very few. Every page that shows addresses asks
-- whether anyone living at them is restricted; with this index that check
-- starts from the restricted persons (or finds one in a one-page index)
-- instead of looking up every neighbour's person row.
CREATE INDEX persons_restricted ON persons (id) WHERE restricted;
ANALYZE persons;
