"""Embed offers and candidate profiles that lack a vector from the current model, and store them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import psycopg

from matching.domain import candidate_embedding_text, content_hash_of_text, offer_embedding_text
from matching.storage.candidates import CANDIDATES_NEEDING_EMBEDDING, SET_CANDIDATE_EMBEDDING
from matching.storage.offers import OFFERS_NEEDING_EMBEDDING, SET_OFFER_EMBEDDING, refresh_place_counts

# Called with (items done so far, total items).
Progress = Callable[[int, int], None]


class TextEncoder(Protocol):
    """What indexing needs of an embedder (see `matching.embeddings.Embedder`)."""

    model_id: str

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


def _store(
    conn: psycopg.Connection,
    statement: str,
    ids: list,
    texts: list[str],
    encode: Callable[[Sequence[str]], np.ndarray],
    model_id: str,
    batch_size: int,
    progress: Progress | None,
) -> int:
    for start in range(0, len(texts), batch_size):
        batch_ids, batch_texts = ids[start : start + batch_size], texts[start : start + batch_size]
        vectors = encode(batch_texts)
        with conn.cursor() as cur:
            cur.executemany(
                statement,
                [
                    {"id": i, "embedding": v, "model_id": model_id, "text_hash": content_hash_of_text(t)}
                    for i, v, t in zip(batch_ids, vectors, batch_texts, strict=True)
                ],
            )
        conn.commit()
        if progress:
            progress(start + len(batch_ids), len(ids))
    return len(ids)


def embed_pending_offers(
    conn: psycopg.Connection, encoder: TextEncoder, batch_size: int = 64, progress: Progress | None = None
) -> int:
    """Embed every active offer without a vector of the encoder's model, recount per place; return how many."""
    rows = conn.execute(OFFERS_NEEDING_EMBEDDING, {"model_id": encoder.model_id}).fetchall()
    texts = [
        offer_embedding_text(r["title"], r["appellation_label"], list(r["skill_labels"]), r["description"])
        for r in rows
    ]
    ids = [r["id"] for r in rows]
    stored = _store(conn, SET_OFFER_EMBEDDING, ids, texts, encoder.encode_passages, encoder.model_id,
                    batch_size, progress)  # fmt: skip
    if stored:  # the offers just embedded enter the retrieval index: count them
        refresh_place_counts(conn)
        conn.commit()
    return stored


def embed_pending_candidates(
    conn: psycopg.Connection,
    encoder: TextEncoder,
    candidate_ids: list | None = None,
    batch_size: int = 64,
    progress: Progress | None = None,
) -> int:
    """Embed active candidate profiles (all pending, or the given ids) as queries; return how many."""
    rows = conn.execute(
        CANDIDATES_NEEDING_EMBEDDING, {"model_id": encoder.model_id, "ids": candidate_ids}
    ).fetchall()
    texts = [
        candidate_embedding_text(list(r["target_job_labels"]), list(r["skill_labels"]), r["summary"])
        for r in rows
    ]
    ids = [r["id"] for r in rows]
    return _store(conn, SET_CANDIDATE_EMBEDDING, ids, texts, encoder.encode_queries, encoder.model_id,
                  batch_size, progress)  # fmt: skip
