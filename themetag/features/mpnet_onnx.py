"""Build an ONNX graph of an MPNet encoder (all-mpnet-base-v2) from its safetensors weights.

No PyTorch anywhere: the graph is written node by node with ``onnx.helper`` and run with
onnxruntime. It follows transformers' ``MPNetModel`` (the sentence-transformers recipe then
mean-pools its last hidden state):

- **Embeddings.** Word embedding plus a learned absolute position embedding, whose ids count the
  real tokens from ``padding_idx + 1`` (computed here from the attention mask, so any pad id
  works), then LayerNorm. MPNet has no token-type embedding.
- **Relative attention bias.** One (buckets x heads) table shared by every layer, looked up by
  the T5-style bucket of ``key position - query position``: 16 buckets per direction, the first
  8 exact, the rest logarithmic up to distance 128. The buckets depend only on the sequence
  length, so they are precomputed here for every length up to ``max_positions`` and sliced in
  the graph.
- **Layers.** Post-LayerNorm BERT blocks: multi-head self-attention with the bias and the
  padding mask added to the scaled scores, then a GELU (erf) feed-forward block.

The graph takes ``input_ids`` and ``attention_mask`` (int64, batch x length) and returns
``last_hidden_state`` (float32, batch x length x hidden), as the project's encoder expects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OPSET = 17  # LayerNormalization


@dataclass(frozen=True)
class MPNetConfig:
    hidden: int = 768
    heads: int = 12
    layers: int = 12
    intermediate: int = 3072
    vocab: int = 30527
    max_positions: int = 514
    buckets: int = 32
    max_distance: int = 128
    eps: float = 1e-5
    padding_idx: int = 1

    @classmethod
    def from_json(cls, conf: dict) -> MPNetConfig:
        return cls(
            hidden=conf["hidden_size"],
            heads=conf["num_attention_heads"],
            layers=conf["num_hidden_layers"],
            intermediate=conf["intermediate_size"],
            vocab=conf["vocab_size"],
            max_positions=conf["max_position_embeddings"],
            buckets=conf.get("relative_attention_num_buckets", 32),
            eps=conf.get("layer_norm_eps", 1e-5),
            padding_idx=conf.get("pad_token_id", 1),
        )


def relative_buckets(length: int, buckets: int = 32, max_distance: int = 128) -> np.ndarray:
    """(length x length) bucket of each (query, key) pair, as transformers' MPNet computes it
    (float32 logarithm, truncated towards zero)."""
    relative = np.arange(length)[None, :] - np.arange(length)[:, None]  # key - query
    n = -relative
    half = buckets // 2
    out = (n < 0).astype(np.int64) * half
    n = np.abs(n)
    exact = half // 2
    # n < exact takes the exact bucket below; n >= 1 keeps the logarithm finite where it is not used
    scaled = np.log(np.maximum(n, 1).astype(np.float32) / np.float32(exact)) / np.float32(
        math.log(max_distance / exact)
    )
    large = exact + (scaled * np.float32(half - exact)).astype(np.int64)
    large = np.minimum(large, half - 1)
    return out + np.where(n < exact, n, large)


def load_weights(path: str | Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file

    return load_file(str(path))


def build(weights: dict[str, np.ndarray], config: MPNetConfig):
    """The ONNX model (an ``onnx.ModelProto``) of ``weights``."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes: list = []
    inits: list = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op: str, inputs: list[str], name: str, **attrs) -> str:
        nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def linear(x: str, prefix: str, out: str) -> str:
        w = const(f"{prefix}.weight.T", weights[f"{prefix}.weight"].T.copy())
        b = const(f"{prefix}.bias", weights[f"{prefix}.bias"])
        return node("Add", [node("MatMul", [x, w], f"{out}.mm"), b], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        g, b = (
            const(f"{prefix}.weight", weights[f"{prefix}.weight"]),
            const(f"{prefix}.bias", weights[f"{prefix}.bias"]),
        )
        return node("LayerNormalization", [x, g, b], out, axis=-1, epsilon=config.eps)

    h, heads = config.hidden, config.heads
    d = h // heads
    # positions: padding_idx + 1 + the index among real tokens (right padding), as transformers does
    positions = node(
        "Add",
        [
            node(
                "Mul",
                [
                    node("CumSum", ["attention_mask", const("one_axis", np.array(1, np.int64))], "pos.cum"),
                    "attention_mask",
                ],
                "pos.real",
            ),
            const("padding_idx", np.array(config.padding_idx, np.int64)),
        ],
        "pos.ids",
    )
    words = node(
        "Gather",
        [const("embeddings.word_embeddings.weight", weights["embeddings.word_embeddings.weight"]), "input_ids"],
        "emb.words",
    )
    where = node(
        "Gather",
        [const("embeddings.position_embeddings.weight", weights["embeddings.position_embeddings.weight"]), positions],
        "emb.pos",
    )
    x = layer_norm(node("Add", [words, where], "emb.sum"), "embeddings.LayerNorm", "emb.out")

    # shapes: batch, length
    shape = node("Shape", ["input_ids"], "shape")
    batch = node("Gather", [shape, const("i0", np.array(0, np.int64))], "batch")
    length = node("Gather", [shape, const("i1", np.array(1, np.int64))], "length")
    zero1 = const("zero1", np.array([0], np.int64))
    len1 = node("Unsqueeze", [length, zero1], "length1")
    # relative attention bias: (1, heads, L, L)
    table = const("buckets", relative_buckets(config.max_positions, config.buckets, config.max_distance))
    rows = node("Slice", [table, zero1, len1, zero1], "buckets.rows")
    square = node("Slice", [rows, zero1, len1, const("one1", np.array([1], np.int64))], "buckets.LxL")
    bias = node(
        "Gather",
        [const("encoder.relative_attention_bias.weight", weights["encoder.relative_attention_bias.weight"]), square],
        "bias.LLH",
    )
    bias = node("Unsqueeze", [node("Transpose", [bias], "bias.HLL", perm=[2, 0, 1]), zero1], "bias")
    # padding mask: 0 for real keys, a large negative number for padding: (B, 1, 1, L)
    maskf = node("Cast", ["attention_mask"], "mask.f", to=TensorProto.FLOAT)
    neg = node(
        "Mul",
        [
            node("Sub", [const("onef", np.array(1.0, np.float32)), maskf], "mask.inv"),
            const("neg", np.array(np.finfo(np.float32).min, np.float32)),
        ],
        "mask.neg",
    )
    neg = node("Unsqueeze", [neg, const("axes12", np.array([1, 2], np.int64))], "mask.B11L")
    add_to_scores = node("Add", [bias, neg], "scores.add")

    split_shape = node(
        "Concat",
        [node("Unsqueeze", [batch, zero1], "batch1"), len1, const("hd", np.array([heads, d], np.int64))],
        "split.shape",
        axis=0,
    )
    merge_shape = node(
        "Concat",
        [node("Unsqueeze", [batch, zero1], "batch1m"), len1, const("hid", np.array([h], np.int64))],
        "merge.shape",
        axis=0,
    )
    scale = const("scale", np.array(1.0 / math.sqrt(d), np.float32))
    sqrt2 = const("sqrt2", np.array(math.sqrt(2.0), np.float32))
    half = const("half", np.array(0.5, np.float32))
    onef = "onef"

    def heads_of(x: str, i: int, name: str, perm: list[int]) -> str:
        """Layer i's projection ``name`` of x, split into heads: (B, heads, L, d), or (B, heads, d, L)."""
        lin = linear(x, f"encoder.layer.{i}.attention.attn.{name}", f"l{i}.{name}")
        return node(
            "Transpose", [node("Reshape", [lin, split_shape], f"l{i}.{name}.split")], f"l{i}.{name}.t", perm=perm
        )

    for i in range(config.layers):
        p = f"encoder.layer.{i}"

        q, k, v = (
            heads_of(x, i, n, perm) for n, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3]))
        )
        scores = node("Mul", [node("MatMul", [q, k], f"l{i}.qk"), scale], f"l{i}.scaled")
        probs = node("Softmax", [node("Add", [scores, add_to_scores], f"l{i}.biased")], f"l{i}.probs", axis=-1)
        ctx = node("Transpose", [node("MatMul", [probs, v], f"l{i}.ctx")], f"l{i}.ctx.t", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, merge_shape], f"l{i}.ctx.m")
        attn = linear(ctx, f"{p}.attention.attn.o", f"l{i}.o")
        x = layer_norm(node("Add", [attn, x], f"l{i}.res1"), f"{p}.attention.LayerNorm", f"l{i}.ln1")
        inner = linear(x, f"{p}.intermediate.dense", f"l{i}.ff1")
        erf = node("Erf", [node("Div", [inner, sqrt2], f"l{i}.ff1.s")], f"l{i}.erf")
        gelu = node(
            "Mul", [node("Mul", [inner, half], f"l{i}.ff1.h"), node("Add", [erf, onef], f"l{i}.erf1")], f"l{i}.gelu"
        )
        out = linear(gelu, f"{p}.output.dense", f"l{i}.ff2")
        x = layer_norm(node("Add", [out, x], f"l{i}.res2"), f"{p}.output.LayerNorm", f"l{i}.ln2")
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="output"))

    graph = helper.make_graph(
        nodes,
        "mpnet",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, ["batch", "length", h])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="themes-mpnet-builder"
    )
    onnx.checker.check_model(model, full_check=False)
    return model


def quantize(model, settings: dict):
    """``model`` with its MatMul weights in 8-bit blocks (onnxruntime's MatMulNBits).

    Dynamic int8 quantization (activations too) gave cosines of 0.95-0.97 against the reference
    vectors on short texts, even with the feed-forward output layers left in float32: MPNet's
    activations have outliers. Weight-only 8-bit blocks keep each reference text at cosine >= 0.99
    (``accuracy_level`` 4 computes in int8, about twice the float32 speed on a CPU)."""
    import logging

    from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer

    logging.getLogger("onnxruntime.quantization.matmul_nbits_quantizer").setLevel(logging.WARNING)  # a line per node
    import onnx

    copy = onnx.ModelProto()
    copy.CopyFrom(model)  # the quantizer rewrites the graph it is given
    quantizer = MatMulNBitsQuantizer(
        copy,
        bits=int(settings["bits"]),
        block_size=int(settings["block_size"]),
        is_symmetric=True,
        accuracy_level=settings.get("accuracy_level"),
    )
    quantizer.process()
    return quantizer.model.model
