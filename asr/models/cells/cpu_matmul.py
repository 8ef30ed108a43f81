"""The matrix products of the CPU frame loops, by oneDNN with the weight packed once, else by PyTorch's BLAS.

In: a weight ``(out, in)`` (a ``torch.nn`` layout), an optional bias and how many rows the products will have. Out:
``x @ weight.T (+ bias)``, or ``other + x @ weight.T``, for float32 ``x`` of ``(rows, in)`` on the CPU.

A recording frame loop multiplies a batch of a few rows by the same weight hundreds of times. PyTorch's CPU
matmul calls MKL, which runs AVX2 code on AMD processors; oneDNN's inner product with a weight reordered once for
the row count runs the processor's widest vectors (a 16 x 320 by 320 x 1280 product on an AVX-512 AMD EPYC,
one thread: 65 us against MKL's 150 us). Full float32 either way (oneDNN's fp32 math mode is PyTorch's, strict
unless a user lowers ``torch.set_float32_matmul_precision``); the products differ by float rounding only.
The oneDNN ops are PyTorch's own (``torch.ops.mkldnn``, what its compiler emits for CPU linear layers); where a
build lacks them, or for gradients, tensors off the CPU or other dtypes, the BLAS path runs.
"""

from __future__ import annotations

import torch
from torch import Tensor


def onednn_products_available() -> bool:
    """Whether this PyTorch build has oneDNN and its packed inner product."""
    ops = torch.ops.mkldnn
    return (
        bool(torch.backends.mkldnn.is_available())
        and hasattr(ops, "_linear_pointwise")
        and hasattr(ops, "_reorder_linear_weight")
    )


def _onednn_takes(*tensors: Tensor) -> bool:
    """Whether oneDNN's products apply to ``tensors``: float32 on the CPU, and the build has them."""
    return all(t.device.type == "cpu" and t.dtype == torch.float32 for t in tensors) and onednn_products_available()


# oneDNN's call costs about 10 us more than the BLAS's, so the smallest products stay with the BLAS: below this many
# multiply-adds (rows x inputs x outputs; 3 x 39 by 39 x 888: 12.8 us against 6.0, 3 x 296 by 296 x 888: 26 against 35).
ONEDNN_MIN_MACS = 500_000

# Packing pays below this many rows (16 x 320 by 320 x 1280: 70 us packed, 168 us plain, 210 us to pack); at 128
# rows and more oneDNN runs the plain layout as fast.
PACK_BELOW_ROWS = 128


class PackedLinear:
    """``x @ weight.T (+ bias)`` for inputs of ``rows`` rows (others work too, a little slower): the weight is
    packed once for oneDNN (for few rows, see :data:`PACK_BELOW_ROWS`), or transposed once for the BLAS path
    (``use_onednn=False``, a product too small to gain (:data:`ONEDNN_MIN_MACS`), or where oneDNN cannot take it).
    No gradients flow through it."""

    def __init__(self, weight: Tensor, bias: Tensor | None, rows: int, use_onednn: bool = True) -> None:
        weight, bias = weight.detach(), None if bias is None else bias.detach()
        self.onednn = use_onednn and max(rows, 1) * weight.numel() >= ONEDNN_MIN_MACS and _onednn_takes(weight)
        self.bias, self.out_features = bias, weight.shape[0]
        if self.onednn and rows < PACK_BELOW_ROWS:
            self.weight = torch.ops.mkldnn._reorder_linear_weight(weight.contiguous(), max(rows, 1))
        elif self.onednn:  # a product of many rows runs as fast on the plain layout; packing would cost more
            self.weight = weight.contiguous()
        else:
            self.weight = weight.T.contiguous()  # BLAS is faster on it than on a transposed view

    def __call__(self, x: Tensor) -> Tensor:
        """``x @ weight.T + bias`` as a new ``(rows, out)`` tensor."""
        if self.onednn and not x.shape[0]:  # oneDNN takes no empty product
            return x.new_zeros((0, self.out_features))
        if self.onednn:
            return torch.ops.mkldnn._linear_pointwise(x, self.weight, self.bias, "none", [], "")
        return torch.mm(x, self.weight) if self.bias is None else torch.addmm(self.bias, x, self.weight)

    def add_to(self, other: Tensor, x: Tensor) -> Tensor:
        """``other + x @ weight.T`` (+ bias) as a new tensor; ``other`` ``(rows, out)`` is left as it is."""
        if self.onednn and not x.shape[0]:
            return other.clone()
        if self.onednn:
            return torch.ops.mkldnn._linear_pointwise.binary(x, other, self.weight, self.bias, "add")
        product = torch.addmm(other, x, self.weight)
        return product if self.bias is None else product.add_(self.bias)


def product(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` of two 2-D tensors: by oneDNN (``b``'s transpose as the weight of one inner product) for float32
    on the CPU where the build has it, else by ``torch.mm``. No gradients flow through it."""
    if a.numel() and b.numel() and _onednn_takes(a, b):
        return torch.ops.mkldnn._linear_pointwise(a.contiguous(), b.T.contiguous(), None, "none", [], "")
    return torch.mm(a, b)
