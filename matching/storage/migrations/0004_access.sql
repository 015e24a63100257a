-- Access control and GDPR bookkeeping: idempotency of company requests, erasure records.

-- Responses replayed for a repeated Idempotency-Key (same company, same key, same request).
CREATE TABLE idempotency_keys (
    company_id      bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    key             text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    request_hash    bytea NOT NULL,
    status_code     smallint NOT NULL,
    response_body   jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (company_id, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- One row per erased candidate, without personal data: the pseudonym kept in match logs.
CREATE TABLE candidate_erasures (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    candidate_key   text NOT NULL UNIQUE,
    structure_id    uuid REFERENCES structures (id),
    reason          text NOT NULL CHECK (reason IN ('request', 'retention')),
    erased_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX candidates_retention_idx ON candidates (last_activity_at) WHERE status IN ('active', 'closed');
CREATE INDEX offers_api_company_idx ON offers (company_id, id) WHERE source_id = 'api';
