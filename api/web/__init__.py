"""The adviser web interface: server-rendered French pages served by the API's FastAPI app.

`install(app)` mounts the pages, the theme (`static/`) and the front-end packages installed by
`make web-assets` (npm ci into `api/web/node_modules`, never committed). Without those packages the pages
still work (plain forms, no autocomplete suggestions, unstyled) and a warning says how to install them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api.web.routes import csrf_handler, not_signed_in_handler, router
from api.web.session import CsrfRejected, NotSignedIn

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent
VENDOR = {"pico": WEB_DIR / "node_modules" / "@picocss" / "pico" / "css",
          "htmx": WEB_DIR / "node_modules" / "htmx.org" / "dist"}  # fmt: skip
VENDOR_FILES = {"pico": "pico.min.css", "htmx": "htmx.min.js"}


@dataclass(frozen=True, slots=True)
class WebAssets:
    """Which front-end packages are installed (the templates link only those)."""

    pico: bool
    htmx: bool


def vendor_assets() -> WebAssets:
    """The installed front-end packages."""
    return WebAssets(**{name: (VENDOR[name] / VENDOR_FILES[name]).is_file() for name in VENDOR})


def install(app: FastAPI) -> None:
    """Mount the web pages, their static files and their error handlers on the app."""
    assets = vendor_assets()
    app.state.web_assets = assets
    for name, present in (("pico", assets.pico), ("htmx", assets.htmx)):
        if present:
            app.mount(f"/static/vendor/{name}", StaticFiles(directory=VENDOR[name]), name=f"vendor-{name}")
        else:
            logger.warning("web interface: %s is not installed (run `make web-assets`); pages work without it",
                           name)  # fmt: skip
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.add_exception_handler(NotSignedIn, not_signed_in_handler)
    app.add_exception_handler(CsrfRejected, csrf_handler)
    app.include_router(router)
