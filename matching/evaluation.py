"""Offline evaluation: ranking metrics (pure), a labelled set built from ROME 4.0, and the comparison of
Maillage with two baselines run in the same process ("same ROME within distance, newest first", "pure cosine").

The labelled set: offers written from ROME fiches (titles from appellations, texts from definitions and
skills, some deliberately terse), and candidate profiles written from an appellation and a few of its
fiche's skills; a third of the profiles carry no ROME code (only free text), as when an adviser has not
coded the project yet. Graded relevance: 2 = the offer's ROME code is the candidate's job, 1 = a ROME
mobility target of it, 0 = anything else.
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg

from matching.domain import (
    OfferRecord,
    Skill,
    candidate_embedding_text,
    content_hash_of_text,
    offer_embedding_text,
)
from matching.indexing import TextEncoder
from matching.storage.audit import SYSTEM_ACTOR
from matching.storage.candidates import (
    CANDIDATES_NEEDING_EMBEDDING,
    SET_CANDIDATE_EMBEDDING,
    CandidateAccessor,
    CandidateRecord,
)
from matching.storage.offers import SET_OFFER_EMBEDDING, ensure_source, upsert_offer

EVAL_SOURCE = "eval-rome"
EVAL_CENTRE = (45.7640, 4.8357)  # Lyon: every eval offer is within reach, distance is not what is judged

# --- metrics (pure) -------------------------------------------------------------------------------------


def dcg(gains: Sequence[float], k: int) -> float:
    """Discounted cumulative gain of the first k gains (2^g − 1 over log2 of rank + 1)."""
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains[:k]))


def ndcg_at_k(ranked: Sequence[int], grades: dict[int, int], k: int = 10) -> float:
    """nDCG@k of a ranked id list against graded relevance (ids absent from `grades` are 0)."""
    ideal = dcg(sorted(grades.values(), reverse=True), k)
    if ideal == 0:
        return 0.0
    return dcg([grades.get(i, 0) for i in ranked], k) / ideal


def recall_at_k(ranked: Sequence[int], relevant: set[int], k: int) -> float:
    """Share of the relevant ids found in the first k."""
    if not relevant:
        return 0.0
    return len(set(ranked[:k]) & relevant) / len(relevant)


def reciprocal_rank(ranked: Sequence[int], relevant: set[int]) -> float:
    """1 / rank of the first relevant id (0 if none)."""
    for rank, item in enumerate(ranked, start=1):
        if item in relevant:
            return 1.0 / rank
    return 0.0


@dataclass(frozen=True, slots=True)
class Metrics:
    """Mean metrics of one system over the labelled queries."""

    ndcg_at_10: float
    recall_at_10: float
    recall_at_50: float
    mrr: float
    queries: int


def evaluate_rankings(rankings: Sequence[Sequence[int]], grades: Sequence[dict[int, int]]) -> Metrics:
    """Mean nDCG@10 (graded), recall@10/@50 and MRR (relevant = same job, grade 2) over queries."""
    rows = []
    for ranked, graded in zip(rankings, grades, strict=True):
        exact = {i for i, g in graded.items() if g >= 2}
        rows.append((ndcg_at_k(ranked, graded, 10), recall_at_k(ranked, exact, 10), recall_at_k(ranked, exact, 50),
                     reciprocal_rank(ranked, exact)))  # fmt: skip
    mean = np.mean(rows, axis=0) if rows else np.zeros(4)
    return Metrics(*(round(float(x), 4) for x in mean), queries=len(rows))


def grade(offer_code: str | None, candidate_code: str, mobility: dict[str, set[str]]) -> int:
    """2 for the candidate's job, 1 for one of its ROME mobility targets, 0 otherwise."""
    if offer_code == candidate_code:
        return 2
    return 1 if offer_code in mobility.get(candidate_code, set()) else 0


# --- labelled set ---------------------------------------------------------------------------------------

SEED_FICHES = """
SELECT f.code_rome, f.label,
       (SELECT t.text FROM rome_texts AS t WHERE t.code_rome = f.code_rome AND t.kind = 'definition') AS definition,
       ARRAY(SELECT c.label FROM rome_fiche_items AS i JOIN rome_competences AS c ON c.code_ogr = i.code_ogr
             WHERE i.code_rome = f.code_rome AND i.block = 'competences'
             ORDER BY i.principal DESC, i.code_ogr LIMIT 25) AS skills,
       ARRAY(SELECT a.label FROM rome_appellations AS a WHERE a.code_rome = f.code_rome AND NOT a.peu_usite
             ORDER BY a.code_ogr) AS appellations,
       ARRAY(SELECT a.code_ogr FROM rome_appellations AS a WHERE a.code_rome = f.code_rome AND NOT a.peu_usite
             ORDER BY a.code_ogr) AS appellation_codes,
       ARRAY(SELECT m.code_rome_cible::text FROM rome_mobilites AS m WHERE m.code_rome = f.code_rome
             ORDER BY m.ordre) AS mobility
FROM rome_fiches AS f
WHERE f.code_rome = ANY (%(codes)s::bpchar[])
"""
ALL_CODES_WITH_MOBILITY = """
SELECT DISTINCT code_rome::text AS code FROM rome_mobilites ORDER BY 1
"""


@dataclass
class LabelledSet:
    """Candidates (ids, their job code) and graded offers, stored in the current transaction."""

    candidate_ids: list[uuid.UUID] = field(default_factory=list)
    candidate_codes: list[str] = field(default_factory=list)
    offer_codes: dict[int, str] = field(default_factory=dict)
    offer_dates: dict[int, datetime] = field(default_factory=dict)
    mobility: dict[str, set[str]] = field(default_factory=dict)

    def grades(self, index: int) -> dict[int, int]:
        """Graded relevance of every offer for the index-th candidate."""
        code = self.candidate_codes[index]
        return {o: g for o, c in self.offer_codes.items() if (g := grade(c, code, self.mobility))}


def _jitter(rng: random.Random, km: float) -> tuple[float, float]:
    return EVAL_CENTRE[0] + rng.uniform(-km, km) / 111.0, EVAL_CENTRE[1] + rng.uniform(-km, km) / 78.0


def build_labelled_set(
    conn: psycopg.Connection, *, seed_jobs: int = 30, offers_per_job: int = 5, candidates: int = 60,
    uncoded_share: float = 1 / 3, seed: int = 7,
) -> LabelledSet:  # fmt: skip
    """Write the labelled offers and candidates (not embedded) in the current transaction."""
    rng = random.Random(seed)
    all_codes = [r["code"] for r in conn.execute(ALL_CODES_WITH_MOBILITY)]
    if not all_codes:
        raise RuntimeError("reference data not loaded: run `maillage referentiels load` first")
    seeds = rng.sample(all_codes, seed_jobs)
    fiches = {r["code_rome"]: r for r in conn.execute(SEED_FICHES, {"codes": seeds})}
    # Offers also for the first mobility targets of each seed job, so that grade 1 exists.
    targets = sorted({t for s in seeds for t in fiches[s]["mobility"][:2]} - set(seeds))
    fiches |= {r["code_rome"]: r for r in conn.execute(SEED_FICHES, {"codes": targets})}
    fiches = {c: f for c, f in fiches.items() if f["appellations"]}
    labelled = LabelledSet(mobility={c: set(f["mobility"]) for c, f in fiches.items()})
    ensure_source(conn, EVAL_SOURCE, "file", "Jeu d'évaluation ROME")
    now = datetime.now(UTC)
    n = 0
    for code, fiche in sorted(fiches.items()):
        for _ in range(offers_per_job):
            title = rng.choice(fiche["appellations"])
            skills = rng.sample(list(fiche["skills"]), min(4, len(fiche["skills"])))
            terse = rng.random() < 0.3
            description = ("Poste à pourvoir rapidement. Contactez-nous." if terse else
                           f"{' '.join((fiche['definition'] or fiche['label']).split())} "
                           f"Missions : {'; '.join(s.lower() for s in skills)}.")  # fmt: skip
            lat, lon = _jitter(rng, 12)
            created = now - timedelta(days=rng.randint(0, 45))
            record = OfferRecord(
                source_id=EVAL_SOURCE, external_id=f"EVAL-{n:05d}", title=title if not terse else title.split(" ")[0],
                description=description, contract_type=rng.choice(("CDI", "CDD", "MIS")), rome_code=code,
                skills=() if terse else tuple(Skill(label=s) for s in skills), lat=lat, lon=lon,
                source_created_at=created,
            )  # fmt: skip
            offer_id = upsert_offer(conn, record, None).offer_id
            labelled.offer_codes[offer_id] = code
            labelled.offer_dates[offer_id] = created
            n += 1
    structure = conn.execute("INSERT INTO structures (kind, name) VALUES ('other', 'Évaluation') RETURNING id")
    structure_id = structure.fetchone()["id"]
    accessor = CandidateAccessor(conn, SYSTEM_ACTOR, structure_id)
    for i in range(candidates):
        code = rng.choice([s for s in seeds if s in fiches])
        fiche = fiches[code]
        k = rng.randrange(len(fiche["appellations"]))
        skills = rng.sample(list(fiche["skills"]), min(3, len(fiche["skills"])))
        coded = rng.random() >= uncoded_share
        lat, lon = _jitter(rng, 3)
        record = CandidateRecord(
            structure_id=structure_id, reference=f"EVAL-{i:04d}", commune_insee="69123", lat=lat, lon=lon,
            target_rome_codes=(code,) if coded else (),
            target_appellations=(fiche["appellation_codes"][k],) if coded else (),
            skills=tuple({"label": s} for s in skills), max_commute_km=40.0,
            summary=f"Je souhaite travailler comme {fiche['appellations'][k].lower()}. "
                    f"J'ai déjà fait : {skills[0].lower() if skills else 'divers postes'}.",
        )  # fmt: skip
        labelled.candidate_ids.append(accessor.create(record))
        labelled.candidate_codes.append(code)
    return labelled


# --- systems ----------------------------------------------------------------------------------------------

BASELINE_SAME_ROME = """
SELECT o.id FROM offers AS o
WHERE o.status = 'active' AND o.source_id = %(source)s AND o.rome_code = ANY (%(codes)s::bpchar[])
  AND cube_distance(o.pt, ll_to_earth(%(lat)s, %(lon)s)::cube) < %(chord_m)s
ORDER BY COALESCE(o.source_created_at, o.created_at) DESC, o.id
LIMIT %(limit)s
"""
BASELINE_COSINE = """
SELECT o.id FROM offers AS o
WHERE o.status = 'active' AND o.source_id = %(source)s
  AND cube_distance(o.pt, ll_to_earth(%(lat)s, %(lon)s)::cube) < %(chord_m)s
ORDER BY (o.embedding <=> %(query)s) + 0, o.id
LIMIT %(limit)s
"""


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """Metrics per system over the same labelled queries."""

    systems: dict[str, Metrics]
    offers: int
    candidates: int
    uncoded_candidates: int


def run_evaluation(
    conn: psycopg.Connection, encoder: TextEncoder, *, candidates: int = 60, seed_jobs: int = 30,
    offers_per_job: int = 5, seed: int = 7, progress: Callable[[int, int], None] | None = None,
) -> EvaluationReport:  # fmt: skip
    """Build the labelled set in a transaction that is rolled back, and rank it with the three systems."""
    from matching.geo import chord_for_arc
    from matching.matches import offers_for_candidate

    with conn.transaction(force_rollback=True):
        labelled = build_labelled_set(conn, seed_jobs=seed_jobs, offers_per_job=offers_per_job,
                                      candidates=candidates, seed=seed)  # fmt: skip
        _embed_in_transaction(conn, encoder, labelled.candidate_ids)
        accessor = CandidateAccessor(conn, SYSTEM_ACTOR, None)
        runs: dict[str, list[list[int]]] = {"same ROME, newest first": [], "pure cosine": [], "Maillage v0": []}
        grades = []
        for i, candidate_id in enumerate(labelled.candidate_ids):
            row = accessor.get(candidate_id, purpose="evaluation")
            params = {"source": EVAL_SOURCE, "codes": list(row["target_rome_codes"]), "lat": row["lat"],
                      "lon": row["lon"], "chord_m": chord_for_arc(row["max_commute_km"] * 1000), "limit": 50,
                      "query": row["embedding"]}  # fmt: skip
            runs["same ROME, newest first"].append([r["id"] for r in conn.execute(BASELINE_SAME_ROME, params)])
            runs["pure cosine"].append([r["id"] for r in conn.execute(BASELINE_COSINE, params)])
            with conn.transaction(force_rollback=True):  # its match log must not congest the next queries
                result = offers_for_candidate(conn, accessor, encoder, candidate_id, limit=50, radius_km=None,
                                              default_radius_km=40, sources=[EVAL_SOURCE])  # fmt: skip
            runs["Maillage v0"].append([m.row["id"] for m in result.matches])
            grades.append(labelled.grades(i))
            if progress:
                progress(i + 1, len(labelled.candidate_ids))
        uncoded = sum(1 for cid in labelled.candidate_ids
                      if not accessor.get(cid, purpose="evaluation")["target_rome_codes"])  # fmt: skip
        return EvaluationReport(
            {name: evaluate_rankings(r, grades) for name, r in runs.items()},
            len(labelled.offer_codes), len(labelled.candidate_ids), uncoded,
        )


EVAL_OFFER_TEXTS = """
SELECT id, title, appellation_label, description,
       COALESCE(ARRAY(SELECT s ->> 'label' FROM jsonb_array_elements(skills) AS s), '{}') AS skill_labels
FROM offers WHERE source_id = %(source)s ORDER BY id
"""


def _embed_in_transaction(conn: psycopg.Connection, encoder: TextEncoder, candidate_ids: list[uuid.UUID]) -> None:
    """Embed the eval offers and candidates without committing (the indexing jobs commit per batch)."""
    offers = conn.execute(EVAL_OFFER_TEXTS, {"source": EVAL_SOURCE}).fetchall()
    texts = [offer_embedding_text(r["title"], r["appellation_label"], list(r["skill_labels"]), r["description"])
             for r in offers]  # fmt: skip
    people = conn.execute(CANDIDATES_NEEDING_EMBEDDING, {"model_id": encoder.model_id, "ids": candidate_ids})
    people = people.fetchall()
    queries = [candidate_embedding_text(list(r["target_job_labels"]), list(r["skill_labels"]), r["summary"])
               for r in people]  # fmt: skip
    with conn.cursor() as cur:
        for statement, rows, vectors, batch_texts in (
            (SET_OFFER_EMBEDDING, offers, encoder.encode_passages(texts), texts),
            (SET_CANDIDATE_EMBEDDING, people, encoder.encode_queries(queries), queries),
        ):
            cur.executemany(statement, [
                {"id": r["id"], "embedding": v, "model_id": encoder.model_id, "text_hash": content_hash_of_text(t)}
                for r, v, t in zip(rows, vectors, batch_texts, strict=True)
            ])  # fmt: skip
