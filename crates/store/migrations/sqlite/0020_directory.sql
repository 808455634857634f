-- Issue 8 (F17): the service directory, shaped like Open Referral UK 3.0 so
-- it can be published as ORUK and other ORUK feeds imported into it. Every
-- record has an integer id and a UUID (ORUK's id). Directory data is public
-- information: no personal data lives in a dir_* table. Records imported from
-- an external feed carry its source_id and the feed's own id (external_id),
-- unique together; local records have no source.

CREATE TABLE directory_sources (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    last_pulled_at_ms BIGINT,
    last_result TEXT,
    UNIQUE (tenant_id, base_url)
);

CREATE TABLE dir_organisations (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    organisation_id BIGINT REFERENCES organisations(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    email TEXT,
    website TEXT,
    source_id BIGINT REFERENCES directory_sources(id),
    external_id TEXT,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (source_id, external_id)
);
CREATE INDEX dir_organisations_tenant ON dir_organisations (tenant_id, name);

CREATE TABLE dir_services (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    dir_organisation_id BIGINT NOT NULL REFERENCES dir_organisations(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    url TEXT,
    email TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    fees_description TEXT,
    minimum_age BIGINT,
    maximum_age BIGINT,
    send_up_to_25 BOOLEAN NOT NULL DEFAULT FALSE,
    family_hub_offer BOOLEAN NOT NULL DEFAULT FALSE,
    start_for_life BOOLEAN NOT NULL DEFAULT FALSE,
    connect_organisation_id BIGINT REFERENCES organisations(id),
    source_id BIGINT REFERENCES directory_sources(id),
    external_id TEXT,
    last_modified_ms BIGINT NOT NULL,
    UNIQUE (source_id, external_id)
);
CREATE INDEX dir_services_tenant ON dir_services (tenant_id, status, name);
CREATE INDEX dir_services_modified ON dir_services (last_modified_ms, id);
CREATE INDEX dir_services_org ON dir_services (dir_organisation_id);
CREATE INDEX dir_services_connect ON dir_services (connect_organisation_id);

CREATE TABLE dir_locations (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    address_1 TEXT,
    city TEXT,
    postcode TEXT,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    hub_site_id BIGINT REFERENCES hub_sites(id),
    source_id BIGINT REFERENCES directory_sources(id),
    external_id TEXT,
    UNIQUE (source_id, external_id)
);
CREATE INDEX dir_locations_tenant ON dir_locations (tenant_id, name);

CREATE TABLE dir_service_at_locations (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    service_id BIGINT NOT NULL REFERENCES dir_services(id) ON DELETE CASCADE,
    location_id BIGINT NOT NULL REFERENCES dir_locations(id),
    UNIQUE (service_id, location_id)
);
CREATE INDEX dir_service_at_locations_location ON dir_service_at_locations (location_id);

CREATE TABLE dir_schedules (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    service_id BIGINT NOT NULL REFERENCES dir_services(id) ON DELETE CASCADE,
    service_at_location_id BIGINT REFERENCES dir_service_at_locations(id) ON DELETE CASCADE,
    freq TEXT NOT NULL DEFAULT 'WEEKLY',
    byday TEXT NOT NULL DEFAULT '',
    opens_at TEXT,
    closes_at TEXT,
    description TEXT NOT NULL DEFAULT '',
    valid_from DATE,
    valid_to DATE
);
CREATE INDEX dir_schedules_service ON dir_schedules (service_id);

CREATE TABLE dir_cost_options (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    service_id BIGINT NOT NULL REFERENCES dir_services(id) ON DELETE CASCADE,
    option TEXT NOT NULL DEFAULT '',
    amount BIGINT,
    amount_description TEXT NOT NULL DEFAULT ''
);
CREATE INDEX dir_cost_options_service ON dir_cost_options (service_id);

CREATE TABLE dir_languages (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    service_id BIGINT NOT NULL REFERENCES dir_services(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    code TEXT NOT NULL
);
CREATE INDEX dir_languages_service ON dir_languages (service_id);

CREATE TABLE dir_contacts (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    service_id BIGINT NOT NULL REFERENCES dir_services(id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    phone TEXT,
    email TEXT
);
CREATE INDEX dir_contacts_service ON dir_contacts (service_id);

CREATE TABLE dir_delivery_modes (
    service_id BIGINT NOT NULL REFERENCES dir_services(id) ON DELETE CASCADE,
    mode TEXT NOT NULL,
    PRIMARY KEY (service_id, mode)
);

CREATE TABLE dir_service_areas (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    service_id BIGINT NOT NULL REFERENCES dir_services(id) ON DELETE CASCADE,
    area TEXT NOT NULL,
    UNIQUE (service_id, area)
);
CREATE INDEX dir_service_areas_area ON dir_service_areas (area, service_id);

CREATE TABLE dir_taxonomies (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    tenant_id BIGINT REFERENCES tenants(id),
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    uri TEXT,
    version TEXT,
    source_id BIGINT REFERENCES directory_sources(id),
    external_id TEXT,
    UNIQUE (source_id, external_id)
);

CREATE TABLE dir_taxonomy_terms (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    taxonomy_id BIGINT NOT NULL REFERENCES dir_taxonomies(id),
    parent_id BIGINT REFERENCES dir_taxonomy_terms(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    source_id BIGINT REFERENCES directory_sources(id),
    external_id TEXT,
    UNIQUE (taxonomy_id, code),
    UNIQUE (source_id, external_id)
);
CREATE INDEX dir_taxonomy_terms_parent ON dir_taxonomy_terms (parent_id);

CREATE TABLE dir_service_terms (
    service_id BIGINT NOT NULL REFERENCES dir_services(id) ON DELETE CASCADE,
    term_id BIGINT NOT NULL REFERENCES dir_taxonomy_terms(id),
    PRIMARY KEY (service_id, term_id)
);
CREATE INDEX dir_service_terms_term ON dir_service_terms (term_id, service_id);

-- Connecting a family to a service: case content (the request's text, who
-- is concerned, who consented), read only through the access policy.
CREATE TABLE connection_requests (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    family_id BIGINT NOT NULL REFERENCES families(id),
    service_id BIGINT NOT NULL REFERENCES dir_services(id),
    receiving_organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    sender_user_id BIGINT NOT NULL REFERENCES users(id),
    sender_organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    request_text TEXT NOT NULL,
    consent_person_id BIGINT NOT NULL REFERENCES persons(id),
    consent_on DATE NOT NULL,
    consent_how TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'sent',
    decline_reason TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX connection_requests_receiving ON connection_requests (receiving_organisation_id, status, created_at_ms);
CREATE INDEX connection_requests_sender ON connection_requests (sender_organisation_id, created_at_ms);
CREATE INDEX connection_requests_family ON connection_requests (family_id);

CREATE TABLE connection_people (
    connection_id BIGINT NOT NULL REFERENCES connection_requests(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    PRIMARY KEY (connection_id, person_id)
);

CREATE TABLE connection_events (
    id INTEGER PRIMARY KEY,
    connection_id BIGINT NOT NULL REFERENCES connection_requests(id),
    status TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    user_id BIGINT REFERENCES users(id),
    reason TEXT
);
CREATE INDEX connection_events_connection ON connection_events (connection_id, at_ms);

-- A notification about a connection request links to it.
ALTER TABLE notifications ADD COLUMN connection_id BIGINT REFERENCES connection_requests(id);
