"""Static checks of the deployment files: Dockerfile, docker-compose.yml and .dockerignore.

Docker is not needed: the files are parsed (PyYAML, tomllib, a small Dockerfile reader) and each rule
is a checker function returning a list of problems. The real files must give none; each checker is
also run on a broken copy to show that it can fail.
"""

from __future__ import annotations

import copy
import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERIGNORE = ROOT / ".dockerignore"
PYPROJECT = ROOT / "pyproject.toml"

TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
APP_SERVICES = ("migrate", "api", "worker")


# --------------------------------------------------------------------------- Dockerfile reading


@dataclass(frozen=True)
class Instruction:
    keyword: str  # upper case: FROM, RUN, ...
    args: str


def parse_dockerfile(text: str) -> list[list[Instruction]]:
    """Return the instructions of each build stage (split on FROM), continuation lines joined."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue  # comments may sit between continuation lines too
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        line = pending + stripped
        pending = ""
        keyword, _, args = line.partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))
    if pending:
        keyword, _, args = pending.strip().partition(" ")
        instructions.append(Instruction(keyword.upper(), args.strip()))

    stages: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction.keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def exec_form(args: str) -> list[str] | None:
    """The JSON array of an exec-form CMD/ENTRYPOINT, or None for the shell form."""
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def env_values(stage: list[Instruction]) -> dict[str, str]:
    """ENV key=value pairs of a stage (later ones win)."""
    values: dict[str, str] = {}
    for instruction in stage:
        if instruction.keyword == "ENV":
            for token in shlex.split(instruction.args):
                key, sep, value = token.partition("=")
                if sep:
                    values[key] = value
    return values


def pinned_torch_version(pyproject_text: str) -> str:
    """The version pinned with `torch==X` in pyproject.toml's dependencies."""
    dependencies = tomllib.loads(pyproject_text)["project"]["dependencies"]
    for requirement in dependencies:
        match = re.fullmatch(r"torch\s*==\s*([\w.+-]+)", requirement.split(";")[0].strip())
        if match:
            return match.group(1)
    raise AssertionError("pyproject.toml does not pin torch with ==")


def check_dockerfile_torch(text: str, torch_version: str) -> list[str]:
    """torch is installed from the CPU index at the pinned version, before the project."""
    problems: list[str] = []
    runs = [i.args for stage in parse_dockerfile(text) for i in stage if i.keyword == "RUN"]
    torch_at = project_at = None
    for position, command in enumerate(runs):
        if "pip install" not in command:
            continue
        tokens = shlex.split(command)
        if any(re.fullmatch(r"torch([=<>!~]=?.*)?", t) for t in tokens) and torch_at is None:
            torch_at = position
            if (
                f"--index-url {TORCH_CPU_INDEX}" not in command
                and f"--index-url={TORCH_CPU_INDEX}" not in command
            ):
                problems.append(f"torch is not installed with --index-url {TORCH_CPU_INDEX}")
            if f"torch=={torch_version}" not in tokens:
                problems.append(f"torch is not pinned to =={torch_version} (the pyproject.toml pin)")
        if re.search(r"pip install (?:[^&;|]*\s)?\.(?:\s|$)", command) and project_at is None:
            project_at = position
    if torch_at is None:
        problems.append("no RUN installs torch")
    if project_at is None:
        problems.append("no RUN installs the project with `pip install .`")
    if torch_at is not None and project_at is not None and torch_at > project_at:
        problems.append("torch must be installed before the project, or pip pulls the CUDA build")
    return problems


def check_dockerfile_runtime(text: str) -> list[str]:
    """The final stage: slim base, non-root USER, maillage CMD, /healthz probe, expected ENV."""
    problems: list[str] = []
    stages = parse_dockerfile(text)
    if len(stages) < 2:
        problems.append("the Dockerfile is not multi-stage")
    if not stages:
        return [*problems, "no FROM"]
    for stage in stages:
        base, *alias = stage[0].args.split()
        # Only the front-end stage may use node; it must not be the image that runs.
        if base == "node:22-slim" and alias[-1:] == ["web"] and stage is not stages[-1]:
            continue
        if base != "python:3.11-slim":
            problems.append(f"stage base is {base}, expected python:3.11-slim")
    final = stages[-1]
    users = [i.args for i in final if i.keyword == "USER"]
    if not users:
        problems.append("the final stage has no USER line: it would run as root")
    elif users[-1].split(":")[0] in {"root", "0"}:
        problems.append(f"the final stage runs as {users[-1]}")

    cmds = [i.args for i in final if i.keyword == "CMD"]
    cmd = exec_form(cmds[-1]) if cmds else None
    if cmd is None:
        problems.append("the final stage needs an exec-form CMD")
    elif cmd[:2] != ["maillage", "serve"] or "0.0.0.0" not in cmd or "8000" not in cmd:
        problems.append(f"CMD should be `maillage serve --host 0.0.0.0 --port 8000`, got {cmd}")
    if any(i.keyword == "ENTRYPOINT" for i in final):
        problems.append("an ENTRYPOINT would wrap the `maillage` commands given by docker-compose.yml")

    healthchecks = [i.args for i in final if i.keyword == "HEALTHCHECK"]
    if not healthchecks or "/healthz" not in healthchecks[-1]:
        problems.append("no HEALTHCHECK probing /healthz")
    elif re.search(r"\b(curl|wget)\b", healthchecks[-1]):
        problems.append("the HEALTHCHECK uses curl/wget, which python:3.11-slim does not have")
    if not any(i.keyword == "EXPOSE" and "8000" in i.args.split() for i in final):
        problems.append("port 8000 is not EXPOSEd")

    env = env_values(final)
    expected = {
        "MAILLAGE_HOME": "/var/lib/maillage",
        "MAILLAGE_REFERENCE_DATA_DIR": "/data/referentiels",
        "HF_HUB_OFFLINE": "1",
    }
    for key, value in expected.items():
        if env.get(key) != value:
            problems.append(f"final stage ENV {key}={env.get(key)!r}, expected {value!r}")

    all_runs = [i.args for stage in stages for i in stage if i.keyword == "RUN"]
    if not any("maillage embedder install" in run for run in all_runs):
        problems.append("the offline embedding model is not built (`maillage embedder install`)")
    return problems


# --------------------------------------------------------------------------- compose reading


def load_compose(text: str) -> dict:
    data = yaml.safe_load(text)
    assert isinstance(data, dict), "docker-compose.yml is not a mapping"
    return data


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _depends_on(service: dict) -> dict[str, str]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return dict.fromkeys(deps, "service_started")
    return {name: (spec or {}).get("condition", "service_started") for name, spec in deps.items()}


def _healthcheck_test(service: dict) -> str:
    check = service.get("healthcheck") or {}
    if check.get("disable"):
        return ""
    test = check.get("test") or ""
    return " ".join(test) if isinstance(test, list) else str(test)


def _project_image(compose: dict) -> tuple[str | None, str | None]:
    """(build context, image) of the api service, taken as the project's image."""
    api = compose.get("services", {}).get("api", {})
    build = api.get("build")
    context = build.get("context", ".") if isinstance(build, dict) else build
    return context, api.get("image")


def check_compose_services(compose: dict) -> list[str]:
    services = compose.get("services") or {}
    return [f"service {name!r} is missing" for name in ("db", *APP_SERVICES) if name not in services]


def check_compose_db(compose: dict) -> list[str]:
    problems: list[str] = []
    db = (compose.get("services") or {}).get("db")
    if db is None:
        return ["no db service"]
    image = str(db.get("image", ""))
    if not image.startswith("pgvector/pgvector:"):
        problems.append(f"db image {image!r} is not a pgvector/pgvector image")
    elif image.split(":", 1)[1].split("@")[0] in {"latest", "pg18", ""}:
        problems.append(f"db image {image!r} is not pinned to a pgvector release")
    named_volumes = set((compose.get("volumes") or {}).keys())
    mounts = []
    for volume in db.get("volumes") or []:
        if isinstance(volume, str):
            source, _, rest = volume.partition(":")
            mounts.append((source, rest.split(":")[0]))
        else:
            mounts.append((volume.get("source"), volume.get("target")))
    data_mounts = [(s, t) for s, t in mounts if s in named_volumes]
    if not data_mounts:
        problems.append("db data is not on a named volume declared under `volumes:`")
    elif not any(t == "/var/lib/postgresql" for _, t in data_mounts):
        problems.append("PostgreSQL 18 images need the data volume at /var/lib/postgresql")
    if "pg_isready" not in _healthcheck_test(db):
        problems.append("db has no pg_isready healthcheck")
    env = _environment(db)
    for key in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        if not env.get(key, "").startswith("${"):
            problems.append(f"db {key} is not taken from a variable")
    return problems


def check_compose_app_service(compose: dict, name: str) -> list[str]:
    """An application service: project image, DATABASE_URL on host db, ordered start-up."""
    problems: list[str] = []
    service = (compose.get("services") or {}).get(name)
    if service is None:
        return [f"no {name} service"]
    context, image = _project_image(compose)
    build = service.get("build")
    own_context = build.get("context", ".") if isinstance(build, dict) else build
    if not (
        (own_context is not None and own_context == context) or (image and service.get("image") == image)
    ):
        problems.append(f"{name} does not use the project's image (build {own_context!r}, image {image!r})")
    if own_context not in (None, "."):
        problems.append(f"{name} builds from {own_context!r}, not the project root")

    env = _environment(service)
    url = env.get("DATABASE_URL", "")
    if not url.startswith("postgresql://"):
        problems.append(f"{name} has no postgresql:// DATABASE_URL")
    else:
        # Replace ${...} before parsing so defaults containing ':' do not confuse urlsplit.
        host = urlsplit(re.sub(r"\$\{[^}]*\}", "x", url)).hostname
        if host != "db":
            problems.append(f"{name} DATABASE_URL points at {host!r}, not the db service")
    if env.get("MAILLAGE_ENV") != "prod":
        problems.append(f"{name} does not run with MAILLAGE_ENV=prod")

    deps = _depends_on(service)
    if deps.get("db") != "service_healthy":
        problems.append(f"{name} must depend on db with condition: service_healthy")
    if name != "migrate" and deps.get("migrate") != "service_completed_successfully":
        problems.append(f"{name} must depend on migrate with condition: service_completed_successfully")

    command = service.get("command")
    command = shlex.split(command) if isinstance(command, str) else list(command or [])
    if not command or command[0] != "maillage":
        problems.append(f"{name} command {command} does not use the maillage console script")

    read_only_ref = False
    for volume in service.get("volumes") or []:
        if isinstance(volume, str):
            parts = volume.split(":")
            read_only_ref |= len(parts) >= 3 and parts[1] == "/data/referentiels" and "ro" in parts[2]
        else:
            read_only_ref |= volume.get("target") == "/data/referentiels" and bool(volume.get("read_only"))
    if not read_only_ref:
        problems.append(f"{name} does not mount the reference data read-only at /data/referentiels")
    return problems


def check_compose_commands(compose: dict) -> list[str]:
    problems: list[str] = []
    expected = {"migrate": ["maillage", "db", "upgrade"], "worker": ["maillage", "worker"]}
    services = compose.get("services") or {}
    for name, command in expected.items():
        actual = (services.get(name) or {}).get("command")
        actual = shlex.split(actual) if isinstance(actual, str) else actual
        if actual != command:
            problems.append(f"{name} command is {actual}, expected {command}")
    if (services.get("migrate") or {}).get("restart") not in ("no", None, False):
        problems.append("migrate is a one-shot job and must not restart")
    worker = services.get("worker") or {}
    if _healthcheck_test(worker) and "/healthz" in _healthcheck_test(worker):
        problems.append("the worker serves no HTTP: a /healthz healthcheck would never pass")
    return problems


def check_compose_api(compose: dict) -> list[str]:
    problems: list[str] = []
    api = (compose.get("services") or {}).get("api")
    if api is None:
        return ["no api service"]
    if "/healthz" not in _healthcheck_test(api):
        problems.append("api has no healthcheck hitting /healthz")
    if re.search(r"\b(curl|wget)\b", _healthcheck_test(api)):
        problems.append("api healthcheck uses curl/wget, absent from python:3.11-slim")
    targets = []
    for port in api.get("ports") or []:
        if isinstance(port, dict):
            targets.append(str(port.get("target")))
        else:
            # "[host_ip:][published:]target[/proto]"; ${VAR:-8000} may contain ':' itself.
            plain = re.sub(r"\$\{[^}]*\}", "x", str(port))
            targets.append(plain.rsplit(":", 1)[-1].split("/")[0])
    if "8000" not in targets:
        problems.append(f"api does not publish container port 8000 (ports: {api.get('ports')})")
    if api.get("restart") != "unless-stopped":
        problems.append("api should have restart: unless-stopped")
    command = api.get("command")
    command = shlex.split(command) if isinstance(command, str) else command
    if command != ["maillage", "serve", "--host", "0.0.0.0", "--port", "8000"]:
        problems.append(f"api command is {command}")
    return problems


_VARIABLE = re.compile(r"\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def check_variable_references(text: str) -> list[str]:
    """Each ${VAR} / $VAR interpolation has a default, a required-message, or is documented in a comment.

    `$$` is Compose's escape for a literal `$` (expanded inside the container) and is skipped.
    """
    comments = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    problems: list[str] = []
    for match in _VARIABLE.finditer(text):
        if match.group(0) == "$$":
            continue
        body = match.group(1) if match.group(1) is not None else match.group(2)
        parsed = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)(.*)|(:?\?)(.+))?", body, re.S)
        if parsed is None:
            problems.append(f"unparseable variable reference {match.group(0)!r}")
            continue
        name, has_default, has_required_message = parsed.group(1), parsed.group(2), parsed.group(4)
        if has_default or has_required_message:
            continue
        if not re.search(rf"\b{re.escape(name)}\b", comments):
            problems.append(f"{match.group(0)} has no default and is not documented in a comment")
    return problems


def check_dockerignore(text: str) -> list[str]:
    patterns = {
        line.strip().rstrip("/") for line in text.splitlines() if line.strip() and not line.startswith("#")
    }
    required = {".venv", ".maillage", ".git", ".env", ".pytest_cache", ".ruff_cache"}
    problems = [f".dockerignore does not exclude {p}" for p in sorted(required - patterns)]
    if not patterns & {"__pycache__", "**/__pycache__"}:
        problems.append(".dockerignore does not exclude __pycache__")
    return problems


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def dockerfile_text() -> str:
    return DOCKERFILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture
def compose(compose_text) -> dict:
    return load_compose(compose_text)


@pytest.fixture(scope="module")
def torch_version() -> str:
    return pinned_torch_version(PYPROJECT.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the real files


def test_pyproject_pins_torch(torch_version):
    assert re.fullmatch(r"\d+\.\d+\.\d+", torch_version), torch_version


def test_dockerfile_installs_cpu_torch_with_the_pinned_version(dockerfile_text, torch_version):
    assert check_dockerfile_torch(dockerfile_text, torch_version) == []


def test_dockerfile_runtime_stage(dockerfile_text):
    assert check_dockerfile_runtime(dockerfile_text) == []


def test_compose_has_all_services(compose):
    assert check_compose_services(compose) == []


def test_compose_db(compose):
    assert check_compose_db(compose) == []


@pytest.mark.parametrize("name", APP_SERVICES)
def test_compose_app_services(compose, name):
    assert check_compose_app_service(compose, name) == []


def test_compose_commands(compose):
    assert check_compose_commands(compose) == []


def test_compose_api(compose):
    assert check_compose_api(compose) == []


def test_compose_variables_have_defaults_or_docs(compose_text):
    assert check_variable_references(compose_text) == []


def test_compose_uses_the_common_anchor(compose_text, compose):
    assert "x-maillage-common" in compose
    for name in APP_SERVICES:
        assert re.search(rf"^  {name}:\n    <<: \*maillage-common$", compose_text, re.M), name


def test_api_and_worker_share_the_environment(compose):
    api, worker = (_environment(compose["services"][n]) for n in ("api", "worker"))
    assert api["DATABASE_URL"] == worker["DATABASE_URL"]


def test_dockerignore():
    assert check_dockerignore(DOCKERIGNORE.read_text(encoding="utf-8")) == []


# --------------------------------------------------------------------------- the checkers can fail


def test_torch_check_fails_on_a_pypi_install(dockerfile_text, torch_version):
    broken = dockerfile_text.replace(f"--index-url {TORCH_CPU_INDEX} ", "")
    assert broken != dockerfile_text
    assert any("--index-url" in p for p in check_dockerfile_torch(broken, torch_version))


def test_torch_check_fails_on_a_version_mismatch(dockerfile_text, torch_version):
    assert check_dockerfile_torch(dockerfile_text, "0.0.1") != []
    broken = dockerfile_text.replace(f"torch=={torch_version}", "torch")
    assert any("pinned" in p for p in check_dockerfile_torch(broken, torch_version))


def test_torch_check_fails_when_the_project_comes_first():
    text = (
        "FROM python:3.11-slim AS b\nRUN pip install .\n"
        f"RUN pip install --index-url {TORCH_CPU_INDEX} torch==2.13.0\n"
    )
    assert any("before the project" in p for p in check_dockerfile_torch(text, "2.13.0"))


def test_pinned_torch_version_reads_pyproject():
    assert pinned_torch_version('[project]\ndependencies = ["numpy", "torch == 9.8.7"]\n') == "9.8.7"
    with pytest.raises(AssertionError):
        pinned_torch_version('[project]\ndependencies = ["torch>=2"]\n')


def test_runtime_check_fails_without_user_or_with_root(dockerfile_text):
    no_user = re.sub(r"^USER .*$", "", dockerfile_text, flags=re.M)
    assert any("no USER" in p for p in check_dockerfile_runtime(no_user))
    root = re.sub(r"^USER .*$", "USER root", dockerfile_text, flags=re.M)
    assert any("runs as root" in p for p in check_dockerfile_runtime(root))


def test_runtime_check_fails_on_a_non_maillage_cmd(dockerfile_text):
    broken = re.sub(
        r"^CMD .*$", 'CMD ["uvicorn", "api.app:app", "--host", "0.0.0.0"]', dockerfile_text, flags=re.M
    )
    assert any("CMD should be" in p for p in check_dockerfile_runtime(broken))
    shell_form = re.sub(
        r"^CMD .*$", "CMD maillage serve --host 0.0.0.0 --port 8000", dockerfile_text, flags=re.M
    )
    assert any("exec-form" in p for p in check_dockerfile_runtime(shell_form))


def test_runtime_check_fails_on_a_curl_healthcheck(dockerfile_text):
    lines = dockerfile_text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("HEALTHCHECK"))
    lines[start : start + 2] = ["HEALTHCHECK CMD curl -f http://127.0.0.1:8000/healthz"]
    assert any("curl" in p for p in check_dockerfile_runtime("\n".join(lines)))


def test_parse_dockerfile_joins_continuations_and_splits_stages():
    stages = parse_dockerfile(
        "# syntax=docker/dockerfile:1\nFROM a AS one\nRUN x \\\n    # note\n    && y\nFROM b\nUSER 1\n"
    )
    assert [[i.keyword for i in s] for s in stages] == [["FROM", "RUN"], ["FROM", "USER"]]
    assert stages[0][1].args == "x && y"


def test_services_check_fails_without_worker(compose):
    del compose["services"]["worker"]
    assert check_compose_services(compose) == ["service 'worker' is missing"]


def test_db_check_fails_on_plain_postgres_and_anonymous_data(compose):
    broken = copy.deepcopy(compose)
    broken["services"]["db"]["image"] = "postgres:18"
    broken["services"]["db"]["volumes"] = ["/var/lib/postgresql"]
    broken["services"]["db"].pop("healthcheck")
    problems = check_compose_db(broken)
    assert any("pgvector" in p for p in problems)
    assert any("named volume" in p for p in problems)
    assert any("pg_isready" in p for p in problems)
    compose["services"]["db"]["image"] = "pgvector/pgvector:pg18"
    assert any("not pinned" in p for p in check_compose_db(compose))


def test_db_check_fails_on_the_pre_18_data_path(compose):
    compose["services"]["db"]["volumes"] = ["pgdata:/var/lib/postgresql/data"]
    assert any("/var/lib/postgresql" in p for p in check_compose_db(compose))


def test_app_check_fails_on_wrong_host_and_conditions(compose):
    api = compose["services"]["api"]
    api["environment"] = {**api["environment"], "DATABASE_URL": "postgresql://u:p@localhost:5432/maillage"}
    api["depends_on"] = {"db": {"condition": "service_started"}, "migrate": {"condition": "service_started"}}
    problems = check_compose_app_service(compose, "api")
    assert any("not the db service" in p for p in problems)
    assert any("service_healthy" in p for p in problems)
    assert any("service_completed_successfully" in p for p in problems)


def test_app_check_fails_on_a_foreign_image(compose):
    worker = compose["services"]["worker"]
    worker.pop("build")
    worker["image"] = "someone/else:1"
    worker["volumes"] = []
    problems = check_compose_app_service(compose, "worker")
    assert any("project's image" in p for p in problems)
    assert any("read-only" in p for p in problems)


def test_api_check_fails_without_healthcheck_or_port(compose):
    api = compose["services"]["api"]
    api["healthcheck"] = {"disable": True}
    api["ports"] = ["9000:9000"]
    problems = check_compose_api(compose)
    assert any("/healthz" in p for p in problems)
    assert any("8000" in p for p in problems)


def test_port_parsing_accepts_variables_and_ip():
    compose = {"services": {"api": {"ports": ["127.0.0.1:${PORT:-8000}:8000/tcp"]}}}
    assert not any("port 8000" in p for p in check_compose_api(compose))


def test_commands_check_fails_on_a_restarting_migration(compose):
    compose["services"]["migrate"]["restart"] = "always"
    compose["services"]["worker"]["command"] = "maillage serve"
    problems = check_compose_commands(compose)
    assert any("one-shot" in p for p in problems)
    assert any("worker command" in p for p in problems)


def test_variable_check():
    text = (
        "# SECRET_DOC: documented here\n"
        "a: ${WITH_DEFAULT:-x}\n"
        "b: ${EMPTY_DEFAULT-}\n"
        "c: ${REQUIRED:?set REQUIRED}\n"
        "d: ${SECRET_DOC}\n"
        "e: $${INSIDE_CONTAINER}\n"
        "f: ${UNDOCUMENTED}\n"
        "g: $BARE\n"
    )
    assert check_variable_references(text) == [
        "${UNDOCUMENTED} has no default and is not documented in a comment",
        "$BARE has no default and is not documented in a comment",
    ]


def test_variable_check_fails_on_the_broken_compose_file(compose_text):
    broken = compose_text.replace("${POSTGRES_DB:-maillage}", "${MAILLAGE_UNDOCUMENTED_DB}")
    assert broken != compose_text
    assert check_variable_references(broken) != []


def test_dockerignore_check_fails():
    assert check_dockerignore(".git\n") != []
