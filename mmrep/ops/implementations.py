"""The implementations of the depthwise convolution, what 'auto' chooses
among, and the rules for running each."""
import importlib.util
import os

import torch

from .compat import float32_products
from .dispatch import Dispatcher
from .kernels import Kernels, pytorch_conv
from .matmul_dwconv import DENSE, ROWS, dense_fits
from .onednn import onednn_available, to_channels_last

DTYPES = (torch.float32, torch.bfloat16, torch.float16)


def triton_available():
    try:
        import triton  # noqa: F401
    except ImportError:
        return False
    return True


def triton_interpreter_available():
    """Whether the installed Triton can run the kernels on the CPU under
    ``TRITON_INTERPRET=1`` (its interpreter; Triton < 3.0 has none)."""
    if not triton_available():
        return False
    return importlib.util.find_spec('triton.runtime.interpreter') is not None


def _interpreting():
    return os.environ.get('TRITON_INTERPRET') == '1'


class TorchKernels(Kernels):
    """PyTorch's own convolution (cuDNN on GPUs; oneDNN or native on the
    CPU), forward and backward through ATen."""

    computes_reference = True

    def __init__(self):
        pass

    def forward(self, x, weight, bias=None):
        return pytorch_conv(x, weight, bias)

    def backward(self, grad_out, x, weight, needs=(True, True)):
        p = weight.shape[-1] // 2
        grad_x, grad_w, _ = torch.ops.aten.convolution_backward(
            grad_out, x, weight, None, [1, 1], [p, p], [1, 1], False, [0, 0],
            x.shape[1], [needs[0], needs[1], False])
        return grad_x, grad_w


class ChannelsLastKernels(TorchKernels):
    """PyTorch's convolution on channels_last copies of its inputs: on the
    CPU, oneDNN's depthwise path, whose forward is far faster than the NCHW
    path 'torch' takes on NCHW maps (20 ms against 677 ms at 4x128x56x56,
    K=31, measured on 2 cores); its backward is not (see ``candidates``).
    Results come back in the caller's layout (the custom operator's
    rule)."""

    def forward(self, x, weight, bias=None):
        return super().forward(to_channels_last(x), weight, bias)

    def backward(self, grad_out, x, weight, needs=(True, True)):
        return super().backward(to_channels_last(grad_out),
                                to_channels_last(x), weight, needs)


def _triton_part(part):
    """A part of the Triton kernels, imported on first use (Triton is an
    optional dependency)."""
    def run(*args):
        from .triton_dwconv import TRITON
        return getattr(TRITON, part)(*args)
    return run


IMPLEMENTATIONS = {
    'torch': TorchKernels(),
    'channels_last': ChannelsLastKernels(),
    'rows': float32_products(ROWS),
    'dense': float32_products(DENSE),
    'triton': Kernels(_triton_part('conv'), _triton_part('grad_input'),
                      _triton_part('grad_weight')),
}


def candidates(x, weight, training):
    """What 'auto' times for these tensors, the likely fastest first (a
    candidate far behind the best so far stops being timed early).
    'channels_last' is an inference candidate on the CPU with oneDNN only:
    its backward lost to 'rows' by 4.5x (8x128x56x56, K=31, forward +
    backward: 2.3 s against 0.51 s)."""
    names = []
    if not training and x.device.type == 'cpu' and onednn_available() \
            and x.dtype in (torch.float32, torch.bfloat16):
        names.append('channels_last')
    names.append('rows')
    if dense_fits(x.shape[1], x.shape[2], x.shape[3]):
        names.append('dense')
    names.append('torch')
    if x.is_cuda and triton_available():
        names.append('triton')
    return names


DISPATCHER = Dispatcher(IMPLEMENTATIONS, candidates)
# The implementations that run oneDNN's depthwise primitive on the CPU
# (which CPU inference may call directly: :mod:`mmrep.ops.onednn`).
ONEDNN_IMPLS = ('torch', 'channels_last')


def check_usable(impl, x):
    """Raise unless ``impl`` can run on ``x``."""
    if impl == 'triton':
        if not triton_available():
            raise RuntimeError("impl='triton' needs the triton package")
        if not x.is_cuda and not (_interpreting()
                                  and triton_interpreter_available()):
            raise RuntimeError("impl='triton' runs on CUDA tensors (or on the"
                               " CPU with TRITON_INTERPRET=1 and a Triton "
                               "that has an interpreter, >= 3.0)")
    if impl == 'dense' and not dense_fits(*x.shape[1:]):
        raise ValueError(f"impl='dense': the (HW x HW) matrix per channel of "
                         f'a {tuple(x.shape)} input exceeds '
                         f'DENSE_MAX_ELEMENTS; use rows or auto')
    if impl != 'torch' and x.dtype not in DTYPES:
        raise ValueError(f'impl={impl!r} supports {DTYPES}, got {x.dtype}')


def needs_grad(*tensors):
    """Whether autograd will ask these tensors' convolution for gradients
    (a training case of its own for 'auto')."""
    return torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in tensors)


def select_impl(x, weight, bias=None, impl='auto', training=None):
    """The implementation that runs for these tensors: ``impl`` itself, or
    what the dispatcher chose for 'auto'. ``training`` (forward + backward)
    defaults to whether autograd will need gradients."""
    if impl == 'auto':
        if training is None:
            training = needs_grad(x, weight, bias)
        impl = DISPATCHER.choose(x, weight, bias, training)
    check_usable(impl, x)
    return impl
