"""FastAPI dependencies: a pooled connection per request, the embedder, the settings.

Dependencies that never block are `async def`: FastAPI runs a plain `def` dependency in the thread pool, and
each hop (a queue hand-off and GIL switches) cost more than the dependency itself under concurrent requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import psycopg
from fastapi import Depends, HTTPException, Request, status

from api.state import AppResources
from matching.config import Settings
from matching.embeddings import Embedder


async def get_resources(request: Request) -> AppResources:
    """The resources opened by the lifespan."""
    return request.app.state.resources


def get_conn(resources: Annotated[AppResources, Depends(get_resources)]) -> Iterator[psycopg.Connection]:
    """A pooled connection; committed when the request succeeds, rolled back otherwise."""
    with resources.pool.connection() as conn:
        yield conn


async def get_embedder(resources: Annotated[AppResources, Depends(get_resources)]) -> Embedder:
    """The loaded embedder, or 503 while it is not available."""
    if resources.embedder is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "Le modèle d'embeddings n'est pas chargé.")
    return resources.embedder


async def get_app_settings(resources: Annotated[AppResources, Depends(get_resources)]) -> Settings:
    """The application's settings."""
    return resources.settings


Conn = Annotated[psycopg.Connection, Depends(get_conn)]
EmbedderDep = Annotated[Embedder, Depends(get_embedder)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
ResourcesDep = Annotated[AppResources, Depends(get_resources)]
