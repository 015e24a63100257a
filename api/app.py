"""The FastAPI application factory."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from api.errors import candidate_not_found_handler, validation_exception_handler
from api.protocol import AllowHeaderMiddleware
from api.routes import audit, candidates, feedback, health, matches, offers, wellknown
from api.state import AppResources, RateLimiter
from api.web import install as install_web
from matching.auth.tokens import TokenVerifier
from matching.config import ConfigError, Settings, get_settings
from matching.embeddings import Embedder, load_embedder
from matching.storage.candidates import CandidateNotFound
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
    if settings.env == "prod" and settings.web_session_secret is None:
        raise ConfigError("MAILLAGE_WEB_SESSION_SECRET is required in prod: it signs the web sessions")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        target = resolve_database(settings)
        pool = open_pool(target.url, settings)
        resources = AppResources(settings=settings, pool=pool, embedded_server=target.server,
                                 verifier=TokenVerifier(settings),
                                 rate_limiter=RateLimiter(settings.api_key_rate_per_minute))  # fmt: skip
        if embedder is not None:
            resources.embedder = embedder
        elif load_model:
            resources.embedder = load_embedder(settings)
        app.state.resources = resources
        # The embedding model and the libraries leave ~500k objects that every full collection would walk
        # (~230 ms with the GIL held, measured): freezing them keeps those pauses out of request latency.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            pool.close()
            gc.unfreeze()  # an application built again in the same process (tests) starts from a clean slate

    app = FastAPI(title="Maillage", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.add_exception_handler(RequestValidationError, validation_exception_handler)
    app.add_exception_handler(CandidateNotFound, candidate_not_found_handler)
    app.add_middleware(AllowHeaderMiddleware)
    app.include_router(health.router)
    app.include_router(offers.router)
    app.include_router(candidates.router)
    app.include_router(audit.router)
    app.include_router(matches.router)
    app.include_router(matches.admin_router)
    app.include_router(feedback.router)
    app.include_router(feedback.company_router)
    install_web(app)
    if settings.env != "prod":
        # The local issuer's keys: trusted in dev and test only.
        app.include_router(wellknown.router)
    return app
