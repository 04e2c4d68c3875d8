"""The large-kernel depthwise convolution used by RepLKNet, and the choice
of implementation.

``depthwise_conv2d(x, weight, bias, impl)`` computes a stride-1, 'same'
depthwise convolution with an odd KxK kernel (3..63), with autograd:

* ``'torch'``: PyTorch's own convolution (cuDNN on GPUs).
* ``'rows'``: kernel rows as banded Toeplitz matrix products (large maps;
  see ``matmul_dwconv.py``).
* ``'dense'``: one (HW x HW) matrix product per channel (small maps).
* ``'triton'``: mmrep's Triton kernels (CUDA tensors; CPU tensors only
  under ``TRITON_INTERPRET=1``, for tests).
* ``'auto'``: the fastest of the above for this case whose numbers match
  PyTorch's, measured and checked the first time the process meets it (see
  ``dispatch.py`` and ``verify.py``).

Everything but 'torch' runs as the custom operator
``torch.ops.mmrep.depthwise_conv2d`` (``custom_op.py``): under
``torch.compile`` it stays one node of the graph, and 'auto' still chooses
when the graph runs (channels_last CPU inference excepted: there inductor
runs PyTorch's convolution on oneDNN, fused with what follows). Inside tracing,
scripting, ONNX export and ``torch.export``, 'auto' runs PyTorch's
convolution: it is the one those tools understand, and timing there would
measure nothing real. ONNX export gives every implementation PyTorch's
convolution: ONNX has one depthwise convolution (``Conv``), and the runtime
chooses how to run it. Under
``torch.autocast`` every implementation computes in the autocast dtype, as
``F.conv2d`` does. What older torch releases lose: ``compat.py``.
"""
import torch
import torch.nn as nn
from mmengine.logging import print_log

from . import compat, custom_op, native
from .implementations import (IMPLEMENTATIONS, ONEDNN_IMPLS, needs_grad,
                              select_impl)
from .kernels import memory_format, pytorch_conv
from .onednn import (PackedConv, compute_dtype, cpu_inference,
                     frozen_cpu_inference, packed)

IMPLS = ('auto', ) + tuple(IMPLEMENTATIONS)
MIN_KERNEL, MAX_KERNEL = 3, 63


def check_impl(impl, name='impl'):
    """Raise unless ``impl`` names an implementation (or 'auto')."""
    if impl not in IMPLS:
        raise ValueError(f'{name} must be one of {IMPLS}, got {impl!r}')


def check_kernel_size(kernel_size, name='kernel_size'):
    """Raise unless the op supports ``kernel_size`` (odd, 3..63)."""
    if kernel_size % 2 == 0 or not MIN_KERNEL <= kernel_size <= MAX_KERNEL:
        raise ValueError(f'{name} must be odd and in [{MIN_KERNEL}, '
                         f'{MAX_KERNEL}], got {kernel_size}')


def _check_tensors(x, weight):
    if x.dim() != 4 or weight.dim() != 4 or weight.shape[1] != 1:
        raise ValueError(f'depthwise_conv2d expects x (N, C, H, W) and weight'
                         f' (C, 1, K, K), got {tuple(x.shape)} and '
                         f'{tuple(weight.shape)}')
    if x.shape[1] != weight.shape[0] or weight.shape[-2] != weight.shape[-1]:
        raise ValueError(f'weight {tuple(weight.shape)} does not match '
                         f'{x.shape[1]} input channels or is not square')


def _runs_pytorch(impl, x, training):
    """Whether ``impl`` runs PyTorch's convolution here: 'torch' always;
    every implementation inside ONNX export (ONNX has one depthwise
    convolution, ``Conv``; the runtime chooses how to run it); 'auto' also
    inside a tracer, scripting or ``torch.export``, tools that must see it
    and where timing would measure nothing real. Plain ``torch.compile``
    keeps the custom operator, except for CPU inference on a channels_last
    map (the backbones' compiled inference), where inductor runs PyTorch's
    convolution on oneDNN (what 'auto' chooses there) with the weight
    prepacked and the bias and activation fused (PyTorch's NCHW path is
    slow); a torch without custom operators compiles PyTorch's
    convolution."""
    if impl == 'torch' or torch.onnx.is_in_onnx_export():
        return True
    if impl != 'auto':
        return False
    if compat.is_compiling():
        return (not compat.HAS_CUSTOM_OP or compat.is_exporting()
                or (x.device.type == 'cpu' and not training and
                    x.is_contiguous(memory_format=torch.channels_last)))
    return torch.jit.is_tracing() or torch.jit.is_scripting()


def depthwise_conv2d(x, weight, bias=None, impl='auto'):
    """Depthwise KxK convolution, stride 1, padding K // 2.

    Args:
        x (Tensor): (N, C, H, W) input, NCHW or channels_last.
        weight (Tensor): (C, 1, K, K) kernel, K odd in [3, 63].
        bias (Tensor, optional): (C, ) bias.
        impl (str): 'auto', 'torch', 'channels_last', 'rows', 'dense' or
            'triton'.

    Returns:
        Tensor: (N, C, H, W), in x's memory format.
    """
    check_impl(impl)
    _check_tensors(x, weight)
    check_kernel_size(weight.shape[-1], 'kernel size')
    compat.note_fallbacks()
    return _run(x, weight, bias, impl)


def _run(x, weight, bias, impl):
    """``depthwise_conv2d`` once its arguments are known to be valid."""
    dtype = compat.autocast_dtype(x.device.type)
    if dtype is not None:  # compute in the autocast dtype, as F.conv2d does
        x, weight = x.to(dtype), weight.to(dtype)
        bias = bias.to(dtype) if bias is not None else None
    if not torch.jit.is_tracing() and x.numel() == 0:
        return _empty_map(x, weight, bias)
    training = needs_grad(x, weight, bias)
    if _runs_pytorch(impl, x, training):
        return pytorch_conv(x, weight, bias)
    return custom_op.depthwise_conv2d(x, weight, bias, impl, training)


def _empty_map(x, weight, bias):
    """The convolution of an input with no elements: an output with none,
    still a function of the weight and bias (zero gradients). PyTorch's
    convolution refuses a 0-high or 0-wide map; nothing is measured."""
    if not _EMPTY_NOTED:
        _EMPTY_NOTED.append(True)
        print_log(f'depthwise_conv2d: an empty input {tuple(x.shape)}: an '
                  'empty output, nothing computed (said once)',
                  logger='current')
    y = x * weight[:, 0, :1, :1].view(1, -1, 1, 1)
    return y if bias is None else y + bias.view(1, -1, 1, 1)


_EMPTY_NOTED = []


class LargeKernelDWConv2d(nn.Conv2d):
    """``nn.Conv2d`` (depthwise, stride 1, 'same') whose forward runs
    :func:`depthwise_conv2d`; the parameters and their names are those of
    ``nn.Conv2d``, so checkpoints are unchanged.

    Args:
        channels (int): Channels.
        kernel_size (int): Odd kernel size in [3, 63].
        bias (bool): Whether to add a bias. Defaults to False.
        impl (str): 'auto', 'torch', 'channels_last', 'rows', 'dense' or
            'triton'. Defaults to 'auto'.
    """

    def __init__(self, channels, kernel_size, bias=False, impl='auto'):
        # checked here, once: the forward only checks its input
        check_impl(impl)
        check_kernel_size(kernel_size)
        compat.note_fallbacks()
        super().__init__(channels, channels, kernel_size,
                         padding=kernel_size // 2, groups=channels, bias=bias)
        self.impl = impl

    def forward(self, x, relu=False):
        """The convolution of ``x``, followed by a ReLU where ``relu``: in
        CPU inference on oneDNN the ReLU runs inside the convolution's
        primitive (no second pass over the map), as it does in mmrep's
        AVX-512 kernel, which 'auto' runs in the graphs of
        :func:`mmrep.apis.compile_for_cpu` (:mod:`mmrep.ops.native`)."""
        _check_tensors(x, self.weight)
        if self.impl == 'auto' and frozen_cpu_inference(x, self):
            x = x.to(compute_dtype(x))  # as _run computes under autocast
            if native.serves(x, self.kernel_size[0]):
                return native.dwconv(x, self.weight, self.bias, relu)
        if cpu_inference(x, self) and x.numel():  # _run handles empty ones
            x = x.to(compute_dtype(x))  # as _run computes under autocast
            pack = self._pack(x, 'relu' if relu else 'none')
            if select_impl(x, pack.weight, pack.bias, self.impl,
                           training=False) in ONEDNN_IMPLS:
                return pack(x).contiguous(memory_format=memory_format(x))
        y = _run(x, self.weight, self.bias, self.impl)
        return y.relu() if relu else y

    def _pack(self, x, act):
        """CPU inference: the weight and bias in ``x``'s dtype and, where
        the implementation is oneDNN's depthwise path, that primitive (with
        the activation ``act`` fused) to call directly with the weight
        reordered once, without the custom operator's dispatch (0.4 ms a
        call, against 0.5 ms for the conv itself at 1x512x14x14, K=27).
        Made again when the weights change."""
        sources = [t for t in (self.weight, self.bias) if t is not None]
        return packed(self, sources, (x.dtype, act), x, lambda: PackedConv(
            self.weight.to(x.dtype),
            None if self.bias is None else self.bias.to(x.dtype),
            self.stride, self.padding, self.dilation, self.groups, act,
            x.shape))

    def extra_repr(self):
        return super().extra_repr() + f', impl={self.impl}'
