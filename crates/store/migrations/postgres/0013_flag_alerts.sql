-- Issue 5 (flags and alerts): which organisation was alerted about which
-- flag, so raising a flag alerts each organisation at most once.
CREATE TABLE flag_alerts (
    flag_id BIGINT NOT NULL REFERENCES flags(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    PRIMARY KEY (flag_id, organisation_id)
);
