"""Ranking metrics, the ROME-built labelled set, and the comparison with the baselines."""

from __future__ import annotations

import math

import pytest

from matching.evaluation import (
    build_labelled_set,
    evaluate_rankings,
    grade,
    ndcg_at_k,
    recall_at_k,
    reciprocal_rank,
    run_evaluation,
)


def test_ndcg_is_one_for_the_ideal_order_and_lower_otherwise():
    grades = {1: 2, 2: 1, 3: 0}
    assert ndcg_at_k([1, 2, 3], grades) == pytest.approx(1.0)
    worse = ndcg_at_k([3, 2, 1], grades)
    expected = ((2**1 - 1) / math.log2(3) + (2**2 - 1) / math.log2(4)) / (3 + 1 / math.log2(3))
    assert worse == pytest.approx(expected)
    assert ndcg_at_k([9], {}) == 0.0


def test_recall_and_reciprocal_rank():
    assert recall_at_k([5, 1, 7, 2], {1, 2, 3}, 2) == pytest.approx(1 / 3)
    assert recall_at_k([5, 1, 7, 2], {1, 2, 3}, 4) == pytest.approx(2 / 3)
    assert reciprocal_rank([5, 1, 7], {7}) == pytest.approx(1 / 3)
    assert reciprocal_rank([5], {7}) == 0.0
    metrics = evaluate_rankings([[1, 2], [3]], [{1: 2, 2: 1}, {4: 2}])
    assert metrics.queries == 2 and metrics.mrr == pytest.approx(0.5) and metrics.recall_at_10 == pytest.approx(0.5)


def test_grades_follow_the_rome_code_and_mobility_graph():
    mobility = {"A1101": {"A1102"}}
    assert grade("A1101", "A1101", mobility) == 2
    assert grade("A1102", "A1101", mobility) == 1
    assert grade("B1101", "A1101", mobility) == 0


def test_labelled_set_has_graded_offers_for_every_candidate(conn):
    labelled = build_labelled_set(conn, seed_jobs=5, offers_per_job=2, candidates=8, seed=3)
    assert len(labelled.candidate_ids) == 8
    for i in range(8):
        grades = labelled.grades(i)
        assert 2 in grades.values()
    assert any(1 in labelled.grades(i).values() for i in range(8))
    conn.rollback()


def test_evaluation_compares_three_systems_and_leaves_no_trace(conn, embedder):
    report = run_evaluation(conn, embedder, candidates=8, seed_jobs=5, offers_per_job=2, seed=5)
    assert set(report.systems) == {"same ROME, newest first", "pure cosine", "Maillage v0"}
    for metrics in report.systems.values():
        assert metrics.queries == 8
        assert 0 <= metrics.ndcg_at_10 <= 1
    # Uncoded profiles get nothing from the same-ROME baseline; Maillage still ranks them.
    assert report.systems["Maillage v0"].ndcg_at_10 > report.systems["same ROME, newest first"].ndcg_at_10
    assert conn.execute("SELECT count(*) AS n FROM offers").fetchone()["n"] == 0
    assert conn.execute("SELECT count(*) AS n FROM match_items").fetchone()["n"] == 0
