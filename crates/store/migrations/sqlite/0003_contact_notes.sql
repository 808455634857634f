-- Contacts and case notes: who besides the author may read a sensitive note,
-- and the author's contacts in date order.
CREATE TABLE contact_readers (
    contact_id BIGINT NOT NULL REFERENCES contacts(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    PRIMARY KEY (contact_id, user_id)
);
CREATE INDEX contacts_author ON contacts (author_user_id, occurred_on);
