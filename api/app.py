"""The FastAPI application factory."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.routes import health, matches
from api.state import AppResources
from matching.config import Settings, get_settings
from matching.embeddings import Embedder, load_embedder
from matching.storage.database import open_pool
from matching.storage.server import resolve_database

logger = logging.getLogger(__name__)

DESCRIPTION = """
Maillage met en relation les résidents des quartiers prioritaires (QPV) accompagnés par les conseillers
(France Travail, missions locales, Cités de l'emploi…) et les offres des entreprises engagées
(« Les entreprises s'engagent », Entrepreneuriat Quartiers 2030).
"""


def create_app(
    settings: Settings | None = None, *, load_model: bool = True, embedder: Embedder | None = None
) -> FastAPI:
    """Build the application; the lifespan opens the database pool and loads the embedder."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        target = resolve_database(settings)
        pool = open_pool(target.url, settings)
        resources = AppResources(settings=settings, pool=pool, embedded_server=target.server)
        if embedder is not None:
            resources.embedder = embedder
        elif load_model:
            resources.embedder = load_embedder(settings)
        app.state.resources = resources
        try:
            yield
        finally:
            pool.close()

    app = FastAPI(title="Maillage", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.include_router(health.router)
    if settings.env != "prod":
        # Unauthenticated until adviser sign-in lands: never exposed in production.
        app.include_router(matches.router)
    return app
