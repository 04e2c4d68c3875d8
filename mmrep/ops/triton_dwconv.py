"""Triton kernels for the depthwise KxK convolution (stride 1, 'same'
padding, odd K): a direct tiled forward, reused with the flipped kernel for
the input gradient, and a weight-gradient reduction.

Every kernel accumulates in float32 and reads/writes float32, bfloat16 or
float16 NCHW tensors. They run on CUDA GPUs, and on the CPU under
``TRITON_INTERPRET=1`` (for tests).
"""
import torch
import triton
import triton.language as tl

from .kernels import Kernels, memory_format


@triton.jit
def _dwconv_fwd_kernel(x_ptr, w_ptr, b_ptr, y_ptr, C, H, W, K, PAD,
                       HAS_BIAS: tl.constexpr, BLOCK_H: tl.constexpr,
                       BLOCK_W: tl.constexpr):
    # One program: one (n, c) plane, one BLOCK_H x BLOCK_W output tile.
    plane = tl.program_id(0)
    tiles_w = tl.cdiv(W, BLOCK_W)
    tile = tl.program_id(1)
    c = plane % C
    offs_h = (tile // tiles_w) * BLOCK_H + tl.arange(0, BLOCK_H)
    offs_w = (tile % tiles_w) * BLOCK_W + tl.arange(0, BLOCK_W)
    x_plane = x_ptr + plane.to(tl.int64) * H * W
    acc = tl.zeros((BLOCK_H, BLOCK_W), dtype=tl.float32)
    for i in range(0, K):
        rows = offs_h + i - PAD
        row_ok = (rows >= 0) & (rows < H)
        for j in range(0, K):
            cols = offs_w + j - PAD
            mask = row_ok[:, None] & ((cols >= 0) & (cols < W))[None, :]
            x = tl.load(x_plane + rows[:, None] * W + cols[None, :],
                        mask=mask, other=0.0)
            w = tl.load(w_ptr + c * K * K + i * K + j)
            acc += x.to(tl.float32) * w.to(tl.float32)
    if HAS_BIAS:
        acc += tl.load(b_ptr + c).to(tl.float32)
    out_mask = (offs_h < H)[:, None] & (offs_w < W)[None, :]
    y_plane = y_ptr + plane.to(tl.int64) * H * W
    tl.store(y_plane + offs_h[:, None] * W + offs_w[None, :],
             acc.to(y_ptr.dtype.element_ty), mask=out_mask)


@triton.jit
def _dwconv_wgrad_kernel(x_ptr, dy_ptr, dw_ptr, N, C, H, W, K, PAD,
                         BLOCK_J: tl.constexpr, BLOCK_W: tl.constexpr):
    # One program: channel c, kernel row i; all K columns at once.
    c = tl.program_id(0)
    i = tl.program_id(1)
    offs_j = tl.arange(0, BLOCK_J)
    j_ok = offs_j < K
    acc = tl.zeros((BLOCK_J, BLOCK_W), dtype=tl.float32)
    for n in range(0, N):
        base = (n * C + c).to(tl.int64) * H * W
        for h in range(0, H):
            row = h + i - PAD
            if (row >= 0) & (row < H):
                for w0 in range(0, W, BLOCK_W):
                    offs_w = w0 + tl.arange(0, BLOCK_W)
                    w_ok = offs_w < W
                    dy = tl.load(dy_ptr + base + h * W + offs_w, mask=w_ok,
                                 other=0.0)
                    cols = offs_w[None, :] + offs_j[:, None] - PAD
                    mask = (j_ok[:, None] & w_ok[None, :] & (cols >= 0) &
                            (cols < W))
                    x = tl.load(x_ptr + base + row * W + cols, mask=mask,
                                other=0.0)
                    acc += x.to(tl.float32) * dy.to(tl.float32)[None, :]
    tl.store(dw_ptr + c * K * K + i * K + offs_j,
             tl.sum(acc, axis=1).to(dw_ptr.dtype.element_ty), mask=j_ok)


def _blocks(h, w):
    block_w = min(64, triton.next_power_of_2(w))
    block_h = min(max(1, 1024 // block_w), triton.next_power_of_2(h))
    return block_h, block_w


def dwconv_forward(x, weight, bias=None, out=None):
    """y = depthwise_conv2d(x, weight) + bias; x (N, C, H, W), weight
    (C, 1, K, K). ``out`` (same shape and dtype as x) is written fully."""
    n, c, h, w = x.shape
    k = weight.shape[-1]
    x = x.contiguous()
    weight = weight.contiguous()
    if out is None:
        out = torch.empty_like(x, memory_format=torch.contiguous_format)
    block_h, block_w = _blocks(h, w)
    grid = (n * c, triton.cdiv(h, block_h) * triton.cdiv(w, block_w))
    _dwconv_fwd_kernel[grid](
        x, weight, bias if bias is not None else weight, out, c, h, w, k,
        k // 2, HAS_BIAS=bias is not None, BLOCK_H=block_h, BLOCK_W=block_w)
    return out


def dwconv_grad_input(grad_out, weight, out=None):
    """The input gradient: the same convolution with the kernel flipped."""
    return dwconv_forward(grad_out, weight.flip(-2, -1), out=out)


def dwconv_grad_weight(x, grad_out, kernel_size, out=None):
    """dW[c, 0, i, j] = sum over n, h, w of dy * shifted x (float32 sums)."""
    n, c, h, w = x.shape
    x = x.contiguous()
    grad_out = grad_out.contiguous()
    if out is None:
        out = torch.empty(c, 1, kernel_size, kernel_size, dtype=torch.float32,
                          device=x.device)
    _dwconv_wgrad_kernel[(c, kernel_size)](
        x, grad_out, out, n, c, h, w, kernel_size, kernel_size // 2,
        BLOCK_J=triton.next_power_of_2(kernel_size),
        BLOCK_W=min(64, triton.next_power_of_2(w)))
    return out


def _forward_in_format(x, weight):
    """The forward, in x's memory format (as F.conv2d returns it)."""
    return dwconv_forward(x, weight).contiguous(
        memory_format=memory_format(x))


TRITON = Kernels(
    _forward_in_format,
    lambda grad_out, weight: dwconv_grad_input(grad_out.contiguous(), weight),
    lambda x, grad_out, weight: dwconv_grad_weight(
        x, grad_out.contiguous(), weight.shape[-1]))
