-- Issue 8 (FHIR and the JSON API): partner systems registered by a tenant's
-- administrators, and the OAuth2 client-credentials access tokens issued to
-- them. A system acts for exactly one organisation, through its own account
-- row in `users` (no password can sign it in): that row is the audit actor
-- and the access policy's subject, so the same policy decides for the system
-- as for its organisation's users. Secrets and tokens are 256-bit random
-- values stored as SHA-256 hashes only.

CREATE TABLE api_clients (
    id INTEGER PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants(id),
    organisation_id BIGINT NOT NULL REFERENCES organisations(id),
    user_id BIGINT NOT NULL UNIQUE REFERENCES users(id),
    name TEXT NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    secret_hash TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    created_by_user_id BIGINT REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    last_used_ms BIGINT
);
CREATE INDEX api_clients_tenant ON api_clients (tenant_id);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    api_client_id BIGINT NOT NULL REFERENCES api_clients(id),
    scope TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX api_tokens_client ON api_tokens (api_client_id);
