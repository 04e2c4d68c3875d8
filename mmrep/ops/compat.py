"""What the installed torch offers the op, detected by feature (never by
version string), and the best path each older release has.

mmrep runs on torch >= 2.1 (``mmrep/version.py``). A release without one
of these features loses what :data:`FALLBACKS` says, logged once per
process (:func:`note_fallbacks`) with the torch and the feature; the
numbers are those of a newer torch (float16 on the CPU: to float16
rounding):

* ``torch.library.custom_op`` (2.4): the fast implementations run as an
  autograd Function (the same kernels, forward and backward) in eager mode;
  under ``torch.compile``, 'auto' is PyTorch's convolution, compiled into
  the graph, and a named fast implementation runs between compiled graphs.
* ``torch.get_autocast_dtype`` (2.4): the older per-device autocast queries
  are asked instead (same answer); while Dynamo traces, which cannot trace
  them, the dtype of a product.
* ``torch.compiler.is_exporting`` (2.7): under Dynamo, ``torch.export``
  cannot be told from ``torch.compile``, so 'auto' keeps the custom
  operator and an exported graph holds ``mmrep::depthwise_conv2d``
  (``impl='torch'`` exports PyTorch's convolution).
* float16 matrix products on the CPU (2.4): 'rows' and 'dense' multiply
  float16 CPU tensors in float32 (:func:`float32_products`).
* ``torch.ops.mkldnn._nbytes`` and ``data_ptr`` (2.4): CPU inference
  cannot tell which input sizes share a oneDNN weight layout, so it keeps
  a weight copy per input size (:mod:`mmrep.ops.onednn`).
* ``torch.compile``'s ``guard_filter_fn`` (2.8): ``compile_for_cpu``'s
  Dynamo checks every module of the model at each call, not only the
  inputs and the global state (~1.4 ms a RepLKNet-31B call).
"""
import torch
from mmengine.logging import print_log

HAS_CUSTOM_OP = hasattr(torch.library, 'custom_op')
HAS_AUTOCAST_DTYPE = hasattr(torch, 'get_autocast_dtype')
HAS_IS_EXPORTING = hasattr(torch.compiler, 'is_exporting')
HAS_ONEDNN_BYTES = hasattr(torch.ops.mkldnn, '_nbytes')
HAS_GUARD_FILTER = hasattr(torch.compiler,
                           'skip_guard_on_all_nn_modules_unsafe')


def _cpu_half_gemm():
    try:
        one = torch.ones(1, 1, 1, dtype=torch.float16)
        torch.bmm(one, one)
    except RuntimeError:  # "not implemented for 'Half'"
        return False
    return True


HAS_CPU_HALF_GEMM = _cpu_half_gemm()

# (feature, the torch that added it, what mmrep does without it)
FALLBACKS = [f for f, present in (
    (('torch.library.custom_op', '2.4',
      "the fast large-kernel implementations run as an autograd Function "
      "(eager speed and numbers unchanged); under torch.compile 'auto' "
      "compiles PyTorch's convolution, and a named implementation runs "
      "between the compiled graphs; compile_for_cpu runs the large-kernel "
      "convolutions on oneDNN, not on mmrep's AVX-512 kernel"),
     HAS_CUSTOM_OP),
    (('torch.get_autocast_dtype', '2.4',
      'the per-device autocast queries are used (same answer; while '
      'Dynamo traces, the dtype of a product, as it cannot trace them)'),
     HAS_AUTOCAST_DTYPE),
    (('torch.compiler.is_exporting', '2.7',
      "torch.export keeps 'auto' large-kernel convolutions as "
      "mmrep::depthwise_conv2d nodes (impl='torch' exports PyTorch's "
      'convolution)'), HAS_IS_EXPORTING or not HAS_CUSTOM_OP),
    (('float16 matrix products on the CPU', '2.4',
      "'rows' and 'dense' multiply float16 CPU tensors in float32 and round "
      'the results to float16'), HAS_CPU_HALF_GEMM),
    (('torch.ops.mkldnn._nbytes', '2.4',
      'CPU inference keeps a oneDNN copy of each weight per input size (the '
      'last 4 sizes), not one per weight layout oneDNN picks'),
     HAS_ONEDNN_BYTES),
    (("torch.compile's guard_filter_fn", '2.8',
      "compile_for_cpu's Dynamo checks every module of the model at each "
      'call, not only the inputs, grad mode and autocast (~1.4 ms a '
      'RepLKNet-31B call)'), HAS_GUARD_FILTER),
) if not present]
_noted = []


def note_fallbacks():
    """Log, once per process, what this torch lacks and what mmrep does
    instead (outside compiled code, where logging would break a graph)."""
    if _noted or is_compiling():
        return
    _noted.append(True)
    for feature, since, instead in FALLBACKS:
        print_log(f'torch {torch.__version__} has no {feature} (torch >= '
                  f'{since}): {instead}', logger='current')


def autocast_dtype(device_type):
    """The autocast dtype for this device type, or None when it is off."""
    if HAS_AUTOCAST_DTYPE:
        if not torch.is_autocast_enabled(device_type):
            return None
        return torch.get_autocast_dtype(device_type)
    if device_type == 'cpu':
        enabled, query = (torch.is_autocast_cpu_enabled(),
                          torch.get_autocast_cpu_dtype)
    elif device_type == 'cuda':
        enabled, query = (torch.is_autocast_enabled(),
                          torch.get_autocast_gpu_dtype)
    else:
        return None
    if not enabled:
        return None
    return _product_dtype(device_type) if is_compiling() else query()


def _product_dtype(device_type):
    """The autocast dtype, read off a product's result while Dynamo
    traces: before torch 2.4 it cannot trace the per-device dtype queries
    (a graph break, after which the caller's test runs outside the graph),
    but it knows every result's dtype; the unused product leaves the
    graph."""
    one = torch.ones(1, 1, device=device_type)
    return (one @ one).dtype


def is_compiling():
    """Whether TorchDynamo is tracing the caller."""
    if hasattr(torch.compiler, 'is_compiling'):  # torch >= 2.3
        return torch.compiler.is_compiling()
    return torch._dynamo.is_compiling()


def is_exporting():
    """Whether Dynamo traces the caller for ``torch.export`` (False where
    this torch's Dynamo cannot tell)."""
    return HAS_IS_EXPORTING and torch.compiler.is_exporting()


class Float32Products:
    """``kernels`` (a :class:`~mmrep.ops.kernels.Kernels`) with float16 CPU
    tensors cast to float32 and the results back, for a torch without
    float16 matrix products on the CPU."""

    def __init__(self, kernels):
        self.kernels = kernels
        self.computes_reference = kernels.computes_reference

    @staticmethod
    def _applies(x):
        return x.dtype == torch.float16 and x.device.type == 'cpu'

    def forward(self, x, weight, bias=None):
        if not self._applies(x):
            return self.kernels.forward(x, weight, bias)
        bias = bias.float() if bias is not None else None
        return self.kernels.forward(x.float(), weight.float(), bias).half()

    def backward(self, grad_out, x, weight, needs=(True, True)):
        if not self._applies(x):
            return self.kernels.backward(grad_out, x, weight, needs)
        grads = self.kernels.backward(grad_out.float(), x.float(),
                                      weight.float(), needs)
        return tuple(g.half() if g is not None else None for g in grads)


def float32_products(kernels):
    """``kernels`` as they run on this torch (see :class:`Float32Products`)."""
    return kernels if HAS_CPU_HALF_GEMM else Float32Products(kernels)
