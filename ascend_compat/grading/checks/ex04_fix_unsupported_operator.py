"""Visible tests and hints of ``exercises/level1_conversion/ex04_fix_unsupported_operator.ipynb``; its model.

Questions: ``list_unsupported_ops`` (``unsupported_ops(onnx_path, soc_version)``: the check before
atc) and ``gram_pooling_rewrite`` (``GramPoolingAscend310``: :class:`GramPooling` rewritten with
operators Ascend310 supports).

The model, :class:`DigitNetGram`, puts second-order ("bilinear") pooling on DigitNet's trained
features. Its :class:`GramPooling` exports as ``Einsum`` and ``Trilu``, which the CANN 5.0.4 ONNX
operator list that the lab applies to ``Ascend310`` lacks (see
:mod:`ascend_compat.atc.onnx_op_support`), so the simulated atc refuses it with ``E19010``. The
reference modules live here, not in the notebook, so a learner who edits a copy of ``GramPooling``
in place cannot change what the tests compare with; the notebook shows their source.

A rewrite is graded by export (the graders' settings, not the learner's), the operator list,
conversion with the simulated atc for Ascend310, and numeric parity on real digit features: in
PyTorch, in onnxruntime and as an ``.om``.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import torch
from torch import nn

from ascend_compat.grading.checks._conversion import (convert_or_explain, digit_inputs, export_onnx, onnx_session,
                                                      quiet, run_om, scratch)
from ascend_compat.grading.instant import Exercise

EXERCISE = Exercise("ex04_fix_unsupported_operator")

TARGET_SOC = "Ascend310"


# ---------------------------------------------------------------------------- the exercise's model
class GramPooling(nn.Module):
    """Second-order pooling: how strongly each pair of channels fires together, upper triangle only."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels

    def forward(self, x):                                          # x: (N, C, H, W) feature maps
        n, c, h, w = x.shape
        f = x.flatten(2)                                           # (N, C, H*W)
        gram = torch.einsum("nci,ndi->ncd", f, f) / (h * w)        # (N, C, C), symmetric
        return torch.triu(gram).flatten(1)                         # keep each pair once: (N, C*C)


class DigitNetGram(nn.Module):
    """DigitNet's trained convolutions, Gram pooling of their 32 channels, a linear classifier."""

    def __init__(self, pool: nn.Module | None = None):
        super().__init__()
        from ascend_compat import zoo

        self.features = zoo.load_digitnet().features                    # trained: (N, 32, 8, 8) on digits
        self.pool = pool if pool is not None else GramPooling(32)
        self.classifier = nn.Linear(32 * 32, 10)
        generator = torch.Generator().manual_seed(0)                    # fixed weights: every run the same
        with torch.no_grad():
            self.classifier.weight.copy_(0.5 * torch.randn(10, 32 * 32, generator=generator))
            self.classifier.bias.copy_(0.1 * torch.randn(10, generator=generator))

    def forward(self, x):
        return self.classifier(self.pool(self.features(x)))


# ---------------------------------------------------------------------------- files and inputs
def operators(path: str) -> set[str]:
    import onnx

    return {node.op_type for node in onnx.load(path).graph.node}


def export_model(model: nn.Module, name: str) -> str:
    """The graders' export of a digit model: opset 17, dynamic batch, input 'input', output 'output'."""
    with quiet():
        return export_onnx(model.eval(), torch.zeros(1, 3, 32, 32), scratch(name))


@functools.lru_cache(maxsize=None)
def original_file() -> str:
    return export_model(DigitNetGram(), "digitnet_gram.onnx")


@functools.lru_cache(maxsize=None)
def digitnet_file() -> str:
    from ascend_compat import zoo

    return export_model(zoo.load_digitnet(), "digitnet.onnx")


class _LayerNormHead(nn.Module):
    """DigitNet with a LayerNorm before the classifier (the operator support lesson's model)."""

    def __init__(self):
        super().__init__()
        from ascend_compat import zoo

        base = zoo.load_digitnet()
        self.features, self.norm, self.head = base.features, nn.LayerNorm(2048), base.classifier[1:]

    def forward(self, x):
        return self.head(self.norm(self.features(x).flatten(1)))


@functools.lru_cache(maxsize=None)
def layer_norm_file() -> str:
    return export_model(_LayerNormHead(), "digitnet_ln.onnx")


@functools.lru_cache(maxsize=None)
def handmade_file() -> str:
    """A graph written with onnx.helper: two Einsum nodes, a GridSample, Relu and Transpose."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [
        helper.make_node("Einsum", ["x", "x"], ["g1"], equation="nchw,nchw->nc", name="e1"),
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Einsum", ["r", "r"], ["g2"], equation="nchw,nchw->nc", name="e2"),
        helper.make_node("Transpose", ["grid0"], ["grid"], perm=[0, 1, 2, 3], name="t"),
        helper.make_node("GridSample", ["x", "grid"], ["s"], name="sample"),
    ]
    graph = helper.make_graph(
        nodes, "handmade",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4]),
         helper.make_tensor_value_info("grid0", TensorProto.FLOAT, [1, 4, 4, 2])],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("g1", "g2", "s")])
    path = scratch("handmade.onnx")
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)
    return path


def features(n: int, block: int = 2) -> torch.Tensor:
    """Real feature maps: the trained DigitNet convolutions on n test digits, after block 1 or 2."""
    from ascend_compat import zoo

    layers = zoo.load_digitnet().features[: 3 * block]
    with torch.inference_mode():
        return layers(torch.from_numpy(digit_inputs(n)))


# ---------------------------------------------------------------------------- part 1: the check before atc
def assert_lists(unsupported_ops, path: str, soc: str, expected: list[str], what: str) -> None:
    with quiet():
        result = unsupported_ops(path, soc)
    assert isinstance(result, list), f"unsupported_ops returned a {type(result).__name__}; return a sorted list of op types"
    assert result == expected, f"for {what} on {soc}, unsupported_ops returned {result!r}; expected {expected!r}"


# ---------------------------------------------------------------------------- part 2: the rewrite
def build_rewrite(GramPoolingAscend310, channels: int):  # noqa: N803  (the learner's class)
    with quiet():
        module = GramPoolingAscend310(channels)
    assert isinstance(module, nn.Module), (
        f"GramPoolingAscend310({channels}) is a {type(module).__name__}, not a torch.nn.Module")
    return module.eval()


def assert_same_as_gram_pooling(GramPoolingAscend310, channels: int, x: torch.Tensor, what: str) -> None:  # noqa: N803
    """The rewrite computes GramPooling(channels) on x, float32 tolerances."""
    rewrite = build_rewrite(GramPoolingAscend310, channels)
    with torch.inference_mode(), quiet():
        expected, got = GramPooling(channels)(x), rewrite(x)
    assert isinstance(got, torch.Tensor) and got.shape == expected.shape, (
        f"on {what}, GramPoolingAscend310 returns shape {tuple(getattr(got, 'shape', ()))}; GramPooling returns "
        f"{tuple(expected.shape)}")
    difference = float((got - expected).abs().max())
    scale = float(expected.abs().max())
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-5 * max(scale, 1.0)), (
        f"on {what}, GramPoolingAscend310 differs from GramPooling by up to {difference:.3g} (the values go up to "
        f"{scale:.3g}): a rewrite must compute the same numbers - the same pairs, the same scale")


def export_rewritten(GramPoolingAscend310) -> tuple[str, nn.Module]:  # noqa: N803
    model = DigitNetGram(pool=build_rewrite(GramPoolingAscend310, 32)).eval()
    return export_model(model, "digitnet_gram_rewritten.onnx"), model


def assert_supported(path: str, soc: str = TARGET_SOC) -> None:
    """No operator of the exported graph is missing from the SoC's list (the atc check, by node)."""
    import onnx

    from ascend_compat.atc.onnx_op_support import supported_ops

    missing = [f"{n.name or '?'} ({n.op_type})" for n in onnx.load(path).graph.node if n.op_type not in supported_ops(soc)]
    assert not missing, (
        f"the exported model still has operators {soc} does not support: {', '.join(missing)} - look at what "
        "your forward() calls that PyTorch exports as these")


def assert_converts_and_matches(path: str, batch: int) -> None:
    """The simulated atc converts the file for Ascend310; the .om matches the original model (float16 tolerances)."""
    om_path = convert_or_explain(f"the rewritten model for {TARGET_SOC}", model=path, framework=5,
                                 output=scratch("rewritten"), soc_version=TARGET_SOC,
                                 input_shape=f"input:{batch},3,32,32")
    x = digit_inputs(batch)
    (got,) = run_om(om_path, x)
    with torch.inference_mode():
        expected = DigitNetGram()(torch.from_numpy(x)).numpy()
    assert np.allclose(got, expected, rtol=1e-2, atol=5e-2), (
        f"the converted .om's logits differ from the original model's by up to {np.abs(got - expected).max():.3g}")
    assert (got.argmax(1) == expected.argmax(1)).mean() >= 0.98, "the converted .om predicts other classes than the original"


def assert_onnx_matches(path: str, batch_sizes) -> None:
    session = onnx_session(path)
    original = DigitNetGram()
    for n in batch_sizes:
        x = digit_inputs(n)
        (got,) = session.run(None, {"input": x})
        with torch.inference_mode():
            expected = original(torch.from_numpy(x)).numpy()
        assert np.allclose(got, expected, rtol=1e-4, atol=1e-4), (
            f"at batch {n}, the rewritten model's ONNX file differs from the original model by up to "
            f"{np.abs(got - expected).max():.3g}")


# ---------------------------------------------------------------------------- visible tests
@EXERCISE.test("list_unsupported_ops")
def lists_einsum_and_trilu_for_ascend310(unsupported_ops):
    """the original model on Ascend310: ['Einsum', 'Trilu']"""
    assert_lists(unsupported_ops, original_file(), "Ascend310", ["Einsum", "Trilu"], "digitnet_gram.onnx")


@EXERCISE.test("list_unsupported_ops")
def lists_nothing_where_everything_is_supported(unsupported_ops):
    """the original model on Ascend310P3, and DigitNet on Ascend310: []"""
    assert_lists(unsupported_ops, original_file(), "Ascend310P3", [], "digitnet_gram.onnx")
    assert_lists(unsupported_ops, digitnet_file(), "Ascend310", [], "digitnet.onnx")


@EXERCISE.test("gram_pooling_rewrite")
def rewrite_computes_the_same_as_gram_pooling(GramPoolingAscend310):  # noqa: N803
    """GramPoolingAscend310(32) computes what GramPooling(32) computes on DigitNet's features of 16 digits"""
    assert_same_as_gram_pooling(GramPoolingAscend310, 32, features(16), "the features of 16 digits")


@EXERCISE.test("gram_pooling_rewrite")
def rewrite_exports_with_supported_operators_only(GramPoolingAscend310):  # noqa: N803
    """DigitNetGram with your module exports with no operator Ascend310 lacks"""
    path, _ = export_rewritten(GramPoolingAscend310)
    assert_supported(path)


@EXERCISE.test("gram_pooling_rewrite")
def rewrite_converts_for_ascend310_and_matches(GramPoolingAscend310):  # noqa: N803
    """the simulated atc converts it for Ascend310, and the .om matches the original model on 16 digits"""
    path, _ = export_rewritten(GramPoolingAscend310)
    assert_converts_and_matches(path, 16)


EXERCISE.hint(
    "list_unsupported_ops",
    "Collect the op_type of every node of onnx.load(path).graph.node, then keep those the SoC's list lacks.",
    "ascend_compat.atc.onnx_op_support.supported_ops(soc_version) is the list the simulated atc uses. "
    "Return sorted(...) of a set: each type once, in alphabetical order.",
)
EXERCISE.hint(
    "gram_pooling_rewrite",
    "Run your unsupported_ops on the original file and read the node names: which lines of GramPooling.forward "
    "become those operators?",
    "A contraction over the last axis of f with itself is a batched matrix product of f and its transpose "
    "(torch.matmul or @ export as MatMul).",
    "torch.triu on a matrix you compute in forward() still exports as Trilu. The triangle is the same for every "
    "input: build it once in __init__ and keep it as a buffer (register_buffer), then multiply.",
)
