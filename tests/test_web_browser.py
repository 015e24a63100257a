"""The adviser web interface in headless Chromium: the whole flow, with axe on every page (WCAG 2.1 A/AA).

Debian's `chromium` is driven by Playwright (`.ci/run` installs it; never `playwright install`). The app is
served by uvicorn in a thread on a free port, on a clone of the demo database.
"""

from __future__ import annotations

import csv
import io
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from api.web import vendor_assets
from matching.storage.advisers import upsert_adviser

CHROMIUM = "/usr/lib/chromium/chromium"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, without lookups of Google hosts."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium, see .ci/run)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1 , EXCLUDE localhost"]}  # fmt: skip


@pytest.fixture()
def served_app(settings, embedder, demo_database, conn):
    """The app on 127.0.0.1 (uvicorn in a thread), its base URL; stopped after the test."""
    import uvicorn

    from api.app import create_app

    assets = vendor_assets()
    if not (assets.pico and assets.htmx):
        pytest.fail("front-end packages missing: run `make web-assets` (npm ci in api/web)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(settings, embedder=embedder), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))  # fmt: skip
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the web server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _axe(page, name: str, shots: Path) -> None:
    """No serious or critical WCAG 2.1 A/AA violation on the page; a screenshot kept for review."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]})
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]  # fmt: skip
    page.screenshot(path=str(shots / f"{name}.png"))
    assert not bad, f"{name}: {bad}"


def test_adviser_flow_in_a_real_browser(served_app, page, conn, tmp_path):
    shots = Path(os.environ.get("MAILLAGE_WEB_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    structure = conn.execute("SELECT id, name FROM structures ORDER BY name LIMIT 1").fetchone()
    upsert_adviser(conn, structure["id"], "navigateur@example.org", subject="local:navigateur@example.org")
    # A demo candidate's commune and job: the new candidate then has offers around.
    model = conn.execute("""
        SELECT cm.name AS commune, c.commune_insee, a.label AS job, a.code_ogr
        FROM candidates c JOIN communes cm ON cm.insee = c.commune_insee
        JOIN rome_appellations a ON a.code_rome = c.target_rome_codes[1]
        WHERE c.structure_id = %s ORDER BY c.reference, a.peu_usite, a.code_ogr LIMIT 1""",
                         (structure["id"],)).fetchone()  # fmt: skip
    conn.commit()
    page.set_default_timeout(15000)

    # Sign in (dev) after being sent to the sign-in page.
    page.goto(f"{served_app}/portefeuille")
    expect(page).to_have_url(f"{served_app}/connexion?suite=/portefeuille")
    _axe(page, "01-connexion", shots)
    page.get_by_label("Compte de conseiller").select_option(label=f"{structure['name']} — navigateur@example.org "
                                                                  "(conseiller)")  # fmt: skip
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Mon portefeuille")).to_be_visible()
    _axe(page, "02-portefeuille", shots)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()

    # Create a candidate: the autocomplete lists come from the reference data through htmx.
    page.get_by_role("button", name="Nouveau candidat").click()
    _axe(page, "03-nouveau-candidat", shots)
    page.get_by_role("button", name="Créer le candidat").click()
    expect(page.locator(".error-summary")).to_contain_text("Référence")
    page.get_by_label("Référence pseudonyme *").fill("NAV-001")
    page.get_by_label("Commune de résidence *").press_sequentially(model["commune"][:12], delay=20)
    option = page.locator(f'#communes-liste option[value$="({model["commune_insee"]})"]')
    expect(option).to_have_count(1)
    page.get_by_label("Commune de résidence *").fill(option.get_attribute("value"))
    page.get_by_label("Métier recherché 1").press_sequentially(model["job"][:20], delay=20)
    job = page.locator(f'#metiers-liste option[value$="({model["code_ogr"]})"]')
    expect(job).to_have_count(1)
    page.get_by_label("Métier recherché 1").fill(job.get_attribute("value"))
    page.get_by_label("Distance maximale (km)").fill("40")
    page.get_by_label("CDI", exact=True).check()
    page.get_by_label("CDD", exact=True).check()
    page.get_by_label("Le candidat a consenti").check()
    page.get_by_role("button", name="Créer le candidat").click()
    expect(page.get_by_role("status")).to_have_text("Candidat créé.")
    _axe(page, "04-candidat", shots)

    # Ranked offers with explanations; feedback recorded in place and reflected.
    page.get_by_role("button", name="Voir les offres proposées").click()
    expect(page.get_by_role("heading", name="Offres proposées à NAV-001")).to_be_visible()
    matches = page.locator("li.match")
    expect(matches.first).to_be_visible()
    assert matches.count() >= 2
    matches.first.locator("summary").click()
    expect(matches.first.locator(".criterion").first).to_be_visible()
    _axe(page, "05-offres", shots)
    first, second = matches.nth(0), matches.nth(1)
    first.get_by_role("button", name="Intéressé", exact=True).click()
    expect(first.locator(".suivi-etat")).to_contain_text("Dernier suivi : Intéressé")
    second.get_by_label("Motif du refus").select_option(label="Trop loin")
    second.get_by_role("button", name="Pas intéressé").click()
    expect(second.locator(".suivi-etat")).to_contain_text("Pas intéressé (Trop loin)")
    assert [r["event"] for r in conn.execute("SELECT event FROM feedback ORDER BY id").fetchall()] == [
        "interested", "declined"]  # fmt: skip
    first_title = first.locator("h3").inner_text()

    # Shortlist export.
    first.get_by_label("Ajouter à la sélection").check()
    second.get_by_label("Ajouter à la sélection").check()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Exporter la sélection (CSV)").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert len(rows) == 3 and rows[1][1] == "NAV-001" and rows[1][2] == first_title and rows[1][10] == "Intéressé"

    # Reverse view from the first offer, then the news page.
    first.get_by_role("link", name="Autres candidats pour cette offre").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(first_title)
    expect(page.get_by_role("link", name="NAV-001")).to_be_visible()
    _axe(page, "06-candidats-offre", shots)
    page.get_by_role("link", name="Nouveautés").click()
    expect(page.get_by_role("heading", name="Nouveautés", level=1)).to_be_visible()
    _axe(page, "07-nouveautes", shots)

    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", name="Connexion", level=1)).to_be_visible()
