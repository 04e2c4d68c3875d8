"""oneDNN's fused convolution, for CPU inference.

PyTorch's eager ``F.conv2d`` hands oneDNN the weight in PyTorch's layout on
every call; oneDNN reorders it into its blocked layout each time and runs
the bias and activation as separate ops. Here a conv's weight (with an
eval-mode BN folded in) is reordered once, kept while its source tensors
are unchanged, and the conv, bias and ReLU/GELU run as one oneDNN
primitive on channels_last maps: the path inductor's freezing pass takes
(``torch.ops.mkldnn._convolution_pointwise``, the same schema from torch
2.1 to 2.13). Measured on 2 cores, float32, channels_last 1x1 convs of
RepLKNet-31B at 224: 1024->4096 at 7x7 2.3 ms against 8.3 ms, 512->2048 at
14x14 2.2 ms against 2.9 ms (``tools/benchmark_inference.py`` has the
whole models).
"""
import contextlib
import ctypes
import weakref

import torch

from . import compat

ACTIVATIONS = ('none', 'relu', 'gelu')
_PACKS = weakref.WeakKeyDictionary()  # owner module -> LayerPacks


def onednn_available():
    """Whether PyTorch runs CPU convolutions through oneDNN (built with it
    and not switched off)."""
    return torch.backends.mkldnn.is_available() and \
        torch.backends.mkldnn.enabled


def _has_fused_ops():
    return hasattr(torch.ops.mkldnn, '_convolution_pointwise')


def compute_dtype(x):
    """The dtype a convolution of ``x`` computes in: the CPU autocast dtype
    where autocast is on, else ``x``'s."""
    return compat.autocast_dtype('cpu') or x.dtype


def graph_capture():
    """Tracing, scripting, ONNX export or torch.compile / torch.export:
    tools that must see PyTorch's own ops."""
    return (torch.jit.is_tracing() or torch.jit.is_scripting()
            or torch.onnx.is_in_onnx_export() or compat.is_compiling())


def _cpu_eval(x, module):
    """``module`` in eval mode, no gradients recorded, ``x`` a float32 or
    bfloat16 (N, C, H, W) CPU map (or bfloat16 autocast)."""
    return (not module.training and not torch.is_grad_enabled()
            and x.device.type == 'cpu' and x.dim() == 4
            and compute_dtype(x) in (torch.float32, torch.bfloat16))


def cpu_inference(x, module):
    """Whether ``module``'s forward of ``x`` is CPU inference that oneDNN's
    fused path can run: ``module`` in eval mode, no gradients recorded, a
    float32 or bfloat16 CPU tensor (or bfloat16 autocast), oneDNN on, and
    no graph being captured."""
    # graph capture is asked before oneDNN: torch.compile cannot trace
    # ``torch.backends.mkldnn.is_available`` (a graph break at every layer)
    return (_cpu_eval(x, module) and not graph_capture()
            and onednn_available() and _has_fused_ops())


def compiled_cpu_inference(x, module):
    """Whether ``module``'s forward of ``x`` is CPU inference being compiled
    by ``torch.compile`` (not ``torch.export``): inductor hands the
    convolutions to oneDNN in the layout it is given, so the graph should
    run channels_last too (UniRepLKNet-S, bfloat16, 1x224, compiled with
    freezing: 243 ms NCHW against 69 ms channels_last)."""
    return (_cpu_eval(x, module) and compat.is_compiling()
            and not compat.is_exporting())


_freezing = False  # see frozen_graphs


@contextlib.contextmanager
def frozen_graphs():
    """Says, to the graphs Dynamo traces in it, that inductor will compile
    them with freezing (what :func:`mmrep.apis.compile_for_cpu` does): the
    parameters become constants, so what is computed from them alone (a
    folded weight) is computed once, at compile time. Dynamo reads this
    flag as a constant and guards on it; it cannot read inductor's config
    before torch 2.4 (a graph break)."""
    global _freezing
    previous, _freezing = _freezing, True
    try:
        yield
    finally:
        _freezing = previous


def frozen_cpu_inference(x, module):
    """:func:`compiled_cpu_inference` inside :func:`frozen_graphs`."""
    return _freezing and compiled_cpu_inference(x, module)


def to_channels_last(x):
    return x.contiguous(memory_format=torch.channels_last)


class PackedConv:
    """A conv's weight in oneDNN's blocked layout, its bias and fused
    activation: ``act(conv(x) + bias)`` in one primitive, ``x`` and the
    result channels_last.

    Args:
        weight (Tensor): (C_out, C_in / groups, kh, kw).
        bias (Tensor | None): (C_out, ).
        stride, padding, dilation (tuple[int]): As ``nn.Conv2d``'s.
        groups (int): As ``nn.Conv2d``'s.
        act (str): One of :data:`ACTIVATIONS` ('gelu' is the exact, erf
            form of ``nn.GELU()``).
        input_size (list[int]): The (N, C, H, W) oneDNN picks the weight
            layout for; other sizes compute the same, but may reorder the
            weight at each call (:class:`LayerPacks`).
        keep_weight (bool): Keep ``weight`` in PyTorch's layout (as
            ``.weight``) and reorder it at the first call; else reorder it
            now and keep only oneDNN's copy (a weight made for the pack, BNs
            folded in, is not held twice).
    """

    def __init__(self, weight, bias, stride, padding, dilation, groups, act,
                 input_size, keep_weight=True):
        if act not in ACTIVATIONS:
            raise ValueError(f'act must be one of {ACTIVATIONS}, got {act!r}')
        self.args = (list(padding), list(stride), list(dilation), groups)
        self.input_size = list(input_size)
        weight = weight.detach()
        self.weight = weight if keep_weight else None  # PyTorch's layout
        self._packed_weight = None if keep_weight else self._reorder(weight)
        self.bias = None if bias is None else bias.detach()
        self.act = act
        self.algorithm = 'none' if act == 'gelu' else ''  # erf GELU

    def _reorder(self, weight):
        return torch.ops.mkldnn._reorder_convolution_weight(
            weight, *self.args, self.input_size)

    @property
    def packed_weight(self):
        """The weight in oneDNN's layout (reordered at the first call where
        ``keep_weight``)."""
        if self._packed_weight is None:
            self._packed_weight = self._reorder(self.weight)
        return self._packed_weight

    def __call__(self, x):
        return torch.ops.mkldnn._convolution_pointwise(
            x, self.packed_weight, self.bias, *self.args, self.act, [],
            self.algorithm)

    def add(self, x, residual):
        """``conv(x) + bias + residual`` in one primitive (no
        activation)."""
        return torch.ops.mkldnn._convolution_pointwise.binary(
            x, residual, self.packed_weight, self.bias, *self.args, 'add',
            None, None, [], None)


def packed(owner, sources, key, x, make):
    """``owner``'s pack for the input ``x``: ``make()``'s result (a
    :class:`PackedConv` laid out for ``x``'s size), made again when ``key``
    or a tensor of ``sources`` changed (written in place, replaced, another
    dtype). Kept beside the module, never in its state or its copies."""
    signature = (key, ) + tuple((t.data_ptr(), _version(t), t.dtype)
                                for t in sources)
    packs = _PACKS.get(owner)
    if packs is None or packs.signature != signature:
        packs = _PACKS[owner] = LayerPacks(signature)
    return packs.get((tuple(x.shape), torch.get_num_threads()), make)


class LayerPacks:
    """One layer's packs. oneDNN picks a conv's weight layout by the input
    size (and threads); a weight packed for another size is reordered again
    at every call (RepLKNet-31B float32: 4x224 after 1x224 1054 ms against
    632). So each input size gets the pack of its layout, and sizes whose
    layouts agree share one (byte-equal packed weights), at most
    :attr:`MAX_LAYOUTS` of them; a new size costs one reorder of the
    weight. A torch without ``mkldnn._nbytes`` (< 2.4) cannot compare them:
    a pack per size, the last :attr:`MAX_LAYOUTS` sizes."""

    MAX_LAYOUTS = 4  # weight copies kept (31B's convs use at most 3)
    MAX_SIZES = 64  # input sizes remembered

    def __init__(self, signature):
        self.signature = signature
        self.by_size = {}  # (input shape, threads) -> pack
        self.layouts = []  # distinct packs, oldest first

    def get(self, size, make):
        pack = self.by_size.get(size)
        if pack is None:
            pack = self._shared(make())
            if len(self.by_size) >= self.MAX_SIZES:
                del self.by_size[next(iter(self.by_size))]
            self.by_size[size] = pack
        return pack

    def _shared(self, pack):
        """A pack already held whose weight has ``pack``'s layout, else
        ``pack`` (the oldest dropped beyond :attr:`MAX_LAYOUTS`)."""
        for held in self.layouts:
            if same_layout(held, pack):
                return held
        self.layouts.append(pack)
        if len(self.layouts) > self.MAX_LAYOUTS:
            dropped = self.layouts.pop(0)
            self.by_size = {k: v for k, v in self.by_size.items()
                            if v is not dropped}
        return pack


def _weight_bytes(weight):
    """A oneDNN (``torch._mkldnn``) tensor's memory, layout padding
    included, as a uint8 tensor over it (no copy: valid while ``weight``
    lives)."""
    size = torch.ops.mkldnn._nbytes(weight)
    memory = (ctypes.c_uint8 * size).from_address(
        torch.ops.mkldnn.data_ptr(weight))
    return torch.frombuffer(memory, dtype=torch.uint8, count=size)


def same_layout(a, b):
    """Whether two packs of the same weight hold it in one layout: their
    bytes are equal (a weight whose values repeat in the pattern of a
    relayout, e.g. all zeros, may read as equal; it then computes the same,
    at the cost of oneDNN's reorder per call). False where this torch
    cannot read the bytes."""
    if not compat.HAS_ONEDNN_BYTES:
        return False
    a, b = _weight_bytes(a.packed_weight), _weight_bytes(b.packed_weight)
    return a.numel() == b.numel() and torch.equal(a, b)


def _version(tensor):
    """The tensor's version counter; an inference tensor (made under
    ``torch.inference_mode``) has none, and cannot be written in place
    outside that mode."""
    return -1 if tensor.is_inference() else tensor._version
