"""Connections to PostgreSQL: the pool used by the API and worker, and one-off connections."""

from __future__ import annotations

import orjson
import psycopg
from pgvector.psycopg import register_vector
from psycopg.rows import dict_row
from psycopg.types.json import set_json_dumps, set_json_loads
from psycopg_pool import ConnectionPool

from matching.config import Settings


def _json_dumps(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)


CUSTOM_PLANS = "force_custom_plan"
_PLAN_MODE = "SELECT set_config('plan_cache_mode', %(mode)s, true)"


def configure_connection(conn: psycopg.Connection) -> None:
    """Prepare a new connection: pgvector types, fast JSON, plans fitted to each query's parameters."""
    register_vector(conn)
    # A ranking request decodes the skills of ~150 offers and encodes 20 feature snapshots: orjson, not json.
    set_json_dumps(_json_dumps, conn)
    set_json_loads(orjson.loads, conn)
    # Generic plans ignore how selective a radius or filter is; matching queries need custom ones (see
    # fetch_on_generic_plan for the statements written for one generic plan).
    conn.execute(f"SET plan_cache_mode = {CUSTOM_PLANS}")
    conn.commit()


def fetch_on_generic_plan(
    conn: psycopg.Connection, query: str, params: dict, binary: bool = False
) -> list[dict]:
    """Run a statement prepared on one generic plan per connection; the connection's others keep custom plans.

    For statements that cost about as much to plan as to run, and are written so that a plan made without their
    parameters' values fits them all: index conditions not hidden behind a parameter's NULL test, and values
    derived from parameters (a place, a cast vector) computed once by a sub-select, not for every row. One round
    trip (a pipeline: the mode for this statement only, the statement, the mode back).
    """
    with conn.pipeline():
        conn.execute(_PLAN_MODE, {"mode": "force_generic_plan"})
        cursor = conn.execute(query, params, prepare=True, binary=binary)
        conn.execute(_PLAN_MODE, {"mode": CUSTOM_PLANS})
    return cursor.fetchall()


def connect(conninfo: str, **kwargs) -> psycopg.Connection:
    """Open one configured connection (CLI commands, scripts, tests)."""
    conn = psycopg.connect(conninfo, row_factory=dict_row, **kwargs)
    configure_connection(conn)
    return conn


def open_pool(conninfo: str, settings: Settings) -> ConnectionPool:
    """Open the shared connection pool, waiting until the server answers."""
    pool = ConnectionPool(
        conninfo,
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        kwargs={"row_factory": dict_row},
        configure=configure_connection,
        open=False,
        name="maillage",
    )
    pool.open(wait=True, timeout=30)
    return pool
