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


# How statements are planned (docs/ranking.md, "Plans and their cache"):
# - by default, PostgreSQL's own choice (`auto`): psycopg prepares a statement after its fifth run on a connection,
#   and PostgreSQL keeps a generic plan for it once that plan looks no dearer than the custom ones. The small,
#   fixed-shape statements of every request (a look-up by id, the served list's insert) cost about twice as much
#   to plan as to run, and get one;
# - statements whose best plan depends on their parameters' values (how many offers a radius holds) are sent
#   unprepared (`fetch_on_custom_plan`): planned for their values at every run, never switched to a generic plan;
# - statements written for one generic plan run on it from their first call (`fetch_on_generic_plan`).
DEFAULT_PLAN_MODE = "auto"
_PLAN_MODE = "SELECT set_config('plan_cache_mode', %(mode)s, true)"


def configure_connection(conn: psycopg.Connection) -> None:
    """Prepare a new connection: pgvector types, fast JSON, the plan cache's default mode."""
    register_vector(conn)
    # A ranking request decodes the skills of ~150 offers and encodes 20 feature snapshots: orjson, not json.
    set_json_dumps(_json_dumps, conn)
    set_json_loads(orjson.loads, conn)
    # Set, not assumed: a server's configuration may choose another mode.
    conn.execute(f"SET plan_cache_mode = {DEFAULT_PLAN_MODE}")
    conn.commit()


def fetch_on_custom_plan(
    conn: psycopg.Connection | psycopg.Cursor, query: str, params: dict, binary: bool = False
) -> list:
    """Run a statement planned for its parameters' values at every call (sent unprepared: no generic plan).

    `conn` may be a cursor, for its row factory.
    """
    return conn.execute(query, params, prepare=False, binary=binary).fetchall()


def fetch_on_generic_plan(
    conn: psycopg.Connection, query: str, params: dict, binary: bool = False
) -> list[dict]:
    """Run a statement prepared on one generic plan per connection, from its first call.

    For statements that cost about as much to plan as to run, and are written so that a plan made without their
    parameters' values fits them all: index conditions not hidden behind a parameter's NULL test, and values
    derived from parameters (a place, a cast vector) computed once by a sub-select, not for every row. One round
    trip (a pipeline: the mode for this statement only, the statement, the default mode back).
    """
    with conn.pipeline():
        conn.execute(_PLAN_MODE, {"mode": "force_generic_plan"})
        cursor = conn.execute(query, params, prepare=True, binary=binary)
        conn.execute(_PLAN_MODE, {"mode": DEFAULT_PLAN_MODE})
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
