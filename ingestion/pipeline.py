"""The ingestion pipeline for one batch: parse and validate → normalise → upsert → embed → de-duplicate.

One batch is one transaction: a run killed midway leaves no partial offer. Unchanged offers (same
content hash) are neither written nor re-embedded; bad records go to quarantine with their raw
payload, step and reason code, and the rest of the batch proceeds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg
from psycopg.types.json import Jsonb

from ingestion.dedup import DedupCandidate, duplicate_reason, keeper
from ingestion.normalise import DEFAULT_TTL_DAYS, Normaliser
from ingestion.parsing import RecordError, parse_eq2030_row, parse_france_travail_offer, parse_maillage_offer
from ingestion.rome_prediction import RomeDecision, RomeIndex
from matching.domain import OfferRecord, content_hash_of_text
from matching.referentiels.text import normalize_text
from matching.storage.offers import SET_OFFER_EMBEDDING, link_duplicate, promote_keeper, upsert_offer

Parser = Callable[[Any, str], OfferRecord]
PARSERS: dict[str, Parser] = {
    "francetravail": parse_france_travail_offer,
    "maillage": parse_maillage_offer,
    "eq2030": parse_eq2030_row,
}

# The same bad record sent again is not quarantined twice while the first one is unresolved.
INSERT_QUARANTINE = """
INSERT INTO quarantine (run_id, source_id, external_id, step, reason_code, reason, payload, payload_text)
SELECT %(run_id)s, %(source_id)s, %(external_id)s, %(step)s, %(reason_code)s, %(reason)s, %(payload)s,
       %(payload_text)s
WHERE NOT EXISTS (
    SELECT 1 FROM quarantine q
    WHERE q.resolved_at IS NULL AND q.source_id = %(source_id)s AND q.reason_code = %(reason_code)s
      AND q.external_id IS NOT DISTINCT FROM %(external_id)s
      AND q.payload IS NOT DISTINCT FROM %(payload)s::jsonb AND q.payload_text IS NOT DISTINCT FROM %(payload_text)s
)
"""
INSERT_PREDICTION = """
INSERT INTO rome_predictions (offer_id, run_id, source_code, predicted_code, appellation_code, score, method,
                              source_consistent, alternatives)
VALUES (%(offer_id)s, %(run_id)s, %(source_code)s, %(predicted_code)s, %(appellation_code)s, %(score)s,
        %(method)s, %(source_consistent)s, %(alternatives)s)
"""
SET_DEFAULT_EXPIRY = """
UPDATE offers SET expires_at = created_at + make_interval(days => %(days)s)
WHERE id = ANY(%(ids)s) AND expires_at IS NULL
"""
FIND_COMPANY_BY_SIRET = "SELECT id FROM companies WHERE siret = %(siret)s"
FIND_COMPANY_BY_NAME = """
SELECT id FROM companies WHERE name_normalized = %(name)s AND postal_code IS NOT DISTINCT FROM %(postal_code)s
ORDER BY siret IS NULL, id LIMIT 1
"""
INSERT_COMPANY = """
INSERT INTO companies (siret, name, name_normalized, postal_code, commune_insee, naf_code)
VALUES (%(siret)s, %(name)s, %(name_normalized)s, %(postal_code)s, %(commune_insee)s, %(naf_code)s)
ON CONFLICT (siret) DO UPDATE SET siret = EXCLUDED.siret
RETURNING id
"""
CLEAR_EMBEDDING = """
UPDATE offers SET embedding = NULL, embedding_model = NULL, embedded_hash = NULL
WHERE id = ANY(%(ids)s) AND embedding IS NOT NULL
"""
DEDUP_NEIGHBOURS = """
SELECT o.id, o.postal_code, o.title_key, o.embedding, o.rome_code, o.status, o.duplicate_of, s.kind AS source_kind,
       s.priority AS source_priority, c.siret AS company_siret, c.name_normalized AS company_name_key,
       (o.description <> o.title)::int + (o.rome_code IS NOT NULL)::int + (o.hours_per_week IS NOT NULL)::int
       + (o.apply_url IS NOT NULL OR o.apply_email IS NOT NULL)::int + (o.salary_label IS NOT NULL)::int
       + (jsonb_array_length(o.skills) > 0)::int AS completeness
FROM offers o
JOIN sources s ON s.id = o.source_id
LEFT JOIN companies c ON c.id = o.company_id
WHERE o.postal_code = %(postal_code)s AND o.status IN ('active', 'duplicate')
  AND (o.id = %(id)s OR (c.siret IS NOT NULL AND c.siret = %(siret)s) OR c.name_normalized = %(name)s)
"""
ADD_RUN_COUNTS = """
UPDATE ingestion_runs SET fetched = fetched + %(fetched)s, created = created + %(created)s,
    updated = updated + %(updated)s, unchanged = unchanged + %(unchanged)s,
    duplicates = duplicates + %(duplicates)s, quarantined = quarantined + %(quarantined)s,
    embedded = embedded + %(embedded)s
WHERE id = %(run_id)s
"""
INSERT_SEEN = "INSERT INTO ingestion_run_seen (run_id, external_id) VALUES (%s, %s) ON CONFLICT DO NOTHING"


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    """What happened to one submitted record."""

    external_id: str | None
    status: str  # created, updated, unchanged, duplicate, quarantined
    offer_id: int | None = None
    reason_code: str | None = None
    reason: str | None = None


@dataclass
class IngestionReport:
    """Counts of one batch or run, and each record's outcome."""

    run_id: int | None = None
    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unpublished: int = 0
    duplicates: int = 0
    quarantined: int = 0
    embedded: int = 0
    duration_s: float = 0.0
    outcomes: list[RecordOutcome] = field(default_factory=list)

    def add(self, other: IngestionReport) -> None:
        """Add another batch's counts (outcomes are not accumulated across batches)."""
        for name in ("fetched", "created", "updated", "unchanged", "unpublished", "duplicates", "quarantined",
                     "embedded"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def counts(self) -> dict[str, int]:
        """The counters, for printing and the run record."""
        return {k: getattr(self, k) for k in ("fetched", "created", "updated", "unchanged", "unpublished",
                                              "duplicates", "quarantined", "embedded")}  # fmt: skip


def quarantine(
    conn: psycopg.Connection,
    source_id: str,
    run_id: int | None,
    payload: Any,
    error: RecordError,
    external_id: str | None = None,
) -> None:
    """Keep a record that could not be ingested, with its raw payload, step and reason."""
    as_json = payload if isinstance(payload, (dict, list)) else None
    conn.execute(INSERT_QUARANTINE, {
        "run_id": run_id, "source_id": source_id, "external_id": external_id, "step": error.step,
        "reason_code": error.reason_code, "reason": error.message,
        "payload": Jsonb(as_json) if as_json is not None else None,
        "payload_text": None if as_json is not None else (payload if isinstance(payload, str) else repr(payload)),
    })  # fmt: skip


def _external_id(payload: Any) -> str | None:
    if isinstance(payload, dict):
        value = payload.get("id") or payload.get("external_id")
        return str(value)[:100] if value else None
    return None


def _company_id(conn: psycopg.Connection, offer: OfferRecord, cache: dict) -> int | None:
    """The company of an offer, found by SIRET or name and postal code, created if new (never rewritten)."""
    if not offer.company_siret and not offer.company_name:
        return None
    key = (offer.company_siret, normalize_text(offer.company_name or ""), offer.postal_code)
    if key in cache:
        return cache[key]
    row = None
    if offer.company_siret:
        row = conn.execute(FIND_COMPANY_BY_SIRET, {"siret": offer.company_siret}).fetchone()
    elif offer.company_name:  # a different SIRET is a different company, whatever its name
        row = conn.execute(FIND_COMPANY_BY_NAME, {"name": key[1], "postal_code": offer.postal_code}).fetchone()
    if row is None:
        row = conn.execute(INSERT_COMPANY, {
            "siret": offer.company_siret, "name": (offer.company_name or offer.company_siret)[:300],
            "name_normalized": key[1] or offer.company_siret, "postal_code": offer.postal_code,
            "commune_insee": offer.commune_insee, "naf_code": offer.naf_code,
        }).fetchone()  # fmt: skip
    cache[key] = row["id"]
    return row["id"]


def _record_prediction(conn, offer_id: int, run_id: int | None, decision: RomeDecision) -> None:
    p = decision.prediction
    if p is None:
        return
    conn.execute(INSERT_PREDICTION, {
        "offer_id": offer_id, "run_id": run_id, "source_code": decision.source_code, "predicted_code": p.code,
        "appellation_code": p.appellation_code, "score": p.score, "method": p.method,
        "source_consistent": decision.source_consistent, "alternatives": Jsonb([list(a) for a in p.alternatives]),
    })  # fmt: skip


def _embed(conn, encoder, written: list[tuple[int, OfferRecord, bytes | None]]) -> int:
    """Embed written offers whose passage text changed; return how many."""
    todo = []
    for offer_id, offer, embedded_hash in written:
        text = offer.embedding_text()
        if embedded_hash != content_hash_of_text(text):
            todo.append((offer_id, text))
    if not todo:
        return 0
    if encoder is None:  # left pending for `maillage embed` / the worker, never with a stale vector
        conn.execute(CLEAR_EMBEDDING, {"ids": [i for i, _ in todo]})
        return 0
    vectors = encoder.encode_passages([t for _, t in todo])
    with conn.cursor() as cur:
        cur.executemany(SET_OFFER_EMBEDDING, [
            {"id": i, "embedding": v, "model_id": encoder.model_id, "text_hash": content_hash_of_text(t)}
            for (i, t), v in zip(todo, vectors, strict=True)
        ])  # fmt: skip
    return len(todo)


def _candidate(row: dict) -> DedupCandidate:
    return DedupCandidate(
        offer_id=row["id"], source_kind=row["source_kind"], source_priority=row["source_priority"],
        postal_code=row["postal_code"], company_siret=row["company_siret"],
        company_name_key=row["company_name_key"], title_key=row["title_key"] or "",
        completeness=row["completeness"], embedding=_vector(row["embedding"]),
        rome_code=row["rome_code"],
    )  # fmt: skip


def _vector(value) -> np.ndarray | None:
    if value is None:
        return None
    return value.to_numpy() if hasattr(value, "to_numpy") else np.asarray(value, dtype=np.float32)


def deduplicate(conn: psycopg.Connection, offer_id: int, offer: OfferRecord, run_id: int | None) -> int:
    """Cluster an offer with the same job elsewhere; link all but the kept one; return offers newly linked."""
    if not offer.postal_code:
        return 0
    rows = conn.execute(DEDUP_NEIGHBOURS, {
        "postal_code": offer.postal_code, "id": offer_id, "siret": offer.company_siret,
        "name": normalize_text(offer.company_name or "") or None,
    }).fetchall()  # fmt: skip
    by_id = {r["id"]: r for r in rows}
    if offer_id not in by_id or len(rows) < 2:
        return 0
    me = _candidate(by_id[offer_id])
    cluster = {offer_id}
    reasons: dict[int, str] = {}
    for row in rows:
        reason = duplicate_reason(me, _candidate(row))
        if reason:
            cluster.add(row["id"])
            reasons[row["id"]] = reason
            if row["duplicate_of"] in by_id:
                cluster.add(row["duplicate_of"])
    if len(cluster) < 2:
        return 0
    kept = keeper([_candidate(by_id[i]) for i in cluster])
    promote_keeper(conn, kept.offer_id, run_id)
    linked = 0
    for member in cluster - {kept.offer_id}:
        reason = reasons.get(member) or reasons.get(kept.offer_id) or "same_cluster"
        linked += link_duplicate(conn, member, kept.offer_id, reason, run_id)
    return linked


def ingest_records(
    conn: psycopg.Connection,
    source_id: str,
    records: Sequence[Any],
    embedder=None,
    *,
    parser: Parser | str = "francetravail",
    rome_index: RomeIndex | None = None,
    run_id: int | None = None,
    snapshot: bool = False,
    default_ttl_days: int = DEFAULT_TTL_DAYS,
    commit: bool = True,
    on_written: Callable[[], None] | None = None,
) -> IngestionReport:
    """Ingest one batch of raw records of a source in one transaction and report what it did.

    `parser` is 'francetravail', 'maillage' or a function (payload, source_id) → OfferRecord. Without an
    embedder, written offers stay pending for `maillage embed` / the worker.
    """
    parse = PARSERS[parser] if isinstance(parser, str) else parser
    started = time.perf_counter()
    report = IngestionReport(run_id=run_id, fetched=len(records))
    parsed: list[tuple[Any, OfferRecord]] = []
    seen: set[str] = set()
    for payload in records:
        external_id = _external_id(payload)
        try:
            offer = parse(payload, source_id)
        except RecordError as exc:
            quarantine(conn, source_id, run_id, payload, exc, external_id)
            report.quarantined += 1
            report.outcomes.append(RecordOutcome(external_id, "quarantined", None, exc.reason_code, exc.message))
            if external_id:
                seen.add(external_id)  # a malformed update must not unpublish the stored offer
            continue
        if offer.external_id in seen:
            continue  # the same offer twice in one batch: the first one counts
        seen.add(offer.external_id)
        parsed.append((payload, offer))
    normaliser = Normaliser(conn, rome_index, default_ttl_days)
    normalised = normaliser.normalise_many([offer for _, offer in parsed])
    companies: dict = {}
    written: list[tuple[int, OfferRecord, bytes | None]] = []
    for (payload, offer), result in zip(parsed, normalised, strict=True):
        if isinstance(result, RecordError):
            quarantine(conn, source_id, run_id, payload, result, offer.external_id)
            report.quarantined += 1
            report.outcomes.append(RecordOutcome(offer.external_id, "quarantined", None, result.reason_code,
                                                 result.message))  # fmt: skip
            continue
        offer, decision = result
        upserted = upsert_offer(conn, offer, _company_id(conn, offer, companies))
        if upserted.offer_id is None:
            report.unchanged += 1
            report.outcomes.append(RecordOutcome(offer.external_id, "unchanged"))
            continue
        if upserted.created:
            report.created += 1
        else:
            report.updated += 1
        if decision is not None:
            _record_prediction(conn, upserted.offer_id, run_id, decision)
        written.append((upserted.offer_id, offer, upserted.embedded_hash))
        report.outcomes.append(RecordOutcome(offer.external_id, "created" if upserted.created else "updated",
                                             upserted.offer_id))  # fmt: skip
    if written:
        conn.execute(SET_DEFAULT_EXPIRY, {"ids": [w[0] for w in written], "days": default_ttl_days})
        report.embedded = _embed(conn, embedder, written)
        for offer_id, offer, _ in written:
            report.duplicates += deduplicate(conn, offer_id, offer, run_id)
    if run_id is not None:
        if snapshot and seen:
            with conn.cursor() as cur:
                cur.executemany(INSERT_SEEN, [(run_id, e) for e in seen])
        conn.execute(ADD_RUN_COUNTS, {"run_id": run_id, **report.counts()})
    if on_written:
        on_written()
    if commit:
        conn.commit()
    report.duration_s = time.perf_counter() - started
    return report
