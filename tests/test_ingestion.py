"""Ingestion against a real local partner feed: faults, idempotence, snapshots, resume, quarantine, lock."""

from __future__ import annotations

import os

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from ingestion.fetch import Fetcher, FetchError, retry_after_seconds
from ingestion.pipeline import ingest_records
from ingestion.runner import SOURCE_LOCK_CLASS, SourceBusy, run_source, sweep_expired
from ingestion.samples import FeedServer, FeedState, ft_offers
from matching.storage.database import connect

ADD_SOURCE = "INSERT INTO sources (id, kind, label, config, priority) VALUES (%s, %s, %s, %s, %s)"
STATE = """
SELECT external_id, status, encode(content_hash, 'hex') AS hash, embedding IS NOT NULL AS embedded,
       rome_code, qpv_code, commune_insee, lat
FROM offers WHERE source_id = %s ORDER BY external_id
"""


def _fetcher(waits: list[float], attempts: int = 6) -> Fetcher:
    # Waits are recorded rather than slept: backoff and Retry-After are checked without slow tests.
    return Fetcher(timeout_s=0.5, max_attempts=attempts, sleep=waits.append, rate_per_second=1000)


def _add_lee(conn, url: str, page_size: int = 150, source_id: str = "lee") -> None:
    config = {"url": f"{url}/offres", "roster_url": f"{url}/membres", "page_size": page_size}
    conn.execute(ADD_SOURCE, (source_id, "lee", "Les entreprises s'engagent", Jsonb(config), 20))
    conn.commit()


def _counts(conn) -> dict:
    return conn.execute(
        "SELECT (SELECT count(*) FROM offers) AS offers, (SELECT count(*) FROM offer_status_history) AS history,"
        " (SELECT max(updated_at) FROM offers) AS last_write, (SELECT count(*) FROM rome_predictions) AS predictions"
    ).fetchone()


def test_feed_survives_faults_and_a_second_run_writes_and_embeds_nothing(conn, embedder):
    offers = ft_offers(40, seed=1, paragraphs=1)
    members = [{"siret": "44306184100047", "nom": "Atelier du Canal", "engagements": ["recrutement_qpv"]}]
    state = FeedState(offers, members)
    # 500, a timeout, a truncated body and a 429: every one is retried, the 429 after its Retry-After.
    state.faults.extend([("500", 0), ("timeout", 1.0), ("truncated", 0), ("429", 7)])
    waits: list[float] = []
    with FeedServer(state) as server:
        _add_lee(conn, server.url, page_size=15)
        first = run_source(conn, "lee", embedder, fetcher=_fetcher(waits))
        assert (first.fetched, first.created, first.quarantined) == (40, 40, 0)
        assert first.embedded == 40
        assert 7.0 in waits and len(waits) == 4
        before = _counts(conn)
        second = run_source(conn, "lee", embedder, fetcher=_fetcher(waits))
    assert (second.created, second.updated, second.unchanged, second.embedded) == (0, 0, 40, 0)
    assert _counts(conn) == before
    run = conn.execute("SELECT * FROM ingestion_runs WHERE id = %s", (second.run_id,)).fetchone()
    assert run["status"] == "succeeded" and run["unchanged"] == 40 and run["duration_ms"] >= 0
    member = conn.execute("SELECT lee_member, qpv_clause FROM companies WHERE siret = '44306184100047'").fetchone()
    assert member == {"lee_member": True, "qpv_clause": True}
    stored = conn.execute("SELECT raw, qpv_code, lat, expires_at FROM offers WHERE commune_insee = '93066' LIMIT 1")
    row = stored.fetchone()
    assert "nom" not in row["raw"]["contact"] and "telephone" not in row["raw"]["contact"]
    assert row["lat"] is not None and row["expires_at"] is not None
    # Pages follow each other through Content-Range, retried pages asked again with the same range.
    assert {r for r in state.requests if r.startswith("/offres")} == {
        "/offres?range=0-14",
        "/offres?range=15-29",
        "/offres?range=30-44",
    }


def test_fetch_gives_up_with_a_clear_error_and_never_retries_a_client_error():
    waits: list[float] = []
    state = FeedState(ft_offers(3))
    state.faults.extend([("500", 0)] * 4)
    with FeedServer(state) as server, _fetcher(waits, attempts=4) as fetcher:
        with pytest.raises(FetchError, match="gave up after 4 attempts"):
            fetcher.get_json(f"{server.url}/offres", {"range": "0-9"})
        with pytest.raises(FetchError, match="HTTP 400"):
            fetcher.get_json(f"{server.url}/offres", {"range": "0-499"})
    assert len(waits) == 4
    assert retry_after_seconds("12", 1.0) == 12.0 and retry_after_seconds("garbage", 1.5) == 1.5


def test_snapshot_unpublishes_vanished_offers_and_republishes_returning_ones(conn):
    offers = ft_offers(30, seed=2)
    state = FeedState(offers)
    with FeedServer(state) as server:
        _add_lee(conn, server.url, page_size=10)
        run_source(conn, "lee", fetcher=_fetcher([]))
        gone = {o["id"] for o in offers[:5]}
        state.offers = offers[5:]
        report = run_source(conn, "lee", fetcher=_fetcher([]))
        assert report.unpublished == 5
        statuses = {r["external_id"]: r["status"] for r in conn.execute("SELECT external_id, status FROM offers")}
        assert {e for e, s in statuses.items() if s == "unpublished"} == gone
        state.offers = offers[:1] + offers[5:]
        report = run_source(conn, "lee", fetcher=_fetcher([]))
    assert report.updated == 1 and report.unpublished == 0
    history = conn.execute(
        "SELECT old_status, new_status, reason FROM offer_status_history h JOIN offers o ON o.id = h.offer_id "
        "WHERE o.external_id = %s ORDER BY h.id",
        (offers[0]["id"],),
    ).fetchall()
    assert [(h["old_status"], h["new_status"], h["reason"]) for h in history] == [
        (None, "active", "created"),
        ("active", "unpublished", "missing_from_snapshot"),
        ("unpublished", "active", "republished"),
    ]
    assert not conn.execute("SELECT 1 FROM ingestion_run_seen").fetchall()


class _Killed(Exception):
    pass


def test_a_run_killed_midway_leaves_no_partial_batch_and_the_next_run_completes_it(
    conn, embedder, pg_server, template_database
):
    offers = ft_offers(24, seed=3, paragraphs=1)
    offers[4] = {**offers[4], "typeContrat": "XYZ"}  # one bad record, quarantined exactly once

    def kill_in_second_batch(n: int) -> None:
        if n == 1:
            raise _Killed

    other = f"maillage_test_{os.getpid()}_uninterrupted"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(other), sql.Identifier(template_database))
        )
    try:
        with FeedServer(FeedState(offers)) as server, connect(pg_server.get_uri(other)) as reference:
            _add_lee(conn, server.url, page_size=8)
            with pytest.raises(_Killed):
                run_source(conn, "lee", embedder, fetcher=_fetcher([]), on_batch=kill_in_second_batch)
            assert conn.execute("SELECT count(*) AS n FROM offers").fetchone()["n"] == 7
            run = conn.execute("SELECT status FROM ingestion_runs").fetchone()
            assert run["status"] == "interrupted"
            resumed = run_source(conn, "lee", embedder, fetcher=_fetcher([]))
            # The resumed run re-fetches only the batch that was rolled back and what follows.
            assert resumed.fetched == 16 and resumed.created == 16
            _add_lee(reference, server.url, page_size=8)
            run_source(reference, "lee", embedder, fetcher=_fetcher([]))
            assert conn.execute(STATE, ("lee",)).fetchall() == reference.execute(STATE, ("lee",)).fetchall()
            assert conn.execute("SELECT count(*) AS n FROM quarantine").fetchone()["n"] == 1
            assert conn.execute("SELECT count(*) AS n FROM ingestion_runs WHERE status = 'succeeded'").fetchone()["n"]
    finally:
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(other)))


def test_malformed_records_end_in_quarantine_with_their_reason_and_the_rest_proceeds(conn):
    good = ft_offers(3, seed=4)
    bad = [
        "pas un objet",
        {**good[0], "id": "B1", "intitule": ""},
        {**good[0], "id": "B2", "typeContrat": "ZZZ"},
        {**good[0], "id": "B3", "lieuTravail": {"libelle": "France"}},
        {**good[0], "id": "B4", "dateCreation": "hier"},
        {**good[0], "id": "B5", "lieuTravail": {"latitude": 91, "longitude": 2}},
    ]
    conn.execute(ADD_SOURCE, ("lee", "lee", "LEE", Jsonb({}), 20))
    report = ingest_records(conn, "lee", [*good, *bad])
    assert (report.created, report.quarantined) == (3, 6)
    rows = conn.execute(
        "SELECT external_id, step, reason_code, reason, payload, payload_text FROM quarantine ORDER BY id"
    ).fetchall()
    assert [(r["external_id"], r["step"], r["reason_code"]) for r in rows] == [
        (None, "parse", "not_an_object"),
        ("B1", "validate", "missing_intitule"),
        ("B2", "validate", "unknown_contract"),
        ("B4", "validate", "bad_date"),
        ("B5", "validate", "bad_coordinates"),
        ("B3", "normalise", "unknown_place"),
    ]
    assert rows[0]["payload_text"] == "pas un objet"
    again = ingest_records(conn, "lee", [*good, *bad])
    assert (again.unchanged, again.quarantined) == (3, 6)
    assert conn.execute("SELECT count(*) AS n FROM quarantine").fetchone()["n"] == 6
    assert rows[2]["payload"]["typeContrat"] == "ZZZ" and "inconnu" in rows[2]["reason"]


def test_one_run_per_source_at_a_time(conn, database_url):
    conn.execute(ADD_SOURCE, ("lee", "lee", "LEE", Jsonb({"url": "http://127.0.0.1:9/offres"}), 20))
    conn.commit()
    with connect(database_url) as other:
        other.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (SOURCE_LOCK_CLASS, "lee"))
        with pytest.raises(SourceBusy):
            run_source(conn, "lee")
    assert not conn.execute("SELECT 1 FROM ingestion_runs").fetchall()


def test_offers_expire_by_date_or_default_lifetime_and_the_sweep_keeps_history(conn):
    offers = ft_offers(2, seed=5)
    offers[0]["dateExpiration"] = "2020-01-01T00:00:00Z"
    offers[1]["dateCreation"] = "2019-01-01T00:00:00Z"  # default lifetime (60 days) long past
    conn.execute(ADD_SOURCE, ("lee", "lee", "LEE", Jsonb({}), 20))
    ingest_records(conn, "lee", offers)
    assert sweep_expired(conn) == 2
    assert sweep_expired(conn) == 0
    reasons = conn.execute("SELECT new_status, reason FROM offer_status_history WHERE reason = 'expiry_sweep'")
    assert [r["new_status"] for r in reasons] == ["expired", "expired"]
