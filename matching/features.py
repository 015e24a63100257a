"""Stage-2 features of a (candidate, offer) pair: pure functions shared by serving and training.

Every feature is a float; NaN means "unknown" (the model imputes it, the explanation says so).
`FEATURE_NAMES` and `FEATURE_VERSION` identify the vector a model was trained on.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from operator import itemgetter
from typing import Any

import numpy as np

from matching.referentiels.text import fold

FEATURE_VERSION = "f1"
FEATURE_NAMES: tuple[str, ...] = (
    "semantic_similarity",
    "lexical_score",
    "rome_same",
    "rome_same_domain",
    "rome_mobility",
    "skills_overlap",
    "proximity",
    "schedule_fit",
    "hours_fit",
    "contract_fit",
    "education_fit",
    "experience_fit",
    "licence_fit",
    "language_fit",
    "employer_lee",
    "employer_eq2030",
    "qpv_clause_applies",
    "workplace_in_qpv",
    "freshness",
    "congestion",
)
UNKNOWN = float("nan")
FULL_TIME_HOURS = 35.0
FRESHNESS_HALF_LIFE_DAYS = 21.0
# Proposals per open position after which an offer counts as saturated (congestion ≈ 0.63).
CONGESTION_SCALE = 5.0

_WORD = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset({
    "les", "des", "une", "aux", "avec", "pour", "dans", "sur", "par", "son", "ses", "leur", "leurs", "est",
    "sont", "pas", "plus", "tout", "tous", "toute", "toutes", "etre", "avoir", "faire", "selon", "ainsi",
    "afin", "entre", "chez", "vers", "sous", "que", "qui", "quoi", "dont", "cette", "ces", "cet", "and", "the",
})  # fmt: skip
_STEM = 5


@dataclass(frozen=True, slots=True)
class CandidateProfile:
    """What stage 2 reads of a candidate (built from an accessor row)."""

    target_rome_codes: tuple[str, ...] = ()
    skills: tuple[str, ...] = ()
    summary: str | None = None
    qpv_code: str | None = None
    max_commute_km: float | None = None
    unavailable_schedules: tuple[str, ...] = ()
    part_time_only: bool = False
    desired_contracts: tuple[str, ...] = ()
    desired_hours_min: float | None = None
    desired_hours_max: float | None = None
    education_level: int | None = None
    experience_months: int | None = None
    licences: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> CandidateProfile:
        """Build from a `candidates` row (dict)."""
        return cls(
            target_rome_codes=tuple(c.strip() for c in row.get("target_rome_codes") or ()),
            skills=tuple(_labels(row.get("skills"))),
            summary=row.get("summary"),
            qpv_code=row.get("qpv_code"),
            max_commute_km=row.get("max_commute_km"),
            unavailable_schedules=tuple(row.get("unavailable_schedules") or ()),
            part_time_only=bool(row.get("part_time_only")),
            desired_contracts=tuple(row.get("desired_contracts") or ()),
            desired_hours_min=row.get("desired_hours_min"),
            desired_hours_max=row.get("desired_hours_max"),
            education_level=row.get("education_level"),
            experience_months=row.get("experience_months"),
            licences=tuple(row.get("licences") or ()),
            languages=tuple(_labels(row.get("languages"))),
        )


@dataclass(frozen=True, slots=True)
class OfferFacts:
    """What stage 2 reads of an offer, with the pair's retrieval measures (similarity, distance…)."""

    rome_code: str | None = None
    skills: tuple[str, ...] = ()
    required_languages: tuple[str, ...] = ()
    licences: tuple[str, ...] = ()
    contract_type: str | None = None
    hours_per_week: float | None = None
    part_time: bool | None = None
    work_schedule: tuple[str, ...] = ()
    experience_required: str | None = None
    experience_months: int | None = None
    education_level: int | None = None
    qpv_code: str | None = None
    remote_work: bool = False
    positions: int = 1
    published_at: datetime | None = None
    lee_member: bool = False
    eq2030: bool = False
    qpv_clause: bool = False
    company_name: str | None = None
    similarity: float | None = None
    lexical: float | None = None
    distance_km: float | None = None
    recent_proposals: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> OfferFacts:
        """Build from a retrieval row (offer columns, employer flags and pair measures)."""
        languages = row.get("languages") or ()
        return cls(
            rome_code=(row.get("rome_code") or "").strip() or None,
            skills=tuple(_labels(row.get("skills"))),
            required_languages=tuple(
                lang["label"] for lang in languages if isinstance(lang, dict) and lang.get("required", True)
            ),
            licences=tuple(row.get("licences") or ()),
            contract_type=row.get("contract_type"),
            hours_per_week=row.get("hours_per_week"),
            part_time=row.get("part_time"),
            work_schedule=tuple(row.get("work_schedule") or ()),
            experience_required=row.get("experience_required"),
            experience_months=row.get("experience_months"),
            education_level=row.get("education_level"),
            qpv_code=row.get("qpv_code"),
            remote_work=bool(row.get("remote_work")),
            positions=int(row.get("positions") or 1),
            published_at=row.get("published_at"),
            lee_member=bool(row.get("lee_member")),
            eq2030=bool(row.get("eq2030")),
            qpv_clause=bool(row.get("qpv_clause")),
            company_name=row.get("company_name"),
            similarity=row.get("similarity"),
            lexical=row.get("lexical"),
            distance_km=row.get("distance_km"),
            recent_proposals=int(row.get("recent_proposals") or 0),
        )


@dataclass(frozen=True, slots=True)
class PairFeatures:
    """Feature values (by name) and the evidence the explanation quotes."""

    values: dict[str, float]
    evidence: dict[str, Any] = field(default_factory=dict)


def _labels(items: Iterable[Any] | None) -> list[str]:
    out = []
    for item in items or ():
        label = item.get("label") if isinstance(item, dict) else item
        if label:
            out.append(str(label))
    return out


@lru_cache(maxsize=65536)
def folded(text: str) -> str:
    """`fold` of a label, cached: the same ROME skill labels recur across thousands of offers."""
    return fold(text).strip()


@lru_cache(maxsize=65536)
def content_stems(text: str) -> frozenset[str]:
    """Accent-free word stems (first letters) of the meaningful words of a text."""
    return frozenset(w[:_STEM] for w in _WORD.findall(folded(text)) if len(w) > 2 and w not in STOPWORDS)


@lru_cache(maxsize=1024)
def _candidate_vocabulary(skills: tuple[str, ...], summary: str | None) -> tuple[frozenset[str], frozenset[str]]:
    # Cached: one candidate meets a hundred offers or more per ranking request.
    own = frozenset(folded(s) for s in skills)
    return own, frozenset().union(*(content_stems(text) for text in (*skills, summary or "")))


def shared_skills(offer_skills: Sequence[str], candidate_skills: Sequence[str], summary: str | None) -> list[str]:
    """Offer skills the candidate shows: same label, or most of its words among the candidate's skills and summary."""
    # Not memoised per (skill, candidate): ranking offers for a candidate gained ~0.3 ms a request, ranking a
    # structure's candidates for an offer (new vocabularies, ~10 skills each) lost ~0.15 ms (docs/ranking.md).
    own, bag = _candidate_vocabulary(tuple(candidate_skills), summary)
    found = []
    for skill in offer_skills:
        if folded(skill) in own:
            found.append(skill)
            continue
        stems = content_stems(skill)
        if stems and len(stems & bag) / len(stems) >= 2 / 3:
            found.append(skill)
    return found


def rome_relation(offer_code: str | None, targets: Sequence[str], mobility: frozenset[str]) -> tuple[float, ...]:
    """(same code, same professional domain, mobility target) of the offer's ROME code; NaN if unknown."""
    if not offer_code or not targets:
        return UNKNOWN, UNKNOWN, UNKNOWN
    same = float(offer_code in targets)
    domain = float(any(offer_code[:3] == t[:3] for t in targets))
    return same, domain, float(same == 1.0 or offer_code in mobility)


def proximity(distance_km: float | None, max_commute_km: float | None, remote: bool) -> float:
    """1 at the door, 0 at the candidate's maximum commute; NaN without a distance."""
    if remote:
        return 1.0
    if distance_km is None or not max_commute_km:
        return UNKNOWN
    return max(0.0, 1.0 - distance_km / max_commute_km)


def schedule_fit(offer_schedule: Sequence[str], unavailable: Sequence[str]) -> float:
    """0 when the offer works in a slot the candidate cannot (childcare…), else 1."""
    return 0.0 if set(offer_schedule) & set(unavailable) else 1.0


def hours_fit(hours: float | None, part_time: bool | None, candidate: CandidateProfile) -> float:
    """Whether the weekly hours suit the candidate (part-time only, desired range); NaN if unknown."""
    if hours is None:
        if candidate.part_time_only and part_time is not None:
            return float(part_time)
        return UNKNOWN
    if candidate.part_time_only and hours >= FULL_TIME_HOURS:
        return 0.0
    low, high = candidate.desired_hours_min, candidate.desired_hours_max
    if (low is not None and hours < low) or (high is not None and hours > high):
        return 0.0
    return 1.0


def contract_fit(contract_type: str | None, desired: Sequence[str]) -> float:
    """1 for a wanted contract, 0 otherwise; NaN when the candidate stated no preference."""
    if not desired:
        return UNKNOWN
    return float(contract_type in desired)


def education_fit(required: int | None, held: int | None) -> float:
    """1 when the candidate's level reaches the required one, less per missing level; NaN if unknown."""
    if required is None or held is None:
        return UNKNOWN
    return max(0.0, 1.0 - 0.5 * max(0, required - held))


def experience_fit(required: str | None, months_required: int | None, months_held: int | None) -> float:
    """Experience asked (D = beginners welcome, S = wished, E = required) against the candidate's."""
    if required is None or required == "D":
        return 1.0 if required == "D" else UNKNOWN
    if months_held is None:
        return UNKNOWN
    if months_required:
        return min(1.0, months_held / months_required)
    if required == "S":
        return 1.0 if months_held > 0 else 0.5
    return 1.0 if months_held > 0 else 0.0


def licence_fit(required: Sequence[str], held: Sequence[str]) -> float:
    """1 when every required driving licence is held."""
    return float(set(required) <= set(held))


def language_fit(required: Sequence[str], spoken: Sequence[str]) -> float:
    """Share of the required languages the candidate speaks (1 when none is required)."""
    if not required:
        return 1.0
    spoken_folded = {fold(s).strip() for s in spoken}
    return sum(fold(r).strip() in spoken_folded for r in required) / len(required)


def freshness(published_at: datetime | None, now: datetime) -> float:
    """Halves every `FRESHNESS_HALF_LIFE_DAYS`; NaN without a publication date."""
    if published_at is None:
        return UNKNOWN
    age_days = max(0.0, (now - published_at).total_seconds() / 86400)
    return 0.5 ** (age_days / FRESHNESS_HALF_LIFE_DAYS)


def congestion(recent_proposals: int, positions: int) -> float:
    """0 for an offer nobody was proposed, towards 1 as proposals per position grow."""
    return 1.0 - math.exp(-recent_proposals / (CONGESTION_SCALE * max(1, positions)))


def feature_values(
    candidate: CandidateProfile,
    offer: OfferFacts,
    mobility: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> dict[str, float]:
    """All feature values of one pair, by name: what the model scores."""
    now = now or datetime.now(UTC)
    same, domain, mobile = rome_relation(offer.rome_code, candidate.target_rome_codes, mobility)
    shared = shared_skills(offer.skills, candidate.skills, candidate.summary) if offer.skills else ()
    return {
        "semantic_similarity": UNKNOWN if offer.similarity is None else float(offer.similarity),
        "lexical_score": 0.0 if offer.lexical is None else float(offer.lexical),
        "rome_same": same,
        "rome_same_domain": domain,
        "rome_mobility": mobile,
        "skills_overlap": len(shared) / len(offer.skills) if offer.skills else UNKNOWN,
        "proximity": proximity(offer.distance_km, candidate.max_commute_km, offer.remote_work),
        "schedule_fit": schedule_fit(offer.work_schedule, candidate.unavailable_schedules),
        "hours_fit": hours_fit(offer.hours_per_week, offer.part_time, candidate),
        "contract_fit": contract_fit(offer.contract_type, candidate.desired_contracts),
        "education_fit": education_fit(offer.education_level, candidate.education_level),
        "experience_fit": experience_fit(offer.experience_required, offer.experience_months,
                                         candidate.experience_months),
        "licence_fit": licence_fit(offer.licences, candidate.licences),
        "language_fit": language_fit(offer.required_languages, candidate.languages),
        "employer_lee": float(offer.lee_member),
        "employer_eq2030": float(offer.eq2030),
        "qpv_clause_applies": float(offer.qpv_clause and candidate.qpv_code is not None),
        "workplace_in_qpv": float(offer.qpv_code is not None),
        "freshness": freshness(offer.published_at, now),
        "congestion": congestion(offer.recent_proposals, offer.positions),
    }  # fmt: skip


def feature_evidence(candidate: CandidateProfile, offer: OfferFacts) -> dict[str, Any]:
    """What the explanation of one pair quotes: shared skills, distance, conflicts, the employer…"""
    return {
        "offer_rome_code": offer.rome_code,
        "target_rome_codes": list(candidate.target_rome_codes),
        "shared_skills": shared_skills(offer.skills, candidate.skills, candidate.summary),
        "offer_skill_count": len(offer.skills),
        "distance_km": None if offer.distance_km is None else round(offer.distance_km, 1),
        "max_commute_km": candidate.max_commute_km,
        "remote_work": offer.remote_work,
        "schedule_conflicts": sorted(set(offer.work_schedule) & set(candidate.unavailable_schedules)),
        "hours_per_week": offer.hours_per_week,
        "contract_type": offer.contract_type,
        "desired_contracts": list(candidate.desired_contracts),
        "education_required": offer.education_level,
        "education_held": candidate.education_level,
        "experience_required": offer.experience_required,
        "missing_licences": sorted(set(offer.licences) - set(candidate.licences)),
        "required_languages": list(offer.required_languages),
        "company_name": offer.company_name,
        "candidate_in_qpv": candidate.qpv_code is not None,
        "workplace_qpv": offer.qpv_code,
        "recent_proposals": offer.recent_proposals,
        "positions": offer.positions,
    }


def pair_features(
    candidate: CandidateProfile,
    offer: OfferFacts,
    mobility: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> PairFeatures:
    """All features of one pair, with the evidence behind them (serving computes the evidence of its page only)."""
    return PairFeatures(feature_values(candidate, offer, mobility, now), feature_evidence(candidate, offer))


def feature_matrix(rows: Sequence[Mapping[str, float]], names: Sequence[str] = FEATURE_NAMES) -> np.ndarray:
    """Stack feature dicts into an (n, len(names)) float matrix; names a dict lacks are NaN."""
    if not rows:
        return np.empty((0, len(names)), dtype=np.float64)
    take = itemgetter(*names)
    try:
        table = [take(row) for row in rows]
    except KeyError:
        table = [[row.get(name, np.nan) for name in names] for row in rows]
    return np.array(table, dtype=np.float64).reshape(len(rows), len(names))


def snapshot(values: Mapping[str, float]) -> dict[str, float | None]:
    """JSON-safe copy of a feature dict (NaN → null, rounded) for the match log."""
    return {k: (None if math.isnan(v) else round(float(v), 5)) for k, v in values.items()}
