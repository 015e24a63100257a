"""Stage-1 semantic retrieval under a radius: exact for few offers, HNSW for many, on a real database."""

from __future__ import annotations

import re

import numpy as np
import pytest

from matching.domain import OfferRecord, Skill
from matching.geo import EARTH_RADIUS_M, chord_for_arc, haversine_km, place_cell, place_cells
from matching.retrieval import (
    _HARD_FILTERS_BY_CELLS,
    _SEMANTIC_HNSW,
    CHANNEL_DEPTH,
    EXACT_SESSION_SETTINGS,
    HNSW_EF_SEARCH,
    HNSW_SCAN_MEM_MULTIPLIER,
    HNSW_SESSION_SETTINGS,
    HardFilters,
    OfferQuery,
    hybrid_exact_sql,
    hybrid_offers,
    hybrid_params,
)
from matching.storage.offers import ensure_source, refresh_place_counts, upsert_offer

PARIS = (48.8566, 2.3522)
N_OFFERS = 3000


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.normal(size=(n, 384)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.fixture()
def random_offers(conn):
    """3,000 offers with random vectors scattered within ~60 km of Paris."""
    rng = np.random.default_rng(7)
    ensure_source(conn, "demo", "demo", "Démo")
    vectors = _unit(rng, N_OFFERS)
    lats, lons = PARIS[0] + rng.uniform(-0.6, 0.6, N_OFFERS), PARIS[1] + rng.uniform(-0.8, 0.8, N_OFFERS)
    for i in range(N_OFFERS):
        offer = OfferRecord(source_id="demo", external_id=str(i), title=f"Offre {i}", description="Texte",
                            contract_type="CDI", lat=float(lats[i]), lon=float(lons[i]))  # fmt: skip
        offer_id = upsert_offer(conn, offer, None).offer_id
        conn.execute("UPDATE offers SET embedding = %s, embedding_model = 'test' WHERE id = %s",
                     (vectors[i], offer_id))  # fmt: skip
    conn.execute("ANALYZE offers")
    conn.commit()
    id_of = {r["external_id"]: r["id"] for r in conn.execute("SELECT id, external_id FROM offers")}
    return vectors, np.column_stack([lats, lons]), id_of


def _semantic_top(result, k: int) -> list[int]:
    ranked = sorted((r["ranks"]["semantic"], r["id"]) for r in result.rows if "semantic" in r["ranks"])
    return [offer_id for _, offer_id in ranked[:k]]


def _exact_top(vectors, points, query, radius_km, k) -> list[int]:
    inside = [i for i in range(len(points)) if radius_km is None or haversine_km(*PARIS, *points[i]) < radius_km]
    return sorted(inside, key=lambda i: -float(vectors[i] @ query))[:k]


@pytest.mark.parametrize(("radius_km", "plan"), [(10, "exact"), (25, "exact"), (None, "hnsw")])
def test_semantic_channel_recall_against_exact_search(conn, random_offers, radius_km, plan):
    vectors, points, id_of = random_offers
    recalls = []
    for query in _unit(np.random.default_rng(3), 10):
        result = hybrid_offers(conn, OfferQuery(embedding=query, lat=PARIS[0], lon=PARIS[1], radius_km=radius_km))
        assert result.plan == plan
        exact = [id_of[str(i)] for i in _exact_top(vectors, points, query, radius_km, 10)]
        recalls.append(len(set(exact) & set(_semantic_top(result, 10))) / len(exact))
    assert np.mean(recalls) >= 0.95, recalls


def test_the_plan_follows_the_offer_counts_around_the_place(conn, random_offers, monkeypatch):
    """The per-cell counts choose the plan: dense around the place, the HNSW walk, with the exact plan's top."""
    query = _unit(np.random.default_rng(5), 1)[0]
    q = OfferQuery(embedding=query, lat=PARIS[0], lon=PARIS[1], radius_km=20)
    # The fixture wrote its offers without a refresh: the counts are stale (none), which only selects the exact plan.
    assert conn.execute("SELECT count(*) AS n FROM offer_place_counts").fetchone()["n"] == 0
    exact = hybrid_offers(conn, q)
    assert exact.plan == "exact"
    refresh_place_counts(conn)
    conn.commit()
    counts = {r["place_cell"]: r["offers"] for r in conn.execute("SELECT place_cell, offers FROM offer_place_counts")}
    assert sum(counts.values()) == N_OFFERS
    assert counts[place_cell(PARIS[0] + 0.5, PARIS[1] + 0.5)] == conn.execute(
        "SELECT count(*) AS n FROM offers WHERE place_cell = %s", (place_cell(PARIS[0] + 0.5, PARIS[1] + 0.5),)
    ).fetchone()["n"]
    monkeypatch.setattr("matching.retrieval.EXACT_MAX_AROUND", 100)
    dense = hybrid_offers(conn, q)
    assert dense.plan in {"hnsw", "exact-fallback"}
    assert len(set(_semantic_top(dense, 10)) & set(_semantic_top(exact, 10))) >= 9
    # Offers leaving the index leave the counts at the next refresh.
    conn.execute("UPDATE offers SET status = 'expired'")
    refresh_place_counts(conn)
    assert conn.execute("SELECT count(*) AS n FROM offer_place_counts").fetchone()["n"] == 0
    conn.rollback()


def test_dense_areas_rank_the_words_of_the_semantic_shortlist(conn, random_offers, monkeypatch):
    """Many offers around: the same semantic channel; the lexical channel ranks the shortlist's words only."""
    refresh_place_counts(conn)
    conn.commit()
    q = OfferQuery(embedding=_unit(np.random.default_rng(6), 1)[0], lat=PARIS[0], lon=PARIS[1], radius_km=25,
                   lexical_terms="offre | texte")  # fmt: skip
    full = hybrid_offers(conn, q)
    assert full.plan == "exact"
    monkeypatch.setattr("matching.retrieval.LEXICAL_SCAN_MAX_AROUND", 100)
    dense = hybrid_offers(conn, q)
    assert dense.plan == "exact-dense"

    def channel(result, name: str) -> list[int]:
        return [offer_id for _, offer_id in sorted((r["ranks"][name], r["id"]) for r in result.rows
                                                   if name in r["ranks"])]  # fmt: skip

    assert channel(dense, "semantic") == channel(full, "semantic")
    params = hybrid_params(q)
    shortlist = {r["id"] for r in conn.execute(
        "SELECT o.id FROM offers AS o WHERE " + _HARD_FILTERS_BY_CELLS
        + " ORDER BY o.embedding_half <=> %(query)s::halfvec(384), o.id LIMIT %(walk)s", params)}  # fmt: skip
    # Every offer's text matches: the full scan ranks them all, the dense plan the shortlist only.
    assert len(channel(dense, "lexical")) == len(channel(full, "lexical")) == CHANNEL_DEPTH
    assert set(channel(dense, "lexical")) <= shortlist
    assert not set(channel(full, "lexical")) <= shortlist


@pytest.mark.parametrize(("radius_km", "dense", "plan"),
                         [(25, False, "exact"), (25, True, "exact-dense"), (None, False, "hnsw")])  # fmt: skip
def test_pool_similarity_is_the_half_precision_one_of_every_row(conn, random_offers, monkeypatch, radius_km, dense,
                                                                plan):
    """Each pool row's similarity, carried from the channel that read its vector, is the table's for that offer."""
    refresh_place_counts(conn)
    conn.commit()
    if dense:
        monkeypatch.setattr("matching.retrieval.LEXICAL_SCAN_MAX_AROUND", 100)
    query = _unit(np.random.default_rng(8), 1)[0]
    result = hybrid_offers(conn, OfferQuery(embedding=query, lat=PARIS[0], lon=PARIS[1], radius_km=radius_km,
                                            lexical_terms="offre | texte"))  # fmt: skip
    assert result.plan == plan
    assert {"semantic", "lexical"} <= {channel for r in result.rows for channel in r["ranks"]}
    expected = {r["id"]: r["similarity"] for r in conn.execute(
        "SELECT id, 1 - (embedding_half <=> %s::halfvec(384)) AS similarity FROM offers WHERE id = ANY (%s)",
        (query, [r["id"] for r in result.rows]))}  # fmt: skip
    assert {r["id"]: r["similarity"] for r in result.rows} == expected


def test_results_respect_the_radius(conn, random_offers):
    query = _unit(np.random.default_rng(1), 1)[0]
    # An HNSW plan earlier in the same transaction leaves its planner settings: the exact plan must undo them.
    with conn.transaction():
        wide = hybrid_offers(conn, OfferQuery(embedding=query, lat=PARIS[0], lon=PARIS[1], radius_km=None))
        assert wide.plan == "hnsw"
        result = hybrid_offers(conn, OfferQuery(embedding=query, lat=PARIS[0], lon=PARIS[1], radius_km=20))
        assert result.plan == "exact"
        assert conn.execute("SELECT current_setting('enable_sort') AS s").fetchone()["s"] == "on"
    assert len(_semantic_top(result, 10)) == 10
    assert all(r["distance_km"] < 20 for r in result.rows)
    # The chord arithmetic gives earthdistance's own great-circle distance.
    reference = conn.execute(
        "SELECT id, earth_distance(ll_to_earth(%s, %s), ll_to_earth(lat, lon)) / 1000 AS km FROM offers"
        " WHERE id = ANY(%s)",
        (*PARIS, [r["id"] for r in result.rows]),
    ).fetchall()
    km = {r["id"]: r["km"] for r in reference}
    assert all(r["distance_km"] == pytest.approx(km[r["id"]], rel=1e-9) for r in result.rows)


@pytest.mark.parametrize("radius_km", [None, 150])
def test_wide_searches_walk_the_hnsw_index(conn, random_offers, radius_km):
    """With most offers in reach, the semantic channel walks the HNSW graph instead of sorting them all."""
    query = _unit(np.random.default_rng(2), 1)[0]
    params = hybrid_params(OfferQuery(embedding=query, lat=PARIS[0], lon=PARIS[1], radius_km=radius_km))
    with conn.transaction():
        conn.execute(HNSW_SESSION_SETTINGS, {"ef_search": str(HNSW_EF_SEARCH),
                                             "scan_mem_multiplier": str(HNSW_SCAN_MEM_MULTIPLIER)})  # fmt: skip
        plan = "\n".join(r["QUERY PLAN"] for r in conn.execute("EXPLAIN " + _SEMANTIC_HNSW, params).fetchall())
    assert "offers_embedding_half_active_idx" in plan, plan


def test_wanted_contract_types_are_index_keys_of_one_scan(conn, random_offers):
    """The exact plan reads the wanted contract types and cells as index keys, with the pool of a plain table scan."""
    conn.execute("UPDATE offers SET contract_type = (ARRAY['CDI', 'CDD', 'MIS'])[1 + id % 3]")
    conn.execute("ANALYZE offers")
    conn.commit()
    query = _unit(np.random.default_rng(4), 1)[0]
    q = OfferQuery(embedding=query, lat=PARIS[0], lon=PARIS[1], radius_km=25,
                   filters=HardFilters(contracts=("MIS", "CDD", "MIS")))  # fmt: skip
    result = hybrid_offers(conn, q)
    assert result.plan == "exact"
    params = hybrid_params(q)
    assert params["contracts"] == ["MIS", "CDD"]
    with conn.transaction(force_rollback=True):
        conn.execute(EXACT_SESSION_SETTINGS)
        # 3,000 offers are few enough for the planner to read the table: steer it to the index of large databases.
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL enable_bitmapscan = off")
        plan = "\n".join(r["QUERY PLAN"] for r in conn.execute("EXPLAIN " + hybrid_exact_sql(), params).fetchall())
        conn.execute("SET LOCAL enable_seqscan = on")
        conn.execute("SET LOCAL enable_indexscan = off")
        conn.execute("SET LOCAL enable_indexonlyscan = off")
        conn.execute("SET LOCAL enable_bitmapscan = off")
        table_scan = conn.execute(hybrid_exact_sql(), params).fetchall()
    assert plan.count("Index Only Scan using offers_retrieval_cover_idx") == 1, plan
    assert "Index Cond: ((contract_type = ANY ('{MIS,CDD}'::text[])) AND (place_cell = ANY (" in plan, plan
    ranks = {r["id"]: (r["rank_semantic"], r["rank_lexical"], r["rank_job"], r["similarity"]) for r in table_scan}
    assert len(ranks) >= CHANNEL_DEPTH
    assert {r["id"]: (r["ranks"].get("semantic"), r["ranks"].get("lexical"), r["ranks"].get("job"), r["similarity"])
            for r in result.rows} == ranks  # fmt: skip
    assert {r["contract_type"] for r in result.rows} == {"MIS", "CDD"}


def test_the_generic_plan_of_the_exact_statement_reads_both_index_keys(conn, random_offers):
    """The exact plan by cells runs on a generic plan: its index keys stand alone, its per-query values once."""
    sql = hybrid_exact_sql(True)
    names = list(dict.fromkeys(re.findall(r"%\((\w+)\)s", sql)))
    positional = re.sub(r"%\((\w+)\)s", lambda m: f"${names.index(m.group(1)) + 1}", sql)
    with conn.transaction(force_rollback=True):
        conn.execute(EXACT_SESSION_SETTINGS)
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SET LOCAL enable_bitmapscan = off")
        lines = [r["QUERY PLAN"] for r in conn.execute(f"EXPLAIN (GENERIC_PLAN, VERBOSE) {positional}").fetchall()]
    plan = "\n".join(lines)
    contract, cells = names.index("contract_types") + 1, names.index("cells") + 1
    keys = (rf"Index Cond: \(\((o(?:_\d+)?)\.contract_type = ANY \(\${contract}\)\)"
            rf" AND \(\1\.place_cell = ANY \(\${cells}\)\)\)")  # fmt: skip
    assert re.search(keys, plan), plan
    # The scan's own lines (before its InitPlans): the centre and the half-precision query are not computed per row.
    start = next(i for i, line in enumerate(lines) if "Index Only Scan using offers_retrieval_cover_idx" in line)
    scan = lines[start : next(i for i in range(start, len(lines)) if lines[i].strip().startswith("InitPlan"))]
    assert any("Output:" in line for line in scan) and any("Filter:" in line for line in scan), "\n".join(scan)
    assert not any("ll_to_earth" in line or "::halfvec" in line for line in scan), "\n".join(scan)
    # The semantic channel and the pool's similarity use the half-precision vectors: no full vector is read (each
    # is a TOAST read, ~1.4 ms a search for the re-rank this plan no longer does).
    assert not re.search(r"\bembedding\)?(?:::halfvec)? <=>", plan), plan


def test_chord_matches_arc_for_small_and_large_distances():
    assert chord_for_arc(0) == 0
    assert chord_for_arc(10_000) == pytest.approx(10_000, rel=1e-6)
    # Half the circumference: the chord is the diameter.
    assert chord_for_arc(np.pi * 6_378_168.0) == pytest.approx(2 * 6_378_168.0)


def _point_at(lat: float, lon: float, distance_m: float, bearing: float) -> tuple[float, float]:
    d, p1, l1 = distance_m / EARTH_RADIUS_M, np.radians(lat), np.radians(lon)
    p2 = np.arcsin(np.sin(p1) * np.cos(d) + np.cos(p1) * np.sin(d) * np.cos(bearing))
    l2 = l1 + np.arctan2(np.sin(bearing) * np.sin(d) * np.cos(p1), np.cos(d) - np.sin(p1) * np.sin(p2))
    return float(np.degrees(p2)), float((np.degrees(l2) + 180) % 360 - 180)


@pytest.mark.parametrize("radius_m", [300, 5_000, 10_000, 40_000, 150_000, 1_000_000])
def test_place_cells_cover_every_point_of_the_circle(radius_m):
    """Points inside the radius, its edge included, in every direction and at many latitudes, are in the cells."""
    rng = np.random.default_rng(int(radius_m))
    for lat, lon in [(48.8566, 2.3522), (43.2965, 5.3698), (-21.1151, 55.5364), (64.1, -21.9), (0.0, 0.0),
                     *zip(rng.uniform(-70, 70, 30), rng.uniform(-179, 179, 30), strict=True)]:  # fmt: skip
        cells = set(place_cells(lat, lon, radius_m))
        for bearing in np.linspace(0, 2 * np.pi, 73):
            for fraction in (0.0, 0.5, 0.999999):
                assert place_cell(*_point_at(lat, lon, radius_m * fraction, bearing)) in cells


def test_place_cells_stay_few_for_commute_radii():
    """A commute radius reads tens to a few hundred cells, not a whole region."""
    assert len(place_cells(48.8566, 2.3522, 10_000)) <= 40
    assert len(place_cells(48.8566, 2.3522, 40_000)) <= 320


def test_place_cell_is_the_same_in_python_and_postgresql(conn):
    """geo.place_cell and the SQL function of the generated column give the same cell, boundaries included."""
    rng = np.random.default_rng(11)
    points = [(0.05, 0.05), (-0.05, -0.05), (48.85, 2.35), (90.0, 180.0), (-90.0, -180.0),
              *zip(rng.uniform(-90, 90, 200), rng.uniform(-180, 180, 200), strict=True)]  # fmt: skip
    rows = conn.execute("SELECT maillage_place_cell(lat, lon) AS cell FROM unnest(%s::float8[], %s::float8[]) "
                        "WITH ORDINALITY AS p(lat, lon, n) ORDER BY n",
                        ([float(p[0]) for p in points], [float(p[1]) for p in points])).fetchall()  # fmt: skip
    assert [r["cell"] for r in rows] == [place_cell(float(lat), float(lon)) for lat, lon in points]


def test_reading_cells_gives_the_pool_of_reading_the_box(conn, random_offers):
    """The exact plan by grid cells returns the rows and ranks of the same plan reading the box around the circle."""
    rng = np.random.default_rng(5)
    for radius_km in (3, 12, 40):
        q = OfferQuery(embedding=_unit(rng, 1)[0], lat=PARIS[0] + 0.1, lon=PARIS[1] - 0.2, radius_km=radius_km,
                       lexical_terms="offre | texte")  # fmt: skip
        params = hybrid_params(q)
        with conn.transaction(force_rollback=True):
            conn.execute(EXACT_SESSION_SETTINGS)
            by_cells = conn.execute(hybrid_exact_sql(True), params).fetchall()
            by_box = conn.execute(hybrid_exact_sql(False), params).fetchall()
            plan = "\n".join(r["QUERY PLAN"] for r in conn.execute("EXPLAIN " + hybrid_exact_sql(), params))
        assert by_cells and sorted(by_cells, key=lambda r: r["id"]) == sorted(by_box, key=lambda r: r["id"])
        assert "place_cell = ANY" in plan, plan


def test_a_long_offer_fits_the_covering_index(conn):
    """The capped title and skill words keep the index entry of a verbose offer below the B-tree's limit."""
    ensure_source(conn, "demo", "demo", "Démo")
    words = " ".join(f"competence{i} technique{i} specialisee{i}" for i in range(400))
    offer = OfferRecord(source_id="demo", external_id="long", title=words[:500], description=words,
                        contract_type="CDI", lat=PARIS[0], lon=PARIS[1],
                        skills=tuple(Skill(label=words[i : i + 80]) for i in range(0, 8000, 80)))  # fmt: skip
    offer_id = upsert_offer(conn, offer, None).offer_id
    conn.execute("UPDATE offers SET embedding = %s, embedding_model = 'test' WHERE id = %s",
                 (_unit(np.random.default_rng(1), 1)[0], offer_id))  # fmt: skip
    conn.commit()
    assert conn.execute("SELECT lexical_tsv IS NOT NULL AS ok FROM offers WHERE id = %s", (offer_id,)).fetchone()["ok"]
