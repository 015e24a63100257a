"""Resources the API holds for its lifetime: settings, database pool, embedder."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg_pool import ConnectionPool

from matching.config import Settings
from matching.embeddings import Embedder


@dataclass
class AppResources:
    """What the lifespan opens and the routes use."""

    settings: Settings
    pool: ConnectionPool
    embedder: Embedder | None = None
    embedded_server: Any = None  # keeps the embedded PostgreSQL handle alive while the app runs
