"""Checking an implementation's numbers against PyTorch's convolution.

'auto' runs implementations on hardware, drivers and library versions that
no test of ours has seen; a fast candidate that computes something else
must never be chosen. The first time a case is met, the dispatcher compares
every candidate's output (and, when training, its input and weight
gradients) with PyTorch's convolution of the same tensors, computed in
float32 (TF32 off), and drops the ones that differ.

The measure is the relative error ``||got - want|| / ||want||`` of each
tensor; a result that is not finite never passes.

A bucket decided without timing, in a family (channels, kernel, dtype...)
that has a bucket measured and checked on all its channels in this
process, is spot-checked: the candidate and PyTorch's convolution run on a
spread of 16 of its channels (depthwise channels are independent), at the
bucket's own map size. The full check is the costly part of a training
step's new bucket: PyTorch's backward takes 4.1 s against 'rows'' 0.7 s at
1x128x160x160, K=31, on the CPU.
"""
import contextlib

import torch

from .kernels import memory_format, pytorch_conv

# Relative-error tolerances by the inputs' dtype. float32 implementations
# agree with PyTorch's to ~1e-6 on the CPU; bf16/fp16 ones differ by their
# rounding (a few 1e-3; PyTorch's own bf16 input gradient on the CPU by up
# to 1.7e-2 at K = 27..31); a wrong result is off by O(1).
TOLERANCES = {torch.float32: 1e-4, torch.float64: 1e-7,
              torch.bfloat16: 3e-2, torch.float16: 1e-2}
# float32 on CUDA where TF32 is allowed (cuDNN allows it by default):
# a 10-bit mantissa gives relative errors of ~5e-4.
TF32_TOLERANCE = 1e-2


def tolerance(dtype, device):
    """The relative error allowed for results of this dtype and device."""
    if dtype == torch.float32 and device.type == 'cuda' and (
            torch.backends.cuda.matmul.allow_tf32
            or torch.backends.cudnn.allow_tf32):
        return TF32_TOLERANCE
    return TOLERANCES.get(dtype, TOLERANCES[torch.float32])


@contextlib.contextmanager
def _exact_float32(device):
    """No TF32 in PyTorch's convolution while computing the reference."""
    if device.type != 'cuda':
        yield
        return
    before = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32 = before


def reference_layout(x, training):
    """The memory format PyTorch's reference convolution runs in. Inference
    on the CPU runs channels_last, oneDNN's depthwise path: the same numbers
    as the NCHW path, ~20x faster on the 31B stage-1 maps (measured at
    1x128x128x192, K=31; its backward is slower, so training keeps the
    input's layout)."""
    if x.device.type == 'cpu' and not training:
        return torch.channels_last
    return memory_format(x)


def reference_is_torch_call(x, training):
    """Whether the reference is exactly the 'torch' candidate's call on
    these tensors (float32 on the CPU, in the input's own layout): it then
    serves as that candidate's warm-up."""
    same_layout = x.is_contiguous(
        memory_format=reference_layout(x, training))
    return x.dtype == torch.float32 and x.device.type == 'cpu' and \
        same_layout


# channels a spot check runs, at most
SPOT_CHANNELS = 16


def spot_channels(x, weight, bias):
    """``x`` (in its memory format), ``weight`` and ``bias`` of
    ``SPOT_CHANNELS`` channels spread from the first to the last (all of
    them if there are no more)."""
    if x.shape[1] <= SPOT_CHANNELS:
        return x, weight, bias
    index = torch.linspace(0, x.shape[1] - 1, SPOT_CHANNELS,
                           device=x.device).round().long()
    spot = x.index_select(1, index).contiguous(
        memory_format=memory_format(x))
    return (spot, weight.index_select(0, index),
            bias.index_select(0, index) if bias is not None else None)


def reference(x, weight, bias, grad_out=None):
    """PyTorch's float32 output (and, with ``grad_out``, input and weight
    gradients) for these tensors: ``[y]`` or ``[y, dx, dw]``."""
    layout = reference_layout(x, grad_out is not None)
    leaves = [x.detach().float().contiguous(memory_format=layout),
              weight.detach().float(),
              bias.detach().float() if bias is not None else None]
    for leaf in leaves:
        if leaf is not None:
            leaf.requires_grad_(grad_out is not None)
    with _exact_float32(x.device), torch.autocast(x.device.type,
                                                  enabled=False):
        with torch.enable_grad() if grad_out is not None else \
                torch.no_grad():
            y = pytorch_conv(*leaves)
            if grad_out is None:
                return [y]
            dx, dw = torch.autograd.grad(y, leaves[:2], grad_out.float())
    return [y.detach(), dx, dw]


def relative_error(got, want):
    want = want.double()
    error = (got.double() - want).norm()
    scale = want.norm()
    return (error / scale).item() if scale > 0 else error.item()


def mismatch(results, references, dtype, device):
    """None if every result is within the tolerance of its reference, else
    a message naming the first one that is not."""
    allowed = tolerance(dtype, device)
    for name, got, want in zip(('output', 'input gradient',
                                'weight gradient'), results, references):
        if got is None or got.shape != want.shape:
            shape = None if got is None else tuple(got.shape)
            return f'{name} has shape {shape}, expected {tuple(want.shape)}'
        error = relative_error(got, want)
        if not error <= allowed:  # also catches NaN
            return (f'{name} differs from PyTorch\'s convolution: relative '
                    f'error {error:.3g} > {allowed:g} ({dtype})')
    return None
