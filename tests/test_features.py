"""Stage-2 features: pure functions, one code path for serving and training."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from matching.features import (
    FEATURE_NAMES,
    CandidateProfile,
    OfferFacts,
    congestion,
    contract_fit,
    education_fit,
    experience_fit,
    feature_matrix,
    freshness,
    hours_fit,
    language_fit,
    pair_features,
    proximity,
    rome_relation,
    shared_skills,
    snapshot,
)
from matching.scoring import V0_WEIGHTS, v0_model

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_rome_relation_grades_same_code_domain_and_mobility():
    assert rome_relation("G1603", ("G1603",), frozenset()) == (1.0, 1.0, 1.0)
    assert rome_relation("G1602", ("G1603",), frozenset()) == (0.0, 1.0, 0.0)
    assert rome_relation("D1106", ("G1603",), frozenset({"D1106"})) == (0.0, 0.0, 1.0)
    assert all(math.isnan(x) for x in rome_relation(None, ("G1603",), frozenset()))


def test_shared_skills_match_labels_and_free_text():
    offer = ["Préparer les commandes", "Conduire un chariot élévateur", "Accueillir la clientèle"]
    found = shared_skills(offer, ["préparer les commandes"], "J'ai conduit des chariots élévateurs en entrepôt.")
    assert found == ["Préparer les commandes", "Conduire un chariot élévateur"]
    assert shared_skills(offer, [], None) == []
    # Another candidate's vocabulary is not answered from the first one's cache.
    assert shared_skills(offer, ["Accueillir la clientèle"], None) == ["Accueillir la clientèle"]


def test_barrier_features():
    assert proximity(5, 20, False) == pytest.approx(0.75)
    assert proximity(30, 20, False) == 0.0
    assert proximity(None, 20, True) == 1.0
    assert math.isnan(proximity(None, 20, False))
    part_time = CandidateProfile(part_time_only=True, desired_hours_max=30)
    assert hours_fit(35, False, part_time) == 0.0
    assert hours_fit(24, True, part_time) == 1.0
    assert math.isnan(hours_fit(None, None, CandidateProfile()))
    assert contract_fit("CDI", ("CDI", "CDD")) == 1.0
    assert contract_fit("MIS", ("CDI",)) == 0.0
    assert math.isnan(contract_fit("CDI", ()))
    assert education_fit(4, 3) == pytest.approx(0.5)
    assert education_fit(3, 5) == 1.0
    assert experience_fit("D", None, None) == 1.0
    assert experience_fit("E", 24, 12) == pytest.approx(0.5)
    assert math.isnan(experience_fit("E", 24, None))
    assert language_fit(["Anglais"], ["anglais", "arabe"]) == 1.0
    assert language_fit(["Anglais", "Espagnol"], ["anglais"]) == pytest.approx(0.5)


def test_freshness_and_congestion():
    assert freshness(NOW, NOW) == pytest.approx(1.0)
    assert freshness(NOW - timedelta(days=21), NOW) == pytest.approx(0.5)
    assert math.isnan(freshness(None, NOW))
    assert congestion(0, 1) == 0.0
    assert congestion(5, 1) == pytest.approx(1 - math.exp(-1))
    assert congestion(5, 5) < congestion(5, 1)


def test_pair_features_cover_every_name_and_schedule_conflicts_show_in_evidence():
    candidate = CandidateProfile(target_rome_codes=("N1103",), skills=("Préparer les commandes",),
                                 unavailable_schedules=("early",), max_commute_km=20, qpv_code="QN09301M",
                                 desired_contracts=("CDI",))  # fmt: skip
    offer = OfferFacts(rome_code="N1103", skills=("Préparer les commandes",), work_schedule=("early",),
                       contract_type="CDI", distance_km=4.0, similarity=0.86, qpv_clause=True, lee_member=True,
                       published_at=NOW - timedelta(days=3))  # fmt: skip
    pair = pair_features(candidate, offer, frozenset(), NOW)
    assert set(pair.values) == set(FEATURE_NAMES)
    assert pair.values["schedule_fit"] == 0.0
    assert pair.values["qpv_clause_applies"] == 1.0
    assert pair.values["skills_overlap"] == 1.0
    assert pair.evidence["schedule_conflicts"] == ["early"]
    # The conflicting schedule costs as much as v0's schedule weight.
    fine = pair_features(replace(candidate, unavailable_schedules=()), offer, frozenset(), NOW)
    model = v0_model()
    scores = model.score(feature_matrix([pair.values, fine.values]))
    assert scores[1] - scores[0] == pytest.approx(V0_WEIGHTS["schedule_fit"])


def test_feature_matrix_and_snapshot_keep_unknowns():
    matrix = feature_matrix([{"rome_same": 1.0}], ("rome_same", "freshness"))
    assert matrix[0, 0] == 1.0 and np.isnan(matrix[0, 1])
    # Whole rows (the serving path) and a single feature keep the (pairs, features) shape; logged nulls are NaN.
    whole = feature_matrix([{"rome_same": 1.0, "freshness": 0.5}, {"freshness": None, "rome_same": 0.0}],
                           ("rome_same", "freshness"))  # fmt: skip
    assert whole.shape == (2, 2) and whole[0].tolist() == [1.0, 0.5] and whole[1, 0] == 0.0 and np.isnan(whole[1, 1])
    assert feature_matrix([{"rome_same": 1.0}, {"rome_same": 0.0}], ("rome_same",)).shape == (2, 1)
    assert snapshot({"a": float("nan"), "b": 0.123456789}) == {"a": None, "b": 0.12346}


def test_from_rows_read_database_shapes():
    profile = CandidateProfile.from_row({"target_rome_codes": ["N1103"], "skills": [{"label": "Trier"}],
                                         "languages": [{"label": "Anglais"}], "licences": ["B"]})  # fmt: skip
    assert profile.skills == ("Trier",) and profile.languages == ("Anglais",)
    facts = OfferFacts.from_row({"rome_code": "N1103", "languages": [{"label": "Anglais", "required": False}],
                                 "skills": [{"label": "Trier", "code": None}], "positions": None})  # fmt: skip
    assert facts.required_languages == () and facts.skills == ("Trier",) and facts.positions == 1
