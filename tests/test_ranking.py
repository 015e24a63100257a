"""The ranking engine on a real database and model: barriers, hybrid channels, logging, both directions."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from matching.features import CandidateProfile, OfferFacts
from matching.geo import haversine_km
from matching.matches import (
    CANDIDATES_IN_REACH,
    OFFER_FOR_MATCHING,
    RERANK_MARGIN,
    SCORED_CANDIDATE_COLUMNS,
    OfferNotFound,
    apply_exposure_cap,
    candidates_for_offer,
    candidates_in_reach,
    offers_for_candidate,
)
from matching.retrieval import (
    HardFilters,
    OfferQuery,
    hybrid_offers,
    lexical_query,
    reciprocal_rank_fusion,
)
from matching.scoring import V0_VERSION, LinearModel, load_active_model, register_model
from matching.storage.audit import SYSTEM_ACTOR
from matching.storage.candidates import CandidateAccessor
from matching.storage.database import DEFAULT_PLAN_MODE
from matching.storage.offers import prune_exposure

PARIS = (48.8566, 2.3522)


def _candidates(conn) -> list[dict]:
    return conn.execute("SELECT * FROM candidates ORDER BY reference").fetchall()


def _offers_for(conn, embedder, candidate_id, **kwargs):
    accessor = CandidateAccessor(conn, SYSTEM_ACTOR, structure_id=None)
    kwargs.setdefault("limit", 10)
    kwargs.setdefault("radius_km", None)
    return offers_for_candidate(conn, accessor, embedder, candidate_id, default_radius_km=30, **kwargs)


def test_matches_respect_the_candidate_barriers_and_are_logged(conn, embedder, demo_database):
    checked = 0
    for candidate in _candidates(conn):
        result = _offers_for(conn, embedder, candidate["id"], radius_km=40)
        assert result.model_version == V0_VERSION
        assert [m.rank for m in result.matches] == list(range(1, len(result.matches) + 1))
        scores = [m.score for m in result.matches]
        assert scores == sorted(scores, reverse=True) or len({m.row["company_id"] for m in result.matches}) > 1
        for match in result.matches:
            offer = conn.execute("SELECT * FROM offers WHERE id = %s", (match.row["id"],)).fetchone()
            assert haversine_km(candidate["lat"], candidate["lon"], offer["lat"], offer["lon"]) < 40.01
            assert offer["contract_type"] in candidate["desired_contracts"]
            assert set(offer["licences"]) <= set(candidate["licences"])
            if candidate["part_time_only"]:
                assert offer["hours_per_week"] < 35
            assert match.explanation.model_version == V0_VERSION
            assert {c.status for c in match.explanation.criteria} <= {"met", "not_met", "unknown"}
            checked += 1
        items = conn.execute(
            "SELECT rank, score, features, offer_id FROM match_items WHERE request_id = %s ORDER BY rank",
            (result.request_id,),
        ).fetchall()
        assert [i["offer_id"] for i in items] == [m.row["id"] for m in result.matches]
        assert all(set(i["features"]) >= {"semantic_similarity", "rome_same", "congestion"} for i in items)
        # Time-ordered ids (migration 0013): the log's primary keys grow at their index's right edge.
        assert result.request_id.version == 7 and all(m.match_id.version == 7 for m in result.matches)
    assert checked >= 30


def test_target_job_comes_first(conn, embedder, demo_database):
    hits = total = 0
    for candidate in _candidates(conn):
        result = _offers_for(
            conn, embedder, candidate["id"], radius_km=60, contracts=["CDI", "CDD", "MIS", "APPRENTISSAGE", "IAE"]
        )
        codes = [m.row["rome_code"] for m in result.matches]
        target = candidate["target_rome_codes"][0]
        if target in codes:
            total += 1
            hits += codes[0] == target
    assert total >= 5
    assert hits / total >= 0.8, (hits, total)


def test_contract_override_and_pagination(conn, embedder, demo_database):
    candidate = _candidates(conn)[0]
    first = _offers_for(conn, embedder, candidate["id"], radius_km=60, contracts=["CDI"], limit=5)
    second = _offers_for(conn, embedder, candidate["id"], radius_km=60, contracts=["CDI"], limit=5, offset=5)
    assert all(m.row["contract_type"] == "CDI" for m in first.matches + second.matches)
    assert [m.rank for m in second.matches] == list(range(6, 6 + len(second.matches)))
    assert not {m.row["id"] for m in first.matches} & {m.row["id"] for m in second.matches}


def test_exposure_cap_limits_one_company_in_the_top(conn, embedder, demo_database):
    candidate = _candidates(conn)[1]
    result = _offers_for(conn, embedder, candidate["id"], radius_km=80, limit=20, max_per_company=1,
                         contracts=["CDI", "CDD", "MIS", "APPRENTISSAGE", "IAE"])  # fmt: skip
    companies = [m.row["company_id"] for m in result.matches]
    distinct = len(set(companies))
    assert companies[:distinct] == list(dict.fromkeys(companies))[:distinct]


def test_congestion_lowers_an_offer_proposed_to_many(conn, embedder, demo_database):
    candidate = _candidates(conn)[2]
    before = _offers_for(conn, embedder, candidate["id"], radius_km=60)
    top = before.matches[0]
    request = conn.execute("INSERT INTO match_requests (direction, model_version) VALUES "
                           "('offers_for_candidate', 'test') RETURNING id").fetchone()["id"]  # fmt: skip
    for n in range(40):
        conn.execute("INSERT INTO match_items (request_id, candidate_key, offer_id, rank, score) "
                     "VALUES (%s, %s, %s, 1, 1)", (request, f"k{n}", top.row["id"]))  # fmt: skip
    after = _offers_for(conn, embedder, candidate["id"], radius_km=60)
    moved = next(m for m in after.matches if m.row["id"] == top.row["id"])
    assert moved.score < top.score
    assert moved.features["congestion"] > 0.9
    assert any(c.code == "sollicitation" and c.status == "not_met" for c in moved.explanation.criteria)


def test_exposure_counts_the_distinct_candidates_of_the_last_30_days(conn, demo_database):
    """Congestion reads the exposure table the match log maintains: one per candidate, within the window."""
    offer_id = conn.execute("SELECT id FROM offers WHERE status = 'active' ORDER BY id LIMIT 1").fetchone()["id"]
    request = conn.execute("INSERT INTO match_requests (direction, model_version) VALUES "
                           "('offers_for_candidate', 'test') RETURNING id").fetchone()["id"]  # fmt: skip
    insert = "INSERT INTO match_items (request_id, candidate_key, offer_id, rank, score) VALUES (%s, %s, %s, 1, 1)"
    for key in ("a", "a", "b"):
        conn.execute(insert, (request, key, offer_id))
    # One statement serving the same pair twice, and a pair served long ago.
    conn.execute("INSERT INTO match_items (request_id, candidate_key, offer_id, rank, score) "
                 "SELECT %s, k, %s, 1, 1 FROM unnest(ARRAY['c', 'c', 'd']) AS k", (request, offer_id))  # fmt: skip
    conn.execute("UPDATE offer_exposure SET last_served_at = now() - interval '31 days' WHERE candidate_key = 'd'")
    # A list logged after the fact keeps its request's date.
    old = conn.execute("INSERT INTO match_requests (direction, model_version, served_at) VALUES "
                       "('offers_for_candidate', 'test', now() - interval '40 days') RETURNING id").fetchone()["id"]
    conn.execute(insert, (old, "e", offer_id))
    assert conn.execute(OFFER_FOR_MATCHING, {"id": offer_id}).fetchone()["recent_proposals"] == 3
    assert prune_exposure(conn) == 2
    left = conn.execute("SELECT count(*) AS n FROM offer_exposure WHERE offer_id = %s", (offer_id,)).fetchone()
    assert left["n"] == 3


def test_candidates_for_offer_stay_in_the_callers_structure(conn, demo_database):
    first = conn.execute("SELECT structure_id FROM candidates ORDER BY reference LIMIT 1").fetchone()
    structure = first["structure_id"]
    mine = {r["id"] for r in conn.execute("SELECT id FROM candidates WHERE structure_id = %s", (structure,))}
    accessor = CandidateAccessor(conn, SYSTEM_ACTOR, structure_id=structure)
    served = 0
    for offer in conn.execute("SELECT id FROM offers ORDER BY id LIMIT 40").fetchall():
        result = candidates_for_offer(conn, accessor, offer["id"], limit=10, default_radius_km=30)
        assert {m.row["id"] for m in result.matches} <= mine
        served += len(result.matches)
    assert served > 0
    with pytest.raises(OfferNotFound):
        candidates_for_offer(conn, accessor, 10**9, limit=10, default_radius_km=30)


def test_each_candidate_read_for_an_offer_is_audited_with_the_offer(conn, demo_database):
    first = conn.execute("SELECT structure_id FROM candidates ORDER BY reference LIMIT 1").fetchone()
    structure = first["structure_id"]
    accessor = CandidateAccessor(conn, SYSTEM_ACTOR, structure_id=structure)
    for offer in conn.execute("SELECT id FROM offers WHERE status = 'active' ORDER BY id LIMIT 20").fetchall():
        conn.execute("DELETE FROM audit_log")
        result = candidates_for_offer(conn, accessor, offer["id"], limit=3, default_radius_km=30)
        entries = conn.execute("SELECT action, object_id, structure_id, details FROM audit_log").fetchall()
        if result.matches:
            break
    else:
        pytest.fail("no offer with candidates in reach")
    # The candidates scored (the page and beyond it), each once, with the offer; no other entry.
    assert {m.row["id"] for m in result.matches} <= {uuid.UUID(e["object_id"]) for e in entries}
    assert len({e["object_id"] for e in entries}) == len(entries) == result.total
    assert all(e["action"] == "match" and e["structure_id"] == structure and e["details"] == {"offer_id": offer["id"]}
               for e in entries)  # fmt: skip


def test_the_offer_read_of_the_reverse_direction_carries_every_fact_of_the_features(conn, demo_database):
    """Its named columns give the facts (and the place, filters, vector) of a read of the whole row."""
    whole_row = OFFER_FOR_MATCHING.replace(OFFER_FOR_MATCHING[: OFFER_FOR_MATCHING.index("COALESCE(o.source_created")],
                                           "\nSELECT o.*, ")  # fmt: skip
    compared = 0
    for offer in conn.execute("SELECT id FROM offers WHERE status = 'active' ORDER BY id LIMIT 40").fetchall():
        read = conn.execute(OFFER_FOR_MATCHING, {"id": offer["id"]}, binary=True).fetchone()
        full = conn.execute(whole_row, {"id": offer["id"]}, binary=True).fetchone()
        assert OfferFacts.from_row(read) == OfferFacts.from_row(full)
        for column in ("status", "lat", "lon", "commune_insee", "contract_type", "licences", "hours_per_week",
                       "part_time", "rome_code", "mobility_from"):  # fmt: skip
            assert read[column] == full[column]
        assert np.array_equal(read["embedding"].to_numpy(), full["embedding"].to_numpy())
        compared += 1
    assert compared > 0


def test_candidates_in_reach_are_the_full_precision_order(conn, demo_database):
    """The half-precision shortlist, re-ranked with the full vectors, gives the exact order of every candidate."""
    shortlist_limit = "    LIMIT %(pool)s + " + str(RERANK_MARGIN) + "\n"
    assert shortlist_limit in CANDIDATES_IN_REACH
    exact = CANDIDATES_IN_REACH.replace(shortlist_limit, "\n")
    compared = 0
    for offer_row in conn.execute("SELECT id FROM offers WHERE status = 'active' ORDER BY id LIMIT 15").fetchall():
        offer = conn.execute(OFFER_FOR_MATCHING, {"id": offer_row["id"]}, binary=True).fetchone()
        params = {"reach_m": 60_000, "query": offer["embedding"], "lat": offer["lat"], "lon": offer["lon"],
                  "structure_id": None, "default_radius_km": 30, "contract": offer["contract_type"],
                  "licences": offer["licences"], "hours": offer["hours_per_week"], "part_time": offer["part_time"],
                  "pool": 5}  # fmt: skip
        if offer["lat"] is None:
            continue
        served = conn.execute(CANDIDATES_IN_REACH, params).fetchall()
        reference = conn.execute(exact, params).fetchall()
        assert [r["id"] for r in served] == [r["id"] for r in reference]
        assert [r["similarity"] for r in served] == [r["similarity"] for r in reference]
        compared += len(served)
    assert compared > 0


def test_one_structures_candidates_in_reach_on_a_generic_plan_are_the_exact_order(conn, demo_database):
    """A structure's statement, prepared on a generic plan, gives the full-precision order of its candidates."""
    shortlist_limit = "    LIMIT %(pool)s + " + str(RERANK_MARGIN) + "\n"
    every_candidate = CANDIDATES_IN_REACH.replace(shortlist_limit, "\n").replace("LIMIT %(pool)s", "")
    structures = [r["structure_id"] for r in conn.execute("SELECT DISTINCT structure_id FROM candidates")]
    compared = 0
    for offer_row in conn.execute("SELECT id FROM offers WHERE status = 'active' ORDER BY id LIMIT 10").fetchall():
        offer = conn.execute(OFFER_FOR_MATCHING, {"id": offer_row["id"]}, binary=True).fetchone()
        if offer["lat"] is None:
            continue
        params = {"reach_m": 60_000, "query": offer["embedding"], "lat": offer["lat"], "lon": offer["lon"],
                  "default_radius_km": 30, "contract": offer["contract_type"], "licences": offer["licences"],
                  "hours": offer["hours_per_week"], "part_time": offer["part_time"], "pool": 3}  # fmt: skip
        everyone = conn.execute(every_candidate, {**params, "structure_id": None}).fetchall()
        owner = {r["id"]: r["structure_id"] for r in conn.execute("SELECT id, structure_id FROM candidates")}
        for structure in structures:
            # Six times: psycopg prepares a statement from its first use; the plan must not change the rows.
            for _ in range(6):
                served = candidates_in_reach(conn, {**params, "structure_id": structure})
                reference = [r for r in everyone if owner[r["id"]] == structure][:3]
                assert [(r["id"], r["similarity"]) for r in served] == [(r["id"], r["similarity"]) for r in reference]
            compared += len(served)
        # The generic plan was this statement's only: the connection is back to its default mode.
        assert conn.execute("SHOW plan_cache_mode").fetchone()["plan_cache_mode"] == DEFAULT_PLAN_MODE
    assert compared > 0


def test_small_statements_get_generic_plans_and_radius_searches_never_do(conn, embedder, demo_database):
    """Repeated requests on one connection: the fixed-shape statements are planned once, the searches every time."""
    candidates = _candidates(conn)
    offers = [r["id"] for r in conn.execute("SELECT id FROM offers WHERE status = 'active' ORDER BY id LIMIT 12")]
    everyone = CandidateAccessor(conn, SYSTEM_ACTOR, structure_id=None)
    for i in range(12):
        candidate = candidates[i % len(candidates)]["id"]
        assert _offers_for(conn, embedder, candidate, radius_km=30).plan == "exact"
        assert _offers_for(conn, embedder, candidate, whole_country=True).plan in ("hnsw", "exact-fallback")
        candidates_for_offer(conn, everyone, offers[i], limit=5, default_radius_km=30)
        conn.commit()
    plans = conn.execute("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements").fetchall()

    def plans_of(fragment: str) -> list[dict]:
        return [p for p in plans if fragment in " ".join(p["statement"].split())]

    # The served list's insert, the offer's read and the candidate's: planned once, then reused.
    for fragment in ("INSERT INTO match_requests", "FROM offers AS o LEFT JOIN companies AS c ON c.id = o.company_id",
                     "SELECT * FROM candidates WHERE id = $"):
        assert plans_of(fragment) and all(p["generic_plans"] > 0 for p in plans_of(fragment)), fragment
    # The exact search by grid cells: its one generic plan from the first call.
    exact = plans_of("o.place_cell = ANY")
    assert exact and all(p["custom_plans"] == 0 for p in exact)
    # The HNSW walk and every structure's candidates in reach: never prepared, so planned for each search's values.
    assert not plans_of("ORDER BY o.embedding_half <=>")
    assert not [p for p in plans_of("WITH located AS") if "structure_id =" not in p["statement"]]
    assert conn.execute("SHOW plan_cache_mode").fetchone()["plan_cache_mode"] == DEFAULT_PLAN_MODE


def test_batched_candidate_read_stays_in_scope_and_audits_each_read(conn, demo_database):
    rows = conn.execute("SELECT id, structure_id FROM candidates ORDER BY reference").fetchall()
    structure = rows[0]["structure_id"]
    mine = [r["id"] for r in rows if r["structure_id"] == structure]
    others = [r["id"] for r in rows if r["structure_id"] != structure]
    assert mine and others
    accessor = CandidateAccessor(conn, SYSTEM_ACTOR, structure_id=structure)
    found = accessor.get_many([*others, *mine, uuid.uuid4()], purpose="match")
    assert set(found) == set(mine)
    assert all(found[i]["structure_id"] == structure and found[i]["embedding"] is not None for i in mine)
    audited = conn.execute("SELECT object_id, structure_id FROM audit_log WHERE action = 'match'").fetchall()
    assert sorted(a["object_id"] for a in audited) == sorted(str(i) for i in mine)
    assert {a["structure_id"] for a in audited} == {structure}
    assert accessor.get_many([], purpose="match") == {}
    platform = CandidateAccessor(conn, SYSTEM_ACTOR, structure_id=None)
    assert set(platform.get_many([*others, *mine], purpose="match")) == set(others) | set(mine)


def test_scored_candidates_are_read_with_their_profile_only_and_audited(conn, demo_database):
    """The reverse direction reads the columns of the profile (no vectors), which build the whole row's profile."""
    rows = conn.execute("SELECT id, structure_id FROM candidates ORDER BY reference").fetchall()
    structure = rows[0]["structure_id"]
    mine = [r["id"] for r in rows if r["structure_id"] == structure]
    accessor = CandidateAccessor(conn, SYSTEM_ACTOR, structure_id=structure)
    narrow = accessor.get_many([r["id"] for r in rows], purpose="match", columns=SCORED_CANDIDATE_COLUMNS)
    whole = accessor.get_many([r["id"] for r in rows], purpose="match")
    assert set(narrow) == set(whole) == set(mine)
    for candidate_id, row in narrow.items():
        assert set(row) == {"id", "structure_id", *SCORED_CANDIDATE_COLUMNS}
        assert CandidateProfile.from_row(row) == CandidateProfile.from_row(whole[candidate_id])
    audited = conn.execute("SELECT object_id FROM audit_log WHERE action = 'match'").fetchall()
    assert sorted(a["object_id"] for a in audited) == sorted(str(i) for i in mine * 2)


def test_job_code_channel_keeps_a_short_offer_of_the_target_job(conn, embedder, demo_database):
    """An offer whose text is one vague word is still proposed when its ROME code is the target."""
    candidate = _candidates(conn)[3]
    code = candidate["target_rome_codes"][0]
    conn.execute("""
        INSERT INTO offers (source_id, external_id, title, description, contract_type, rome_code, lat, lon,
                            content_hash, embedding, embedding_model)
        SELECT 'lee-demo', 'SHORT-1', 'Poste', 'Poste.', %s, %s, %s, %s, '\\x00', %s, 'x'
    """, (candidate["desired_contracts"][0], code, candidate["lat"], candidate["lon"],
          np.eye(384, dtype=np.float32)[5]))  # fmt: skip
    result = _offers_for(conn, embedder, candidate["id"], radius_km=5, limit=100)
    short = [m for m in result.matches if m.row["title"] == "Poste"]
    assert short and short[0].features["rome_same"] == 1.0
    assert short[0].row["ranks"].get("job") is not None


def test_active_model_is_v0_until_another_is_promoted(conn):
    assert load_active_model(conn).version == V0_VERSION
    learned = LinearModel.from_dicts("learned-test", {"semantic_similarity": -1.0}, {})
    register_model(conn, learned)
    conn.execute("UPDATE models SET status = 'retired' WHERE status = 'champion'")
    conn.execute("UPDATE models SET status = 'champion' WHERE version = 'learned-test'")
    active = load_active_model(conn)
    assert active.version == "learned-test"
    assert active.score(np.array([[0.5] + [np.nan] * (len(active.feature_names) - 1)]))[0] == pytest.approx(-0.5)


def _random_offers(conn, n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    lats, lons = PARIS[0] + rng.uniform(-0.6, 0.6, n), PARIS[1] + rng.uniform(-0.8, 0.8, n)
    contracts = rng.choice(["CDI", "CDD", "MIS"], n)
    conn.execute("INSERT INTO sources (id, kind, label) VALUES ('rnd', 'demo', 'rnd')")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO offers (source_id, external_id, title, description, contract_type, lat, lon, content_hash,"
            " embedding, embedding_model) VALUES ('rnd', %s, 'Offre', 'Texte', %s, %s, %s, '\\x00', %s, 't')",
            [(str(i), str(contracts[i]), float(lats[i]), float(lons[i]), vectors[i]) for i in range(n)],
        )
    ids = [r["id"] for r in conn.execute("SELECT id FROM offers WHERE source_id = 'rnd' ORDER BY external_id::int")]
    conn.execute("ANALYZE offers")
    conn.commit()
    return vectors, np.column_stack([lats, lons, contracts == "CDI"]), ids


def test_semantic_channel_is_exact_under_filters_in_both_plans(conn):
    vectors, points, ids = _random_offers(conn, 3000, 5)
    rng = np.random.default_rng(9)
    plans = set()
    for radius_km, contracts in ((8, ("CDI",)), (25, ("CDI",)), (None, None), (None, ("CDI",))):
        for _ in range(4):
            query = rng.normal(size=384).astype(np.float32)
            query /= np.linalg.norm(query)
            q = OfferQuery(query, *PARIS, radius_km, HardFilters(contracts=contracts, sources=("rnd",)), depth=10)
            result = hybrid_offers(conn, q)
            plans.add(result.plan)
            inside = [i for i in range(len(ids)) if (points[i, 2] or not contracts)
                      and (radius_km is None
                           or haversine_km(*PARIS, float(points[i, 0]), float(points[i, 1])) < radius_km)]  # fmt: skip
            exact = {ids[i] for i in sorted(inside, key=lambda i: -float(vectors[i] @ query))[:10]}
            found = {r["id"] for r in result.rows if "semantic" in r["ranks"]}
            assert len(found) == min(10, len(inside))
            assert len(exact & found) >= 9, (radius_km, result.plan)
    assert {"exact", "hnsw"} <= plans


def test_lexical_query_and_fusion_are_pure():
    assert lexical_query(["Agent / Agente de propreté", "Nettoyage des locaux"]) == (
        "agent | agente | proprete | nettoyage | locaux"
    )
    assert lexical_query([""]) is None
    fused = reciprocal_rank_fusion({"a": [1, 2, 3], "b": [3, 1], "c": []})
    assert [i for i, _ in fused] == [1, 3, 2]


def test_exposure_cap_moves_extra_items_after_the_others():
    items = [("a", 1), ("a", 2), ("b", 3), ("a", 4), (None, 5), ("b", 6)]
    capped = apply_exposure_cap(items, lambda x: x[0], 1)
    assert [i[1] for i in capped] == [1, 3, 5, 2, 4, 6]


def test_unknown_candidate_is_not_found(conn, embedder, demo_database):
    from matching.storage.candidates import CandidateNotFound

    with pytest.raises(CandidateNotFound):
        _offers_for(conn, embedder, uuid.uuid4())
