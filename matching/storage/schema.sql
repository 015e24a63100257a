CREATE EXTENSION IF NOT EXISTS cube WITH SCHEMA public;

COMMENT ON EXTENSION cube IS 'data type for multidimensional cubes';

CREATE EXTENSION IF NOT EXISTS earthdistance WITH SCHEMA public;

COMMENT ON EXTENSION earthdistance IS 'calculate great-circle distances on the surface of the Earth';

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';

CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;

COMMENT ON EXTENSION unaccent IS 'text search dictionary that removes accents';

CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;

COMMENT ON EXTENSION vector IS 'vector data type and ivfflat and hnsw access methods';

CREATE TABLE public.advisers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    structure_id uuid NOT NULL,
    email text NOT NULL,
    display_name text,
    oidc_subject text,
    role text DEFAULT 'adviser'::text NOT NULL,
    active boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_seen_at timestamp with time zone,
    CONSTRAINT advisers_email_check CHECK ((email = lower(email))),
    CONSTRAINT advisers_role_check CHECK ((role = ANY (ARRAY['adviser'::text, 'structure_admin'::text, 'platform_admin'::text])))
);

CREATE TABLE public.audit_log (
    id bigint NOT NULL,
    at timestamp with time zone DEFAULT now() NOT NULL,
    actor_kind text NOT NULL,
    actor_id text NOT NULL,
    structure_id uuid,
    action text NOT NULL,
    object_kind text NOT NULL,
    object_id text,
    request_id text,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT audit_log_actor_kind_check CHECK ((actor_kind = ANY (ARRAY['adviser'::text, 'company'::text, 'system'::text])))
);

ALTER TABLE public.audit_log ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.audit_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.candidates (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    structure_id uuid NOT NULL,
    referent_adviser_id uuid,
    reference text NOT NULL,
    commune_insee character varying(5) NOT NULL,
    lat double precision,
    lon double precision,
    pt public.cube GENERATED ALWAYS AS ((public.ll_to_earth(lat, lon))::public.cube) STORED,
    qpv_code text,
    target_rome_codes text[] DEFAULT '{}'::text[] NOT NULL,
    target_appellations integer[] DEFAULT '{}'::integer[] NOT NULL,
    skills jsonb DEFAULT '[]'::jsonb NOT NULL,
    experience_months integer,
    education_level smallint,
    languages jsonb DEFAULT '[]'::jsonb NOT NULL,
    licences text[] DEFAULT '{}'::text[] NOT NULL,
    has_vehicle boolean DEFAULT false NOT NULL,
    max_commute_km real,
    max_commute_minutes integer,
    transport_mode text,
    unavailable_schedules text[] DEFAULT '{}'::text[] NOT NULL,
    part_time_only boolean DEFAULT false NOT NULL,
    desired_contracts text[] DEFAULT '{}'::text[] NOT NULL,
    desired_hours_min real,
    desired_hours_max real,
    available_from date,
    eligibility text[] DEFAULT '{}'::text[] NOT NULL,
    birth_year smallint,
    summary text,
    consent_given_at timestamp with time zone,
    status text DEFAULT 'active'::text NOT NULL,
    embedding public.vector(384),
    embedding_model text,
    embedded_hash bytea,
    last_activity_at timestamp with time zone DEFAULT now() NOT NULL,
    retention_flagged_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT candidates_birth_year_check CHECK (((birth_year >= 1930) AND (birth_year <= 2020))),
    CONSTRAINT candidates_check CHECK (((lat IS NULL) = (lon IS NULL))),
    CONSTRAINT candidates_check1 CHECK (((desired_hours_min IS NULL) OR (desired_hours_max IS NULL) OR (desired_hours_min <= desired_hours_max))),
    CONSTRAINT candidates_desired_hours_max_check CHECK ((desired_hours_max > (0)::double precision)),
    CONSTRAINT candidates_desired_hours_min_check CHECK ((desired_hours_min > (0)::double precision)),
    CONSTRAINT candidates_education_level_check CHECK (((education_level >= 1) AND (education_level <= 8))),
    CONSTRAINT candidates_experience_months_check CHECK ((experience_months >= 0)),
    CONSTRAINT candidates_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT candidates_lon_check CHECK (((lon >= ('-180'::integer)::double precision) AND (lon <= (180)::double precision))),
    CONSTRAINT candidates_max_commute_km_check CHECK (((max_commute_km > (0)::double precision) AND (max_commute_km <= (1000)::double precision))),
    CONSTRAINT candidates_max_commute_minutes_check CHECK (((max_commute_minutes > 0) AND (max_commute_minutes <= 300))),
    CONSTRAINT candidates_reference_check CHECK (((length(reference) >= 1) AND (length(reference) <= 64))),
    CONSTRAINT candidates_status_check CHECK ((status = ANY (ARRAY['active'::text, 'closed'::text]))),
    CONSTRAINT candidates_summary_check CHECK ((length(summary) <= 4000)),
    CONSTRAINT candidates_transport_mode_check CHECK ((transport_mode = ANY (ARRAY['walk'::text, 'bike'::text, 'public_transport'::text, 'car'::text, 'two_wheeler'::text])))
);

CREATE TABLE public.commune_aliases (
    old_insee character varying(5) NOT NULL,
    insee character varying(5) NOT NULL,
    reason text NOT NULL,
    effective_on date
);

CREATE TABLE public.commune_postal_codes (
    insee character varying(5) NOT NULL,
    postal_code character varying(5) NOT NULL,
    is_main boolean NOT NULL,
    CONSTRAINT commune_postal_codes_postal_code_check CHECK (((postal_code)::text ~ '^[0-9]{5}$'::text))
);

CREATE TABLE public.communes (
    insee character varying(5) NOT NULL,
    name text NOT NULL,
    name_normalized text NOT NULL,
    dept character varying(3) NOT NULL,
    kind text DEFAULT 'commune'::text NOT NULL,
    parent_insee character varying(5),
    lat double precision NOT NULL,
    lon double precision NOT NULL,
    pt public.cube GENERATED ALWAYS AS ((public.ll_to_earth(lat, lon))::public.cube) STORED,
    centre_reliable boolean DEFAULT true NOT NULL,
    CONSTRAINT communes_check CHECK (((kind = 'arrondissement'::text) = (parent_insee IS NOT NULL))),
    CONSTRAINT communes_kind_check CHECK ((kind = ANY (ARRAY['commune'::text, 'arrondissement'::text]))),
    CONSTRAINT communes_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT communes_lon_check CHECK (((lon >= ('-180'::integer)::double precision) AND (lon <= (180)::double precision)))
);

CREATE TABLE public.companies (
    id bigint NOT NULL,
    siret character(14),
    name text NOT NULL,
    name_normalized text NOT NULL,
    naf_code character varying(6),
    size_band text,
    postal_code character varying(5),
    commune_insee character varying(5),
    lee_member boolean DEFAULT false NOT NULL,
    lee_commitments text[] DEFAULT '{}'::text[] NOT NULL,
    eq2030 boolean DEFAULT false NOT NULL,
    qpv_clause boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT companies_name_check CHECK (((length(name) >= 1) AND (length(name) <= 300))),
    CONSTRAINT companies_siret_check CHECK ((siret ~ '^[0-9]{14}$'::text))
);

ALTER TABLE public.companies ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.companies_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.company_api_keys (
    id bigint NOT NULL,
    company_id bigint NOT NULL,
    prefix text NOT NULL,
    secret_hash text NOT NULL,
    scopes text[] DEFAULT '{offers:write}'::text[] NOT NULL,
    label text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    last_used_at timestamp with time zone,
    revoked_at timestamp with time zone
);

ALTER TABLE public.company_api_keys ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.company_api_keys_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.feedback (
    id bigint NOT NULL,
    match_item_id uuid NOT NULL,
    structure_id uuid,
    adviser_id uuid,
    company_id bigint,
    event text NOT NULL,
    reason_code text,
    comment text,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT feedback_comment_check CHECK ((length(comment) <= 2000)),
    CONSTRAINT feedback_event_check CHECK ((event = ANY (ARRAY['proposed'::text, 'interested'::text, 'declined'::text, 'applied'::text, 'interview'::text, 'hired'::text, 'refused_by_employer'::text])))
);

ALTER TABLE public.feedback ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.feedback_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.ingestion_runs (
    id bigint NOT NULL,
    source_id text NOT NULL,
    status text DEFAULT 'running'::text NOT NULL,
    snapshot boolean DEFAULT false NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    fetched integer DEFAULT 0 NOT NULL,
    created integer DEFAULT 0 NOT NULL,
    updated integer DEFAULT 0 NOT NULL,
    unchanged integer DEFAULT 0 NOT NULL,
    unpublished integer DEFAULT 0 NOT NULL,
    duplicates integer DEFAULT 0 NOT NULL,
    quarantined integer DEFAULT 0 NOT NULL,
    embedded integer DEFAULT 0 NOT NULL,
    error text,
    CONSTRAINT ingestion_runs_status_check CHECK ((status = ANY (ARRAY['running'::text, 'succeeded'::text, 'failed'::text, 'interrupted'::text])))
);

ALTER TABLE public.ingestion_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.ingestion_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.match_items (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    request_id uuid NOT NULL,
    candidate_id uuid,
    candidate_key text NOT NULL,
    offer_id bigint NOT NULL,
    rank integer NOT NULL,
    score double precision NOT NULL,
    features jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT match_items_rank_check CHECK ((rank >= 1))
);

CREATE TABLE public.match_requests (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    direction text NOT NULL,
    structure_id uuid,
    adviser_id uuid,
    candidate_id uuid,
    offer_id bigint,
    model_version text NOT NULL,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    served_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT match_requests_direction_check CHECK ((direction = ANY (ARRAY['offers_for_candidate'::text, 'candidates_for_offer'::text])))
);

CREATE TABLE public.models (
    id bigint NOT NULL,
    version text NOT NULL,
    kind text NOT NULL,
    status text DEFAULT 'candidate'::text NOT NULL,
    artifact bytea,
    artifact_format text,
    feature_names text[] NOT NULL,
    feature_version text NOT NULL,
    data_window tstzrange,
    metrics jsonb DEFAULT '{}'::jsonb NOT NULL,
    library_versions jsonb DEFAULT '{}'::jsonb NOT NULL,
    params jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    promoted_at timestamp with time zone,
    CONSTRAINT models_status_check CHECK ((status = ANY (ARRAY['candidate'::text, 'champion'::text, 'rejected'::text, 'retired'::text])))
);

ALTER TABLE public.models ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.models_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.offer_status_history (
    id bigint NOT NULL,
    offer_id bigint NOT NULL,
    old_status text,
    new_status text NOT NULL,
    reason text NOT NULL,
    run_id bigint,
    changed_at timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.offer_status_history ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.offer_status_history_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.offers (
    id bigint NOT NULL,
    source_id text NOT NULL,
    external_id text NOT NULL,
    company_id bigint,
    title text NOT NULL,
    description text NOT NULL,
    rome_code character(5),
    rome_code_source text,
    rome_code_predicted character(5),
    rome_prediction_score real,
    appellation_code integer,
    appellation_label text,
    contract_type text NOT NULL,
    contract_nature text,
    contract_duration_months real,
    hours_per_week real,
    part_time boolean,
    work_schedule text[] DEFAULT '{}'::text[] NOT NULL,
    experience_required character(1),
    experience_months integer,
    education_level smallint,
    skills jsonb DEFAULT '[]'::jsonb NOT NULL,
    languages jsonb DEFAULT '[]'::jsonb NOT NULL,
    licences text[] DEFAULT '{}'::text[] NOT NULL,
    workplace_label text,
    commune_insee character varying(5),
    postal_code character varying(5),
    lat double precision,
    lon double precision,
    pt public.cube GENERATED ALWAYS AS ((public.ll_to_earth(lat, lon))::public.cube) STORED,
    qpv_code text,
    remote_work boolean DEFAULT false NOT NULL,
    positions integer DEFAULT 1 NOT NULL,
    salary_label text,
    apply_url text,
    apply_email text,
    naf_code character varying(6),
    raw jsonb,
    content_hash bytea NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    duplicate_of bigint,
    source_created_at timestamp with time zone,
    source_updated_at timestamp with time zone,
    starts_on date,
    expires_at timestamp with time zone,
    embedding public.vector(384),
    embedding_model text,
    embedded_hash bytea,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT offers_check CHECK (((lat IS NULL) = (lon IS NULL))),
    CONSTRAINT offers_check1 CHECK (((status <> 'duplicate'::text) OR (duplicate_of IS NOT NULL))),
    CONSTRAINT offers_contract_duration_months_check CHECK ((contract_duration_months >= (0)::double precision)),
    CONSTRAINT offers_contract_type_check CHECK ((contract_type = ANY (ARRAY['CDI'::text, 'CDD'::text, 'MIS'::text, 'SAI'::text, 'LIB'::text, 'FRA'::text, 'DIN'::text, 'TTI'::text, 'DDI'::text, 'APPRENTISSAGE'::text, 'PROFESSIONNALISATION'::text, 'STAGE'::text, 'IAE'::text, 'AUTRE'::text]))),
    CONSTRAINT offers_education_level_check CHECK (((education_level >= 1) AND (education_level <= 8))),
    CONSTRAINT offers_experience_months_check CHECK ((experience_months >= 0)),
    CONSTRAINT offers_experience_required_check CHECK ((experience_required = ANY (ARRAY['D'::bpchar, 'S'::bpchar, 'E'::bpchar]))),
    CONSTRAINT offers_hours_per_week_check CHECK (((hours_per_week > (0)::double precision) AND (hours_per_week <= (60)::double precision))),
    CONSTRAINT offers_lat_check CHECK (((lat >= ('-90'::integer)::double precision) AND (lat <= (90)::double precision))),
    CONSTRAINT offers_lon_check CHECK (((lon >= ('-180'::integer)::double precision) AND (lon <= (180)::double precision))),
    CONSTRAINT offers_positions_check CHECK ((positions >= 1)),
    CONSTRAINT offers_status_check CHECK ((status = ANY (ARRAY['active'::text, 'unpublished'::text, 'expired'::text, 'closed'::text, 'duplicate'::text])))
);

ALTER TABLE public.offers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.offers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.qpv (
    code text NOT NULL,
    label text NOT NULL,
    dept character varying(3) NOT NULL,
    communes character varying(5)[] NOT NULL,
    communes_published character varying(5)[] NOT NULL,
    centroid_lat double precision NOT NULL,
    centroid_lon double precision NOT NULL,
    pt public.cube GENERATED ALWAYS AS ((public.ll_to_earth(centroid_lat, centroid_lon))::public.cube) STORED,
    CONSTRAINT qpv_code_check CHECK ((code ~ '^QN[0-9]{2}[0-9AB][0-9]{2}[A-Z]$'::text))
);

CREATE TABLE public.qpv_rings (
    qpv_code text NOT NULL,
    part smallint NOT NULL,
    ring smallint NOT NULL,
    is_hole boolean NOT NULL,
    shape_microdeg polygon NOT NULL,
    CONSTRAINT qpv_rings_check CHECK ((is_hole = (ring > 0)))
);

CREATE TABLE public.quarantine (
    id bigint NOT NULL,
    run_id bigint,
    source_id text NOT NULL,
    external_id text,
    step text NOT NULL,
    reason_code text NOT NULL,
    reason text NOT NULL,
    payload jsonb,
    payload_text text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    resolved_at timestamp with time zone,
    CONSTRAINT quarantine_check CHECK (((payload IS NOT NULL) OR (payload_text IS NOT NULL))),
    CONSTRAINT quarantine_step_check CHECK ((step = ANY (ARRAY['fetch'::text, 'parse'::text, 'validate'::text, 'normalise'::text, 'deduplicate'::text, 'upsert'::text, 'embed'::text])))
);

ALTER TABLE public.quarantine ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.quarantine_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.reference_data_versions (
    dataset text NOT NULL,
    version text NOT NULL,
    source text NOT NULL,
    row_count integer NOT NULL,
    table_counts jsonb NOT NULL,
    files jsonb NOT NULL,
    loaded_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT reference_data_versions_dataset_check CHECK ((dataset = ANY (ARRAY['rome'::text, 'communes'::text, 'qpv'::text])))
);

CREATE TABLE public.rome_appellations (
    code_ogr integer NOT NULL,
    label text NOT NULL,
    short_label text NOT NULL,
    label_normalized text NOT NULL,
    label_search text NOT NULL,
    code_rome character(5) NOT NULL,
    code_rome_parent character(5),
    classification text NOT NULL,
    peu_usite boolean NOT NULL,
    emploi_cadre boolean,
    emploi_reglemente boolean,
    transition_eco text,
    transition_num boolean,
    transition_demo boolean,
    CONSTRAINT rome_appellations_classification_check CHECK ((classification = ANY (ARRAY['principale'::text, 'synonyme'::text])))
);

CREATE TABLE public.rome_competences (
    code_ogr integer NOT NULL,
    label text NOT NULL,
    kind text NOT NULL,
    is_macro boolean DEFAULT false NOT NULL,
    macro_code text,
    macro_code_ogr integer,
    category text,
    subcategory text,
    definition text,
    transition_eco boolean,
    transition_num boolean,
    origin text,
    CONSTRAINT rome_competences_kind_check CHECK ((kind = ANY (ARRAY['savoir_faire'::text, 'savoir_etre'::text, 'savoir'::text, 'contexte_travail'::text])))
);

CREATE TABLE public.rome_domaines (
    code character varying(3) NOT NULL,
    label text NOT NULL,
    grand_domaine character(1) NOT NULL
);

CREATE TABLE public.rome_fiche_items (
    code_rome character(5) NOT NULL,
    code_ogr integer NOT NULL,
    block text NOT NULL,
    rubric text,
    principal boolean DEFAULT false NOT NULL,
    emergent boolean DEFAULT false NOT NULL,
    CONSTRAINT rome_fiche_items_block_check CHECK ((block = ANY (ARRAY['competences'::text, 'contextes_travail'::text]))),
    CONSTRAINT rome_fiche_items_check CHECK (((block = 'competences'::text) = (rubric IS NOT NULL))),
    CONSTRAINT rome_fiche_items_rubric_check CHECK ((rubric = ANY (ARRAY['savoir_faire'::text, 'savoir_etre'::text, 'savoir'::text])))
);

CREATE TABLE public.rome_fiche_naf (
    code_rome character(5) NOT NULL,
    naf_division character(2) NOT NULL
);

CREATE TABLE public.rome_fiches (
    code_rome character(5) NOT NULL,
    code_ogr integer NOT NULL,
    code_fiche_metier integer,
    label text NOT NULL,
    label_search text NOT NULL,
    code_rome_parent character(5),
    domaine character varying(3) NOT NULL,
    grand_domaine character(1) NOT NULL,
    emploi_cadre boolean,
    emploi_reglemente boolean,
    transition_eco text,
    transition_num boolean,
    transition_demo boolean,
    riasec_majeur character(1),
    riasec_mineur character(1)
);

CREATE TABLE public.rome_grand_domaines (
    code character(1) NOT NULL,
    label text NOT NULL
);

CREATE TABLE public.rome_mobilites (
    code_rome character(5) NOT NULL,
    code_rome_cible character(5) NOT NULL,
    ordre smallint NOT NULL,
    CONSTRAINT rome_mobilites_check CHECK ((code_rome <> code_rome_cible))
);

CREATE TABLE public.rome_naf_divisions (
    code character(2) NOT NULL,
    label text NOT NULL
);

CREATE TABLE public.rome_texts (
    code_rome character(5) NOT NULL,
    kind text NOT NULL,
    text text NOT NULL,
    CONSTRAINT rome_texts_kind_check CHECK ((kind = ANY (ARRAY['definition'::text, 'acces_metier'::text])))
);

CREATE TABLE public.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE public.sources (
    id text NOT NULL,
    kind text NOT NULL,
    label text NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    cursor_state jsonb,
    priority smallint DEFAULT 100 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sources_id_check CHECK ((id ~ '^[a-z0-9_-]{1,40}$'::text)),
    CONSTRAINT sources_kind_check CHECK ((kind = ANY (ARRAY['lee'::text, 'eq2030'::text, 'api'::text, 'file'::text, 'demo'::text])))
);

CREATE TABLE public.structures (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    kind text NOT NULL,
    name text NOT NULL,
    siret character(14),
    commune_insee character varying(5),
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT structures_kind_check CHECK ((kind = ANY (ARRAY['france_travail'::text, 'mission_locale'::text, 'cite_emploi'::text, 'plie'::text, 'cap_emploi'::text, 'siae'::text, 'departement'::text, 'association'::text, 'other'::text]))),
    CONSTRAINT structures_name_check CHECK (((length(name) >= 1) AND (length(name) <= 200))),
    CONSTRAINT structures_siret_check CHECK ((siret ~ '^[0-9]{14}$'::text))
);

ALTER TABLE ONLY public.advisers
    ADD CONSTRAINT advisers_email_key UNIQUE (email);

ALTER TABLE ONLY public.advisers
    ADD CONSTRAINT advisers_oidc_subject_key UNIQUE (oidc_subject);

ALTER TABLE ONLY public.advisers
    ADD CONSTRAINT advisers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.candidates
    ADD CONSTRAINT candidates_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.candidates
    ADD CONSTRAINT candidates_structure_id_reference_key UNIQUE (structure_id, reference);

ALTER TABLE ONLY public.commune_aliases
    ADD CONSTRAINT commune_aliases_pkey PRIMARY KEY (old_insee);

ALTER TABLE ONLY public.commune_postal_codes
    ADD CONSTRAINT commune_postal_codes_pkey PRIMARY KEY (postal_code, insee);

ALTER TABLE ONLY public.communes
    ADD CONSTRAINT communes_pkey PRIMARY KEY (insee);

ALTER TABLE ONLY public.companies
    ADD CONSTRAINT companies_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.companies
    ADD CONSTRAINT companies_siret_key UNIQUE (siret);

ALTER TABLE ONLY public.company_api_keys
    ADD CONSTRAINT company_api_keys_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.company_api_keys
    ADD CONSTRAINT company_api_keys_prefix_key UNIQUE (prefix);

ALTER TABLE ONLY public.feedback
    ADD CONSTRAINT feedback_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.ingestion_runs
    ADD CONSTRAINT ingestion_runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.match_items
    ADD CONSTRAINT match_items_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.models
    ADD CONSTRAINT models_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.models
    ADD CONSTRAINT models_version_key UNIQUE (version);

ALTER TABLE ONLY public.offer_status_history
    ADD CONSTRAINT offer_status_history_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_source_id_external_id_key UNIQUE (source_id, external_id);

ALTER TABLE ONLY public.qpv
    ADD CONSTRAINT qpv_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.qpv_rings
    ADD CONSTRAINT qpv_rings_pkey PRIMARY KEY (qpv_code, part, ring);

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.reference_data_versions
    ADD CONSTRAINT reference_data_versions_pkey PRIMARY KEY (dataset);

ALTER TABLE ONLY public.rome_appellations
    ADD CONSTRAINT rome_appellations_pkey PRIMARY KEY (code_ogr);

ALTER TABLE ONLY public.rome_competences
    ADD CONSTRAINT rome_competences_pkey PRIMARY KEY (code_ogr);

ALTER TABLE ONLY public.rome_domaines
    ADD CONSTRAINT rome_domaines_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.rome_fiche_items
    ADD CONSTRAINT rome_fiche_items_pkey PRIMARY KEY (code_rome, code_ogr);

ALTER TABLE ONLY public.rome_fiche_naf
    ADD CONSTRAINT rome_fiche_naf_pkey PRIMARY KEY (code_rome, naf_division);

ALTER TABLE ONLY public.rome_fiches
    ADD CONSTRAINT rome_fiches_code_ogr_key UNIQUE (code_ogr);

ALTER TABLE ONLY public.rome_fiches
    ADD CONSTRAINT rome_fiches_pkey PRIMARY KEY (code_rome);

ALTER TABLE ONLY public.rome_grand_domaines
    ADD CONSTRAINT rome_grand_domaines_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.rome_mobilites
    ADD CONSTRAINT rome_mobilites_pkey PRIMARY KEY (code_rome, code_rome_cible);

ALTER TABLE ONLY public.rome_naf_divisions
    ADD CONSTRAINT rome_naf_divisions_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.rome_texts
    ADD CONSTRAINT rome_texts_pkey PRIMARY KEY (code_rome, kind);

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);

ALTER TABLE ONLY public.sources
    ADD CONSTRAINT sources_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.structures
    ADD CONSTRAINT structures_pkey PRIMARY KEY (id);

CREATE INDEX advisers_structure_idx ON public.advisers USING btree (structure_id);

CREATE INDEX audit_log_object_idx ON public.audit_log USING btree (object_kind, object_id);

CREATE INDEX audit_log_structure_idx ON public.audit_log USING btree (structure_id, at DESC);

CREATE INDEX candidates_structure_idx ON public.candidates USING btree (structure_id, status);

CREATE INDEX commune_postal_codes_insee_idx ON public.commune_postal_codes USING btree (insee);

CREATE UNIQUE INDEX commune_postal_codes_main_idx ON public.commune_postal_codes USING btree (insee) WHERE is_main;

CREATE INDEX communes_dept_idx ON public.communes USING btree (dept);

CREATE INDEX communes_name_trgm_idx ON public.communes USING gin (name_normalized public.gin_trgm_ops);

CREATE INDEX communes_pt_idx ON public.communes USING gist (pt);

CREATE INDEX companies_name_trgm_idx ON public.companies USING gin (name_normalized public.gin_trgm_ops);

CREATE INDEX feedback_item_idx ON public.feedback USING btree (match_item_id);

CREATE INDEX ingestion_runs_source_idx ON public.ingestion_runs USING btree (source_id, started_at DESC);

CREATE INDEX match_items_candidate_idx ON public.match_items USING btree (candidate_id);

CREATE INDEX match_items_offer_idx ON public.match_items USING btree (offer_id);

CREATE INDEX match_items_request_idx ON public.match_items USING btree (request_id);

CREATE INDEX match_requests_candidate_idx ON public.match_requests USING btree (candidate_id);

CREATE UNIQUE INDEX models_single_champion_idx ON public.models USING btree (status) WHERE (status = 'champion'::text);

CREATE INDEX offer_status_history_offer_idx ON public.offer_status_history USING btree (offer_id, changed_at);

CREATE INDEX offers_company_idx ON public.offers USING btree (company_id);

CREATE INDEX offers_embedding_active_idx ON public.offers USING hnsw (embedding public.vector_cosine_ops) WHERE (status = 'active'::text);

CREATE INDEX offers_expiry_active_idx ON public.offers USING btree (expires_at) WHERE (status = 'active'::text);

CREATE INDEX offers_pt_active_idx ON public.offers USING gist (pt) WHERE (status = 'active'::text);

CREATE INDEX offers_rome_active_idx ON public.offers USING btree (rome_code) WHERE (status = 'active'::text);

CREATE INDEX qpv_communes_idx ON public.qpv USING gin (communes);

CREATE INDEX qpv_pt_idx ON public.qpv USING gist (pt);

CREATE INDEX qpv_rings_shape_idx ON public.qpv_rings USING gist (shape_microdeg);

CREATE INDEX quarantine_open_idx ON public.quarantine USING btree (source_id, created_at) WHERE (resolved_at IS NULL);

CREATE INDEX rome_appellations_normalized_idx ON public.rome_appellations USING btree (label_normalized);

CREATE INDEX rome_appellations_rome_idx ON public.rome_appellations USING btree (code_rome);

CREATE INDEX rome_appellations_search_trgm_idx ON public.rome_appellations USING gin (label_search public.gin_trgm_ops);

CREATE INDEX rome_competences_kind_idx ON public.rome_competences USING btree (kind);

CREATE INDEX rome_fiche_items_item_idx ON public.rome_fiche_items USING btree (code_ogr);

CREATE INDEX rome_fiche_naf_division_idx ON public.rome_fiche_naf USING btree (naf_division);

CREATE INDEX rome_fiches_label_trgm_idx ON public.rome_fiches USING gin (label_search public.gin_trgm_ops);

CREATE INDEX rome_mobilites_order_idx ON public.rome_mobilites USING btree (code_rome, ordre);

ALTER TABLE ONLY public.advisers
    ADD CONSTRAINT advisers_structure_id_fkey FOREIGN KEY (structure_id) REFERENCES public.structures(id);

ALTER TABLE ONLY public.candidates
    ADD CONSTRAINT candidates_referent_adviser_id_fkey FOREIGN KEY (referent_adviser_id) REFERENCES public.advisers(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.candidates
    ADD CONSTRAINT candidates_structure_id_fkey FOREIGN KEY (structure_id) REFERENCES public.structures(id);

ALTER TABLE ONLY public.commune_aliases
    ADD CONSTRAINT commune_aliases_insee_fkey FOREIGN KEY (insee) REFERENCES public.communes(insee);

ALTER TABLE ONLY public.commune_postal_codes
    ADD CONSTRAINT commune_postal_codes_insee_fkey FOREIGN KEY (insee) REFERENCES public.communes(insee);

ALTER TABLE ONLY public.communes
    ADD CONSTRAINT communes_parent_insee_fkey FOREIGN KEY (parent_insee) REFERENCES public.communes(insee);

ALTER TABLE ONLY public.company_api_keys
    ADD CONSTRAINT company_api_keys_company_id_fkey FOREIGN KEY (company_id) REFERENCES public.companies(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.feedback
    ADD CONSTRAINT feedback_adviser_id_fkey FOREIGN KEY (adviser_id) REFERENCES public.advisers(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.feedback
    ADD CONSTRAINT feedback_company_id_fkey FOREIGN KEY (company_id) REFERENCES public.companies(id);

ALTER TABLE ONLY public.feedback
    ADD CONSTRAINT feedback_match_item_id_fkey FOREIGN KEY (match_item_id) REFERENCES public.match_items(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.feedback
    ADD CONSTRAINT feedback_structure_id_fkey FOREIGN KEY (structure_id) REFERENCES public.structures(id);

ALTER TABLE ONLY public.ingestion_runs
    ADD CONSTRAINT ingestion_runs_source_id_fkey FOREIGN KEY (source_id) REFERENCES public.sources(id);

ALTER TABLE ONLY public.match_items
    ADD CONSTRAINT match_items_candidate_id_fkey FOREIGN KEY (candidate_id) REFERENCES public.candidates(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.match_items
    ADD CONSTRAINT match_items_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES public.offers(id);

ALTER TABLE ONLY public.match_items
    ADD CONSTRAINT match_items_request_id_fkey FOREIGN KEY (request_id) REFERENCES public.match_requests(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_adviser_id_fkey FOREIGN KEY (adviser_id) REFERENCES public.advisers(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_candidate_id_fkey FOREIGN KEY (candidate_id) REFERENCES public.candidates(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES public.offers(id);

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_structure_id_fkey FOREIGN KEY (structure_id) REFERENCES public.structures(id);

ALTER TABLE ONLY public.offer_status_history
    ADD CONSTRAINT offer_status_history_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES public.offers(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_company_id_fkey FOREIGN KEY (company_id) REFERENCES public.companies(id);

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_duplicate_of_fkey FOREIGN KEY (duplicate_of) REFERENCES public.offers(id);

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_source_id_fkey FOREIGN KEY (source_id) REFERENCES public.sources(id);

ALTER TABLE ONLY public.qpv_rings
    ADD CONSTRAINT qpv_rings_qpv_code_fkey FOREIGN KEY (qpv_code) REFERENCES public.qpv(code);

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.ingestion_runs(id);

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_source_id_fkey FOREIGN KEY (source_id) REFERENCES public.sources(id);

ALTER TABLE ONLY public.rome_appellations
    ADD CONSTRAINT rome_appellations_code_rome_fkey FOREIGN KEY (code_rome) REFERENCES public.rome_fiches(code_rome);

ALTER TABLE ONLY public.rome_competences
    ADD CONSTRAINT rome_competences_macro_code_ogr_fkey FOREIGN KEY (macro_code_ogr) REFERENCES public.rome_competences(code_ogr);

ALTER TABLE ONLY public.rome_domaines
    ADD CONSTRAINT rome_domaines_grand_domaine_fkey FOREIGN KEY (grand_domaine) REFERENCES public.rome_grand_domaines(code);

ALTER TABLE ONLY public.rome_fiche_items
    ADD CONSTRAINT rome_fiche_items_code_ogr_fkey FOREIGN KEY (code_ogr) REFERENCES public.rome_competences(code_ogr);

ALTER TABLE ONLY public.rome_fiche_items
    ADD CONSTRAINT rome_fiche_items_code_rome_fkey FOREIGN KEY (code_rome) REFERENCES public.rome_fiches(code_rome);

ALTER TABLE ONLY public.rome_fiche_naf
    ADD CONSTRAINT rome_fiche_naf_code_rome_fkey FOREIGN KEY (code_rome) REFERENCES public.rome_fiches(code_rome);

ALTER TABLE ONLY public.rome_fiche_naf
    ADD CONSTRAINT rome_fiche_naf_naf_division_fkey FOREIGN KEY (naf_division) REFERENCES public.rome_naf_divisions(code);

ALTER TABLE ONLY public.rome_fiches
    ADD CONSTRAINT rome_fiches_code_rome_parent_fkey FOREIGN KEY (code_rome_parent) REFERENCES public.rome_fiches(code_rome);

ALTER TABLE ONLY public.rome_fiches
    ADD CONSTRAINT rome_fiches_domaine_fkey FOREIGN KEY (domaine) REFERENCES public.rome_domaines(code);

ALTER TABLE ONLY public.rome_fiches
    ADD CONSTRAINT rome_fiches_grand_domaine_fkey FOREIGN KEY (grand_domaine) REFERENCES public.rome_grand_domaines(code);

ALTER TABLE ONLY public.rome_mobilites
    ADD CONSTRAINT rome_mobilites_code_rome_cible_fkey FOREIGN KEY (code_rome_cible) REFERENCES public.rome_fiches(code_rome);

ALTER TABLE ONLY public.rome_mobilites
    ADD CONSTRAINT rome_mobilites_code_rome_fkey FOREIGN KEY (code_rome) REFERENCES public.rome_fiches(code_rome);

ALTER TABLE ONLY public.rome_texts
    ADD CONSTRAINT rome_texts_code_rome_fkey FOREIGN KEY (code_rome) REFERENCES public.rome_fiches(code_rome);
