"""Explanations in French of why a match is proposed: each criterion met, not met or unknown, with evidence."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["met", "not_met", "unknown"]

SCHEDULE_LABELS = {"early": "tôt le matin", "late": "tard le soir", "night": "de nuit", "weekend": "le week-end",
                   "split": "en horaires coupés"}  # fmt: skip
EXPERIENCE_LABELS = {"D": "débutants acceptés", "S": "expérience souhaitée", "E": "expérience exigée"}


@dataclass(frozen=True, slots=True)
class Criterion:
    """One criterion of a match, its status and the evidence in French."""

    code: str
    label: str
    status: Status
    detail: str


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a match is proposed, by which model."""

    summary: str
    criteria: tuple[Criterion, ...]
    model_version: str


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def _status(value: float | None, threshold: float = 0.5) -> Status:
    if not _known(value):
        return "unknown"
    return "met" if value >= threshold else "not_met"


def _list(items: list[str], limit: int = 4) -> str:
    shown = [s.lower() if s[:1].isupper() and s[1:2].islower() else s for s in items[:limit]]
    more = len(items) - limit
    return ", ".join(shown) + (f" (et {more} autre{'s' if more > 1 else ''})" if more > 0 else "")


def _km(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + " km"


def explain(values: Mapping[str, float], evidence: Mapping[str, Any], model_version: str) -> Explanation:
    """Build the French explanation of one match from its features and evidence."""
    ev = evidence
    criteria: list[Criterion] = []

    # Job: same ROME code, a mobility target, the same domain, or only a close text.
    code, targets = ev.get("offer_rome_code"), ev.get("target_rome_codes") or []
    if values.get("rome_same") == 1.0:
        criteria.append(Criterion("metier", "Métier recherché", "met", f"Même code ROME que le projet ({code})."))
    elif values.get("rome_mobility") == 1.0:
        criteria.append(Criterion("metier", "Métier recherché", "met",
                                  f"Métier {code} proche du projet ({', '.join(targets)}) selon les mobilités "
                                  "du ROME."))  # fmt: skip
    elif values.get("rome_same_domain") == 1.0:
        criteria.append(Criterion("metier", "Métier recherché", "met",
                                  f"Métier {code} du même domaine professionnel que le projet."))  # fmt: skip
    elif not targets or not code:
        criteria.append(Criterion("metier", "Métier recherché", "unknown",
                                  "Code ROME absent : rapprochement fait sur le texte de l'offre et du profil."))
    else:
        criteria.append(Criterion("metier", "Métier recherché", "not_met",
                                  f"Métier {code} différent du projet ({', '.join(targets)}) : proposé pour la "
                                  "proximité du texte et des compétences."))  # fmt: skip

    shared, total = ev.get("shared_skills") or [], ev.get("offer_skill_count") or 0
    if not total:
        criteria.append(Criterion("competences", "Compétences", "unknown", "L'offre ne liste pas de compétences."))
    elif shared:
        criteria.append(Criterion("competences", "Compétences", _status(values.get("skills_overlap"), 0.3),
                                  f"{len(shared)} compétence{'s' if len(shared) > 1 else ''} sur {total} en "
                                  f"commun : {_list(shared)}."))  # fmt: skip
    else:
        criteria.append(Criterion("competences", "Compétences", "not_met",
                                  f"Aucune des {total} compétences de l'offre n'apparaît dans le profil."))

    distance, limit = ev.get("distance_km"), ev.get("max_commute_km")
    if ev.get("remote_work"):
        criteria.append(Criterion("distance", "Distance", "met", "Poste en télétravail."))
    elif distance is None:
        criteria.append(Criterion("distance", "Distance", "unknown", "Lieu de travail non localisé."))
    elif limit:
        criteria.append(Criterion("distance", "Distance", "met" if distance <= limit else "not_met",
                                  f"À {_km(distance)} du domicile (trajet maximal : {_km(limit)})."))  # fmt: skip
    else:
        criteria.append(Criterion("distance", "Distance", "met", f"À {_km(distance)} du domicile."))

    conflicts = ev.get("schedule_conflicts") or []
    if conflicts:
        slots = ", ".join(SCHEDULE_LABELS.get(s, s) for s in conflicts)
        criteria.append(Criterion("horaires", "Horaires", "not_met",
                                  f"Le poste demande de travailler {slots}, ce que le candidat ne peut pas."))
    else:
        criteria.append(Criterion("horaires", "Horaires", "met", "Aucun horaire incompatible avec les contraintes."))

    hours = ev.get("hours_per_week")
    hours_text = f"{hours:g} h par semaine" if hours else "Durée hebdomadaire non précisée"
    criteria.append(Criterion("temps_travail", "Temps de travail", _status(values.get("hours_fit")),
                              hours_text + ("." if hours else " dans l'offre.")))  # fmt: skip

    contract, desired = ev.get("contract_type"), ev.get("desired_contracts") or []
    if desired:
        criteria.append(Criterion("contrat", "Contrat", _status(values.get("contract_fit")),
                                  f"Contrat {contract} ; souhaités : {', '.join(desired)}."))  # fmt: skip
    else:
        criteria.append(Criterion("contrat", "Contrat", "unknown",
                                  f"Contrat {contract} ; aucun type de contrat souhaité n'est renseigné."))

    required, held = ev.get("education_required"), ev.get("education_held")
    if required is None:
        criteria.append(Criterion("formation", "Niveau de formation", "met", "Aucun niveau de diplôme exigé."))
    elif held is None:
        criteria.append(Criterion("formation", "Niveau de formation", "unknown",
                                  f"Niveau {required} demandé ; niveau du candidat non renseigné."))
    else:
        criteria.append(Criterion("formation", "Niveau de formation", _status(values.get("education_fit"), 1.0),
                                  f"Niveau {required} demandé, niveau {held} détenu."))  # fmt: skip

    experience = ev.get("experience_required")
    criteria.append(Criterion("experience", "Expérience", _status(values.get("experience_fit")),
                              EXPERIENCE_LABELS.get(experience, "Expérience demandée non précisée").capitalize()
                              + "."))  # fmt: skip

    missing = ev.get("missing_licences") or []
    criteria.append(Criterion("permis", "Permis de conduire", "not_met" if missing else "met",
                              f"Permis manquant : {', '.join(missing)}." if missing
                              else "Aucun permis manquant."))  # fmt: skip

    languages = ev.get("required_languages") or []
    if languages:
        criteria.append(Criterion("langues", "Langues", _status(values.get("language_fit"), 1.0),
                                  f"Langues demandées : {', '.join(languages)}."))  # fmt: skip

    engagement = []
    if values.get("employer_lee") == 1.0:
        engagement.append("membre de « Les entreprises s'engagent »")
    if values.get("employer_eq2030") == 1.0:
        engagement.append("entrepreneur accompagné par Entrepreneuriat Quartiers 2030")
    if values.get("qpv_clause_applies") == 1.0:
        engagement.append("clause d'embauche de résidents QPV, dont le candidat bénéficie")
    if ev.get("workplace_qpv"):
        engagement.append(f"lieu de travail dans un quartier prioritaire ({ev['workplace_qpv']})")
    employer = ev.get("company_name") or "L'employeur"
    criteria.append(Criterion("engagement", "Engagement de l'employeur", "met" if engagement else "unknown",
                              f"{employer} : {'; '.join(engagement)}." if engagement
                              else "Pas d'engagement connu de l'employeur."))  # fmt: skip

    proposals = ev.get("recent_proposals") or 0
    if proposals:
        positions = ev.get("positions") or 1
        criteria.append(Criterion("sollicitation", "Sollicitation de l'offre",
                                  "not_met" if _known(values.get("congestion")) and values["congestion"] > 0.5
                                  else "met",
                                  f"Déjà proposée {proposals} fois ces 30 derniers jours pour {positions} "
                                  f"poste{'s' if positions > 1 else ''}."))  # fmt: skip

    met = [c.label.lower() for c in criteria if c.status == "met"]
    not_met = [c.label.lower() for c in criteria if c.status == "not_met"]
    summary = "Critères remplis : " + (", ".join(met) if met else "aucun") + "."
    if not_met:
        summary += " Points d'attention : " + ", ".join(not_met) + "."
    return Explanation(summary, tuple(criteria), model_version)
