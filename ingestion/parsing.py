"""Parse and validate one offer from a partner payload into an `OfferRecord` (pure, no I/O).

Three shapes: France Travail *Offres d'emploi v2* (the LEE partner feed, file dumps), the Maillage
offer dict (company API, EQ2030 exports once their columns are mapped), and EQ2030 CSV/JSON rows.
A bad record raises `RecordError` with a step, a reason code and a French message, and is quarantined.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from matching.domain import CONTRACT_TYPES, SCHEDULES, Language, OfferRecord, Skill
from matching.referentiels.text import normalize_text

_SIRET = re.compile(r"^\d{14}$")
_ROME = re.compile(r"^[A-N]\d{4}$")
_INSEE = re.compile(r"^(?:\d{5}|2[AB]\d{3})$")
_POSTAL = re.compile(r"^\d{5}$")
_HOURS = re.compile(r"(\d{1,2})\s*[hH](?:\s*(\d{2}))?")
_EXPERIENCE = re.compile(r"(\d+)\s*(an|mois)", re.IGNORECASE)
_NAF = re.compile(r"^(\d{2})\.?(\d{2})([A-Z])$")
_HTML_TAGS = re.compile(r"<[^>]+>")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_INLINE_SPACES = re.compile(r"[ \t\u00a0]+")
MAX_TITLE = 300
MAX_DESCRIPTION = 20_000

# France Travail education levels (formations[].niveauLibelle) → nomenclature 2019 levels.
_EDUCATION_LEVELS = (
    ("cap", 3), ("bep", 3), ("bac5", 7), ("bac3", 6), ("bac4", 6), ("bac2", 5), ("bac", 4),
    ("doctorat", 8), ("master", 7), ("licence", 6), ("bts", 5), ("dut", 5),
)  # fmt: skip
# Contract words of exports and FT natureContrat → one vocabulary.
_CONTRACT_ALIASES = {
    "cdi": "CDI", "cdd": "CDD", "mis": "MIS", "interim": "MIS", "travail temporaire": "MIS",
    "sai": "SAI", "saisonnier": "SAI", "lib": "LIB", "liberal": "LIB", "fra": "FRA", "franchise": "FRA",
    "din": "DIN", "cdi interimaire": "DIN", "tti": "TTI", "ddi": "DDI",
    "apprentissage": "APPRENTISSAGE", "contrat apprentissage": "APPRENTISSAGE", "alternance": "APPRENTISSAGE",
    "professionnalisation": "PROFESSIONNALISATION", "contrat de professionnalisation": "PROFESSIONNALISATION",
    "cont professionnalisation": "PROFESSIONNALISATION", "stage": "STAGE", "iae": "IAE",
    "insertion": "IAE", "cddi": "IAE", "autre": "AUTRE",
}  # fmt: skip


class RecordError(ValueError):
    """A record that cannot enter the catalogue: quarantined with its step, reason code and message."""

    def __init__(self, step: str, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.step = step
        self.reason_code = reason_code
        self.message = message


def clean_text(text: str | None) -> str:
    """Strip HTML tags and control characters, collapse spaces, keep paragraph breaks."""
    if not text:
        return ""
    text = _HTML_TAGS.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = "".join(ch for ch in text if ch == "\n" or ch.isprintable())
    lines = [_INLINE_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def contract_type(value: str | None, nature: str | None = None, alternance: bool | None = None) -> str:
    """Map an FT `typeContrat`/`natureContrat` or a free-text contract to the Maillage vocabulary."""
    for text in (nature, value):
        key = normalize_text(text or "")
        if "apprentissage" in key:
            return "APPRENTISSAGE"
        if "professionnalisation" in key:
            return "PROFESSIONNALISATION"
        if "insertion" in key:
            return "IAE"
    if value and value.strip().upper() in CONTRACT_TYPES:
        return value.strip().upper()
    key = normalize_text(value or "")
    if key in _CONTRACT_ALIASES:
        return _CONTRACT_ALIASES[key]
    if alternance:
        return "APPRENTISSAGE"
    raise RecordError("validate", "unknown_contract", f"type de contrat inconnu : {value!r}")


def education_level(label: str | None) -> int | None:
    """Nomenclature-2019 level of an FT education label ('Bac+2 ou équivalents' → 5)."""
    key = normalize_text(label or "").replace(" ", "")
    for word, level in _EDUCATION_LEVELS:
        if word in key:
            return level
    return None


def hours_per_week(label: str | None) -> float | None:
    """Weekly hours from '35H Horaires normaux' or '24H30/semaine'."""
    match = _HOURS.search(label or "")
    if not match:
        return None
    hours = int(match[1]) + (int(match[2]) / 60 if match[2] else 0)
    return hours if 0 < hours <= 60 else None


def experience_months(label: str | None) -> int | None:
    """Months of experience from '2 An(s)' or '6 Mois'."""
    match = _EXPERIENCE.search(label or "")
    if not match:
        return None
    return int(match[1]) * (12 if match[2].lower() == "an" else 1)


def naf_code(value: str | None) -> str | None:
    """'62.01Z' or '6201Z' → '6201Z'."""
    match = _NAF.match((value or "").strip().upper())
    return f"{match[1]}{match[2]}{match[3]}" if match else None


def parse_datetime(value: Any, field_name: str) -> datetime | None:
    """An ISO date or date-time (FT writes '2024-05-02T10:11:12.000Z'), as an aware datetime."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise RecordError("validate", "bad_date", f"{field_name} : date invalide {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def siret(value: Any) -> str | None:
    """A SIRET without spaces, or None when absent or malformed (FT often omits it)."""
    digits = re.sub(r"\s", "", str(value or ""))
    return digits if _SIRET.match(digits) else None


def rome_code(value: Any) -> str | None:
    """An upper-case ROME code, or None."""
    code = str(value or "").strip().upper()
    return code if _ROME.match(code) else None


def _required_text(value: Any, field_name: str, limit: int) -> str:
    text = clean_text(value if isinstance(value, str) else None)
    if not text:
        raise RecordError("validate", f"missing_{field_name}", f"{field_name} : champ obligatoire manquant")
    return text[:limit]


def _items(payload: dict, key: str) -> list[dict]:
    value = payload.get(key) or []
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _strip_personal_data(payload: dict) -> dict:
    """The raw payload without the recruiter's name and phone (personal data we do not keep)."""
    raw = dict(payload)
    contact = raw.get("contact")
    if isinstance(contact, dict):
        raw["contact"] = {k: v for k, v in contact.items() if k in ("urlPostulation", "courriel", "commentaire")}
    return raw


def parse_france_travail_offer(payload: Any, source_id: str) -> OfferRecord:
    """Validate one France Travail *Offres d'emploi v2* offer and map it to an (unnormalised) `OfferRecord`."""
    if not isinstance(payload, dict):
        raise RecordError("parse", "not_an_object", "l'offre n'est pas un objet JSON")
    external_id = str(payload.get("id") or "").strip()
    if not external_id or len(external_id) > 100:
        raise RecordError("validate", "missing_id", "id : identifiant de l'offre manquant ou trop long")
    title = _required_text(payload.get("intitule"), "intitule", MAX_TITLE)
    description = clean_text(payload.get("description") if isinstance(payload.get("description"), str) else "")
    place = payload.get("lieuTravail") if isinstance(payload.get("lieuTravail"), dict) else {}
    company = payload.get("entreprise") if isinstance(payload.get("entreprise"), dict) else {}
    contact = payload.get("contact") if isinstance(payload.get("contact"), dict) else {}
    origin = payload.get("origineOffre") if isinstance(payload.get("origineOffre"), dict) else {}
    lat, lon = place.get("latitude"), place.get("longitude")
    try:
        lat, lon = (float(lat), float(lon)) if lat is not None and lon is not None else (None, None)
    except (TypeError, ValueError):
        raise RecordError("validate", "bad_coordinates", "lieuTravail : coordonnées invalides") from None
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise RecordError("validate", "bad_coordinates", "lieuTravail : coordonnées hors limites")
    levels = [education_level(f.get("niveauLibelle")) for f in _items(payload, "formations")]
    work_label = str(payload.get("dureeTravailLibelle") or "")
    converted = normalize_text(str(payload.get("dureeTravailLibelleConverti") or ""))
    try:
        positions = max(1, int(payload.get("nombrePostes") or 1))
    except (TypeError, ValueError):
        positions = 1
    contract = contract_type(payload.get("typeContrat"), payload.get("natureContrat"), payload.get("alternance"))
    experience = payload.get("experienceExige")
    postal = str(place.get("codePostal") or "").strip()
    return OfferRecord(
        source_id=source_id,
        external_id=external_id,
        title=title,
        description=description or title,
        contract_type=contract,
        rome_code=rome_code(payload.get("romeCode")),
        rome_code_source=rome_code(payload.get("romeCode")),
        appellation_label=clean_text(payload.get("appellationlibelle")) or None,
        contract_nature=clean_text(payload.get("natureContrat")) or None,
        hours_per_week=hours_per_week(work_label),
        part_time=("partiel" in converted) if converted else None,
        work_schedule=_schedules(work_label + " " + str(payload.get("complementExercice") or "")),
        experience_required=experience if experience in ("D", "S", "E") else None,
        experience_months=experience_months(payload.get("experienceLibelle")),
        education_level=min((lv for lv in levels if lv), default=None),
        skills=tuple(
            Skill(label=clean_text(c.get("libelle")), code=str(c["code"]) if c.get("code") else None,
                  required=c.get("exigence") != "S")
            for c in _items(payload, "competences") if clean_text(c.get("libelle"))
        ),
        languages=tuple(
            Language(label=clean_text(lang.get("libelle")), required=lang.get("exigence") != "S")
            for lang in _items(payload, "langues") if clean_text(lang.get("libelle"))
        ),
        licences=tuple(
            clean_text(p.get("libelle")).split(" ")[0]
            for p in _items(payload, "permis")
            if clean_text(p.get("libelle"))
        ),
        workplace_label=clean_text(place.get("libelle")) or None,
        commune_insee=str(place["commune"]).strip() if _INSEE.match(str(place.get("commune") or "").strip()) else None,
        postal_code=postal if _POSTAL.match(postal) else None,
        lat=lat,
        lon=lon,
        positions=positions,
        salary_label=clean_text((payload.get("salaire") or {}).get("libelle")) or None
        if isinstance(payload.get("salaire"), dict) else None,
        apply_url=contact.get("urlPostulation") or origin.get("urlOrigine") or None,
        apply_email=contact.get("courriel") or None,
        naf_code=naf_code(payload.get("codeNAF")),
        company_siret=siret(company.get("siret")),
        company_name=clean_text(company.get("nom")) or None,
        source_created_at=parse_datetime(payload.get("dateCreation"), "dateCreation"),
        source_updated_at=parse_datetime(payload.get("dateActualisation"), "dateActualisation"),
        expires_at=parse_datetime(payload.get("dateExpiration"), "dateExpiration"),
        raw=_strip_personal_data(payload),
    )  # fmt: skip


def _schedules(text: str) -> tuple[str, ...]:
    key = normalize_text(text)
    found = {
        "night": "nuit" in key, "weekend": "week end" in key or "dimanche" in key or "samedi" in key,
        "early": "matin" in key or "tot" in key.split(), "late": "soir" in key, "split": "coupure" in key,
    }  # fmt: skip
    return tuple(s for s in SCHEDULES if found[s])


class MaillageOffer(BaseModel):
    """An offer in Maillage's own shape (company API, mapped EQ2030 exports); unknown fields refused."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    external_id: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=2, max_length=MAX_TITLE)
    description: str = Field(min_length=1, max_length=MAX_DESCRIPTION)
    contract_type: str
    rome_code: str | None = None
    commune_insee: str | None = None
    postal_code: str | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    hours_per_week: float | None = Field(default=None, gt=0, le=60)
    contract_duration_months: float | None = Field(default=None, ge=0)
    work_schedule: list[Literal["early", "late", "night", "weekend", "split"]] = []
    experience_required: Literal["D", "S", "E"] | None = None
    education_level: int | None = Field(default=None, ge=1, le=8)
    skills: list[str] = []
    languages: list[str] = []
    licences: list[str] = []
    remote_work: bool = False
    positions: int = Field(default=1, ge=1, le=1000)
    salary_label: str | None = Field(default=None, max_length=300)
    apply_url: str | None = Field(default=None, max_length=2000, pattern=r"^https?://")
    apply_email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    company_siret: str | None = None
    company_name: str | None = Field(default=None, max_length=300)
    naf_code: str | None = None
    starts_on: date | None = None
    expires_at: datetime | None = None

    @field_validator("contract_type")
    @classmethod
    def _contract(cls, value: str) -> str:
        try:
            return contract_type(value)
        except RecordError as exc:
            raise ValueError(exc.message) from None

    @field_validator("rome_code")
    @classmethod
    def _rome(cls, value: str | None) -> str | None:
        if value and not rome_code(value):
            raise ValueError("code ROME invalide (attendu : une lettre et quatre chiffres, ex. G1603)")
        return rome_code(value)

    @field_validator("company_siret")
    @classmethod
    def _siret(cls, value: str | None) -> str | None:
        if value and not siret(value):
            raise ValueError("SIRET invalide (14 chiffres attendus)")
        return siret(value)

    @field_validator("commune_insee")
    @classmethod
    def _insee(cls, value: str | None) -> str | None:
        if value and not _INSEE.match(value):
            raise ValueError("code commune INSEE invalide (5 caractères attendus)")
        return value or None

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, value: str | None) -> str | None:
        if value and not _POSTAL.match(value):
            raise ValueError("code postal invalide (5 chiffres attendus)")
        return value or None


def _french_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "offre"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "champ obligatoire manquant"
        elif err["type"] == "extra_forbidden":
            message = "champ inconnu"
        parts.append(f"{where} : {message}")
    return "; ".join(parts)


def parse_maillage_offer(payload: Any, source_id: str) -> OfferRecord:
    """Validate one Maillage-shaped offer dict (refusing unknown fields) into an `OfferRecord`."""
    if not isinstance(payload, dict):
        raise RecordError("parse", "not_an_object", "l'offre n'est pas un objet JSON")
    try:
        offer = MaillageOffer.model_validate(payload)
    except ValidationError as exc:
        raise RecordError("validate", "invalid_fields", _french_errors(exc)) from None
    if (offer.lat is None) != (offer.lon is None):
        raise RecordError("validate", "bad_coordinates", "lat/lon : les deux coordonnées sont requises")
    expires = offer.expires_at
    if expires is not None and expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    return OfferRecord(
        source_id=source_id,
        external_id=offer.external_id,
        title=clean_text(offer.title),
        description=clean_text(offer.description),
        contract_type=offer.contract_type,
        rome_code=offer.rome_code,
        rome_code_source=offer.rome_code,
        contract_duration_months=offer.contract_duration_months,
        hours_per_week=offer.hours_per_week,
        part_time=offer.hours_per_week < 35 if offer.hours_per_week else None,
        work_schedule=tuple(s for s in SCHEDULES if s in offer.work_schedule),
        experience_required=offer.experience_required,
        education_level=offer.education_level,
        skills=tuple(Skill(label=s) for s in offer.skills if s),
        languages=tuple(Language(label=s) for s in offer.languages if s),
        licences=tuple(offer.licences),
        commune_insee=offer.commune_insee,
        postal_code=offer.postal_code,
        lat=offer.lat,
        lon=offer.lon,
        remote_work=offer.remote_work,
        positions=offer.positions,
        salary_label=offer.salary_label,
        apply_url=offer.apply_url,
        apply_email=offer.apply_email,
        naf_code=naf_code(offer.naf_code),
        company_siret=offer.company_siret,
        company_name=offer.company_name,
        starts_on=offer.starts_on,
        expires_at=expires,
        raw=payload,
    )


# EQ2030 export columns: canonical name → accepted headers (compared after `normalize_text`).
EQ2030_COLUMNS: dict[str, tuple[str, ...]] = {
    "external_id": ("external_id", "identifiant", "id", "reference", "ref offre", "id offre"),
    "company_siret": ("company_siret", "siret"),
    "company_name": ("company_name", "entreprise", "raison sociale", "nom entreprise", "structure"),
    "commune_insee": ("commune_insee", "code insee", "insee", "code commune", "commune insee"),
    "postal_code": ("postal_code", "code postal", "cp"),
    "title": ("title", "intitule", "intitule du poste", "poste", "metier"),
    "description": ("description", "descriptif", "description du poste", "missions"),
    "contract_type": ("contract_type", "contrat", "type de contrat", "type contrat"),
    "hours_per_week": ("hours_per_week", "heures", "heures hebdo", "duree hebdomadaire", "heures par semaine"),
    "starts_on": ("starts_on", "date de debut", "date debut", "debut"),
    "expires_at": ("expires_at", "date de fin de publication", "date limite", "date fin", "expiration"),
    "apply_url": ("apply_url", "url candidature", "lien candidature", "url"),
    "apply_email": ("apply_email", "email candidature", "courriel", "email", "mail"),
    "rome_code": ("rome_code", "code rome", "rome"),
    "positions": ("positions", "nombre de postes", "postes"),
    "salary_label": ("salary_label", "salaire", "remuneration"),
}
_EQ2030_HEADER = {
    normalize_text(alias): canonical for canonical, aliases in EQ2030_COLUMNS.items() for alias in aliases
}


def eq2030_row_to_offer(row: dict[str, Any]) -> dict[str, Any]:
    """Map an EQ2030 CSV/JSON row (French or English headers) to a Maillage offer dict."""
    offer: dict[str, Any] = {}
    unknown = []
    for header, value in row.items():
        canonical = _EQ2030_HEADER.get(normalize_text(str(header or "")))
        if canonical is None:
            unknown.append(header)
            continue
        if value in (None, ""):
            continue
        offer[canonical] = value.strip() if isinstance(value, str) else value
    if unknown and not offer:
        raise RecordError("parse", "unknown_columns", f"colonnes inconnues : {', '.join(map(str, unknown))}")
    for key in ("hours_per_week",):
        if isinstance(offer.get(key), str):
            offer[key] = offer[key].replace(",", ".").lower().removesuffix("h").strip()
    if offer.get("starts_on") and isinstance(offer["starts_on"], str):
        offer["starts_on"] = _french_date(offer["starts_on"])
    if offer.get("expires_at") and isinstance(offer["expires_at"], str):
        offer["expires_at"] = _french_date(offer["expires_at"])
    if "external_id" not in offer:
        # Exports without ids: the same company, place and title is the same offer.
        basis = "|".join(str(offer.get(k, "")) for k in ("company_siret", "company_name", "postal_code",
                                                          "commune_insee", "title"))  # fmt: skip
        offer["external_id"] = "eq-" + hashlib.sha256(normalize_text(basis).encode()).hexdigest()[:20]
    return offer


def _french_date(value: str) -> str:
    """'31/12/2026' → '2026-12-31'; ISO dates pass through."""
    match = re.match(r"^(\d{1,2})/(\d{1,2})/(\d{4})$", value.strip())
    return f"{match[3]}-{int(match[2]):02d}-{int(match[1]):02d}" if match else value


def parse_eq2030_row(row: Any, source_id: str) -> OfferRecord:
    """Validate one EQ2030 export row into an `OfferRecord`."""
    if not isinstance(row, dict):
        raise RecordError("parse", "not_an_object", "la ligne n'est pas un objet")
    return parse_maillage_offer(eq2030_row_to_offer(row), source_id)
