"""Parsers for the ROME 4.0 CSV release of France Travail (pure: files in, dataclasses out)."""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from matching.referentiels.text import fix_doubled_apostrophes, normalize_label, normalize_text

ROME_DIR_PATTERN = re.compile(r"^rome-(v\d+)$")

# Logical name → file stem; the file is ``unix_<stem>_<version>_utf8.csv`` in ``rome-<version>/``.
ROME_FILES = {
    "grand_domaine": "grand_domaine",
    "domaine": "domaine_professionnel",
    "fiche_domaine": "cr_gd_dp",
    "fiche": "referentiel_code_rome",
    "riasec": "referentiel_code_rome_riasec",
    "appellation": "referentiel_appellation",
    "competence": "referentiel_competence",
    "savoir": "referentiel_savoir",
    "contexte": "referentiel_contexte_travail",
    "liens": "liens_rome_referentiels",
    "coherence": "coherence_item",
    "texte": "texte",
    "mobilite": "rubrique_mobilite",
    "naf": "secteur_naf",
    "fiche_naf": "arborescence_secteur_naf",
}

# code_compo_bloc / code_rubrique of unix_composition_bloc and unix_descriptif_rubrique.
_BLOCKS = {"5": "competences", "6": "contextes_travail"}
_RUBRICS = {"1": "savoir_faire", "2": "savoir_etre", "3": "savoir"}
_SKILL_KINDS = {"Savoir-faire": "savoir_faire", "Savoir-être professionnel": "savoir_etre"}
_TEXT_KINDS = {"definition", "acces_metier"}


class RomeFormatError(ValueError):
    """A ROME file does not have the expected columns or values."""


@dataclass(frozen=True, slots=True)
class RomeRelease:
    """One ROME release folder, e.g. ``rome-v460/``."""

    directory: Path
    version: str  # 'v460'

    def path(self, name: str) -> Path:
        """Path of the file of logical name ``name`` (a key of `ROME_FILES`)."""
        return self.directory / f"unix_{ROME_FILES[name]}_{self.version}_utf8.csv"

    def paths(self) -> dict[str, Path]:
        """Every file this loader reads, by logical name."""
        return {name: self.path(name) for name in ROME_FILES}


@dataclass(frozen=True, slots=True)
class GrandDomaine:
    """A top-level ROME domain (letter A–N)."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class Domaine:
    """A professional domain, e.g. A11."""

    code: str
    label: str
    grand_domaine: str


@dataclass(frozen=True, slots=True)
class Fiche:
    """A ROME job sheet (fiche métier)."""

    code_rome: str
    code_ogr: int
    code_fiche_metier: int | None
    label: str
    label_search: str
    code_rome_parent: str | None
    domaine: str
    grand_domaine: str
    emploi_cadre: bool | None
    emploi_reglemente: bool | None
    transition_eco: str | None
    transition_num: bool | None
    transition_demo: bool | None
    riasec_majeur: str | None
    riasec_mineur: str | None


@dataclass(frozen=True, slots=True)
class Appellation:
    """A job title attached to one fiche."""

    code_ogr: int
    label: str
    short_label: str
    label_normalized: str
    label_search: str
    code_rome: str
    code_rome_parent: str | None
    classification: str
    peu_usite: bool
    emploi_cadre: bool | None
    emploi_reglemente: bool | None
    transition_eco: str | None
    transition_num: bool | None
    transition_demo: bool | None


@dataclass(frozen=True, slots=True)
class Competence:
    """A skill, a knowledge item or a work context (one OGR code space)."""

    code_ogr: int
    label: str
    kind: str
    is_macro: bool
    macro_code: str | None
    macro_code_ogr: int | None
    category: str | None
    subcategory: str | None
    definition: str | None
    transition_eco: bool | None
    transition_num: bool | None
    origin: str | None


@dataclass(frozen=True, slots=True)
class FicheItem:
    """A skill, knowledge item or work context listed on a fiche."""

    code_rome: str
    code_ogr: int
    block: str
    rubric: str | None
    principal: bool
    emergent: bool


@dataclass(frozen=True, slots=True)
class FicheText:
    """The definition or the access conditions of a fiche, sentences joined by newlines."""

    code_rome: str
    kind: str
    text: str


@dataclass(frozen=True, slots=True)
class Mobilite:
    """A career move from one fiche to another, in the publisher's order."""

    code_rome: str
    code_rome_cible: str
    ordre: int


@dataclass(frozen=True, slots=True)
class NafDivision:
    """A NAF rev. 2 division ('00' for fiches found in every sector)."""

    code: str
    label: str


@dataclass(frozen=True, slots=True)
class FicheNaf:
    """A fiche found in a NAF division."""

    code_rome: str
    naf_division: str


def find_rome_release(directory: Path) -> RomeRelease | None:
    """The newest ``rome-vNNN/`` folder under ``directory``, or None."""
    releases = []
    for child in directory.glob("rome-v*") if directory.is_dir() else []:
        match = ROME_DIR_PATTERN.match(child.name)
        if match and child.is_dir():
            releases.append((int(match[1][1:]), RomeRelease(child, match[1])))
    return max(releases, key=lambda item: item[0])[1] if releases else None


def read_csv(path: Path, required: tuple[str, ...] = ()) -> Iterator[dict[str, str]]:
    """Rows of a ROME CSV file as dicts, with doubled apostrophes fixed and Latin-1 files decoded."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # unix_arborescence_secteur_naf is Latin-1 despite its _utf8 name; cp1252 is its superset.
        text = raw.decode("cp1252")
    # Apostrophes are not the CSV quote character, so the fix can run on the whole file at once.
    reader = csv.DictReader(io.StringIO(fix_doubled_apostrophes(text), newline=""), restval="")
    missing = [column for column in required if column not in (reader.fieldnames or ())]
    if missing:
        raise RomeFormatError(f"{path.name}: missing column(s) {', '.join(missing)}")
    yield from reader


def _flag(value: str) -> bool | None:
    """ROME's 'O' / 'N' / '' as True / False / None."""
    return {"O": True, "N": False}.get(value)


def _int_or_none(value: str) -> int | None:
    return int(value) if value else None


def read_grands_domaines(release: RomeRelease) -> Iterator[GrandDomaine]:
    """The grands domaines (A–N)."""
    for row in read_csv(release.path("grand_domaine"), ("code_grand_domaine", "libelle_grand_domaine")):
        yield GrandDomaine(row["code_grand_domaine"], row["libelle_grand_domaine"])


def read_domaines(release: RomeRelease) -> Iterator[Domaine]:
    """The professional domains; the grand domaine is the code's first letter."""
    for row in read_csv(
        release.path("domaine"), ("code_domaine_professionnel", "libelle_domaine_professionnel")
    ):
        code = row["code_domaine_professionnel"]
        yield Domaine(code, row["libelle_domaine_professionnel"], code[0])


def read_fiches(release: RomeRelease) -> Iterator[Fiche]:
    """The fiches, with their domain (from cr_gd_dp) and RIASEC profile."""
    domains = {
        row["code_rome"]: (row["code_domaine_professionel"], row["code_grand_domaine"])
        for row in read_csv(
            release.path("fiche_domaine"), ("code_rome", "code_grand_domaine", "code_domaine_professionel")
        )
    }
    riasec = {
        row["code_rome"]: (row["riasec_majeur"] or None, row["riasec_mineur"] or None)
        for row in read_csv(release.path("riasec"), ("code_rome", "riasec_majeur", "riasec_mineur"))
    }
    columns = (
        "code_rome",
        "code_ogr",
        "libelle_rome",
        "emploi_cadre",
        "emploi_reglemente",
        "code_rome_parent",
    )
    for row in read_csv(release.path("fiche"), columns):
        code = row["code_rome"]
        if code not in domains:
            raise RomeFormatError(f"fiche {code} has no domain in {release.path('fiche_domaine').name}")
        domaine, grand_domaine = domains[code]
        majeur, mineur = riasec.get(code, (None, None))
        yield Fiche(
            code_rome=code,
            code_ogr=int(row["code_ogr"]),
            code_fiche_metier=_int_or_none(row.get("code_fiche_metier", "")),
            label=row["libelle_rome"],
            label_search=normalize_text(row["libelle_rome"]),
            code_rome_parent=row["code_rome_parent"] or None,
            domaine=domaine,
            grand_domaine=grand_domaine,
            emploi_cadre=_flag(row["emploi_cadre"]),
            emploi_reglemente=_flag(row["emploi_reglemente"]),
            transition_eco=row.get("transition_eco") or None,
            transition_num=_flag(row.get("transition_num", "")),
            transition_demo=_flag(row.get("transition_demo", "")),
            riasec_majeur=majeur,
            riasec_mineur=mineur,
        )


def read_appellations(release: RomeRelease) -> Iterator[Appellation]:
    """The job titles (appellations), with their exact-lookup and search keys."""
    columns = (
        "code_ogr", "libelle_appellation_long", "libelle_appellation_court", "code_rome",
        "classification", "peu_usite",
    )  # fmt: skip
    for row in read_csv(release.path("appellation"), columns):
        label = row["libelle_appellation_long"]
        yield Appellation(
            code_ogr=int(row["code_ogr"]),
            label=label,
            short_label=row["libelle_appellation_court"] or label,
            label_normalized=normalize_label(label),
            label_search=normalize_text(label),
            code_rome=row["code_rome"],
            code_rome_parent=row.get("code_rome_parent") or None,
            classification=row["classification"].lower(),
            peu_usite=row["peu_usite"] == "O",
            emploi_cadre=_flag(row.get("emploi_cadre", "")),
            emploi_reglemente=_flag(row.get("emploi_reglemente", "")),
            transition_eco=row.get("transition_eco") or None,
            transition_num=_flag(row.get("transition_num", "")),
            transition_demo=_flag(row.get("transition_demo", "")),
        )


def read_competences(release: RomeRelease) -> Iterator[Competence]:
    """Skills (savoir-faire, savoir-être) and macro-skills, knowledge items (savoirs) and work contexts."""
    columns = (
        "code_ogr",
        "nature",
        "libelle_competence",
        "cat_comp",
        "code_ogr_macro_comp",
        "code_macro_comp",
    )
    for row in read_csv(release.path("competence"), columns):
        if row["cat_comp"] not in _SKILL_KINDS:
            raise RomeFormatError(f"skill {row['code_ogr']}: unknown cat_comp {row['cat_comp']!r}")
        yield Competence(
            code_ogr=int(row["code_ogr"]),
            label=row["libelle_competence"],
            kind=_SKILL_KINDS[row["cat_comp"]],
            is_macro=row["nature"] == "Macro-compétence",
            macro_code=row["code_macro_comp"] or None,
            macro_code_ogr=_int_or_none(row["code_ogr_macro_comp"]),
            category=row.get("sous_cat_comp") or None,
            subcategory=None,
            definition=row.get("definition") or None,
            transition_eco=_flag(row.get("transition_eco", "")),
            transition_num=_flag(row.get("transition_num", "")),
            origin=row.get("libelle_origine") or None,
        )
    for row in read_csv(release.path("savoir"), ("code_ogr_savoir", "libelle_savoir", "categorie_savoir")):
        yield Competence(
            code_ogr=int(row["code_ogr_savoir"]),
            label=row["libelle_savoir"],
            kind="savoir",
            is_macro=False,
            macro_code=None,
            macro_code_ogr=None,
            category=row["categorie_savoir"] or None,
            subcategory=row.get("sous_categorie_savoir") or None,
            definition=None,
            transition_eco=_flag(row.get("transition_eco", "")),
            transition_num=_flag(row.get("transition_num", "")),
            origin=None,
        )
    for row in read_csv(
        release.path("contexte"), ("code_ogr", "libelle_cont_travail", "libelle_type_cont_trav")
    ):
        yield Competence(
            code_ogr=int(row["code_ogr"]),
            label=row["libelle_cont_travail"],
            kind="contexte_travail",
            is_macro=False,
            macro_code=None,
            macro_code_ogr=None,
            category=row["libelle_type_cont_trav"] or None,
            subcategory=None,
            definition=None,
            transition_eco=None,
            transition_num=None,
            origin=None,
        )


def read_fiche_items(release: RomeRelease) -> Iterator[FicheItem]:
    """Skills, knowledge and contexts of each fiche (liens file), with the coherence file's core flags."""
    core: dict[tuple[str, int], str] = {
        (row["code_rome"], int(row["code_ogr"])): row["coeur_metier"]
        for row in read_csv(release.path("coherence"), ("code_rome", "code_ogr", "coeur_metier"))
    }
    for row in read_csv(release.path("liens"), ("code_rome", "code_compo_bloc", "code_rubrique", "code_ogr")):
        block = _BLOCKS.get(row["code_compo_bloc"])
        if block is None:  # blocks 1 and 2 repeat the fiche's own code and its appellations
            continue
        key = (row["code_rome"], int(row["code_ogr"]))
        flag = core.get(key, "")
        yield FicheItem(
            code_rome=key[0],
            code_ogr=key[1],
            block=block,
            rubric=_RUBRICS.get(row["code_rubrique"]) if block == "competences" else None,
            principal=flag == "Principale",
            emergent=flag == "Émergente",
        )


def read_texts(release: RomeRelease) -> Iterator[FicheText]:
    """Definition and access texts of each fiche, one sentence per line in the publisher's order."""
    sentences: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    columns = ("code_rome", "libelle_type_texte", "position_phrase", "libelle_texte")
    for row in read_csv(release.path("texte"), columns):
        kind = row["libelle_type_texte"]
        if kind not in _TEXT_KINDS:
            raise RomeFormatError(f"texte: unknown text kind {kind!r}")
        sentences[(row["code_rome"], kind)].append((int(row["position_phrase"] or 0), row["libelle_texte"]))
    for (code, kind), parts in sentences.items():
        yield FicheText(code, kind, "\n".join(text for _, text in sorted(parts)))


def read_mobilites(release: RomeRelease) -> Iterator[Mobilite]:
    """Career moves between fiches."""
    for row in read_csv(release.path("mobilite"), ("code_rome", "code_rome_cible", "numero_ordre")):
        yield Mobilite(row["code_rome"], row["code_rome_cible"], int(row["numero_ordre"]))


def _naf_division(code: str) -> str:
    return f"{int(code):02d}"


def read_naf_divisions(release: RomeRelease) -> Iterator[NafDivision]:
    """NAF rev. 2 divisions as labelled by ROME (labels without accents in the source)."""
    for row in read_csv(release.path("naf"), ("code_secteur_naf", "libelle_secteur_naf")):
        yield NafDivision(_naf_division(row["code_secteur_naf"]), row["libelle_secteur_naf"])


def read_fiche_naf(release: RomeRelease) -> Iterator[FicheNaf]:
    """Fiches per NAF division (the Latin-1 file)."""
    seen: set[tuple[str, str]] = set()
    for row in read_csv(release.path("fiche_naf"), ("code_secteur_naf", "code_rome")):
        key = (row["code_rome"], _naf_division(row["code_secteur_naf"]))
        if key not in seen:
            seen.add(key)
            yield FicheNaf(*key)


def read_version_note(release: RomeRelease) -> str | None:
    """The release's ``version.txt`` title line ("ROME 4.0 version 60 - 25M09"), if present."""
    note = release.directory / "version.txt"
    if not note.is_file():
        return None
    for line in note.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.lower().startswith("titre"):
            return line.split(":", 1)[-1].strip() or None
    return None
