"""Source connectors: one module per source kind, each exposing a `CONNECTOR` (adding a source is one file)."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg

from ingestion.fetch import Fetcher


@dataclass(frozen=True, slots=True)
class Page:
    """One batch of raw records, and the cursor to resume after it (None once the source is exhausted)."""

    records: list[Any]
    cursor: dict | None
    total: int | None = None


class Connector(Protocol):
    """What the runner needs of a source kind."""

    parser: str  # a key of ingestion.pipeline.PARSERS or 'eq2030'

    def snapshot(self, config: dict) -> bool:
        """Whether one complete run returns every live offer (so missing ones are unpublished)."""
        ...

    def pages(self, conn: psycopg.Connection, config: dict, cursor: dict | None, fetcher: Fetcher) -> Iterator[Page]:
        """Yield pages from `cursor` (None: from the start)."""
        ...


def connector_for(kind: str) -> Connector:
    """The connector of a source kind, from its module `ingestion.connectors.<kind>`."""
    try:
        module = importlib.import_module(f"{__name__}.{kind}")
    except ModuleNotFoundError:
        raise KeyError(f"no connector for source kind {kind!r}") from None
    return module.CONNECTOR
