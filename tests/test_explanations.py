"""French explanations: every criterion met, not met or unknown, with its evidence and the model version."""

from __future__ import annotations

from datetime import UTC, datetime

from matching.explanations import explain
from matching.features import CandidateProfile, OfferFacts, pair_features

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def _criteria(explanation):
    return {c.code: c for c in explanation.criteria}


def test_a_good_match_says_why_in_french():
    candidate = CandidateProfile(target_rome_codes=("G1603",), skills=("Dresser les tables",), max_commute_km=15,
                                 qpv_code="QN09301M", desired_contracts=("CDI",))  # fmt: skip
    offer = OfferFacts(rome_code="G1603", skills=("Dresser les tables", "Encaisser"), contract_type="CDI",
                       hours_per_week=35, distance_km=3.24, similarity=0.88, lee_member=True, qpv_clause=True,
                       company_name="Maison Bel Air", experience_required="D")  # fmt: skip
    pair = pair_features(candidate, offer, frozenset(), NOW)
    explanation = explain(pair.values, pair.evidence, "v0-test")
    criteria = _criteria(explanation)
    assert explanation.model_version == "v0-test"
    assert criteria["metier"].status == "met" and "G1603" in criteria["metier"].detail
    assert criteria["competences"].detail == "1 compétence sur 2 en commun : dresser les tables."
    assert criteria["distance"].detail == "À 3,2 km du domicile (trajet maximal : 15,0 km)."
    assert criteria["contrat"].status == "met"
    assert criteria["experience"].detail == "Débutants acceptés."
    engagement = criteria["engagement"]
    assert engagement.status == "met"
    assert "Les entreprises s'engagent" in engagement.detail and "clause d'embauche" in engagement.detail
    assert explanation.summary.startswith("Critères remplis : métier recherché")


def test_barriers_are_not_met_and_missing_facts_are_unknown():
    candidate = CandidateProfile(target_rome_codes=("N1103",), unavailable_schedules=("early", "weekend"),
                                 part_time_only=True)  # fmt: skip
    offer = OfferFacts(rome_code="K2204", work_schedule=("early", "weekend"), hours_per_week=35, licences=("B",),
                       contract_type="CDD", education_level=4)  # fmt: skip
    explanation = explain(*_pair(candidate, offer), "v0-test")
    criteria = _criteria(explanation)
    assert criteria["horaires"].status == "not_met"
    assert "tôt le matin, le week-end" in criteria["horaires"].detail
    assert criteria["temps_travail"].status == "not_met"
    assert criteria["permis"].detail == "Permis manquant : B."
    assert criteria["metier"].status == "not_met"
    assert criteria["competences"].status == "unknown"
    assert criteria["distance"].status == "unknown"
    assert criteria["contrat"].status == "unknown"
    assert criteria["formation"].status == "unknown"
    assert criteria["engagement"].status == "unknown"
    assert "Points d'attention : " in explanation.summary


def test_congestion_is_explained():
    offer = OfferFacts(rome_code="G1603", recent_proposals=12, positions=1)
    criteria = _criteria(explain(*_pair(CandidateProfile(target_rome_codes=("G1603",)), offer), "v0"))
    assert criteria["sollicitation"].status == "not_met"
    assert criteria["sollicitation"].detail == "Déjà proposée 12 fois ces 30 derniers jours pour 1 poste."


def _pair(candidate, offer):
    pair = pair_features(candidate, offer, frozenset(), NOW)
    return pair.values, pair.evidence
