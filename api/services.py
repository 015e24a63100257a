"""What the routes do beyond validation: reference-data checks, storage calls, re-embedding.

Submitted offers are processed synchronously: checked against the reference data, then passed to the
ingestion pipeline (`ingestion.pipeline.ingest_records`: normalise, de-duplicate, embed) before the response,
so the answer already says whether the offer is indexed or marked as a duplicate.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

import psycopg
from fastapi import HTTPException, status
from pydantic import ValidationError

from api.errors import body_errors, field_error
from api.schemas import (
    CandidateCreate,
    CandidatePublic,
    FranceTravailOfferCreate,
    LanguageIn,
    OfferCreate,
    OfferPublic,
    SkillIn,
)
from ingestion.pipeline import ingest_records
from matching.domain import Language, OfferRecord, Skill
from matching.embeddings import Embedder
from matching.indexing import embed_pending_candidates
from matching.referentiels.lookup import commune, find_qpv, rome_fiche
from matching.storage.candidates import CandidateAccessor, CandidateRecord
from matching.storage.companies import API_SOURCE_ID
from matching.storage.offers import ensure_source

OfferFormat = Literal["maillage", "france_travail"]

APPELLATION_LABEL = "SELECT label, code_rome FROM rome_appellations WHERE code_ogr = %(code)s"
COMPANY_NAME = "SELECT name, siret FROM companies WHERE id = %(id)s"
EXTERNAL_ID_TAKEN = "SELECT 1 FROM offers WHERE source_id = 'api' AND external_id = %(external_id)s"
SET_OWNER = "UPDATE offers SET company_id = %(company_id)s WHERE id = %(id)s AND company_id IS NULL"
ADVISER_IN_STRUCTURE = "SELECT 1 FROM advisers WHERE id = %(id)s AND structure_id = %(structure_id)s"
DUPLICATE_REFERENCE = "Un candidat de la structure porte déjà cette référence."
_HOURS = re.compile(r"(\d{1,2})\s*H\s*(\d{2})?", re.IGNORECASE)
# France Travail's FT field for each Maillage field, to point errors at the field the company sent.
FT_FIELDS = {"title": ["intitule"], "description": ["description"], "contract_type": ["typeContrat"],
             "commune_insee": ["lieuTravail", "commune"], "rome_code": ["romeCode"],
             "lat": ["lieuTravail", "latitude"], "lon": ["lieuTravail", "longitude"]}  # fmt: skip


def unprocessable(errors: list[dict[str, Any]]) -> HTTPException:
    """A 422 with field-level errors."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, errors)


# Offers ------------------------------------------------------------------------------------------


def offer_from_france_travail(ft: FranceTravailOfferCreate) -> OfferCreate:
    """Map an Offres d'emploi v2 offer to Maillage's schema."""
    contract = ft.typeContrat
    nature = (ft.natureContrat or "").lower()
    if "apprentissage" in nature:
        contract = "APPRENTISSAGE"
    elif "professionnalisation" in nature:
        contract = "PROFESSIONNALISATION"
    hours = None
    if ft.dureeTravailLibelle and (match := _HOURS.search(ft.dureeTravailLibelle)):
        hours = int(match.group(1)) + int(match.group(2) or 0) / 60
        hours = hours if 0 < hours <= 60 else None
    data = {
        "external_reference": ft.id, "title": ft.intitule, "description": ft.description,
        "contract_type": contract, "rome_code": ft.romeCode, "hours_per_week": hours,
        "experience_required": ft.experienceExige,
        "skills": [{"label": s.libelle, "code": s.code, "required": s.exigence != "S"} for s in ft.competences],
        "languages": [{"label": lang.libelle, "required": lang.exigence != "S"} for lang in ft.langues],
        "licences": [p.libelle.split()[0].upper()[:4] for p in ft.permis if p.libelle.split()],
        "workplace_label": ft.lieuTravail.libelle, "commune_insee": ft.lieuTravail.commune,
        "postal_code": ft.lieuTravail.codePostal, "lat": ft.lieuTravail.latitude, "lon": ft.lieuTravail.longitude,
        "positions": ft.nombrePostes, "salary_label": ft.salaire.libelle if ft.salaire else None,
        "apply_url": ft.contact.urlPostulation if ft.contact else None,
        "apply_email": ft.contact.courriel if ft.contact else None,
    }  # fmt: skip
    try:
        return OfferCreate.model_validate(data)
    except ValidationError as exc:
        errors = body_errors(exc)
        for error in errors:
            field = error["loc"][1] if len(error["loc"]) > 1 else None
            if field in FT_FIELDS:
                error["loc"] = ["body", *FT_FIELDS[field], *error["loc"][2:]]
        raise unprocessable(errors) from None


def _offer_record(conn: psycopg.Connection, offer: OfferCreate, company_id: int, external_id: str,
                  fmt: OfferFormat, original: dict | None, created_at: datetime | None) -> OfferRecord:  # fmt: skip
    """Check the offer against the reference data and build the normalised record."""
    errors: list[dict[str, Any]] = []
    place = commune(conn, offer.commune_insee)
    if place is None:
        errors += field_error("commune_insee", "commune inconnue (code INSEE)")
    rome_code, appellation_label = offer.rome_code, None
    if offer.appellation_code is not None:
        row = conn.execute(APPELLATION_LABEL, {"code": offer.appellation_code}).fetchone()
        if row is None:
            errors += field_error("appellation_code", "appellation ROME inconnue")
        else:
            appellation_label, rome_code = row["label"], rome_code or row["code_rome"]
    if offer.rome_code is not None and rome_fiche(conn, offer.rome_code) is None:
        errors += field_error("rome_code", "code ROME inconnu")
    if offer.expires_at is not None and offer.expires_at <= datetime.now(UTC):
        errors += field_error("expires_at", "la date d'expiration est passée")
    if errors:
        raise unprocessable(errors)
    assert place is not None
    company = conn.execute(COMPANY_NAME, {"id": company_id}).fetchone()
    lat, lon = (offer.lat, offer.lon) if offer.lat is not None else (place.lat, place.lon)
    # Only a real address point places the workplace in a QPV; a commune centre would mislead.
    qpv = find_qpv(conn, offer.lat, offer.lon) if offer.lat is not None and offer.lon is not None else None
    return OfferRecord(
        source_id=API_SOURCE_ID, external_id=external_id, title=offer.title, description=offer.description,
        contract_type=offer.contract_type, rome_code=rome_code, rome_code_source=offer.rome_code,
        appellation_code=offer.appellation_code, appellation_label=appellation_label,
        contract_duration_months=offer.contract_duration_months, hours_per_week=offer.hours_per_week,
        part_time=offer.part_time, work_schedule=tuple(offer.work_schedule),
        experience_required=offer.experience_required, experience_months=offer.experience_months,
        education_level=offer.education_level,
        skills=tuple(Skill(label=s.label, code=s.code, required=s.required) for s in offer.skills),
        languages=tuple(Language(label=lang.label, level=lang.level, required=lang.required)
                        for lang in offer.languages),
        licences=tuple(offer.licences), workplace_label=offer.workplace_label or place.name,
        commune_insee=place.insee, postal_code=offer.postal_code or place.postal_code, lat=lat, lon=lon,
        qpv_code=qpv, remote_work=offer.remote_work, positions=offer.positions, salary_label=offer.salary_label,
        apply_url=offer.apply_url, apply_email=offer.apply_email, company_siret=company["siret"],
        company_name=company["name"], source_created_at=created_at or datetime.now(UTC),
        source_updated_at=datetime.now(UTC), starts_on=offer.starts_on, expires_at=offer.expires_at,
        raw={"format": fmt, "submitted": offer.model_dump(mode="json"), "original": original},
    )  # fmt: skip


def external_id_for(company_id: int, reference: str | None) -> str:
    """The offer's key within the API source: the company's reference, else a fresh one."""
    return f"c{company_id}-{reference or 'mlg-' + uuid.uuid4().hex}"


def save_offer(conn: psycopg.Connection, embedder: Embedder, company_id: int, offer: OfferCreate,
               fmt: OfferFormat, original: dict | None = None, existing: dict | None = None) -> int:  # fmt: skip
    """Create (existing None) or replace an offer of the company, then embed it; return its id."""
    if existing is None:
        external_id = external_id_for(company_id, offer.external_reference)
        if offer.external_reference and conn.execute(EXTERNAL_ID_TAKEN, {"external_id": external_id}).fetchone():
            raise HTTPException(status.HTTP_409_CONFLICT, "Une offre existe déjà avec cette référence externe.")
        created_at = None
    else:
        if existing["status"] == "closed":
            raise HTTPException(status.HTTP_409_CONFLICT, "Offre clôturée : elle ne peut plus être modifiée.")
        stored_reference = (existing["raw"] or {}).get("submitted", {}).get("external_reference")
        if offer.external_reference is not None and offer.external_reference != stored_reference:
            raise unprocessable(field_error("external_reference", "la référence externe ne peut pas être modifiée"))
        offer = offer.model_copy(update={"external_reference": stored_reference})
        external_id, created_at = existing["external_id"], existing["created_at"]
    ensure_source(conn, API_SOURCE_ID, "api", "Offres déposées par les entreprises (API)", priority=50)
    record = _offer_record(conn, offer, company_id, external_id, fmt, original, created_at)
    # The ingestion pipeline normalises, de-duplicates and embeds; the owner is the key's company, never
    # one found by name, so the record goes in without company fields and the owner is set here.
    anonymous_employer = replace(record, company_siret=None, company_name=None)
    report = ingest_records(conn, API_SOURCE_ID, [record.raw], embedder, parser=lambda *_: anonymous_employer,
                            commit=False)  # fmt: skip
    outcome = report.outcomes[0]
    if outcome.status == "quarantined":
        raise unprocessable([{"loc": ["body"], "msg": outcome.reason or "offre refusée", "type": "value_error"}])
    offer_id = outcome.offer_id if outcome.offer_id is not None else existing["id"]  # type: ignore[index]
    conn.execute(SET_OWNER, {"id": offer_id, "company_id": company_id})
    return offer_id


def offer_public(row: dict) -> OfferPublic:
    """The public view of a stored API offer."""
    raw = row["raw"] or {}
    return OfferPublic(id=row["id"], status=row["status"], format=raw.get("format", "maillage"),
                       workplace_qpv_code=row["qpv_code"], embedded=row["embedded"], created_at=row["created_at"],
                       updated_at=row["updated_at"], offer=OfferCreate.model_validate(raw["submitted"]))  # fmt: skip


def stored_offer(row: dict) -> dict[str, Any]:
    """The submitted fields of a stored offer, as a dict a patch merges into."""
    return dict((row["raw"] or {})["submitted"])


@contextmanager
def idempotency_lock(conn: psycopg.Connection, company_id: int, key: str) -> Iterator[None]:
    """Serialise requests that share an idempotency key (session lock: embedding commits midway)."""
    conn.execute("SELECT pg_advisory_lock(hashtextextended(%(k)s, %(c)s))", {"k": key, "c": company_id})
    try:
        yield
    finally:
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            conn.rollback()
        conn.execute("SELECT pg_advisory_unlock(hashtextextended(%(k)s, %(c)s))", {"k": key, "c": company_id})


# Candidates ------------------------------------------------------------------------------------

_PROFILE_FIELDS = tuple(CandidateCreate.model_fields)


def profile_of(row: dict) -> dict[str, Any]:
    """The adviser-editable profile of a stored candidate row."""
    data = {name: row[name] for name in _PROFILE_FIELDS if name in row}
    data["consent"] = row["consent_given_at"] is not None
    for name in ("target_rome_codes", "target_appellations", "licences", "unavailable_schedules",
                 "desired_contracts", "eligibility", "skills", "languages"):  # fmt: skip
        data[name] = list(data.get(name) or [])
    return data


def candidate_public(row: dict) -> CandidatePublic:
    """The public view of a candidate row."""
    return CandidatePublic(
        id=row["id"], structure_id=row["structure_id"], status=row["status"], qpv_code=row["qpv_code"],
        embedded=row["embedding"] is not None, consent_given_at=row["consent_given_at"],
        last_activity_at=row["last_activity_at"], retention_flagged_at=row["retention_flagged_at"],
        created_at=row["created_at"], updated_at=row["updated_at"],
        profile=_stored_profile(row),
    )  # fmt: skip


def _stored_profile(row: dict) -> CandidateCreate:
    # Built without validation: rows written by other paths (demo, imports) must still display.
    data = profile_of(row)
    data["skills"] = [SkillIn.model_construct(**s) for s in data["skills"]]
    data["languages"] = [LanguageIn.model_construct(**lang) for lang in data["languages"]]
    return CandidateCreate.model_construct(**data)


def check_candidate_references(conn: psycopg.Connection, profile: CandidateCreate,
                               structure_id: uuid.UUID) -> str | None:  # fmt: skip
    """Check the profile against reference data and the structure; return the QPV of the address point."""
    errors: list[dict[str, Any]] = []
    if commune(conn, profile.commune_insee) is None:
        errors += field_error("commune_insee", "commune inconnue (code INSEE)")
    for index, code in enumerate(profile.target_rome_codes):
        if rome_fiche(conn, code) is None:
            errors += field_error(["target_rome_codes", index], "code ROME inconnu")
    for index, code in enumerate(profile.target_appellations):
        if conn.execute(APPELLATION_LABEL, {"code": code}).fetchone() is None:
            errors += field_error(["target_appellations", index], "appellation ROME inconnue")
    if profile.referent_adviser_id is not None and conn.execute(
        ADVISER_IN_STRUCTURE, {"id": profile.referent_adviser_id, "structure_id": structure_id}
    ).fetchone() is None:
        errors += field_error("referent_adviser_id", "conseiller inconnu dans cette structure")
    if errors:
        raise unprocessable(errors)
    if profile.lat is None or profile.lon is None:
        return None
    return find_qpv(conn, profile.lat, profile.lon)


def create_candidate(accessor: CandidateAccessor, embedder: Embedder, profile: CandidateCreate,
                     structure_id: uuid.UUID, default_referent: uuid.UUID) -> uuid.UUID:  # fmt: skip
    """Store a new candidate in the structure and embed the profile."""
    qpv = check_candidate_references(accessor.conn, profile, structure_id)
    data = profile.model_dump()
    data.pop("referent_adviser_id")
    lists = ("target_rome_codes", "target_appellations", "licences", "unavailable_schedules",
             "desired_contracts", "eligibility", "skills", "languages")  # fmt: skip
    for name in lists:
        data[name] = tuple(data[name])
    record = CandidateRecord(structure_id=structure_id, qpv_code=qpv,
                             referent_adviser_id=profile.referent_adviser_id or default_referent, **data)  # fmt: skip
    try:
        candidate_id = accessor.create(record)
    except psycopg.errors.UniqueViolation:
        accessor.conn.rollback()
        raise HTTPException(status.HTTP_409_CONFLICT, DUPLICATE_REFERENCE) from None
    embed_pending_candidates(accessor.conn, embedder, [candidate_id])
    return candidate_id


def update_candidate(accessor: CandidateAccessor, embedder: Embedder, candidate_id: uuid.UUID,
                     changes: dict[str, Any]) -> dict:  # fmt: skip
    """Apply a validated change (a full or partial profile) and re-embed when the profile text changed."""
    current = accessor.get(candidate_id, purpose="read_for_update")
    if current["status"] == "closed":
        raise HTTPException(status.HTTP_409_CONFLICT, "Suivi clôturé : le profil ne peut plus être modifié.")
    merged = {**profile_of(current), **changes}
    try:
        profile = CandidateCreate.model_validate(merged)
    except ValidationError as exc:
        raise unprocessable(body_errors(exc)) from None
    qpv = check_candidate_references(accessor.conn, profile, current["structure_id"])
    new = profile.model_dump()
    new.pop("consent")
    updates = {name: value for name, value in new.items() if _differs(current[name], value)}
    if qpv != current["qpv_code"]:
        updates["qpv_code"] = qpv
    if updates:
        try:
            accessor.update(candidate_id, updates)
        except psycopg.errors.UniqueViolation:
            accessor.conn.rollback()
            raise HTTPException(status.HTTP_409_CONFLICT, DUPLICATE_REFERENCE) from None
        embed_pending_candidates(accessor.conn, embedder, [candidate_id])
    return accessor.get(candidate_id)


def _differs(stored: Any, new: Any) -> bool:
    if isinstance(stored, list | tuple) or isinstance(new, list | tuple):
        return list(stored or []) != list(new or [])
    return stored != new
