"""The depthwise KxK convolution (stride 1, 'same') as matrix products.

A depthwise convolution is a sum of matrix products, which run on BLAS
(MKL/OpenBLAS on the CPU, cuBLAS on GPUs, tensor cores in bf16/fp16) far
closer to the hardware's peak than a direct large-kernel convolution.

* Row form (``'rows'``, large maps). Kernel row ``i`` acts along W as a
  banded Toeplitz matrix. W is cut into blocks of ``BW`` outputs that read
  ``L = BW + K - 1`` inputs; every block of channel ``c`` shares one
  (L x BW) band ``T[c, i][a, b] = weight[c, i, a - b]``, so
  ``y[:, c, h, block] = sum_i x[:, c, h + i - p, window] @ T[c, i]``: K
  batched GEMMs with the channels as batch. A map no wider than the block
  is one block without padding (``L = W``) when that costs less. Rows whose inputs fall in the
  padding are skipped, so small maps do no work on zeros along H.
* Dense form (``'dense'``, small maps). One (HW x HW) matrix per channel,
  ``M[c][(h, w), (h', w')] = weight[c, h - h' + p, w - w' + p]`` where that
  lies inside the kernel: one GEMM per channel, and no work on padding at
  all. Its matrix holds ``C * (HW)^2`` elements, so it only serves maps up
  to ``DENSE_MAX_ELEMENTS``.

Backward passes are hand-written: the input gradient is the same product
with the flipped kernel (rows) or the transposed matrix (dense); the weight
gradient is, per kernel row, ``window^T @ grad_out`` summed along the
band's diagonals (rows), or ``x^T @ grad_out`` folded back onto the kernel
by the adjoint of the gather that built the matrix (dense).

Precision: products run in the input dtype; float16/bfloat16 results are
summed over kernel rows in float32 and rounded once.

Extra memory per call (besides output and gradients): the row form holds
the input re-laid out as windows, ``(BW + K - 1) / BW`` times the input
(``block_width`` keeps this at or under 1.8x; one unpadded block: 1x;
times ``(H + K - 1) / H`` where zero rows pad a map much taller than K),
a float32 accumulator for low-precision inputs, one product of kernel row
i's output rows (at most the output's size), and one (C, L, BW) band at a
time. The dense form holds its
``C * (HW)^2`` matrix, which ``DENSE_MAX_ELEMENTS`` bounds.
"""
import functools

import torch
import torch.nn.functional as F

from .kernels import Kernels, memory_format

# The dense matrix must stay small: 2**25 elements are 128 MiB in float32
# (RepLKNet-31B's 14x14 stage, 512 x 196^2 = 19.7M, fits; its 7x7 stage,
# 1024 x 49^2 = 2.5M, takes 10 MiB).
DENSE_MAX_ELEMENTS = 2**25
_LOW_PRECISION = (torch.float16, torch.bfloat16)


def block_width(width, kernel_size):
    """Outputs per row block. A row costs ``blocks * BW * (BW + K - 1)``
    multiply-adds cut into blocks and ``W * W`` as one unpadded block; the
    block is the smallest multiple of 8 (at least 16) at least 1.25x its
    halo, so the windows hold at most about 1.8x the input."""
    bw = max(16, -(-(kernel_size - 1) * 5 // 32) * 8)
    blocks = -(-width // bw)
    return bw if blocks * bw * (bw + kernel_size - 1) < width**2 else width


def dense_fits(channels, height, width):
    """Whether the dense form's matrix is small enough for this map."""
    return channels * (height * width)**2 <= DENSE_MAX_ELEMENTS


def _accumulator_dtype(dtype):
    return torch.float32 if dtype in _LOW_PRECISION else dtype


# ---------------------------------------------------------------- row form
class _RowPlan:
    """How a (H, W) map with a KxK kernel is cut into row blocks."""

    def __init__(self, height, width, kernel_size):
        self.height, self.width, self.k = height, width, kernel_size
        self.pad = kernel_size // 2
        self.bw = block_width(width, kernel_size)
        self.blocks = -(-width // self.bw)
        if self.blocks == 1:  # one unpadded block: input column a, output b
            self.length, self.shift = width, self.pad
        else:  # padded windows: window column a, output b
            self.length, self.shift = self.bw + kernel_size - 1, 0
        # Zero rows above and below cost the rows that fall in the padding,
        # but let every kernel row accumulate into the whole output in place
        # (a row slice has to go through a temporary buffer): worth it
        # where the padding is a small part of the work.
        valid = sum(h1 - h0 for h0, h1, _ in map(self._rows, range(
            kernel_size)))
        self.pad_rows = height * kernel_size <= 1.25 * valid

    def _rows(self, i):
        h0 = max(0, self.pad - i)
        h1 = min(self.height, self.height + self.pad - i)
        return h0, h1, h0 + i - self.pad

    def rows(self, i):
        """Output rows [h0, h1) for kernel row i (those whose inputs exist,
        or all of them with padded rows), and the first window row read."""
        return (0, self.height, i) if self.pad_rows else self._rows(i)

    def windows(self, x):
        """x (N, C, H, W) -> (C, H', N * blocks, L): the input windows (H'
        counts the zero rows when ``pad_rows``)."""
        n, c, h, w = x.shape
        x = x.permute(1, 2, 0, 3)
        rows = (self.pad, self.pad) if self.pad_rows else (0, 0)
        if self.blocks == 1:
            x = F.pad(x, (0, 0, 0, 0) + rows) if self.pad_rows else x
            return x.contiguous()
        right = self.blocks * self.bw - w + self.pad
        x = F.pad(x, (self.pad, right, 0, 0) + rows)
        x = x.unfold(3, self.length, self.bw)  # overlapping view: copy once
        return x.reshape(c, -1, n * self.blocks, self.length).contiguous()

    def blocked(self, y):
        """y (N, C, H, W) -> (C, H, N * blocks, BW), zero-padded on the
        right: the output gradient in the layout of the row products."""
        n, c, h, w = y.shape
        y = y.permute(1, 2, 0, 3)
        if self.blocks > 1:
            y = F.pad(y, (0, self.blocks * self.bw - w))
        return y.reshape(c, h, n * self.blocks, self.bw)

    def unblocked(self, y, n, memory_format):
        """(C, H, N * blocks, BW) products of :meth:`mirrored_band`, whose
        outputs run backwards in each block -> (N, C, H, W) in
        ``memory_format``."""
        c, h = y.shape[:2]
        y = y.view(c, h, n, self.blocks, self.bw).flip(-1)
        y = y.view(c, h, n, self.blocks * self.bw)[..., :self.width]
        return y.permute(2, 0, 1, 3).contiguous(memory_format=memory_format)

    def mirrored_band(self, kernel_row):
        """kernel_row (C, K) -> the (C, L, BW) band matrices with their
        columns in reverse order. With the row zero-padded to v, the band is
        T[a, b] = v[a - b + BW - 1]; reversed columns make it the sliding
        windows of v (one strided copy): the Toeplitz band itself would need
        a flip per kernel row, the output one flip per call."""
        left = self.bw - 1 - self.shift
        right = self.length + self.bw - 1 - left - self.k
        v = F.pad(kernel_row, (left, right))
        return v.unfold(1, self.bw, 1).contiguous()

    def band_adjoint(self, grad_band):
        """(C, L, BW) -> (C, K): the sum along each of the K diagonals."""
        c = grad_band.shape[0]
        below = max(0, self.bw + self.k - 2 - self.shift - self.length + 1)
        g = F.pad(grad_band, (0, 0, self.shift, below)).contiguous()
        diag = g.as_strided((c, self.k, self.bw),
                            (g.stride(0), self.bw, self.bw + 1))
        return diag.sum(-1, dtype=torch.float32)


@functools.lru_cache(maxsize=256)
def _row_plan(height, width, kernel_size):
    return _RowPlan(height, width, kernel_size)


def _rows_product(x, weight, plan):
    """sum_i windows(x)[rows + i] @ band(weight row i), in block layout
    (outputs backwards in each block, see :meth:`_RowPlan.mirrored_band`)."""
    c, h = x.shape[1], x.shape[2]
    win = plan.windows(x)
    span = win.shape[2]
    acc = torch.zeros(c, h, span, plan.bw, dtype=_accumulator_dtype(x.dtype),
                      device=x.device)
    # products of row slices go through one reused buffer: baddbmm_ into a
    # row slice (a batch stride other than rows x cols) falls back to one
    # GEMM per channel on the CPU
    buffer = None
    for i in range(plan.k):
        h0, h1, src = plan.rows(i)
        if h0 >= h1:
            continue
        xi = win[:, src:src + h1 - h0].reshape(c, -1, plan.length)
        band = plan.mirrored_band(weight[:, 0, i])
        if h1 - h0 == h and acc.dtype == x.dtype:
            acc.view(c, -1, plan.bw).baddbmm_(xi, band)
            continue
        if buffer is None:
            buffer = x.new_empty(acc.numel())
        out = buffer[:xi.shape[0] * xi.shape[1] * plan.bw].view(
            c, -1, plan.bw)
        acc[:, h0:h1].view(c, -1, plan.bw).add_(torch.bmm(xi, band, out=out))
    return acc


def rows_grad_weight(x, grad_out, weight):
    """dW[c, i, j]: per kernel row, windows^T @ grad_out on the diagonals."""
    plan = _row_plan(x.shape[2], x.shape[3], weight.shape[-1])
    c = x.shape[1]
    win = plan.windows(x)
    dy = plan.blocked(grad_out)
    grad = torch.zeros(c, plan.k, plan.k, dtype=torch.float32,
                       device=x.device)
    for i in range(plan.k):
        h0, h1, src = plan.rows(i)
        if h0 >= h1:
            continue
        xi = win[:, src:src + h1 - h0].reshape(c, -1, plan.length)
        dyi = dy[:, h0:h1].reshape(c, -1, plan.bw)
        grad[:, i] = plan.band_adjoint(torch.bmm(xi.transpose(1, 2), dyi))
    return grad.unsqueeze(1)


def rows_conv(x, weight):
    """Forward of the row form, no autograd: (N, C, H, W) -> same shape."""
    plan = _row_plan(x.shape[2], x.shape[3], weight.shape[-1])
    acc = _rows_product(x, weight, plan)
    return plan.unblocked(acc, x.shape[0], memory_format(x)).to(x.dtype)


ROWS = Kernels(
    rows_conv,
    lambda grad_out, weight: rows_conv(grad_out, weight.flip(-2, -1)),
    rows_grad_weight)


# -------------------------------------------------------------- dense form
@functools.lru_cache(maxsize=64)
def _dense_index(height, width, kernel_size, device):
    """(HW, HW) index into the flattened kernel (K*K reads a zero)."""
    p = kernel_size // 2
    hs, ws = torch.arange(height), torch.arange(width)
    i = (hs[:, None, None, None] - hs[None, None, :, None] + p)
    j = (ws[None, :, None, None] - ws[None, None, None, :] + p)
    inside = (i >= 0) & (i < kernel_size) & (j >= 0) & (j < kernel_size)
    index = torch.where(inside, i * kernel_size + j, kernel_size**2)
    return index.reshape(height * width, height * width).to(device)


def _dense_matrix(weight, height, width):
    c, k = weight.shape[0], weight.shape[-1]
    index = _dense_index(height, width, k, weight.device)
    flat = F.pad(weight.reshape(c, k * k), (0, 1))
    return flat.index_select(1, index.view(-1)).view(c, height * width, -1)


def _channels_first(x):
    """(N, C, H, W) -> (C, N, HW)."""
    n, c = x.shape[:2]
    return x.permute(1, 0, 2, 3).reshape(c, n, -1)


def _from_channels_first(y, like):
    n, c, h, w = like.shape
    y = y.view(c, n, h, w).permute(1, 0, 2, 3)
    return y.contiguous(memory_format=memory_format(like))


def dense_conv(x, weight):
    """Forward of the dense form, no autograd."""
    matrix = _dense_matrix(weight, *x.shape[-2:])
    return _from_channels_first(torch.bmm(_channels_first(x), matrix), x)


def _dense_grad_input(grad_out, weight):
    matrix = _dense_matrix(weight, *grad_out.shape[-2:])
    dy = _channels_first(grad_out)
    return _from_channels_first(torch.bmm(dy, matrix.transpose(1, 2)),
                                grad_out)


def _dense_grad_weight(x, grad_out, weight):
    """x^T @ grad_out per channel, folded onto the kernel by the adjoint of
    the gather that built the matrix."""
    c, k = weight.shape[0], weight.shape[-1]
    grad_m = torch.bmm(_channels_first(x).transpose(1, 2),
                       _channels_first(grad_out))
    index = _dense_index(*x.shape[-2:], k, x.device).view(1, -1).expand(c, -1)
    flat = grad_m.new_zeros(c, k * k + 1, dtype=torch.float32)
    flat.scatter_add_(1, index, grad_m.reshape(c, -1).float())
    return flat[:, :-1].reshape(weight.shape)


DENSE = Kernels(dense_conv, _dense_grad_input, _dense_grad_weight)
