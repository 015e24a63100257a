"""Int8 ONNX backend for BERT-architecture sentence embedders (multilingual-e5-small).

The ``onnx`` Python package is not a dependency of Maillage, so neither ``torch.onnx.export`` nor
``onnxruntime.quantization`` (both need it) are available. Instead :func:`export_onnx_int8`
writes the already-quantised encoder graph itself, straight from ``config.json`` and
``model.safetensors``, with a tiny protobuf encoder: the same graph that dynamic quantisation
produces (``DynamicQuantizeLinear`` + ``MatMulInteger`` with per-output-channel int8 weights,
int8 word-embedding table), outputting ``last_hidden_state``. Inference runs it with
onnxruntime, the folder's ``tokenizer.json`` and numpy mean pooling + L2 normalisation.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ONNX_RELATIVE_PATH = Path("onnx") / "model_int8.onnx"
_OPSET = 17
_IR_VERSION = 8
_MASK_FILL = -1.0e9

# ONNX TensorProto.DataType values
_FLOAT, _UINT8, _INT8, _INT32, _INT64 = 1, 2, 3, 6, 7
_NP_TO_ONNX = {
    np.dtype(np.float32): _FLOAT,
    np.dtype(np.uint8): _UINT8,
    np.dtype(np.int8): _INT8,
    np.dtype(np.int32): _INT32,
    np.dtype(np.int64): _INT64,
}


# ------------------------------------------------------------------------------- protobuf wire format


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _pb_int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _pb_bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _pb_str(field: int, text: str) -> bytes:
    return _pb_bytes(field, text.encode("utf-8"))


def _pb_float(field: int, value: float) -> bytes:
    return _varint(field << 3 | 5) + struct.pack("<f", value)


def _tensor_proto(name: str, array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array)
    dims = b"".join(_pb_int(1, d) for d in array.shape)
    data = array.astype(array.dtype.newbyteorder("<"), copy=False).tobytes()
    return dims + _pb_int(2, _NP_TO_ONNX[array.dtype]) + _pb_str(8, name) + _pb_bytes(9, data)


def _attribute_proto(name: str, value: object) -> bytes:
    # AttributeProto.type: FLOAT=1, INT=2, STRING=3, TENSOR=4, INTS=7
    head = _pb_str(1, name)
    if isinstance(value, bool | int):
        return head + _pb_int(20, 2) + _pb_int(3, int(value))
    if isinstance(value, float):
        return head + _pb_int(20, 1) + _pb_float(2, value)
    if isinstance(value, str):
        return head + _pb_int(20, 3) + _pb_bytes(4, value.encode("utf-8"))
    if isinstance(value, list | tuple):
        return head + _pb_int(20, 7) + b"".join(_pb_int(8, int(v)) for v in value)
    raise TypeError(f"unsupported attribute type for {name}: {type(value)!r}")


def _value_info(name: str, elem_type: int, dims: Sequence[int | str]) -> bytes:
    dim_protos = b"".join(_pb_bytes(1, _pb_str(2, d) if isinstance(d, str) else _pb_int(1, d)) for d in dims)
    tensor_type = _pb_int(1, elem_type) + _pb_bytes(2, dim_protos)
    return _pb_str(1, name) + _pb_bytes(2, _pb_bytes(1, tensor_type))


class _GraphBuilder:
    """Accumulates nodes and initializers, naming intermediate values automatically."""

    def __init__(self) -> None:
        self.nodes: list[bytes] = []
        self.initializers: list[bytes] = []
        self._counter = 0

    def const(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(_tensor_proto(name, array))
        return name

    def op(self, op_type: str, inputs: Sequence[str], n_outputs: int = 1, **attrs: object) -> list[str]:
        self._counter += 1
        outputs = [f"{op_type.lower()}_{self._counter}_{i}" for i in range(n_outputs)]
        self.emit(op_type, inputs, outputs, **attrs)
        return outputs

    def op1(self, op_type: str, inputs: Sequence[str], **attrs: object) -> str:
        return self.op(op_type, inputs, 1, **attrs)[0]

    def emit(self, op_type: str, inputs: Sequence[str], outputs: Sequence[str], **attrs: object) -> None:
        self._counter += 1
        node = b"".join(_pb_str(1, i) for i in inputs) + b"".join(_pb_str(2, o) for o in outputs)
        node += _pb_str(3, f"n{self._counter}_{op_type}") + _pb_str(4, op_type)
        node += b"".join(_pb_bytes(5, _attribute_proto(k, v)) for k, v in attrs.items())
        self.nodes.append(node)

    def model(self, inputs: list[bytes], outputs: list[bytes], metadata: dict[str, str]) -> bytes:
        graph = b"".join(_pb_bytes(1, n) for n in self.nodes) + _pb_str(2, "encoder")
        graph += b"".join(_pb_bytes(5, t) for t in self.initializers)
        graph += b"".join(_pb_bytes(11, v) for v in inputs) + b"".join(_pb_bytes(12, v) for v in outputs)
        opset = _pb_str(1, "") + _pb_int(2, _OPSET)
        props = b"".join(_pb_bytes(14, _pb_str(1, k) + _pb_str(2, v)) for k, v in metadata.items())
        return (
            _pb_int(1, _IR_VERSION)
            + _pb_str(2, "maillage")
            + _pb_str(3, "1")
            + _pb_bytes(7, graph)
            + _pb_bytes(8, opset)
            + props
        )


# ------------------------------------------------------------------------------------------ quantising


def quantize_per_channel(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 quantisation of a torch-layout [out, in] weight, one scale per output row."""
    scale = np.abs(weight).max(axis=1) / 127.0
    scale = np.where(scale > 0, scale, 1.0).astype(np.float32)
    q = np.clip(np.rint(weight / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def _qlinear(g: _GraphBuilder, x: str, weight: np.ndarray, bias: np.ndarray, prefix: str) -> str:
    """Dynamic-quantised ``x @ weight.T + bias`` (the pattern onnxruntime fuses into one kernel)."""
    q, scale = quantize_per_channel(weight)
    w = g.const(f"{prefix}.w_int8", np.ascontiguousarray(q.T))
    s = g.const(f"{prefix}.w_scale", scale)
    b = g.const(f"{prefix}.bias", bias.astype(np.float32))
    xq, xs, xz = g.op("DynamicQuantizeLinear", [x], 3)
    acc = g.op1("MatMulInteger", [xq, w, xz])
    y = g.op1("Mul", [g.op1("Cast", [acc], to=_FLOAT), g.op1("Mul", [xs, s])])
    return g.op1("Add", [y, b])


def build_int8_encoder(config: dict, weights: dict[str, np.ndarray]) -> bytes:
    """Serialise a BERT encoder (HF ``BertModel`` weights) as an int8 ONNX model."""
    if config.get("model_type") != "bert":
        raise ValueError(f"ONNX export supports BERT-architecture models only, not {config.get('model_type')!r}")
    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    head_dim = hidden // heads
    eps = float(config.get("layer_norm_eps", 1e-12))
    if config.get("hidden_act", "gelu") != "gelu":
        raise ValueError("ONNX export supports the exact (erf) GELU activation only")

    g = _GraphBuilder()
    f32 = np.float32

    def scalar(name: str, value: float) -> str:
        return g.const(name, np.array(value, dtype=f32))

    one, half, sqrt2 = scalar("one", 1.0), scalar("half", 0.5), scalar("sqrt2", math.sqrt(2.0))
    attn_scale = scalar("attn_scale", 1.0 / math.sqrt(head_dim))
    heads_shape = g.const("heads_shape", np.array([0, 0, heads, head_dim], dtype=np.int64))
    hidden_shape = g.const("hidden_shape", np.array([0, 0, hidden], dtype=np.int64))
    split_sizes = g.const("qkv_split", np.array([hidden] * 3, dtype=np.int64))

    def layer_norm(x: str, prefix: str) -> str:
        w = g.const(f"{prefix}.weight", weights[f"{prefix}.weight"])
        b = g.const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return g.op1("LayerNormalization", [x, w, b], axis=-1, epsilon=eps)

    # Embeddings: int8 word table with one scale per row, absolute positions 0..S-1 (BERT, not
    # XLM-R's padding offset) and token type 0 folded into the position table.
    word_q, word_scale = quantize_per_channel(weights["embeddings.word_embeddings.weight"])
    word = g.op1(
        "Mul",
        [
            g.op1("Cast", [g.op1("Gather", [g.const("word_int8", word_q), "input_ids"], axis=0)], to=_FLOAT),
            g.op1("Gather", [g.const("word_scale", word_scale[:, None]), "input_ids"], axis=0),
        ],
    )
    pos_table = weights["embeddings.position_embeddings.weight"] + weights["embeddings.token_type_embeddings.weight"][0]
    seq_len = g.op1("Shape", ["input_ids"], start=1, end=2)
    zero = g.const("zero_1d", np.array([0], dtype=np.int64))
    pos = g.op1("Slice", [g.const("position_table", pos_table.astype(f32)), zero, seq_len, zero])
    x = layer_norm(g.op1("Add", [word, pos]), "embeddings.LayerNorm")

    mask = g.op1("Cast", ["attention_mask"], to=_FLOAT)
    mask = g.op1("Mul", [g.op1("Sub", [one, mask]), scalar("mask_fill", _MASK_FILL)])
    mask = g.op1("Unsqueeze", [mask, g.const("axes_1_2", np.array([1, 2], dtype=np.int64))])

    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}"
        qkv_w = np.concatenate([weights[f"{p}.attention.self.{n}.weight"] for n in ("query", "key", "value")])
        qkv_b = np.concatenate([weights[f"{p}.attention.self.{n}.bias"] for n in ("query", "key", "value")])
        q, k, v = g.op("Split", [_qlinear(g, x, qkv_w, qkv_b, f"{p}.qkv"), split_sizes], 3, axis=-1)
        q = g.op1("Transpose", [g.op1("Reshape", [q, heads_shape])], perm=[0, 2, 1, 3])
        k = g.op1("Transpose", [g.op1("Reshape", [k, heads_shape])], perm=[0, 2, 3, 1])
        v = g.op1("Transpose", [g.op1("Reshape", [v, heads_shape])], perm=[0, 2, 1, 3])
        scores = g.op1("Add", [g.op1("Mul", [g.op1("MatMul", [q, k]), attn_scale]), mask])
        ctx = g.op1("MatMul", [g.op1("Softmax", [scores], axis=-1), v])
        ctx = g.op1("Reshape", [g.op1("Transpose", [ctx], perm=[0, 2, 1, 3]), hidden_shape])
        attn = _qlinear(
            g,
            ctx,
            weights[f"{p}.attention.output.dense.weight"],
            weights[f"{p}.attention.output.dense.bias"],
            f"{p}.attention.output.dense",
        )
        x = layer_norm(g.op1("Add", [x, attn]), f"{p}.attention.output.LayerNorm")
        mid = _qlinear(
            g,
            x,
            weights[f"{p}.intermediate.dense.weight"],
            weights[f"{p}.intermediate.dense.bias"],
            f"{p}.intermediate.dense",
        )
        erf = g.op1("Erf", [g.op1("Div", [mid, sqrt2])])
        mid = g.op1("Mul", [g.op1("Mul", [mid, half]), g.op1("Add", [erf, one])])
        out = _qlinear(
            g,
            mid,
            weights[f"{p}.output.dense.weight"],
            weights[f"{p}.output.dense.bias"],
            f"{p}.output.dense",
        )
        x = layer_norm(g.op1("Add", [x, out]), f"{p}.output.LayerNorm")
    g.emit("Identity", [x], ["last_hidden_state"])

    inputs = [
        _value_info("input_ids", _INT64, ["batch", "sequence"]),
        _value_info("attention_mask", _INT64, ["batch", "sequence"]),
    ]
    outputs = [_value_info("last_hidden_state", _FLOAT, ["batch", "sequence", hidden])]
    return g.model(inputs, outputs, {"quantization": "int8-dynamic-per-channel", "hidden_size": str(hidden)})


def export_onnx_int8(model_dir: Path) -> Path:
    """Write ``onnx/model_int8.onnx`` into a sentence-transformers BERT folder and return its path."""
    from safetensors.numpy import load_file

    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    weights = {
        k.removeprefix("bert."): v.astype(np.float32) for k, v in load_file(model_dir / "model.safetensors").items()
    }
    payload = build_int8_encoder(config, weights)
    target = model_dir / ONNX_RELATIVE_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".onnx.tmp")
    tmp.write_bytes(payload)
    tmp.replace(target)
    return target


# ------------------------------------------------------------------------------------------- inference


def _available_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not available on macOS / Windows
        return max(1, os.cpu_count() or 1)


class OnnxEmbedder:
    """Sentence embedder running the int8 ONNX encoder with onnxruntime; mean pooling + L2 in numpy."""

    def __init__(self, model_dir: Path, *, model_id: str, batch_size: int = 32, num_threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        onnx_path = model_dir / ONNX_RELATIVE_PATH
        if not onnx_path.is_file():
            raise FileNotFoundError(f"{onnx_path} is missing")
        self.model_id = model_id
        self.batch_size = batch_size
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        self.dim = int(config["hidden_size"])
        self.max_length = int(config.get("max_position_embeddings", 512))
        st_config = model_dir / "config_sentence_transformers.json"
        prompts = json.loads(st_config.read_text(encoding="utf-8")).get("prompts", {}) if st_config.is_file() else {}
        self.query_prompt = prompts.get("query", "query: ")
        self.passage_prompt = prompts.get("passage", "passage: ")

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self.max_length)
        self._pad_id = int(config.get("pad_token_id") or 0)

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        # onnxruntime's default thread count was seen to fall back to a single thread on 2-vCPU
        # machines (≈ 0.6x the throughput), so use every CPU this process may run on.
        options.intra_op_num_threads = num_threads or _available_cpus()
        self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed candidate-side texts with the query prompt: float32 (n, dim), L2-normalised."""
        return self._encode([self.query_prompt + t for t in texts])

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed offer-side texts with the passage prompt: float32 (n, dim), L2-normalised."""
        return self._encode([self.passage_prompt + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        # Length-sorted batches keep padding (wasted attention/matmul work) to a minimum.
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            width = max(len(encodings[i].ids) for i in idx)
            ids = np.full((len(idx), width), self._pad_id, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for row, i in enumerate(idx):
                n = len(encodings[i].ids)
                ids[row, :n] = encodings[i].ids
                mask[row, :n] = 1
            (hidden,) = self._session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
            out[idx] = pooled
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)
