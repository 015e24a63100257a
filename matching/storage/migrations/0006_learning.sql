-- Learning from advisers: re-training runs, the log of champion changes (promotion, rollback) and the
-- indexes the training-set query and the feedback screens need.

-- One row per `maillage retrain` (or worker) run. A run writes its row first ('running', committed), and
-- changes the registry only in its last transaction: a killed run leaves the registry as it was and its row
-- 'running' until the next run, holding the advisory lock, marks it 'interrupted'.
CREATE TABLE retrain_runs (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status          text NOT NULL DEFAULT 'running' CHECK (status IN (
                        'running', 'promoted', 'rejected', 'insufficient_data', 'failed', 'interrupted')),
    started_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    seed            integer NOT NULL,
    trainer         text NOT NULL,
    data_window     tstzrange,
    counts          jsonb NOT NULL DEFAULT '{}',
    model_version   text REFERENCES models (version),
    champion_version text,
    metrics         jsonb NOT NULL DEFAULT '{}',
    message         text
);
CREATE INDEX retrain_runs_started_idx ON retrain_runs (started_at DESC);

-- Every change of champion, so that a rollback knows which model the current champion replaced.
CREATE TABLE model_events (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    action              text NOT NULL CHECK (action IN ('promote', 'rollback', 'reject')),
    version             text NOT NULL REFERENCES models (version),
    previous_version    text REFERENCES models (version),
    actor               text NOT NULL,
    reason              text,
    at                  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX model_events_version_idx ON model_events (version, id DESC);

-- Training set: feedback by date (data window), match items of the labelled requests.
CREATE INDEX feedback_occurred_idx ON feedback (occurred_at);
