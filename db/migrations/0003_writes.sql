-- Idempotency-Key on POST: the first successful answer to a key, replayed to its retries for 24 hours.
-- Keys belong to the API key that used them. A retry waits on the claimed row until the first
-- request's transaction ends, so two concurrent retries still create one therapy.
CREATE TABLE idempotency_keys (
    api_key_id      uuid NOT NULL REFERENCES api_keys (id),
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_sha256  bytea NOT NULL CHECK (length(request_sha256) = 32),
    status_code     integer NOT NULL,
    location        text NULL,
    etag            text NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

CREATE INDEX therapy_versions_api_key_id_idx ON therapy_versions (api_key_id);
