"""The large-kernel depthwise convolution used by RepLKNet, and the choice
of implementation.

``depthwise_conv2d(x, weight, bias, impl)`` computes a stride-1, 'same'
depthwise convolution with an odd KxK kernel (3..63), with autograd.

* ``impl='torch'``: PyTorch's own convolution (cuDNN on GPUs).
* ``impl='triton'``: mmrep's Triton kernels (CUDA tensors; CPU tensors only
  under ``TRITON_INTERPRET=1``, for tests).
* ``impl='auto'``: the fastest correct choice for the device, dtype and
  shape. It picks Triton only where a benchmark on the GPU measured it
  faster than cuDNN (``TRITON_FASTER``, filled from docs/benchmarks.md); no
  GPU measurement exists yet, so today 'auto' means PyTorch everywhere.
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

IMPLS = ('auto', 'torch', 'triton')
DTYPES = (torch.float32, torch.bfloat16, torch.float16)
MIN_KERNEL, MAX_KERNEL = 3, 63
# (dtype, kernel sizes) where tools/benchmark_dwconv.py measured the Triton
# kernels faster than cuDNN on a GPU. Empty until measured.
TRITON_FASTER = {}


def triton_available():
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def _interpreting():
    return os.environ.get('TRITON_INTERPRET') == '1'


def check_args(x, weight, impl):
    if impl not in IMPLS:
        raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')
    if x.dim() != 4 or weight.dim() != 4 or weight.shape[1] != 1:
        raise ValueError(f'depthwise_conv2d expects x (N, C, H, W) and weight'
                         f' (C, 1, K, K), got {tuple(x.shape)} and '
                         f'{tuple(weight.shape)}')
    c, k = weight.shape[0], weight.shape[-1]
    if x.shape[1] != c or weight.shape[-2] != k:
        raise ValueError(f'weight {tuple(weight.shape)} does not match '
                         f'{x.shape[1]} input channels or is not square')
    if k % 2 == 0 or not MIN_KERNEL <= k <= MAX_KERNEL:
        raise ValueError(f'kernel size must be odd and in [{MIN_KERNEL}, '
                         f'{MAX_KERNEL}], got {k}')


def select_impl(x, weight, impl='auto'):
    """The implementation ``depthwise_conv2d`` runs for these tensors."""
    if impl == 'triton':
        if not triton_available():
            raise RuntimeError("impl='triton' needs the triton package")
        if not (x.is_cuda or _interpreting()):
            raise RuntimeError("impl='triton' runs on CUDA tensors (or on the"
                               " CPU with TRITON_INTERPRET=1)")
        if x.dtype not in DTYPES:
            raise ValueError(f"impl='triton' supports {DTYPES}, got "
                             f'{x.dtype}')
        return 'triton'
    if impl == 'auto' and x.is_cuda and triton_available():
        kernel = weight.shape[-1]
        if kernel in TRITON_FASTER.get(x.dtype, ()):
            return 'triton'
    return 'torch'


class _TritonDWConv(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x, weight, bias):
        from . import triton_dwconv
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return triton_dwconv.dwconv_forward(x, weight, bias)

    @staticmethod
    def backward(ctx, grad_out):
        from . import triton_dwconv
        x, weight = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = triton_dwconv.dwconv_grad_input(grad_out, weight)
        if ctx.needs_input_grad[1]:
            grad_w = triton_dwconv.dwconv_grad_weight(
                x, grad_out, weight.shape[-1]).to(weight.dtype)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_out.sum((0, 2, 3), dtype=torch.float32).to(
                grad_out.dtype)
        return grad_x, grad_w, grad_b


def depthwise_conv2d(x, weight, bias=None, impl='auto'):
    """Depthwise KxK convolution, stride 1, padding K // 2.

    Args:
        x (Tensor): (N, C, H, W) input, NCHW or channels_last.
        weight (Tensor): (C, 1, K, K) kernel, K odd in [3, 63].
        bias (Tensor, optional): (C, ) bias.
        impl (str): 'auto', 'torch' or 'triton'.
    """
    check_args(x, weight, impl)
    if select_impl(x, weight, impl) == 'triton':
        return _TritonDWConv.apply(x, weight, bias)
    k = weight.shape[-1]
    return F.conv2d(x, weight, bias, padding=k // 2, groups=x.shape[1])


class LargeKernelDWConv2d(nn.Conv2d):
    """``nn.Conv2d`` (depthwise, stride 1, 'same') whose forward runs
    :func:`depthwise_conv2d`; the parameters and their names are those of
    ``nn.Conv2d``, so checkpoints are unchanged.

    Args:
        channels (int): Channels.
        kernel_size (int): Odd kernel size.
        bias (bool): Whether to add a bias. Defaults to False.
        impl (str): 'auto', 'torch' or 'triton'. Defaults to 'auto'.
    """

    def __init__(self, channels, kernel_size, bias=False, impl='auto'):
        if impl not in IMPLS:
            raise ValueError(f'impl must be one of {IMPLS}, got {impl!r}')
        super().__init__(channels, channels, kernel_size,
                         padding=kernel_size // 2, groups=channels, bias=bias)
        self.impl = impl

    def forward(self, x):
        if self.kernel_size[0] < MIN_KERNEL:  # 1x1: nothing to speed up
            return super().forward(x)
        return depthwise_conv2d(x, self.weight, self.bias, self.impl)

    def extra_repr(self):
        return super().extra_repr() + f', impl={self.impl}'
