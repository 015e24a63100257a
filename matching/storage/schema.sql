CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public;

COMMENT ON EXTENSION btree_gist IS 'support for indexing common datatypes in GiST';

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

CREATE TYPE public.procrastinate_job_event_type AS ENUM (
    'deferred',
    'started',
    'deferred_for_retry',
    'failed',
    'succeeded',
    'cancelled',
    'abort_requested',
    'aborted',
    'scheduled',
    'retried'
);

CREATE TYPE public.procrastinate_job_status AS ENUM (
    'todo',
    'doing',
    'succeeded',
    'failed',
    'cancelled',
    'aborting',
    'aborted'
);

CREATE TYPE public.procrastinate_job_to_defer_v1 AS (
	queue_name character varying,
	task_name character varying,
	priority integer,
	lock text,
	queueing_lock text,
	args jsonb,
	scheduled_at timestamp with time zone
);

CREATE FUNCTION public.maillage_place_cell(lat double precision, lon double precision) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN ((((floor((lat * (20)::double precision)) + (1800)::double precision) * (8000)::double precision) + (floor((lon * (20)::double precision)) + (4000)::double precision)))::integer;

CREATE FUNCTION public.maillage_record_exposure() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    -- The serving date is the request's (logs written after the fact, such as synthetic feedback, keep theirs).
    INSERT INTO offer_exposure (offer_id, candidate_key, last_served_at)
    SELECT n.offer_id, n.candidate_key, max(r.served_at)
    FROM new_items AS n JOIN match_requests AS r ON r.id = n.request_id
    GROUP BY n.offer_id, n.candidate_key
    ON CONFLICT (offer_id, candidate_key)
    DO UPDATE SET last_served_at = greatest(offer_exposure.last_served_at, excluded.last_served_at);
    RETURN NULL;
END;
$$;

CREATE FUNCTION public.maillage_unaccent(text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN public.unaccent('public.unaccent'::regdictionary, $1);

CREATE FUNCTION public.procrastinate_cancel_job_v1(job_id bigint, abort boolean, delete_job boolean) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    _job_id bigint;
BEGIN
    IF delete_job THEN
        DELETE FROM procrastinate_jobs
        WHERE id = job_id AND status = 'todo'
        RETURNING id INTO _job_id;
    END IF;
    IF _job_id IS NULL THEN
        IF abort THEN
            UPDATE procrastinate_jobs
            SET abort_requested = true,
                status = CASE status
                    WHEN 'todo' THEN 'cancelled'::procrastinate_job_status ELSE status
                END
            WHERE id = job_id AND status IN ('todo', 'doing')
            RETURNING id INTO _job_id;
        ELSE
            UPDATE procrastinate_jobs
            SET status = 'cancelled'::procrastinate_job_status
            WHERE id = job_id AND status = 'todo'
            RETURNING id INTO _job_id;
        END IF;
    END IF;
    RETURN _job_id;
END;
$$;

CREATE FUNCTION public.procrastinate_defer_jobs_v1(jobs public.procrastinate_job_to_defer_v1[]) RETURNS bigint[]
    LANGUAGE plpgsql
    AS $$
DECLARE
    job_ids bigint[];
BEGIN
    WITH inserted_jobs AS (
        INSERT INTO procrastinate_jobs (queue_name, task_name, priority, lock, queueing_lock, args, scheduled_at)
        SELECT (job).queue_name,
               (job).task_name,
               (job).priority,
               (job).lock,
               (job).queueing_lock,
               (job).args,
               (job).scheduled_at
        FROM unnest(jobs) AS job
        RETURNING id
    )
    SELECT array_agg(id) FROM inserted_jobs INTO job_ids;

    RETURN job_ids;
END;
$$;

CREATE FUNCTION public.procrastinate_defer_periodic_job_v2(_queue_name character varying, _lock character varying, _queueing_lock character varying, _task_name character varying, _priority integer, _periodic_id character varying, _defer_timestamp bigint, _args jsonb) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
	_job_id bigint;
	_defer_id bigint;
BEGIN
    INSERT
        INTO procrastinate_periodic_defers (task_name, periodic_id, defer_timestamp)
        VALUES (_task_name, _periodic_id, _defer_timestamp)
        ON CONFLICT DO NOTHING
        RETURNING id into _defer_id;

    IF _defer_id IS NULL THEN
        RETURN NULL;
    END IF;

    UPDATE procrastinate_periodic_defers
        SET job_id = (
            SELECT COALESCE((
                SELECT unnest(procrastinate_defer_jobs_v1(
                    ARRAY[
                        ROW(
                            _queue_name,
                            _task_name,
                            _priority,
                            _lock,
                            _queueing_lock,
                            _args,
                            NULL::timestamptz
                        )
                    ]::procrastinate_job_to_defer_v1[]
                ))
            ), NULL)
        )
        WHERE id = _defer_id
        RETURNING job_id INTO _job_id;

    DELETE
        FROM procrastinate_periodic_defers
        USING (
            SELECT id
            FROM procrastinate_periodic_defers
            WHERE procrastinate_periodic_defers.task_name = _task_name
            AND procrastinate_periodic_defers.periodic_id = _periodic_id
            AND procrastinate_periodic_defers.defer_timestamp < _defer_timestamp
            ORDER BY id
            FOR UPDATE
        ) to_delete
        WHERE procrastinate_periodic_defers.id = to_delete.id;

    RETURN _job_id;
END;
$$;

CREATE TABLE public.procrastinate_jobs (
    id bigint NOT NULL,
    queue_name character varying(128) NOT NULL,
    task_name character varying(128) NOT NULL,
    priority integer DEFAULT 0 NOT NULL,
    lock text,
    queueing_lock text,
    args jsonb DEFAULT '{}'::jsonb NOT NULL,
    status public.procrastinate_job_status DEFAULT 'todo'::public.procrastinate_job_status NOT NULL,
    scheduled_at timestamp with time zone,
    attempts integer DEFAULT 0 NOT NULL,
    abort_requested boolean DEFAULT false NOT NULL,
    worker_id bigint,
    CONSTRAINT check_not_todo_abort_requested CHECK ((NOT ((status = 'todo'::public.procrastinate_job_status) AND (abort_requested = true))))
);

CREATE FUNCTION public.procrastinate_fetch_job_v2(target_queue_names character varying[], p_worker_id bigint) RETURNS public.procrastinate_jobs
    LANGUAGE plpgsql
    AS $$
DECLARE
	found_jobs procrastinate_jobs;
BEGIN
    WITH candidate AS (
        SELECT jobs.*
            FROM procrastinate_jobs AS jobs
            WHERE
                -- reject the job if its lock has earlier or higher priority jobs
                NOT EXISTS (
                    SELECT 1
                        FROM procrastinate_jobs AS other_jobs
                        WHERE
                            jobs.lock IS NOT NULL
                            AND other_jobs.lock = jobs.lock
                            AND (
                                -- job with same lock is already running
                                other_jobs.status = 'doing'
                                OR
                                -- job with same lock is waiting and has higher priority (or same priority but was queued first)
                                (
                                    other_jobs.status = 'todo'
                                    AND (
                                        other_jobs.priority > jobs.priority
                                        OR (
                                        other_jobs.priority = jobs.priority
                                        AND other_jobs.id < jobs.id
                                        )
                                    )
                                )
                            )
                )
                AND jobs.status = 'todo'
                AND (target_queue_names IS NULL OR jobs.queue_name = ANY( target_queue_names ))
                AND (jobs.scheduled_at IS NULL OR jobs.scheduled_at <= now())
            ORDER BY jobs.priority DESC, jobs.id ASC LIMIT 1
            FOR UPDATE OF jobs SKIP LOCKED
    )
    UPDATE procrastinate_jobs
        SET status = 'doing', worker_id = p_worker_id
        FROM candidate
        WHERE procrastinate_jobs.id = candidate.id
        RETURNING procrastinate_jobs.* INTO found_jobs;

 RETURN found_jobs;
END;
$$;

CREATE FUNCTION public.procrastinate_finish_job_v1(job_id bigint, end_status public.procrastinate_job_status, delete_job boolean) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    _job_id bigint;
BEGIN
    IF end_status NOT IN ('succeeded', 'failed', 'aborted') THEN
        RAISE 'End status should be either "succeeded", "failed" or "aborted" (job id: %)', job_id;
    END IF;
    IF delete_job THEN
        DELETE FROM procrastinate_jobs
        WHERE id = job_id AND status IN ('todo', 'doing')
        RETURNING id INTO _job_id;
    ELSE
        UPDATE procrastinate_jobs
        SET status = end_status,
            abort_requested = false,
            attempts = CASE status
                WHEN 'doing' THEN attempts + 1 ELSE attempts
            END
        WHERE id = job_id AND status IN ('todo', 'doing')
        RETURNING id INTO _job_id;
    END IF;
    IF _job_id IS NULL THEN
        RAISE 'Job was not found or not in "doing" or "todo" status (job id: %)', job_id;
    END IF;
END;
$$;

CREATE FUNCTION public.procrastinate_notify_queue_abort_job_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    payload TEXT;
BEGIN
    SELECT json_build_object('type', 'abort_job_requested', 'job_id', NEW.id)::text INTO payload;
	PERFORM pg_notify('procrastinate_queue_v1#' || NEW.queue_name, payload);
	PERFORM pg_notify('procrastinate_any_queue_v1', payload);
	RETURN NEW;
END;
$$;

CREATE FUNCTION public.procrastinate_notify_queue_job_inserted_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    payload TEXT;
BEGIN
    SELECT json_build_object('type', 'job_inserted', 'job_id', NEW.id)::text INTO payload;
	PERFORM pg_notify('procrastinate_queue_v1#' || NEW.queue_name, payload);
	PERFORM pg_notify('procrastinate_any_queue_v1', payload);
	RETURN NEW;
END;
$$;

CREATE FUNCTION public.procrastinate_prune_stalled_workers_v1(seconds_since_heartbeat double precision) RETURNS TABLE(worker_id bigint)
    LANGUAGE plpgsql
    AS $$
BEGIN
    RETURN QUERY
    DELETE FROM procrastinate_workers
    WHERE last_heartbeat < NOW() - (seconds_since_heartbeat || 'SECOND')::INTERVAL
    RETURNING procrastinate_workers.id;
END;
$$;

CREATE FUNCTION public.procrastinate_register_worker_v1() RETURNS TABLE(worker_id bigint)
    LANGUAGE plpgsql
    AS $$
BEGIN
    RETURN QUERY
    INSERT INTO procrastinate_workers DEFAULT VALUES
    RETURNING procrastinate_workers.id;
END;
$$;

CREATE FUNCTION public.procrastinate_retry_job_v1(job_id bigint, retry_at timestamp with time zone, new_priority integer, new_queue_name character varying, new_lock character varying) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    _job_id bigint;
    _abort_requested boolean;
BEGIN
    SELECT abort_requested FROM procrastinate_jobs
    WHERE id = job_id AND status = 'doing'
    FOR UPDATE
    INTO _abort_requested;
    IF _abort_requested THEN
        UPDATE procrastinate_jobs
        SET status = 'failed'::procrastinate_job_status
        WHERE id = job_id AND status = 'doing'
        RETURNING id INTO _job_id;
    ELSE
        UPDATE procrastinate_jobs
        SET status = 'todo'::procrastinate_job_status,
            attempts = attempts + 1,
            scheduled_at = retry_at,
            priority = COALESCE(new_priority, priority),
            queue_name = COALESCE(new_queue_name, queue_name),
            lock = COALESCE(new_lock, lock)
        WHERE id = job_id AND status = 'doing'
        RETURNING id INTO _job_id;
    END IF;

    IF _job_id IS NULL THEN
        RAISE 'Job was not found or not in "doing" status (job id: %)', job_id;
    END IF;
END;
$$;

CREATE FUNCTION public.procrastinate_retry_job_v2(job_id bigint, retry_at timestamp with time zone, new_priority integer, new_queue_name character varying, new_lock character varying) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    _job_id bigint;
    _abort_requested boolean;
    _current_status procrastinate_job_status;
BEGIN
    SELECT status, abort_requested FROM procrastinate_jobs
    WHERE id = job_id AND status IN ('doing', 'failed')
    FOR UPDATE
    INTO _current_status, _abort_requested;
    IF _current_status = 'doing' AND _abort_requested THEN
        UPDATE procrastinate_jobs
        SET status = 'failed'::procrastinate_job_status
        WHERE id = job_id AND status = 'doing'
        RETURNING id INTO _job_id;
    ELSE
        UPDATE procrastinate_jobs
        SET status = 'todo'::procrastinate_job_status,
            attempts = attempts + 1,
            scheduled_at = retry_at,
            priority = COALESCE(new_priority, priority),
            queue_name = COALESCE(new_queue_name, queue_name),
            lock = COALESCE(new_lock, lock)
        WHERE id = job_id AND status IN ('doing', 'failed')
        RETURNING id INTO _job_id;
    END IF;

    IF _job_id IS NULL THEN
        RAISE 'Job was not found or has an invalid status to retry (job id: %)', job_id;
    END IF;

END;
$$;

CREATE FUNCTION public.procrastinate_trigger_abort_requested_events_procedure_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO procrastinate_events(job_id, type)
        VALUES (NEW.id, 'abort_requested'::procrastinate_job_event_type);
    RETURN NEW;
END;
$$;

CREATE FUNCTION public.procrastinate_trigger_function_scheduled_events_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO procrastinate_events(job_id, type, at)
        VALUES (NEW.id, 'scheduled'::procrastinate_job_event_type, NEW.scheduled_at);

	RETURN NEW;
END;
$$;

CREATE FUNCTION public.procrastinate_trigger_function_status_events_insert_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO procrastinate_events(job_id, type)
        VALUES (NEW.id, 'deferred'::procrastinate_job_event_type);
	RETURN NEW;
END;
$$;

CREATE FUNCTION public.procrastinate_trigger_function_status_events_update_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    WITH t AS (
        SELECT CASE
            WHEN OLD.status = 'todo'::procrastinate_job_status
                AND NEW.status = 'doing'::procrastinate_job_status
                THEN 'started'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'todo'::procrastinate_job_status
                THEN 'deferred_for_retry'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'failed'::procrastinate_job_status
                THEN 'failed'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'succeeded'::procrastinate_job_status
                THEN 'succeeded'::procrastinate_job_event_type
            WHEN OLD.status = 'todo'::procrastinate_job_status
                AND (
                    NEW.status = 'cancelled'::procrastinate_job_status
                    OR NEW.status = 'failed'::procrastinate_job_status
                    OR NEW.status = 'succeeded'::procrastinate_job_status
                )
                THEN 'cancelled'::procrastinate_job_event_type
            WHEN OLD.status = 'doing'::procrastinate_job_status
                AND NEW.status = 'aborted'::procrastinate_job_status
                THEN 'aborted'::procrastinate_job_event_type
            WHEN OLD.status = 'failed'::procrastinate_job_status
                AND NEW.status = 'todo'::procrastinate_job_status
                THEN 'retried'::procrastinate_job_event_type
            ELSE NULL
        END as event_type
    )
    INSERT INTO procrastinate_events(job_id, type)
        SELECT NEW.id, t.event_type
        FROM t
        WHERE t.event_type IS NOT NULL;
	RETURN NEW;
END;
$$;

CREATE FUNCTION public.procrastinate_unlink_periodic_defers_v1() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE procrastinate_periodic_defers
    SET job_id = NULL
    WHERE job_id = OLD.id;
    RETURN OLD;
END;
$$;

CREATE FUNCTION public.procrastinate_unregister_worker_v1(worker_id bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM procrastinate_workers
    WHERE id = worker_id;
END;
$$;

CREATE FUNCTION public.procrastinate_update_heartbeat_v1(worker_id bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE procrastinate_workers
    SET last_heartbeat = NOW()
    WHERE id = worker_id;
END;
$$;

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

CREATE TABLE public.candidate_erasures (
    id bigint NOT NULL,
    candidate_key text NOT NULL,
    structure_id uuid,
    reason text NOT NULL,
    erased_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT candidate_erasures_reason_check CHECK ((reason = ANY (ARRAY['request'::text, 'retention'::text])))
);

ALTER TABLE public.candidate_erasures ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.candidate_erasures_id_seq
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
    embedding_half public.halfvec(384) GENERATED ALWAYS AS ((embedding)::public.halfvec(384)) STORED,
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

CREATE TABLE public.idempotency_keys (
    company_id bigint NOT NULL,
    key text NOT NULL,
    request_hash bytea NOT NULL,
    status_code smallint NOT NULL,
    response_body jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    CONSTRAINT idempotency_keys_key_check CHECK (((length(key) >= 1) AND (length(key) <= 255)))
);

CREATE TABLE public.ingestion_run_seen (
    run_id bigint NOT NULL,
    external_id text NOT NULL
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
    duration_ms integer,
    CONSTRAINT ingestion_runs_duration_ms_check CHECK ((duration_ms >= 0)),
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
    id uuid DEFAULT uuidv7() NOT NULL,
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
    id uuid DEFAULT uuidv7() NOT NULL,
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

CREATE TABLE public.model_events (
    id bigint NOT NULL,
    action text NOT NULL,
    version text NOT NULL,
    previous_version text,
    actor text NOT NULL,
    reason text,
    at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT model_events_action_check CHECK ((action = ANY (ARRAY['promote'::text, 'rollback'::text, 'reject'::text])))
);

ALTER TABLE public.model_events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.model_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
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

CREATE TABLE public.offer_exposure (
    offer_id bigint NOT NULL,
    candidate_key text NOT NULL,
    last_served_at timestamp with time zone NOT NULL
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
    title_key text,
    duplicate_reason text,
    search_tsv tsvector GENERATED ALWAYS AS (((setweight(to_tsvector('french'::regconfig, public.maillage_unaccent(((title || ' '::text) || COALESCE(appellation_label, ''::text)))), 'A'::"char") || setweight(to_tsvector('french'::regconfig, public.maillage_unaccent((jsonb_path_query_array(skills, '$[*]."label"'::jsonpath))::text)), 'B'::"char")) || setweight(to_tsvector('french'::regconfig, public.maillage_unaccent("left"(description, 3000))), 'C'::"char"))) STORED,
    embedding_half public.halfvec(384) GENERATED ALWAYS AS ((embedding)::public.halfvec(384)) STORED,
    place_cell integer GENERATED ALWAYS AS (public.maillage_place_cell(lat, lon)) STORED,
    lexical_tsv tsvector GENERATED ALWAYS AS ((setweight(to_tsvector('french'::regconfig, public.maillage_unaccent("left"(((title || ' '::text) || COALESCE(appellation_label, ''::text)), 200))), 'A'::"char") || setweight(to_tsvector('french'::regconfig, public.maillage_unaccent("left"((jsonb_path_query_array(skills, '$[*]."label"'::jsonpath))::text, 600))), 'B'::"char"))) STORED,
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

CREATE MATERIALIZED VIEW public.offer_place_counts AS
 SELECT place_cell,
    (count(*))::integer AS offers
   FROM public.offers
  WHERE ((status = 'active'::text) AND (embedding IS NOT NULL) AND (place_cell IS NOT NULL))
  GROUP BY place_cell
  WITH NO DATA;

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

ALTER TABLE public.offers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.offers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE public.procrastinate_events (
    id bigint NOT NULL,
    job_id bigint NOT NULL,
    type public.procrastinate_job_event_type,
    at timestamp with time zone DEFAULT now()
);

CREATE SEQUENCE public.procrastinate_events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.procrastinate_events_id_seq OWNED BY public.procrastinate_events.id;

CREATE SEQUENCE public.procrastinate_jobs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.procrastinate_jobs_id_seq OWNED BY public.procrastinate_jobs.id;

CREATE TABLE public.procrastinate_periodic_defers (
    id bigint NOT NULL,
    task_name character varying(128) NOT NULL,
    defer_timestamp bigint,
    job_id bigint,
    periodic_id character varying(128) DEFAULT ''::character varying NOT NULL
);

CREATE SEQUENCE public.procrastinate_periodic_defers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE public.procrastinate_periodic_defers_id_seq OWNED BY public.procrastinate_periodic_defers.id;

CREATE TABLE public.procrastinate_workers (
    id bigint NOT NULL,
    last_heartbeat timestamp with time zone DEFAULT now() NOT NULL
);

ALTER TABLE public.procrastinate_workers ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.procrastinate_workers_id_seq
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

CREATE TABLE public.retrain_runs (
    id bigint NOT NULL,
    status text DEFAULT 'running'::text NOT NULL,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    seed integer NOT NULL,
    trainer text NOT NULL,
    data_window tstzrange,
    counts jsonb DEFAULT '{}'::jsonb NOT NULL,
    model_version text,
    champion_version text,
    metrics jsonb DEFAULT '{}'::jsonb NOT NULL,
    message text,
    CONSTRAINT retrain_runs_status_check CHECK ((status = ANY (ARRAY['running'::text, 'promoted'::text, 'rejected'::text, 'insufficient_data'::text, 'failed'::text, 'interrupted'::text])))
);

ALTER TABLE public.retrain_runs ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.retrain_runs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
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

CREATE TABLE public.rome_predictions (
    id bigint NOT NULL,
    offer_id bigint NOT NULL,
    run_id bigint,
    source_code character(5),
    predicted_code character(5) NOT NULL,
    appellation_code integer,
    score real NOT NULL,
    method text NOT NULL,
    source_consistent boolean,
    alternatives jsonb DEFAULT '[]'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT rome_predictions_method_check CHECK ((method = ANY (ARRAY['exact'::text, 'fusion'::text]))),
    CONSTRAINT rome_predictions_score_check CHECK (((score >= (0)::double precision) AND (score <= (1)::double precision)))
);

ALTER TABLE public.rome_predictions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.rome_predictions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
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
    last_run_at timestamp with time zone,
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

ALTER TABLE ONLY public.procrastinate_events ALTER COLUMN id SET DEFAULT nextval('public.procrastinate_events_id_seq'::regclass);

ALTER TABLE ONLY public.procrastinate_jobs ALTER COLUMN id SET DEFAULT nextval('public.procrastinate_jobs_id_seq'::regclass);

ALTER TABLE ONLY public.procrastinate_periodic_defers ALTER COLUMN id SET DEFAULT nextval('public.procrastinate_periodic_defers_id_seq'::regclass);

ALTER TABLE ONLY public.advisers
    ADD CONSTRAINT advisers_email_key UNIQUE (email);

ALTER TABLE ONLY public.advisers
    ADD CONSTRAINT advisers_oidc_subject_key UNIQUE (oidc_subject);

ALTER TABLE ONLY public.advisers
    ADD CONSTRAINT advisers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.audit_log
    ADD CONSTRAINT audit_log_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.candidate_erasures
    ADD CONSTRAINT candidate_erasures_candidate_key_key UNIQUE (candidate_key);

ALTER TABLE ONLY public.candidate_erasures
    ADD CONSTRAINT candidate_erasures_pkey PRIMARY KEY (id);

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

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_pkey PRIMARY KEY (company_id, key);

ALTER TABLE ONLY public.ingestion_run_seen
    ADD CONSTRAINT ingestion_run_seen_pkey PRIMARY KEY (run_id, external_id);

ALTER TABLE ONLY public.ingestion_runs
    ADD CONSTRAINT ingestion_runs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.match_items
    ADD CONSTRAINT match_items_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.model_events
    ADD CONSTRAINT model_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.models
    ADD CONSTRAINT models_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.models
    ADD CONSTRAINT models_version_key UNIQUE (version);

ALTER TABLE ONLY public.offer_exposure
    ADD CONSTRAINT offer_exposure_pkey PRIMARY KEY (offer_id, candidate_key);

ALTER TABLE ONLY public.offer_status_history
    ADD CONSTRAINT offer_status_history_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_source_id_external_id_key UNIQUE (source_id, external_id);

ALTER TABLE ONLY public.procrastinate_events
    ADD CONSTRAINT procrastinate_events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.procrastinate_jobs
    ADD CONSTRAINT procrastinate_jobs_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.procrastinate_periodic_defers
    ADD CONSTRAINT procrastinate_periodic_defers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.procrastinate_periodic_defers
    ADD CONSTRAINT procrastinate_periodic_defers_unique UNIQUE (task_name, periodic_id, defer_timestamp);

ALTER TABLE ONLY public.procrastinate_workers
    ADD CONSTRAINT procrastinate_workers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.qpv
    ADD CONSTRAINT qpv_pkey PRIMARY KEY (code);

ALTER TABLE ONLY public.qpv_rings
    ADD CONSTRAINT qpv_rings_pkey PRIMARY KEY (qpv_code, part, ring);

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_pkey PRIMARY KEY (id);

ALTER TABLE ONLY public.reference_data_versions
    ADD CONSTRAINT reference_data_versions_pkey PRIMARY KEY (dataset);

ALTER TABLE ONLY public.retrain_runs
    ADD CONSTRAINT retrain_runs_pkey PRIMARY KEY (id);

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

ALTER TABLE ONLY public.rome_predictions
    ADD CONSTRAINT rome_predictions_pkey PRIMARY KEY (id);

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

CREATE INDEX candidates_commute_active_idx ON public.candidates USING btree (max_commute_km) WHERE (status = 'active'::text);

CREATE INDEX candidates_pt_active_idx ON public.candidates USING gist (pt) WHERE (status = 'active'::text);

CREATE INDEX candidates_retention_idx ON public.candidates USING btree (last_activity_at) WHERE (status = ANY (ARRAY['active'::text, 'closed'::text]));

CREATE INDEX candidates_structure_idx ON public.candidates USING btree (structure_id, status);

CREATE INDEX candidates_without_point_idx ON public.candidates USING btree (commune_insee) WHERE ((status = 'active'::text) AND (pt IS NULL));

CREATE INDEX commune_postal_codes_insee_idx ON public.commune_postal_codes USING btree (insee);

CREATE UNIQUE INDEX commune_postal_codes_main_idx ON public.commune_postal_codes USING btree (insee) WHERE is_main;

CREATE INDEX communes_dept_idx ON public.communes USING btree (dept);

CREATE INDEX communes_name_trgm_idx ON public.communes USING gin (name_normalized public.gin_trgm_ops);

CREATE INDEX communes_pt_idx ON public.communes USING gist (pt);

CREATE INDEX companies_name_trgm_idx ON public.companies USING gin (name_normalized public.gin_trgm_ops);

CREATE INDEX feedback_item_idx ON public.feedback USING btree (match_item_id);

CREATE INDEX feedback_occurred_idx ON public.feedback USING btree (occurred_at);

CREATE INDEX idempotency_keys_expiry_idx ON public.idempotency_keys USING btree (expires_at);

CREATE INDEX idx_procrastinate_jobs_worker_not_null ON public.procrastinate_jobs USING btree (worker_id) WHERE ((worker_id IS NOT NULL) AND (status = 'doing'::public.procrastinate_job_status));

CREATE INDEX idx_procrastinate_workers_last_heartbeat ON public.procrastinate_workers USING btree (last_heartbeat);

CREATE INDEX ingestion_runs_source_idx ON public.ingestion_runs USING btree (source_id, started_at DESC);

CREATE INDEX match_items_candidate_idx ON public.match_items USING btree (candidate_id);

CREATE INDEX match_items_offer_idx ON public.match_items USING btree (offer_id);

CREATE INDEX match_items_request_idx ON public.match_items USING btree (request_id);

CREATE INDEX match_requests_candidate_idx ON public.match_requests USING btree (candidate_id);

CREATE INDEX match_requests_served_idx ON public.match_requests USING btree (served_at);

CREATE INDEX match_requests_structure_idx ON public.match_requests USING btree (structure_id, served_at);

CREATE INDEX model_events_version_idx ON public.model_events USING btree (version, id DESC);

CREATE UNIQUE INDEX models_single_champion_idx ON public.models USING btree (status) WHERE (status = 'champion'::text);

CREATE INDEX offer_exposure_recent_idx ON public.offer_exposure USING btree (offer_id, last_served_at) INCLUDE (candidate_key);

CREATE UNIQUE INDEX offer_place_counts_cell_idx ON public.offer_place_counts USING btree (place_cell) INCLUDE (offers);

CREATE INDEX offer_status_history_offer_idx ON public.offer_status_history USING btree (offer_id, changed_at);

CREATE INDEX offers_api_company_idx ON public.offers USING btree (company_id, id) WHERE (source_id = 'api'::text);

CREATE INDEX offers_company_idx ON public.offers USING btree (company_id);

CREATE INDEX offers_dedup_idx ON public.offers USING btree (postal_code, company_id) WHERE (status = ANY (ARRAY['active'::text, 'duplicate'::text]));

CREATE INDEX offers_duplicate_of_idx ON public.offers USING btree (duplicate_of) WHERE (duplicate_of IS NOT NULL);

CREATE INDEX offers_embedding_half_active_idx ON public.offers USING hnsw (embedding_half public.halfvec_cosine_ops) WHERE (status = 'active'::text);

CREATE INDEX offers_expiry_active_idx ON public.offers USING btree (expires_at) WHERE (status = 'active'::text);

CREATE INDEX offers_pt_active_idx ON public.offers USING gist (pt) WHERE (status = 'active'::text);

CREATE INDEX offers_retrieval_cover_idx ON public.offers USING btree (contract_type, place_cell) INCLUDE (id, pt, hours_per_week, part_time, licences, source_id, rome_code, embedding_half, lexical_tsv) WHERE ((status = 'active'::text) AND (embedding IS NOT NULL));

CREATE INDEX offers_rome_active_idx ON public.offers USING btree (rome_code) WHERE (status = 'active'::text);

CREATE INDEX offers_search_tsv_active_idx ON public.offers USING gin (search_tsv) WHERE (status = 'active'::text);

CREATE INDEX procrastinate_events_job_id_fkey_v1 ON public.procrastinate_events USING btree (job_id);

CREATE INDEX procrastinate_jobs_id_lock_idx_v1 ON public.procrastinate_jobs USING btree (id, lock) WHERE (status = ANY (ARRAY['todo'::public.procrastinate_job_status, 'doing'::public.procrastinate_job_status]));

CREATE UNIQUE INDEX procrastinate_jobs_lock_idx_v1 ON public.procrastinate_jobs USING btree (lock) WHERE (status = 'doing'::public.procrastinate_job_status);

CREATE INDEX procrastinate_jobs_priority_idx_v1 ON public.procrastinate_jobs USING btree (priority DESC, id) WHERE (status = 'todo'::public.procrastinate_job_status);

CREATE INDEX procrastinate_jobs_queue_name_idx_v1 ON public.procrastinate_jobs USING btree (queue_name);

CREATE UNIQUE INDEX procrastinate_jobs_queueing_lock_idx_v1 ON public.procrastinate_jobs USING btree (queueing_lock) WHERE (status = 'todo'::public.procrastinate_job_status);

CREATE INDEX procrastinate_periodic_defers_job_id_fkey_v1 ON public.procrastinate_periodic_defers USING btree (job_id);

CREATE INDEX qpv_communes_idx ON public.qpv USING gin (communes);

CREATE INDEX qpv_pt_idx ON public.qpv USING gist (pt);

CREATE INDEX qpv_rings_shape_idx ON public.qpv_rings USING gist (shape_microdeg);

CREATE INDEX quarantine_open_idx ON public.quarantine USING btree (source_id, created_at) WHERE (resolved_at IS NULL);

CREATE INDEX retrain_runs_started_idx ON public.retrain_runs USING btree (started_at DESC);

CREATE INDEX rome_appellations_normalized_idx ON public.rome_appellations USING btree (label_normalized);

CREATE INDEX rome_appellations_rome_idx ON public.rome_appellations USING btree (code_rome);

CREATE INDEX rome_appellations_search_trgm_idx ON public.rome_appellations USING gin (label_search public.gin_trgm_ops);

CREATE INDEX rome_competences_kind_idx ON public.rome_competences USING btree (kind);

CREATE INDEX rome_fiche_items_item_idx ON public.rome_fiche_items USING btree (code_ogr);

CREATE INDEX rome_fiche_naf_division_idx ON public.rome_fiche_naf USING btree (naf_division);

CREATE INDEX rome_fiches_label_trgm_idx ON public.rome_fiches USING gin (label_search public.gin_trgm_ops);

CREATE INDEX rome_mobilites_order_idx ON public.rome_mobilites USING btree (code_rome, ordre);

CREATE INDEX rome_mobilites_target_idx ON public.rome_mobilites USING btree (code_rome_cible);

CREATE INDEX rome_predictions_offer_idx ON public.rome_predictions USING btree (offer_id, created_at DESC);

CREATE TRIGGER match_items_exposure AFTER INSERT ON public.match_items REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION public.maillage_record_exposure();

CREATE TRIGGER procrastinate_jobs_notify_queue_job_aborted_v1 AFTER UPDATE OF abort_requested ON public.procrastinate_jobs FOR EACH ROW WHEN (((old.abort_requested = false) AND (new.abort_requested = true) AND (new.status = 'doing'::public.procrastinate_job_status))) EXECUTE FUNCTION public.procrastinate_notify_queue_abort_job_v1();

CREATE TRIGGER procrastinate_jobs_notify_queue_job_inserted_v1 AFTER INSERT ON public.procrastinate_jobs FOR EACH ROW WHEN ((new.status = 'todo'::public.procrastinate_job_status)) EXECUTE FUNCTION public.procrastinate_notify_queue_job_inserted_v1();

CREATE TRIGGER procrastinate_trigger_abort_requested_events_v1 AFTER UPDATE OF abort_requested ON public.procrastinate_jobs FOR EACH ROW WHEN ((new.abort_requested = true)) EXECUTE FUNCTION public.procrastinate_trigger_abort_requested_events_procedure_v1();

CREATE TRIGGER procrastinate_trigger_delete_jobs_v1 BEFORE DELETE ON public.procrastinate_jobs FOR EACH ROW EXECUTE FUNCTION public.procrastinate_unlink_periodic_defers_v1();

CREATE TRIGGER procrastinate_trigger_scheduled_events_v1 AFTER INSERT OR UPDATE ON public.procrastinate_jobs FOR EACH ROW WHEN (((new.scheduled_at IS NOT NULL) AND (new.status = 'todo'::public.procrastinate_job_status))) EXECUTE FUNCTION public.procrastinate_trigger_function_scheduled_events_v1();

CREATE TRIGGER procrastinate_trigger_status_events_insert_v1 AFTER INSERT ON public.procrastinate_jobs FOR EACH ROW WHEN ((new.status = 'todo'::public.procrastinate_job_status)) EXECUTE FUNCTION public.procrastinate_trigger_function_status_events_insert_v1();

CREATE TRIGGER procrastinate_trigger_status_events_update_v1 AFTER UPDATE OF status ON public.procrastinate_jobs FOR EACH ROW EXECUTE FUNCTION public.procrastinate_trigger_function_status_events_update_v1();

ALTER TABLE ONLY public.advisers
    ADD CONSTRAINT advisers_structure_id_fkey FOREIGN KEY (structure_id) REFERENCES public.structures(id);

ALTER TABLE ONLY public.candidate_erasures
    ADD CONSTRAINT candidate_erasures_structure_id_fkey FOREIGN KEY (structure_id) REFERENCES public.structures(id);

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

ALTER TABLE ONLY public.idempotency_keys
    ADD CONSTRAINT idempotency_keys_company_id_fkey FOREIGN KEY (company_id) REFERENCES public.companies(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.ingestion_run_seen
    ADD CONSTRAINT ingestion_run_seen_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.ingestion_runs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.ingestion_runs
    ADD CONSTRAINT ingestion_runs_source_id_fkey FOREIGN KEY (source_id) REFERENCES public.sources(id);

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_adviser_id_fkey FOREIGN KEY (adviser_id) REFERENCES public.advisers(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_candidate_id_fkey FOREIGN KEY (candidate_id) REFERENCES public.candidates(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES public.offers(id);

ALTER TABLE ONLY public.match_requests
    ADD CONSTRAINT match_requests_structure_id_fkey FOREIGN KEY (structure_id) REFERENCES public.structures(id);

ALTER TABLE ONLY public.model_events
    ADD CONSTRAINT model_events_previous_version_fkey FOREIGN KEY (previous_version) REFERENCES public.models(version);

ALTER TABLE ONLY public.model_events
    ADD CONSTRAINT model_events_version_fkey FOREIGN KEY (version) REFERENCES public.models(version);

ALTER TABLE ONLY public.offer_status_history
    ADD CONSTRAINT offer_status_history_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES public.offers(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_company_id_fkey FOREIGN KEY (company_id) REFERENCES public.companies(id);

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_duplicate_of_fkey FOREIGN KEY (duplicate_of) REFERENCES public.offers(id);

ALTER TABLE ONLY public.offers
    ADD CONSTRAINT offers_source_id_fkey FOREIGN KEY (source_id) REFERENCES public.sources(id);

ALTER TABLE ONLY public.procrastinate_events
    ADD CONSTRAINT procrastinate_events_job_id_fkey FOREIGN KEY (job_id) REFERENCES public.procrastinate_jobs(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.procrastinate_jobs
    ADD CONSTRAINT procrastinate_jobs_worker_id_fkey FOREIGN KEY (worker_id) REFERENCES public.procrastinate_workers(id) ON DELETE SET NULL;

ALTER TABLE ONLY public.procrastinate_periodic_defers
    ADD CONSTRAINT procrastinate_periodic_defers_job_id_fkey FOREIGN KEY (job_id) REFERENCES public.procrastinate_jobs(id);

ALTER TABLE ONLY public.qpv_rings
    ADD CONSTRAINT qpv_rings_qpv_code_fkey FOREIGN KEY (qpv_code) REFERENCES public.qpv(code);

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.ingestion_runs(id);

ALTER TABLE ONLY public.quarantine
    ADD CONSTRAINT quarantine_source_id_fkey FOREIGN KEY (source_id) REFERENCES public.sources(id);

ALTER TABLE ONLY public.retrain_runs
    ADD CONSTRAINT retrain_runs_model_version_fkey FOREIGN KEY (model_version) REFERENCES public.models(version);

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

ALTER TABLE ONLY public.rome_predictions
    ADD CONSTRAINT rome_predictions_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES public.offers(id) ON DELETE CASCADE;

ALTER TABLE ONLY public.rome_predictions
    ADD CONSTRAINT rome_predictions_run_id_fkey FOREIGN KEY (run_id) REFERENCES public.ingestion_runs(id);

ALTER TABLE ONLY public.rome_texts
    ADD CONSTRAINT rome_texts_code_rome_fkey FOREIGN KEY (code_rome) REFERENCES public.rome_fiches(code_rome);
