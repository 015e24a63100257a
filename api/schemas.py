"""Response and request schemas of the HTTP API, one per direction."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    create_model,
    field_validator,
    model_validator,
)

from matching.domain import CONTRACT_TYPES, SCHEDULES


class HealthPublic(BaseModel):
    """Liveness answer."""

    status: str


class ReadinessPublic(BaseModel):
    """Readiness answer: each dependency and whether it is ready."""

    status: str
    database: bool
    embedding_model: str | None
    checks: dict[str, str]


class EmployerPublic(BaseModel):
    """The employer of an offer and its engagement."""

    name: str | None
    lee_member: bool = Field(description="Membre de « Les entreprises s'engagent »")
    eq2030: bool = Field(description="Entrepreneur accompagné par Entrepreneuriat Quartiers 2030")
    qpv_clause: bool = Field(description="Clause d'embauche de résidents QPV")


# Shared field types -------------------------------------------------------------------------
# Strict numbers and booleans: JSON `false` is not an integer, "1" is not a number.


def _json_string(value: object) -> object:
    if not isinstance(value, str | date):
        raise ValueError("date attendue au format ISO 8601 (texte)")
    return value


SInt = Annotated[int, Strict()]
SFloat = Annotated[float, Strict()]
SBool = Annotated[bool, Strict()]
JDate = Annotated[date, BeforeValidator(_json_string)]
JDateTime = Annotated[AwareDatetime, BeforeValidator(_json_string)]
JUUID = Annotated[uuid.UUID, BeforeValidator(lambda v: v if isinstance(v, str | uuid.UUID) else _json_string(v))]
RomeCode = Annotated[str, StringConstraints(pattern=r"^[A-N][0-9]{4}$")]
InseeCode = Annotated[str, StringConstraints(pattern=r"^[0-9][0-9AB][0-9]{3}$")]
ContractType = Literal[CONTRACT_TYPES]  # type: ignore[valid-type]
Schedule = Literal[SCHEDULES]  # type: ignore[valid-type]
Licence = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9]{0,3}$")]
Eligibility = Literal["RSA", "ASS", "AAH", "DELD", "DETLD", "RQTH", "jeune", "senior", "QPV", "IAE", "refugie"]
TransportMode = Literal["walk", "bike", "public_transport", "car", "two_wheeler"]
_NIR = re.compile(r"^[12][0-9]{12}([0-9]{2})?$")

_FORBID = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Input(BaseModel):
    """Base of request bodies: unknown fields refused, text stripped, NUL characters refused."""

    model_config = _FORBID

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("caractère NUL interdit")
        return value


class ErrorPublic(BaseModel):
    """An error: a message in French."""

    detail: str


class SkillIn(_Input):
    """A skill: a ROME 4.0 compétence code when known, and a label."""

    label: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}$")] | None = None
    required: SBool = True


class LanguageIn(_Input):
    """A language and its CEFR level."""

    label: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    level: Literal["A1", "A2", "B1", "B2", "C1", "C2"] | None = None
    required: SBool = True


def _both_or_neither(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValueError("latitude et longitude vont ensemble : renseignez les deux ou aucune")


# Offers (companies) ---------------------------------------------------------------------------


class OfferCreate(_Input):
    """An offer submitted by a company (Maillage's own schema)."""

    external_reference: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,100}$")] | None = Field(
        default=None, description="Référence de l'offre chez l'entreprise (unique par entreprise, non modifiable)")
    title: Annotated[str, StringConstraints(min_length=3, max_length=200)] = Field(description="Intitulé du poste")
    description: Annotated[str, StringConstraints(min_length=30, max_length=20000)]
    contract_type: ContractType
    contract_duration_months: Annotated[SFloat, Field(ge=0.1, le=60)] | None = None
    hours_per_week: Annotated[SFloat, Field(ge=1, le=60)] | None = None
    part_time: SBool | None = None
    work_schedule: Annotated[list[Schedule], Field(max_length=5)] = []
    rome_code: RomeCode | None = None
    appellation_code: Annotated[SInt, Field(ge=1, le=999999)] | None = None
    experience_required: Literal["D", "S", "E"] | None = Field(
        default=None, description="D débutant accepté, S souhaitée, E exigée")
    experience_months: Annotated[SInt, Field(ge=0, le=600)] | None = None
    education_level: Annotated[SInt, Field(ge=1, le=8)] | None = None
    skills: Annotated[list[SkillIn], Field(max_length=50)] = []
    languages: Annotated[list[LanguageIn], Field(max_length=10)] = []
    licences: Annotated[list[Licence], Field(max_length=10)] = []
    workplace_label: Annotated[str, StringConstraints(max_length=200)] | None = None
    commune_insee: InseeCode = Field(description="Code INSEE de la commune du lieu de travail")
    postal_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")] | None = None
    lat: Annotated[SFloat, Field(ge=41, le=51.5)] | None = None
    lon: Annotated[SFloat, Field(ge=-5.5, le=10)] | None = None
    remote_work: SBool = False
    positions: Annotated[SInt, Field(ge=1, le=100)] = 1
    salary_label: Annotated[str, StringConstraints(max_length=200)] | None = None
    apply_url: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")] | None = None
    apply_email: Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}\.[A-Za-z]{2,}$")] | None = None
    starts_on: JDate | None = None
    expires_at: JDateTime | None = None

    @model_validator(mode="after")
    def _coherent(self) -> OfferCreate:
        _both_or_neither(self.lat, self.lon)
        if self.contract_type == "CDI" and self.contract_duration_months is not None:
            raise ValueError("un CDI n'a pas de durée de contrat")
        if self.expires_at is not None and self.starts_on is not None and self.expires_at.date() < self.starts_on:
            raise ValueError("la date d'expiration précède la date de début")
        return self


def _patch_model(name: str, model: type[BaseModel], doc: str) -> type[BaseModel]:
    """The PATCH body of a model: the same fields, each optional, none nullable unless it was."""
    fields: dict[str, Any] = {n: (f.rebuild_annotation(), None) for n, f in model.model_fields.items()}
    patch = create_model(name, __base__=_Input, __doc__=doc, **fields)
    return patch


OfferPatch = _patch_model("OfferPatch", OfferCreate, "Partial change of an offer: only the fields given change.")


class OfferPublic(BaseModel):
    """An offer of the calling company, with what the pipeline made of it."""

    id: int
    status: Literal["active", "unpublished", "expired", "closed", "duplicate"]
    format: Literal["maillage", "france_travail"]
    workplace_qpv_code: str | None = Field(description="QPV du lieu de travail, calculé depuis le point")
    embedded: bool = Field(description="Vrai quand l'offre est indexée pour le rapprochement")
    created_at: datetime
    updated_at: datetime
    offer: OfferCreate


class OfferPage(BaseModel):
    """A page of offers."""

    items: list[OfferPublic]
    total: int
    limit: int
    offset: int


class FtPlace(_Input):
    """`lieuTravail` of an Offres d'emploi v2 offer."""

    libelle: Annotated[str, StringConstraints(max_length=200)] | None = None
    latitude: Annotated[SFloat, Field(ge=41, le=51.5)] | None = None
    longitude: Annotated[SFloat, Field(ge=-5.5, le=10)] | None = None
    codePostal: Annotated[str, StringConstraints(pattern=r"^[0-9]{5}$")] | None = None
    commune: InseeCode


class FtLabel(_Input):
    """A `{libelle, exigence}` item (langues, permis)."""

    libelle: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    exigence: Literal["E", "S"] | None = None


class FtSkill(FtLabel):
    """An item of `competences`."""

    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,9}$")] | None = None


class FtSalary(_Input):
    """`salaire`."""

    libelle: Annotated[str, StringConstraints(max_length=200)] | None = None


class FtContact(_Input):
    """`contact`."""

    urlPostulation: Annotated[str, StringConstraints(pattern=r"^https?://[^\s]{1,2000}$")] | None = None
    courriel: Annotated[str, StringConstraints(pattern=r"^[^@\s]{1,64}@[^@\s]{1,189}\.[A-Za-z]{2,}$")] | None = None


class FranceTravailOfferCreate(_Input):
    """An offer in the France Travail « Offres d'emploi v2 » shape (the fields Maillage uses)."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,100}$")] | None = None
    intitule: Annotated[str, StringConstraints(min_length=3, max_length=200)]
    description: Annotated[str, StringConstraints(min_length=30, max_length=20000)]
    romeCode: RomeCode | None = None
    typeContrat: ContractType
    natureContrat: Annotated[str, StringConstraints(max_length=100)] | None = None
    dureeTravailLibelle: Annotated[str, StringConstraints(max_length=200)] | None = None
    experienceExige: Literal["D", "S", "E"] | None = None
    lieuTravail: FtPlace
    competences: Annotated[list[FtSkill], Field(max_length=50)] = []
    langues: Annotated[list[FtLabel], Field(max_length=10)] = []
    permis: Annotated[list[FtLabel], Field(max_length=10)] = []
    salaire: FtSalary | None = None
    nombrePostes: Annotated[SInt, Field(ge=1, le=100)] = 1
    contact: FtContact | None = None


# Candidates (advisers) ------------------------------------------------------------------------


class CandidateCreate(_Input):
    """A candidate profile as an adviser writes it: pseudonymous reference, never the NIR."""

    reference: Annotated[str, StringConstraints(min_length=1, max_length=64)] = Field(
        description="Référence pseudonyme propre à la structure (jamais le NIR)")
    referent_adviser_id: JUUID | None = Field(default=None, description="Conseiller référent (de la structure)")
    commune_insee: InseeCode = Field(description="Commune de résidence")
    lat: Annotated[SFloat, Field(ge=41, le=51.5)] | None = Field(default=None, description="Point d'adresse")
    lon: Annotated[SFloat, Field(ge=-5.5, le=10)] | None = None
    target_rome_codes: Annotated[list[RomeCode], Field(max_length=10)] = []
    target_appellations: Annotated[list[Annotated[SInt, Field(ge=1, le=999999)]], Field(max_length=20)] = []
    skills: Annotated[list[SkillIn], Field(max_length=50)] = []
    experience_months: Annotated[SInt, Field(ge=0, le=600)] | None = None
    education_level: Annotated[SInt, Field(ge=1, le=8)] | None = None
    languages: Annotated[list[LanguageIn], Field(max_length=10)] = []
    licences: Annotated[list[Licence], Field(max_length=10)] = []
    has_vehicle: SBool = False
    max_commute_km: Annotated[SFloat, Field(ge=0.1, le=1000)] | None = None
    max_commute_minutes: Annotated[SInt, Field(ge=1, le=300)] | None = None
    transport_mode: TransportMode | None = None
    unavailable_schedules: Annotated[list[Schedule], Field(max_length=5)] = Field(
        default=[], description="Horaires impossibles (garde d'enfants…) : early, late, night, weekend, split")
    part_time_only: SBool = False
    desired_contracts: Annotated[list[ContractType], Field(max_length=14)] = []
    desired_hours_min: Annotated[SFloat, Field(ge=1, le=60)] | None = None
    desired_hours_max: Annotated[SFloat, Field(ge=1, le=60)] | None = None
    available_from: JDate | None = None
    eligibility: Annotated[list[Eligibility], Field(max_length=11)] = []
    birth_year: Annotated[SInt, Field(ge=1930, le=2020)] | None = None
    summary: Annotated[str, StringConstraints(max_length=4000)] | None = None
    consent: SBool = Field(description="Le candidat a consenti au traitement de son profil")

    @field_validator("reference")
    @classmethod
    def _not_a_nir(cls, value: str) -> str:
        if _NIR.match(value.replace(" ", "")):
            raise ValueError("n'utilisez jamais le NIR : choisissez une référence pseudonyme")
        return value

    @model_validator(mode="after")
    def _coherent(self) -> CandidateCreate:
        _both_or_neither(self.lat, self.lon)
        if not self.consent:
            raise ValueError("le consentement du candidat est requis")
        if (self.desired_hours_min is not None and self.desired_hours_max is not None
                and self.desired_hours_min > self.desired_hours_max):  # fmt: skip
            raise ValueError("les heures minimales dépassent les heures maximales")
        return self


CandidatePatch = _patch_model("CandidatePatch", CandidateCreate,
                              "Partial change of a candidate: only the fields given change.")  # fmt: skip


class CandidatePublic(BaseModel):
    """A candidate profile as the adviser's structure sees it."""

    id: uuid.UUID
    structure_id: uuid.UUID
    status: Literal["active", "closed"]
    qpv_code: str | None = Field(description="QPV de résidence, calculé depuis le point d'adresse")
    embedded: bool
    consent_given_at: datetime | None
    last_activity_at: datetime
    retention_flagged_at: datetime | None
    created_at: datetime
    updated_at: datetime
    profile: CandidateCreate


class CandidatePage(BaseModel):
    """A page of candidates."""

    items: list[CandidatePublic]
    total: int
    limit: int
    offset: int


class AuditEntryPublic(BaseModel):
    """One audit entry: who did what to which object, when."""

    at: datetime
    actor_kind: str
    actor_id: str
    action: str
    object_kind: str
    object_id: str | None
    details: dict[str, Any]


class AuditPage(BaseModel):
    """A page of audit entries, newest first."""

    items: list[AuditEntryPublic]
    limit: int
    offset: int


class CandidateExport(BaseModel):
    """Everything held on a candidate (GDPR right of access)."""

    candidate: CandidatePublic
    embedding_model: str | None
    embedding: list[float] | None
    match_requests: list[dict[str, Any]]
    match_items: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    audit: list[AuditEntryPublic]


class ErasurePublic(BaseModel):
    """The result of an erasure: the pseudonym kept in anonymised match logs."""

    erased: bool
    pseudonym: str


class AdviserPublic(BaseModel):
    """The calling adviser."""

    id: uuid.UUID
    structure_id: uuid.UUID
    role: Literal["adviser", "structure_admin", "platform_admin"]
    email: str
