-- Maillage core schema: structures, advisers, companies, sources, offers, candidates,
-- matches, feedback, model registry, ingestion runs, quarantine and audit.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Adviser side ---------------------------------------------------------------

CREATE TABLE structures (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind            text NOT NULL CHECK (kind IN (
                        'france_travail', 'mission_locale', 'cite_emploi', 'plie', 'cap_emploi',
                        'siae', 'departement', 'association', 'other')),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    siret           char(14) CHECK (siret ~ '^[0-9]{14}$'),
    commune_insee   varchar(5),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE advisers (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    structure_id    uuid NOT NULL REFERENCES structures (id),
    email           text NOT NULL UNIQUE CHECK (email = lower(email)),
    display_name    text,
    oidc_subject    text UNIQUE,
    role            text NOT NULL DEFAULT 'adviser'
                        CHECK (role IN ('adviser', 'structure_admin', 'platform_admin')),
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz
);
CREATE INDEX advisers_structure_idx ON advisers (structure_id);

-- Employer side --------------------------------------------------------------

CREATE TABLE companies (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    siret           char(14) UNIQUE CHECK (siret ~ '^[0-9]{14}$'),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
    name_normalized text NOT NULL,
    naf_code        varchar(6),
    size_band       text,
    postal_code     varchar(5),
    commune_insee   varchar(5),
    -- Engagement: Les entreprises s'engagent membership and its commitments, EQ2030, QPV clause.
    lee_member      boolean NOT NULL DEFAULT false,
    lee_commitments text[] NOT NULL DEFAULT '{}',
    eq2030          boolean NOT NULL DEFAULT false,
    qpv_clause      boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX companies_name_trgm_idx ON companies USING gin (name_normalized gin_trgm_ops);

CREATE TABLE company_api_keys (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id      bigint NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
    prefix          text NOT NULL UNIQUE,
    secret_hash     text NOT NULL,
    scopes          text[] NOT NULL DEFAULT '{offers:write}',
    label           text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_used_at    timestamptz,
    revoked_at      timestamptz
);

-- Offers -----------------------------------------------------------------------

CREATE TABLE sources (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9_-]{1,40}$'),
    kind            text NOT NULL CHECK (kind IN ('lee', 'eq2030', 'api', 'file', 'demo')),
    label           text NOT NULL,
    config          jsonb NOT NULL DEFAULT '{}',
    cursor_state    jsonb,
    -- Rank used when choosing the offer kept in a duplicate cluster (lower wins).
    priority        smallint NOT NULL DEFAULT 100,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE offers (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id               text NOT NULL REFERENCES sources (id),
    external_id             text NOT NULL,
    company_id              bigint REFERENCES companies (id),
    title                   text NOT NULL,
    description             text NOT NULL,
    -- ROME 4.0: the code used for matching, the source's own, and the predicted one.
    rome_code               char(5),
    rome_code_source        text,
    rome_code_predicted     char(5),
    rome_prediction_score   real,
    appellation_code        integer,
    appellation_label       text,
    contract_type           text NOT NULL CHECK (contract_type IN (
                                'CDI', 'CDD', 'MIS', 'SAI', 'LIB', 'FRA', 'DIN', 'TTI', 'DDI',
                                'APPRENTISSAGE', 'PROFESSIONNALISATION', 'STAGE', 'IAE', 'AUTRE')),
    contract_nature         text,
    contract_duration_months real CHECK (contract_duration_months >= 0),
    hours_per_week          real CHECK (hours_per_week > 0 AND hours_per_week <= 60),
    part_time               boolean,
    -- Working-time pattern: early, late, night, weekend, split shifts.
    work_schedule           text[] NOT NULL DEFAULT '{}',
    experience_required     char(1) CHECK (experience_required IN ('D', 'S', 'E')),
    experience_months       integer CHECK (experience_months >= 0),
    -- French education levels (nomenclature 2019): 3 = CAP/BEP … 8 = doctorate.
    education_level         smallint CHECK (education_level BETWEEN 1 AND 8),
    skills                  jsonb NOT NULL DEFAULT '[]',
    languages               jsonb NOT NULL DEFAULT '[]',
    licences                text[] NOT NULL DEFAULT '{}',
    workplace_label         text,
    commune_insee           varchar(5),
    postal_code             varchar(5),
    lat                     double precision CHECK (lat BETWEEN -90 AND 90),
    lon                     double precision CHECK (lon BETWEEN -180 AND 180),
    pt                      cube GENERATED ALWAYS AS (ll_to_earth(lat, lon)::cube) STORED,
    qpv_code                text,
    remote_work             boolean NOT NULL DEFAULT false,
    positions               integer NOT NULL DEFAULT 1 CHECK (positions >= 1),
    salary_label            text,
    apply_url               text,
    apply_email             text,
    naf_code                varchar(6),
    raw                     jsonb,
    content_hash            bytea NOT NULL,
    status                  text NOT NULL DEFAULT 'active'
                                CHECK (status IN ('active', 'unpublished', 'expired', 'closed', 'duplicate')),
    duplicate_of            bigint REFERENCES offers (id),
    source_created_at       timestamptz,
    source_updated_at       timestamptz,
    starts_on               date,
    expires_at              timestamptz,
    embedding               vector(384),
    embedding_model         text,
    embedded_hash           bytea,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, external_id),
    CHECK ((lat IS NULL) = (lon IS NULL)),
    CHECK (status <> 'duplicate' OR duplicate_of IS NOT NULL)
);
CREATE INDEX offers_company_idx ON offers (company_id);
CREATE INDEX offers_rome_active_idx ON offers (rome_code) WHERE status = 'active';
CREATE INDEX offers_expiry_active_idx ON offers (expires_at) WHERE status = 'active';
CREATE INDEX offers_pt_active_idx ON offers USING gist (pt) WHERE status = 'active';
CREATE INDEX offers_embedding_active_idx ON offers USING hnsw (embedding vector_cosine_ops)
    WHERE status = 'active';

CREATE TABLE offer_status_history (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    offer_id        bigint NOT NULL REFERENCES offers (id) ON DELETE CASCADE,
    old_status      text,
    new_status      text NOT NULL,
    reason          text NOT NULL,
    run_id          bigint,
    changed_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX offer_status_history_offer_idx ON offer_status_history (offer_id, changed_at);

-- Candidates (personal data: always read through the structure-scoped accessor) -----

CREATE TABLE candidates (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    structure_id            uuid NOT NULL REFERENCES structures (id),
    referent_adviser_id     uuid REFERENCES advisers (id) ON DELETE SET NULL,
    -- Pseudonymous reference chosen by the structure; never the NIR.
    reference               text NOT NULL CHECK (length(reference) BETWEEN 1 AND 64),
    commune_insee           varchar(5) NOT NULL,
    lat                     double precision CHECK (lat BETWEEN -90 AND 90),
    lon                     double precision CHECK (lon BETWEEN -180 AND 180),
    pt                      cube GENERATED ALWAYS AS (ll_to_earth(lat, lon)::cube) STORED,
    qpv_code                text,
    target_rome_codes       text[] NOT NULL DEFAULT '{}',
    target_appellations     integer[] NOT NULL DEFAULT '{}',
    skills                  jsonb NOT NULL DEFAULT '[]',
    experience_months       integer CHECK (experience_months >= 0),
    education_level         smallint CHECK (education_level BETWEEN 1 AND 8),
    languages               jsonb NOT NULL DEFAULT '[]',
    licences                text[] NOT NULL DEFAULT '{}',
    has_vehicle             boolean NOT NULL DEFAULT false,
    max_commute_km          real CHECK (max_commute_km > 0 AND max_commute_km <= 1000),
    max_commute_minutes     integer CHECK (max_commute_minutes > 0 AND max_commute_minutes <= 300),
    transport_mode          text CHECK (transport_mode IN ('walk', 'bike', 'public_transport', 'car', 'two_wheeler')),
    -- Schedules the candidate cannot work (childcare…): early, late, night, weekend, split.
    unavailable_schedules   text[] NOT NULL DEFAULT '{}',
    part_time_only          boolean NOT NULL DEFAULT false,
    desired_contracts       text[] NOT NULL DEFAULT '{}',
    desired_hours_min       real CHECK (desired_hours_min > 0),
    desired_hours_max       real CHECK (desired_hours_max > 0),
    available_from          date,
    eligibility             text[] NOT NULL DEFAULT '{}',
    birth_year              smallint CHECK (birth_year BETWEEN 1930 AND 2020),
    summary                 text CHECK (length(summary) <= 4000),
    consent_given_at        timestamptz,
    status                  text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'closed')),
    embedding               vector(384),
    embedding_model         text,
    embedded_hash           bytea,
    last_activity_at        timestamptz NOT NULL DEFAULT now(),
    retention_flagged_at    timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    UNIQUE (structure_id, reference),
    CHECK ((lat IS NULL) = (lon IS NULL)),
    CHECK (desired_hours_min IS NULL OR desired_hours_max IS NULL OR desired_hours_min <= desired_hours_max)
);
CREATE INDEX candidates_structure_idx ON candidates (structure_id, status);

-- Matches, feedback, models -------------------------------------------------------

CREATE TABLE models (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version         text NOT NULL UNIQUE,
    kind            text NOT NULL,
    status          text NOT NULL DEFAULT 'candidate'
                        CHECK (status IN ('candidate', 'champion', 'rejected', 'retired')),
    artifact        bytea,
    artifact_format text,
    feature_names   text[] NOT NULL,
    feature_version text NOT NULL,
    data_window     tstzrange,
    metrics         jsonb NOT NULL DEFAULT '{}',
    library_versions jsonb NOT NULL DEFAULT '{}',
    params          jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now(),
    promoted_at     timestamptz
);
CREATE UNIQUE INDEX models_single_champion_idx ON models ((status)) WHERE status = 'champion';

CREATE TABLE match_requests (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    direction       text NOT NULL CHECK (direction IN ('offers_for_candidate', 'candidates_for_offer')),
    structure_id    uuid REFERENCES structures (id),
    adviser_id      uuid REFERENCES advisers (id) ON DELETE SET NULL,
    candidate_id    uuid REFERENCES candidates (id) ON DELETE SET NULL,
    offer_id        bigint REFERENCES offers (id),
    model_version   text NOT NULL,
    params          jsonb NOT NULL DEFAULT '{}',
    served_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX match_requests_candidate_idx ON match_requests (candidate_id);

CREATE TABLE match_items (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    request_id      uuid NOT NULL REFERENCES match_requests (id) ON DELETE CASCADE,
    candidate_id    uuid REFERENCES candidates (id) ON DELETE SET NULL,
    -- Stable pseudonym kept when the candidate is erased, so training data survives anonymised.
    candidate_key   text NOT NULL,
    offer_id        bigint NOT NULL REFERENCES offers (id),
    rank            integer NOT NULL CHECK (rank >= 1),
    score           double precision NOT NULL,
    features        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX match_items_request_idx ON match_items (request_id);
CREATE INDEX match_items_candidate_idx ON match_items (candidate_id);
CREATE INDEX match_items_offer_idx ON match_items (offer_id);

CREATE TABLE feedback (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    match_item_id   uuid NOT NULL REFERENCES match_items (id) ON DELETE CASCADE,
    structure_id    uuid REFERENCES structures (id),
    adviser_id      uuid REFERENCES advisers (id) ON DELETE SET NULL,
    company_id      bigint REFERENCES companies (id),
    event           text NOT NULL CHECK (event IN (
                        'proposed', 'interested', 'declined', 'applied', 'interview', 'hired',
                        'refused_by_employer')),
    reason_code     text,
    comment         text CHECK (length(comment) <= 2000),
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX feedback_item_idx ON feedback (match_item_id);

-- Ingestion bookkeeping ------------------------------------------------------------

CREATE TABLE ingestion_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source_id       text NOT NULL REFERENCES sources (id),
    status          text NOT NULL DEFAULT 'running'
                        CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted')),
    snapshot        boolean NOT NULL DEFAULT false,
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    fetched         integer NOT NULL DEFAULT 0,
    created         integer NOT NULL DEFAULT 0,
    updated         integer NOT NULL DEFAULT 0,
    unchanged       integer NOT NULL DEFAULT 0,
    unpublished     integer NOT NULL DEFAULT 0,
    duplicates      integer NOT NULL DEFAULT 0,
    quarantined     integer NOT NULL DEFAULT 0,
    embedded        integer NOT NULL DEFAULT 0,
    error           text
);
CREATE INDEX ingestion_runs_source_idx ON ingestion_runs (source_id, started_at DESC);

CREATE TABLE quarantine (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id          bigint REFERENCES ingestion_runs (id),
    source_id       text NOT NULL REFERENCES sources (id),
    external_id     text,
    step            text NOT NULL CHECK (step IN ('fetch', 'parse', 'validate', 'normalise', 'deduplicate', 'upsert', 'embed')),
    reason_code     text NOT NULL,
    reason          text NOT NULL,
    payload         jsonb,
    payload_text    text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    resolved_at     timestamptz,
    CHECK (payload IS NOT NULL OR payload_text IS NOT NULL)
);
CREATE INDEX quarantine_open_idx ON quarantine (source_id, created_at) WHERE resolved_at IS NULL;

-- Audit of every read and write of personal data -------------------------------------

CREATE TABLE audit_log (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_kind      text NOT NULL CHECK (actor_kind IN ('adviser', 'company', 'system')),
    actor_id        text NOT NULL,
    structure_id    uuid,
    action          text NOT NULL,
    object_kind     text NOT NULL,
    object_id       text,
    request_id      text,
    details         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_structure_idx ON audit_log (structure_id, at DESC);
CREATE INDEX audit_log_object_idx ON audit_log (object_kind, object_id);
