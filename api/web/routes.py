"""The adviser web pages (French, server-rendered, htmx where it helps); thin: storage and engine do the work."""

from __future__ import annotations

import csv
import io
import urllib.parse
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api.deps import Conn, EmbedderDep, ResourcesDep, SettingsDep
from api.security import request_id, token_verifier
from api.services import create_candidate, profile_of, update_candidate
from api.web import session as web_session
from api.web.forms import APPELLATION_SLOTS, FormErrors, candidate_from_form, field_of, form_values
from api.web.session import NotSignedIn, SignInError, WebSession
from matching.auth.tokens import InvalidToken, sign_local_token
from matching.domain import CONTRACT_TYPES, SCHEDULES
from matching.explanations import SCHEDULE_LABELS
from matching.matches import MAX_OFFSET, MissingLocation, OfferNotFound, candidates_for_offer, offers_for_candidate
from matching.referentiels.lookup import commune_names, rome_labels, search_appellations, search_communes
from matching.storage.advisers import find_adviser
from matching.storage.audit import Actor
from matching.storage.candidates import CandidateAccessor, CandidateFilters, CandidateNotFound
from matching.storage.feedback import (
    EVENT_LABELS,
    EVENTS_WITH_REASON,
    REASON_CODES,
    InvalidFeedback,
    MatchNotFound,
    latest_events,
    record_feedback,
)
from matching.storage.workspace import (
    adviser_by_id,
    advisers_for_dev_sign_in,
    new_offers_in_reach,
    offer_summaries,
    record_sign_in,
    shortlist_items,
)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

PAGE_SIZE = 20
NEW_OFFERS_SHOWN = 10
FIRST_VISIT_WINDOW = timedelta(days=7)
CONTRACT_LABELS = {"CDI": "CDI", "CDD": "CDD", "MIS": "Intérim", "SAI": "Saisonnier", "LIB": "Libéral",
                   "FRA": "Franchise", "DIN": "CDI intérimaire", "TTI": "Travail temporaire d'insertion",
                   "DDI": "CDD d'insertion", "APPRENTISSAGE": "Apprentissage",
                   "PROFESSIONNALISATION": "Contrat de professionnalisation", "STAGE": "Stage",
                   "IAE": "Insertion par l'activité économique", "AUTRE": "Autre"}  # fmt: skip
ELIGIBILITY_LABELS = {"RSA": "Bénéficiaire du RSA", "ASS": "Allocation de solidarité spécifique",
                      "AAH": "Allocation aux adultes handicapés", "DELD": "Demandeur d'emploi de longue durée",
                      "DETLD": "Demandeur d'emploi de très longue durée", "RQTH": "RQTH",
                      "jeune": "Jeune de moins de 26 ans", "senior": "Senior", "QPV": "Résident QPV",
                      "IAE": "Éligible IAE", "refugie": "Réfugié"}  # fmt: skip
TRANSPORT_LABELS = {"walk": "À pied", "bike": "Vélo", "public_transport": "Transports en commun", "car": "Voiture",
                    "two_wheeler": "Deux-roues motorisé"}  # fmt: skip
EDUCATION_LABELS = {1: "Sans diplôme", 2: "Fin de scolarité obligatoire", 3: "CAP, BEP", 4: "Baccalauréat",
                    5: "Bac + 2", 6: "Licence, bac + 3", 7: "Master, bac + 5", 8: "Doctorat"}  # fmt: skip
LICENCES = ("AM", "A", "B", "BE", "C", "CE", "D")
FIELD_LABELS = {"reference": "Référence", "commune": "Commune", "metier_1": "Métier recherché 1",
                "metier_2": "Métier recherché 2", "metier_3": "Métier recherché 3", "skills": "Compétences",
                "languages": "Langues", "experience_months": "Expérience", "education_level": "Niveau de diplôme",
                "desired_contracts": "Contrats souhaités", "max_commute_km": "Distance maximale",
                "transport_mode": "Moyen de transport", "licences": "Permis",
                "unavailable_schedules": "Horaires impossibles", "desired_hours_min": "Heures minimum",
                "desired_hours_max": "Heures maximum", "available_from": "Disponibilité",
                "eligibility": "Éligibilités", "birth_year": "Année de naissance", "summary": "Résumé",
                "consent": "Consentement"}  # fmt: skip
STATUS_LABELS = {"met": "Rempli", "not_met": "Non rempli", "unknown": "Inconnu"}
ROLE_LABELS = {"adviser": "conseiller", "structure_admin": "administrateur de structure",
               "platform_admin": "administrateur de la plateforme"}  # fmt: skip

templates.env.globals.update(
    CONTRACT_LABELS=CONTRACT_LABELS, CONTRACT_TYPES=CONTRACT_TYPES, SCHEDULES=SCHEDULES,
    SCHEDULE_LABELS=SCHEDULE_LABELS, ELIGIBILITY_LABELS=ELIGIBILITY_LABELS, TRANSPORT_LABELS=TRANSPORT_LABELS,
    EDUCATION_LABELS=EDUCATION_LABELS, LICENCES=LICENCES, STATUS_LABELS=STATUS_LABELS, EVENT_LABELS=EVENT_LABELS,
    REASON_CODES=REASON_CODES, EVENTS_WITH_REASON=EVENTS_WITH_REASON, ROLE_LABELS=ROLE_LABELS,
    APPELLATION_SLOTS=APPELLATION_SLOTS, FIELD_LABELS=FIELD_LABELS,
)  # fmt: skip


def _date_fr(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%d/%m/%Y %H:%M") + " UTC"


def _number_fr(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:.{digits}f}".replace(".", ",")


templates.env.filters.update(date_fr=_date_fr, number_fr=_number_fr)


# Session dependencies -----------------------------------------------------------------------


def web_session_of(request: Request, conn: Conn, settings: SettingsDep) -> WebSession:
    """The signed-in adviser of a page request (NotSignedIn sends them to the sign-in page)."""
    claims = web_session.read_session(request, settings)
    try:
        adviser = adviser_by_id(conn, uuid.UUID(claims["sub"]))
    except ValueError:
        adviser = None
    if adviser is None:
        raise NotSignedIn
    previous = datetime.fromisoformat(claims["prev"]) if claims.get("prev") else None
    return WebSession(adviser=adviser, csrf=claims["csrf"], previous_visit=previous)


SessionDep = Annotated[WebSession, Depends(web_session_of)]


def accessor_of(web: SessionDep, conn: Conn, request: Request) -> CandidateAccessor:
    """The candidate accessor of the signed-in adviser, scoped to their structure."""
    actor = Actor(kind="adviser", id=str(web.adviser.id), request_id=request_id(request))
    return CandidateAccessor(conn, actor, None if web.adviser.platform_scope else web.adviser.structure_id)


AccessorDep = Annotated[CandidateAccessor, Depends(accessor_of)]


def _page(request: Request, name: str, context: dict[str, Any], web: WebSession | None = None,
          status_code: int = 200) -> HTMLResponse:  # fmt: skip
    assets = request.app.state.web_assets
    base = {"web": web, "assets": assets, "path": request.url.path}
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)


def _not_found(request: Request, web: WebSession, message: str) -> HTMLResponse:
    return _page(request, "erreur.html", {"title": "Introuvable", "message": message}, web, status_code=404)


# Sign-in --------------------------------------------------------------------------------------


@router.get("/", response_class=RedirectResponse)
def home() -> RedirectResponse:
    """The caseload is the home page."""
    return RedirectResponse("/portefeuille", status_code=303)


@router.get("/connexion", response_class=HTMLResponse)
def sign_in_page(request: Request, conn: Conn, settings: SettingsDep,
                 suite: Annotated[str | None, Query(max_length=500)] = None) -> HTMLResponse:  # fmt: skip
    """The sign-in page: the identity provider, and in development a choice of adviser."""
    dev_accounts = advisers_for_dev_sign_in(conn) if settings.env != "prod" else []
    return _page(request, "connexion.html", {
        "title": "Connexion", "next": web_session.safe_next(suite), "dev": settings.env != "prod",
        "dev_accounts": dev_accounts, "oidc_configured": bool(settings.oidc_issuer and settings.oidc_redirect_url),
    })  # fmt: skip


def _signed_in(conn, settings: SettingsDep, adviser_id: uuid.UUID, next_path: str) -> RedirectResponse:
    previous = record_sign_in(conn, adviser_id)
    response = RedirectResponse(web_session.safe_next(next_path), status_code=303)
    web_session.open_session(response, settings, adviser_id, previous)
    return response


@router.post("/connexion/dev", response_class=RedirectResponse)
async def dev_sign_in(request: Request, conn: Conn, settings: SettingsDep, resources: ResourcesDep) -> Response:
    """Development only: sign in as an adviser through a local token, checked like a provider's."""
    if settings.env == "prod":
        raise HTTPException(404)
    web_session.check_origin(request)
    form = await request.form()
    try:
        chosen = uuid.UUID(str(form.get("adviser_id", "")))
    except ValueError:
        chosen = None
    adviser = adviser_by_id(conn, chosen) if chosen else None
    if adviser is None:
        return _page(request, "connexion.html", {"title": "Connexion", "dev": True, "next": "/portefeuille",
                                                 "dev_accounts": advisers_for_dev_sign_in(conn),
                                                 "error": "Choisissez un compte de conseiller."},
                     status_code=422)  # fmt: skip
    # The same path as production: a signed identity token, verified, then the adviser found by its subject.
    subject = f"local:{adviser.email}"
    verifier = token_verifier(resources)
    try:
        claims = verifier.verify(sign_local_token(settings, subject, adviser.email))
    except InvalidToken as exc:  # pragma: no cover - the local issuer signs what it verifies
        raise HTTPException(500, str(exc)) from None
    found = find_adviser(conn, claims.subject, claims.email)
    if found is None or found.id != adviser.id:
        return _page(request, "connexion.html", {"title": "Connexion", "dev": True, "next": "/portefeuille",
                                                 "dev_accounts": advisers_for_dev_sign_in(conn),
                                                 "error": "Ce compte est lié à une autre identité : connexion "
                                                          "locale impossible."}, status_code=403)  # fmt: skip
    return _signed_in(conn, settings, adviser.id, str(form.get("suite", "")))


@router.get("/connexion/oidc")
def oidc_start(request: Request, settings: SettingsDep,
               suite: Annotated[str | None, Query(max_length=500)] = None) -> Response:  # fmt: skip
    """Send the adviser to the identity provider (authorization-code flow)."""
    try:
        return web_session.start_oidc(lambda url: RedirectResponse(url, status_code=303), settings, suite or "")
    except SignInError as exc:
        return _page(request, "erreur.html", {"title": "Connexion impossible", "message": str(exc)}, status_code=503)


@router.get("/connexion/oidc/retour")
def oidc_callback(request: Request, conn: Conn, settings: SettingsDep, resources: ResourcesDep,
                  code: Annotated[str, Query(max_length=2000)] = "",
                  state: Annotated[str, Query(max_length=500)] = "") -> Response:  # fmt: skip
    """The provider's answer: verify the ID token, find the adviser, open the session."""
    verifier = token_verifier(resources)
    try:
        if not code or not state:
            raise SignInError("Réponse du fournisseur d'identité incomplète : recommencez.")
        claims, next_path = web_session.finish_oidc(request, settings, verifier, code, state)
    except SignInError as exc:
        return _page(request, "erreur.html", {"title": "Connexion impossible", "message": str(exc)}, status_code=400)
    adviser = find_adviser(conn, claims.subject, claims.email)
    if adviser is None:
        return _page(request, "erreur.html", {"title": "Accès refusé",
                                              "message": "Aucun compte conseiller actif pour cette identité. "
                                                         "Demandez à l'administrateur de votre structure."},
                     status_code=403)  # fmt: skip
    response = _signed_in(conn, settings, adviser.id, next_path)
    response.delete_cookie(web_session.OIDC_COOKIE, path="/")
    return response


@router.post("/deconnexion")
async def sign_out(request: Request, web: SessionDep) -> RedirectResponse:
    """Close the session."""
    form = await request.form()
    web_session.check_csrf(request, web, str(form.get("csrf") or ""))
    response = RedirectResponse("/connexion", status_code=303)
    web_session.close_session(response)
    return response


# Caseload and candidate forms -------------------------------------------------------------------


@router.get("/portefeuille", response_class=HTMLResponse)
def caseload(request: Request, web: SessionDep, accessor: AccessorDep, conn: Conn,
             recherche: Annotated[str, Query(max_length=64)] = "",
             statut: Annotated[str, Query(pattern="^(active|closed|tous)?$")] = "active",
             page: Annotated[int, Query(ge=1, le=1000)] = 1) -> HTMLResponse:  # fmt: skip
    """The structure's candidates, searchable by reference."""
    prefix = recherche.strip() or None
    filters = CandidateFilters(status=None if statut in ("tous", "") else statut, reference_prefix=prefix)
    rows, total = accessor.list(filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    context = {"title": "Mon portefeuille", "rows": rows, "total": total, "recherche": recherche, "statut": statut,
               "page": page, "pages": max(1, -(-total // PAGE_SIZE)),
               "commune_names": commune_names(conn, (r["commune_insee"] for r in rows)),
               "rome_labels": rome_labels(conn, (c for r in rows for c in r["target_rome_codes"]))}  # fmt: skip
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "resultats":
        return _page(request, "_candidats.html", context, web)
    return _page(request, "portefeuille.html", context, web)


def _form_page(request: Request, web: WebSession, values: dict[str, Any], errors: dict[str, str],
               candidate: dict | None, status_code: int = 200) -> HTMLResponse:  # fmt: skip
    title = f"Modifier le candidat {candidate['reference']}" if candidate else "Nouveau candidat"
    return _page(request, "candidat_form.html", {"title": title, "values": values, "errors": errors,
                                                 "candidate": candidate}, web, status_code)  # fmt: skip


def _api_errors(exc: HTTPException) -> dict[str, str]:
    if isinstance(exc.detail, list):
        errors: dict[str, str] = {}
        for error in exc.detail:
            message = error.get("msg", "valeur invalide")
            errors.setdefault(field_of(error.get("loc", []), message), message)
        return errors
    field = "reference" if exc.status_code == 409 and "référence" in str(exc.detail) else "_form"
    return {field: str(exc.detail)}


def _submitted(form) -> dict[str, Any]:
    values: dict[str, Any] = {k: form.get(k) for k in form}
    for name in ("desired_contracts", "unavailable_schedules", "eligibility", "licences", "rome_code"):
        values[name] = form.getlist(name)
    values["rome_codes_extra"] = form.getlist("rome_code")
    for name in ("has_vehicle", "part_time_only", "consent"):
        values[name] = form.get(name) == "oui"
    return values


@router.get("/candidats/nouveau", response_class=HTMLResponse)
def new_candidate_page(request: Request, web: SessionDep) -> HTMLResponse:
    """The empty candidate form."""
    return _form_page(request, web, {"desired_contracts": [], "unavailable_schedules": [], "eligibility": [],
                                     "licences": [], "rome_codes_extra": []}, {}, None)  # fmt: skip


@router.post("/candidats/nouveau", response_class=HTMLResponse)
async def new_candidate(request: Request, web: SessionDep, accessor: AccessorDep, conn: Conn,
                        embedder: EmbedderDep) -> Response:  # fmt: skip
    """Create a candidate with the API's validation; errors shown next to each field."""
    form = await request.form()
    web_session.check_csrf(request, web, str(form.get("csrf") or ""))
    try:
        profile = candidate_from_form(conn, form)
        candidate_id = create_candidate(accessor, embedder, profile, web.adviser.structure_id, web.adviser.id)
    except FormErrors as exc:
        return _form_page(request, web, _submitted(form), exc.errors, None, status_code=422)
    except HTTPException as exc:
        return _form_page(request, web, _submitted(form), _api_errors(exc), None, status_code=exc.status_code)
    return RedirectResponse(f"/candidats/{candidate_id}?message=cree", status_code=303)


def _candidate_or_none(accessor: CandidateAccessor, candidate_id: uuid.UUID, purpose: str = "read") -> dict | None:
    try:
        return accessor.get(candidate_id, purpose=purpose)
    except CandidateNotFound:
        return None


@router.get("/candidats/{candidate_id}", response_class=HTMLResponse)
def candidate_page(request: Request, candidate_id: uuid.UUID, web: SessionDep, accessor: AccessorDep,
                   conn: Conn, message: Annotated[str, Query(max_length=20)] = "") -> HTMLResponse:  # fmt: skip
    """A candidate's profile."""
    row = _candidate_or_none(accessor, candidate_id)
    if row is None:
        return _not_found(request, web, "Candidat introuvable dans votre structure.")
    values = form_values(conn, profile_of(row))
    return _page(request, "candidat.html", {"title": f"Candidat {row['reference']}", "candidate": row,
                                            "values": values, "message": message}, web)  # fmt: skip


@router.get("/candidats/{candidate_id}/modifier", response_class=HTMLResponse)
def edit_candidate_page(request: Request, candidate_id: uuid.UUID, web: SessionDep, accessor: AccessorDep,
                        conn: Conn) -> HTMLResponse:  # fmt: skip
    """The candidate form, filled."""
    row = _candidate_or_none(accessor, candidate_id, "read_for_update")
    if row is None:
        return _not_found(request, web, "Candidat introuvable dans votre structure.")
    return _form_page(request, web, form_values(conn, profile_of(row)), {}, row)


@router.post("/candidats/{candidate_id}/modifier", response_class=HTMLResponse)
async def edit_candidate(request: Request, candidate_id: uuid.UUID, web: SessionDep, accessor: AccessorDep,
                         conn: Conn, embedder: EmbedderDep) -> Response:  # fmt: skip
    """Save a changed profile (re-embedded when its text changed)."""
    form = await request.form()
    web_session.check_csrf(request, web, str(form.get("csrf") or ""))
    row = _candidate_or_none(accessor, candidate_id, "read_for_update")
    if row is None:
        return _not_found(request, web, "Candidat introuvable dans votre structure.")
    try:
        profile = candidate_from_form(conn, form)
        changes = profile.model_dump()
        changes["referent_adviser_id"] = row["referent_adviser_id"]
        update_candidate(accessor, embedder, candidate_id, changes)
    except FormErrors as exc:
        return _form_page(request, web, _submitted(form), exc.errors, row, status_code=422)
    except HTTPException as exc:
        return _form_page(request, web, _submitted(form), _api_errors(exc), row, status_code=exc.status_code)
    return RedirectResponse(f"/candidats/{candidate_id}?message=modifie", status_code=303)


# Autocomplete ------------------------------------------------------------------------------------


def _typed(request: Request) -> str:
    return next((v for v in request.query_params.values() if v.strip()), "")[:100]


@router.get("/autocompletion/communes", response_class=HTMLResponse)
def complete_communes(request: Request, web: SessionDep, conn: Conn) -> HTMLResponse:
    """Options of communes matching the typed name or postal code."""
    text = _typed(request)
    found = search_communes(conn, text, limit=10) if len(text.strip()) >= 2 else []
    options = [(f"{c.name} ({c.insee})", f"{c.postal_code or c.dept}") for c in found]
    return _page(request, "_options.html", {"options": options}, web)


@router.get("/autocompletion/metiers", response_class=HTMLResponse)
def complete_jobs(request: Request, web: SessionDep, conn: Conn) -> HTMLResponse:
    """Options of ROME appellations matching the typed job title."""
    text = _typed(request)
    found = search_appellations(conn, text, limit=10) if len(text.strip()) >= 2 else []
    options = [(f"{a.label} ({a.code_ogr})", f"{a.code_rome} {a.rome_label}") for a in found]
    return _page(request, "_options.html", {"options": options}, web)


# Matches -----------------------------------------------------------------------------------------


@router.get("/candidats/{candidate_id}/offres", response_class=HTMLResponse)
def candidate_offers(
    request: Request, candidate_id: uuid.UUID, web: SessionDep, accessor: AccessorDep, conn: Conn,
    embedder: EmbedderDep, settings: SettingsDep,
    rayon: Annotated[str, Query(max_length=10)] = "",
    contrat: Annotated[list[str] | None, Query()] = None,
    france: Annotated[str, Query(max_length=3)] = "",
    page: Annotated[int, Query(ge=1, le=MAX_OFFSET // PAGE_SIZE + 1)] = 1,
) -> HTMLResponse:  # fmt: skip
    """Ranked offers for a candidate, each explained, with filters and feedback buttons."""
    row = _candidate_or_none(accessor, candidate_id)
    if row is None:
        return _not_found(request, web, "Candidat introuvable dans votre structure.")
    errors: dict[str, str] = {}
    radius = None
    if rayon.strip():
        try:
            radius = float(rayon.replace(",", "."))
            if not 0 < radius <= 1000:
                raise ValueError
        except ValueError:
            errors["rayon"] = "rayon entre 1 et 1000 km"
            radius = None
    contracts = [c for c in (contrat or []) if c in CONTRACT_TYPES] or None
    result, problem = None, None
    if not errors:
        try:
            result = offers_for_candidate(
                conn, accessor, embedder, candidate_id, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                radius_km=radius, default_radius_km=settings.default_search_radius_km, contracts=contracts,
                whole_country=france == "oui",
            )  # fmt: skip
        except MissingLocation as exc:
            problem = f"Localisation impossible : {exc}."
    latest = {offer_id: entry for (_, offer_id), entry in latest_events(conn, accessor, [candidate_id]).items()}
    return _page(request, "offres.html", {
        "title": f"Offres proposées à {row['reference']}", "candidate": row, "result": result, "problem": problem,
        "errors": errors, "rayon": rayon, "contrats": contracts or [], "france": france == "oui", "page": page,
        "latest": latest, "page_size": PAGE_SIZE,
    }, web)  # fmt: skip


@router.post("/suivi/{match_id}", response_class=HTMLResponse)
async def feedback(request: Request, match_id: uuid.UUID, web: SessionDep, accessor: AccessorDep,
                   conn: Conn) -> Response:  # fmt: skip
    """Record what happened to a proposal; answers the updated feedback block (htmx) or goes back."""
    form = await request.form()
    web_session.check_csrf(request, web, str(form.get("csrf") or ""))
    event = str(form.get("event") or "")
    reason = str(form.get("reason_code") or "") or None
    if event not in EVENTS_WITH_REASON:
        reason = None
    comment = str(form.get("comment") or "").strip() or None
    error, entry, status_code = None, None, 200
    try:
        entry = record_feedback(conn, accessor, match_id, event, reason_code=reason, comment=comment)
    except MatchNotFound:
        return _not_found(request, web, "Mise en relation introuvable pour votre structure.")
    except InvalidFeedback as exc:
        error, status_code = f"{exc.message}", 422
    if not request.headers.get("hx-request"):
        back = web_session.safe_next(str(form.get("retour") or ""))
        if error is None:
            return RedirectResponse(back, status_code=303)
        return _page(request, "erreur.html", {"title": "Suivi non enregistré", "message": error, "back": back},
                     web, status_code=422)  # fmt: skip
    return _page(request, "_suivi.html", {"match_id": match_id, "latest_entry": entry, "error": error,
                                          "retour": str(form.get("retour") or "")}, web, status_code)  # fmt: skip


@router.get("/offres/{offer_id}/candidats", response_class=HTMLResponse)
def offer_candidates(request: Request, offer_id: int, web: SessionDep, accessor: AccessorDep, conn: Conn,
                     settings: SettingsDep) -> HTMLResponse:  # fmt: skip
    """The reverse view: candidates of the structure for an offer, ranked and explained."""
    offer = offer_summaries(conn, [offer_id]).get(offer_id)
    try:
        result = candidates_for_offer(conn, accessor, offer_id, limit=PAGE_SIZE,
                                      default_radius_km=settings.default_search_radius_km)  # fmt: skip
    except (OfferNotFound, MissingLocation):
        return _not_found(request, web, "Offre introuvable, inactive ou pas encore indexée.")
    events = latest_events(conn, accessor, [m.row["id"] for m in result.matches])
    latest = {m.row["id"]: events.get((m.row["id"], offer_id)) for m in result.matches}
    return _page(request, "offre_candidats.html", {"title": f"Candidats pour l'offre {offer['title']}",
                                                   "offer": offer, "result": result, "latest": latest},
                 web)  # fmt: skip


@router.get("/nouveautes", response_class=HTMLResponse)
def news(request: Request, web: SessionDep, accessor: AccessorDep, conn: Conn, settings: SettingsDep) -> HTMLResponse:
    """New offers since the previous visit, each with the caseload's best candidates for it."""
    since = web.previous_visit or datetime.now(UTC) - FIRST_VISIT_WINDOW
    offer_ids = new_offers_in_reach(conn, accessor.structure_id, since, settings.default_search_radius_km,
                                    limit=NEW_OFFERS_SHOWN)  # fmt: skip
    offers = offer_summaries(conn, offer_ids)
    blocks = []
    for offer_id in offer_ids:
        try:
            result = candidates_for_offer(conn, accessor, offer_id, limit=5,
                                          default_radius_km=settings.default_search_radius_km)  # fmt: skip
        except (OfferNotFound, MissingLocation):
            continue
        if result.matches:
            blocks.append({"offer": offers[offer_id], "result": result})
    return _page(request, "nouveautes.html", {"title": "Nouveautés", "since": since,
                                              "first_visit": web.previous_visit is None, "blocks": blocks},
                 web)  # fmt: skip


@router.get("/selection.csv")
def shortlist_csv(request: Request, web: SessionDep, accessor: AccessorDep, conn: Conn,
                  selection: Annotated[list[uuid.UUID] | None, Query(max_length=100)] = None) -> Response:  # fmt: skip
    """The checked matches as a CSV file (semicolons, UTF-8 with BOM, for spreadsheet software)."""
    items = shortlist_items(conn, accessor.structure_id, selection or [])
    if not items:
        return _page(request, "erreur.html", {"title": "Sélection vide",
                                              "message": "Cochez au moins une mise en relation à exporter."},
                     web, status_code=422)  # fmt: skip
    candidate_ids = list({item["candidate_id"] for item in items if item["candidate_id"] is not None})
    read = accessor.get_many(candidate_ids, "export_shortlist", columns=("reference",))
    references = {c: row["reference"] for c, row in read.items()}
    events = latest_events(conn, accessor, candidate_ids)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Rang", "Candidat", "Offre", "Entreprise", "Contrat", "Heures par semaine", "Lieu",
                     "Commune (INSEE)", "Score", "Candidater", "Dernier suivi", "Proposée le"])  # fmt: skip
    for item in items:
        candidate_id = item["candidate_id"]
        latest = events.get((candidate_id, item["offer_id"]))
        writer.writerow([
            item["rank"], references.get(candidate_id, ""), item["title"],
            item["company_name"] or "", CONTRACT_LABELS.get(item["contract_type"], item["contract_type"]),
            _number_fr(item["hours_per_week"]), item["workplace_label"] or "", item["commune_insee"] or "",
            _number_fr(item["score"], 3), item["apply_url"] or item["apply_email"] or "",
            EVENT_LABELS.get(latest.event, "") if latest else "", _date_fr(item["served_at"]),
        ])  # fmt: skip
    name = f"selection-{datetime.now(UTC):%Y%m%d-%H%M}.csv"
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


# Errors of the web pages -------------------------------------------------------------------------


async def not_signed_in_handler(request: Request, exc: Exception) -> Response:
    """Send an anonymous visitor to the sign-in page (htmx: a full-page redirect)."""
    target = "/connexion?suite=" + urllib.parse.quote(request.url.path)
    if request.headers.get("hx-request"):
        return Response(status_code=401, headers={"HX-Redirect": target})
    response = RedirectResponse(target, status_code=303)
    web_session.close_session(response)
    return response


async def csrf_handler(request: Request, exc: Exception) -> Response:
    """A form sent without the session's token, or from another site."""
    return _page(request, "erreur.html", {"title": "Requête refusée",
                                          "message": "Formulaire expiré ou envoyé depuis un autre site : "
                                                     "rechargez la page et recommencez."}, status_code=403)  # fmt: skip
