"""Checking an implementation's numbers against PyTorch's convolution.

'auto' runs implementations on hardware, drivers and library versions that
no test of ours has seen; a fast candidate that computes something else
must never be chosen. The first time a case is met, the dispatcher compares
every candidate's output (and, when training, its input and weight
gradients) with PyTorch's convolution of the same tensors, computed in
float32 (TF32 off), and drops the ones that differ.

The measure is the relative error ``||got - want|| / ||want||`` of each
tensor; a result that is not finite never passes.

A bucket decided without measuring (its choice lent by a near bucket, or
read from the cache file) is spot-checked: the candidate runs on the full
tensors, and PyTorch's convolution computes a spread of its channels only
(depthwise channels are independent, so these are exactly the full
result's channels). PyTorch's backward is the costly part of a training
check (4.1 s against 'rows'' 0.7 s at 1x128x160x160, K=31, on the CPU);
a measured bucket is checked on every channel.
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


# channels a spot check compares, at most
SPOT_CHANNELS = 16
# the channel dimension of y, dx and dw
CHANNEL_DIMS = (1, 1, 0)


def spot_channels(channels):
    """The channels a spot check compares: ``SPOT_CHANNELS`` of them spread
    from the first to the last, or None (all) for fewer channels."""
    if channels <= SPOT_CHANNELS:
        return None
    return torch.linspace(0, channels - 1, SPOT_CHANNELS).round().long()


def _take(tensor, dim, channels):
    if channels is None or tensor is None:
        return tensor
    return tensor.index_select(dim, channels.to(tensor.device))


def reference(x, weight, bias, grad_out=None, channels=None):
    """PyTorch's float32 output (and, with ``grad_out``, input and weight
    gradients) for these tensors: ``[y]`` or ``[y, dx, dw]``, of
    ``channels`` only if given."""
    x, grad_out = _take(x, 1, channels), _take(grad_out, 1, channels)
    weight, bias = _take(weight, 0, channels), _take(bias, 0, channels)
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


def mismatch(results, references, dtype, device, shapes, channels=None):
    """None if every result has its expected shape (``shapes``: of y, dx,
    dw) and is within the tolerance of its reference (of ``channels`` only
    if given), else a message naming the first one that is not."""
    allowed = tolerance(dtype, device)
    for name, got, want, shape, dim in zip(
            ('output', 'input gradient', 'weight gradient'), results,
            references, shapes, CHANNEL_DIMS):
        if got is None or got.shape != shape:
            found = None if got is None else tuple(got.shape)
            return f'{name} has shape {found}, expected {tuple(shape)}'
        error = relative_error(_take(got, dim, channels), want)
        if not error <= allowed:  # also catches NaN
            return (f'{name} differs from PyTorch\'s convolution: relative '
                    f'error {error:.3g} > {allowed:g} ({dtype})')
    return None
