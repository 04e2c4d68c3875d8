"""UniRepLKNet backbone (Ding et al., "UniRepLKNet: A Universal Perception
Large-Kernel ConvNet for Audio, Video, Point Cloud, Time-Series and Image
Recognition", CVPR 2024), as the official downstream backbone: the four
stage maps after per-stage LayerNorms."""
import copy

import torch.nn as nn

from mmrep.ops import check_impl
from mmrep.registry import register
from ..layers import BLOCK_KERNELS, LayerNorm2d, UniRepLKNetBlock
from ..layers.fused import InferenceConv2d
from .base import RepBackbone

ARCH_KEYS = ('depths', 'dims', 'kernel_sizes')


def _repeat(unit, times):
    return list(unit) * times


# The official default kernel size of every block, keyed by the depths
# (UniRepLKNet repository, ``unireplknet.py``).
DEFAULT_KERNEL_SIZES = {
    (2, 2, 6, 2): [[3] * 2, [13] * 2, [13] * 6, [13] * 2],
    (2, 2, 8, 2): [[3] * 2, [13] * 2, [13] * 8, [13] * 2],
    (3, 3, 18, 3): [[3] * 3, [13] * 3, _repeat((13, 3), 9), [13] * 3],
    (3, 3, 27, 3): [[3] * 3, [13] * 3, _repeat((13, 3, 3), 9), [13] * 3],
}


def default_layer_count(depths):
    """The layer-decay ``num_layers`` of the official configs (9 for T's
    third stage of 18 blocks, 12 for S..XL's 27): the third stage's last
    block is layer ``num_layers - 1``."""
    return 4 + (depths[2] - 1) // 3


def _arch(depths, dims):
    return dict(depths=list(depths), dims=list(dims),
                kernel_sizes=copy.deepcopy(DEFAULT_KERNEL_SIZES[depths]))


@register('MODELS')
class UniRepLKNet(RepBackbone):
    """UniRepLKNet backbone returning the feature maps of its four stages.

    Module and parameter names equal the official release's
    (``downsample_layers``, ``stages.i.j``, ``norm{i}``), so its ImageNet
    checkpoints (the classifier's ``norm``/``head`` are ignored and
    reported) and its mmseg 0.x / mmdet 2.x downstream checkpoints load key
    for key through ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``.

    Args:
        arch (str | dict): 'A', 'F', 'P', 'N', 'T', 'S', 'B', 'L', 'XL', or
            a dict with ``depths``, ``dims`` and ``kernel_sizes`` (per stage
            a list with one kernel size per block, or one int for all of
            them; omitted: the official default for those depths), or a dict
            with ``base`` (a name above) and the keys it changes.
        in_channels (int): Input image channels. Defaults to 3.
        ffn_ratio (float): FFN expansion ratio. Defaults to 4.
        out_indices (Sequence[int]): Stages whose outputs are returned
            (strides 4, 8, 16, 32), each after its LayerNorm ``norm{i}``.
            Defaults to (0, 1, 2, 3).
        drop_path_rate (float): Stochastic depth rate of the last block,
            linear from 0 over all blocks. Defaults to 0.
        layer_scale_init_value (float | None): Initial layer scale (None or
            0: none). Defaults to 1e-6.
        norm_cfg (dict): Config of the BNs, e.g. ``dict(type='SyncBN')``
            (the official downstream class always uses SyncBN; here the
            config decides). Defaults to ``dict(type='BN')``.
        with_cp (bool): Non-reentrant gradient checkpointing of every block;
            saves memory, works under DDP. Defaults to False.
        frozen_stages (int): Freeze the stem (0) or the stem and stages
            1..k with the downsampling layers before them (k > 0); -1
            freezes nothing. Defaults to -1.
        norm_eval (bool): Keep the BNs in eval mode while training.
            Defaults to False.
        deploy (bool): Build the re-parameterized form directly. Defaults to
            False.
        large_kernel_impl (str): Implementation of the large depthwise convs
            (``lk_origin``): 'auto', 'torch', 'channels_last', 'rows',
            'dense' or 'triton' (see :mod:`mmrep.ops`). Defaults to 'auto'.
        init_cfg (dict | list[dict], optional): Initialization config;
            ``dict(type='Pretrained', checkpoint=PATH)`` loads weights from
            a file, URL or any mmengine checkpoint scheme
            (``model_key='model_ema'`` picks the EMA weights). Defaults to
            truncated-normal (std 0.02) Conv2d and Linear weights, as the
            official model initializes for training from scratch.
    """

    arch_keys = ARCH_KEYS
    arch_settings = {
        'A': _arch((2, 2, 6, 2), (40, 80, 160, 320)),
        'F': _arch((2, 2, 6, 2), (48, 96, 192, 384)),
        'P': _arch((2, 2, 6, 2), (64, 128, 256, 512)),
        'N': _arch((2, 2, 8, 2), (80, 160, 320, 640)),
        'T': _arch((3, 3, 18, 3), (80, 160, 320, 640)),
        'S': _arch((3, 3, 27, 3), (96, 192, 384, 768)),
        'B': _arch((3, 3, 27, 3), (128, 256, 512, 1024)),
        'L': _arch((3, 3, 27, 3), (192, 384, 768, 1536)),
        'XL': _arch((3, 3, 27, 3), (256, 512, 1024, 2048)),
    }

    def __init__(self,
                 arch='S',
                 in_channels=3,
                 ffn_ratio=4,
                 out_indices=(0, 1, 2, 3),
                 drop_path_rate=0.,
                 layer_scale_init_value=1e-6,
                 norm_cfg=dict(type='BN'),
                 with_cp=False,
                 frozen_stages=-1,
                 norm_eval=False,
                 deploy=False,
                 large_kernel_impl='auto',
                 init_cfg=dict(type='TruncNormal', layer=['Conv2d', 'Linear'],
                               std=.02, bias=0.)):
        super().__init__(init_cfg=init_cfg)
        self.arch = self._parse_arch(arch)
        check_impl(large_kernel_impl, 'large_kernel_impl')
        depths, dims, kernel_sizes = (self.arch[k] for k in ARCH_KEYS)
        self.num_stages = len(depths)
        self.out_indices = self._parse_out_indices(out_indices)
        self.frozen_stages = self._check_frozen_stages(frozen_stages)
        self._check_drop_path_rate(drop_path_rate)
        self.norm_eval = norm_eval
        self.channels = list(dims)

        self.downsample_layers = nn.ModuleList([nn.Sequential(
            InferenceConv2d(in_channels, dims[0] // 2, 3, stride=2,
                            padding=1),
            LayerNorm2d(dims[0] // 2), nn.GELU(),
            InferenceConv2d(dims[0] // 2, dims[0], 3, stride=2, padding=1),
            LayerNorm2d(dims[0]))])
        for c_in, c_out in zip(dims[:-1], dims[1:]):
            self.downsample_layers.append(nn.Sequential(
                InferenceConv2d(c_in, c_out, 3, stride=2, padding=1),
                LayerNorm2d(c_out)))
        rates = iter(self._drop_path_rates(drop_path_rate, sum(depths)))
        self.stages = nn.ModuleList(nn.Sequential(*[
            UniRepLKNetBlock(dim, k, next(rates), layer_scale_init_value,
                             ffn_ratio, norm_cfg, with_cp=with_cp,
                             deploy=deploy, impl=large_kernel_impl)
            for k in stage_kernels])
            for dim, stage_kernels in zip(dims, kernel_sizes))
        for i in self.out_indices:
            self.add_module(f'norm{i}', LayerNorm2d(dims[i]))
        self._freeze_stages()

    # ------------------------------------------------------------- arguments
    @staticmethod
    def _changed_arch(settings, changes):
        if 'depths' in changes and 'kernel_sizes' not in changes:
            changes = dict(changes, kernel_sizes=None)  # the new default
        return dict(settings, **changes)

    @classmethod
    def _parse_arch(cls, arch):
        arch = cls._named_arch(arch)
        extra = [k for k in arch if k not in ARCH_KEYS]
        missing = [k for k in ARCH_KEYS[:2] if k not in arch]
        if missing or extra:
            raise ValueError(f'arch dict: missing keys {missing}, unknown keys'
                             f' {extra}; expected {list(ARCH_KEYS)} '
                             f'(kernel_sizes optional)')
        depths, dims = list(arch['depths']), list(arch['dims'])
        if len(depths) != len(dims) or not depths:
            raise ValueError(f'arch: depths and dims must have the same '
                             f'length, got {depths} and {dims}')
        if any(n < 1 for n in depths):
            raise ValueError(f'arch: depths must be >= 1, got {depths}')
        if any(d < 4 or d % 2 for d in dims):
            raise ValueError(f'arch: dims must be even and >= 4 (the stem '
                             f'halves dims[0], SE quarters each), got {dims}')
        kernels = cls._parse_kernel_sizes(arch.get('kernel_sizes'), depths)
        return dict(depths=depths, dims=dims, kernel_sizes=kernels)

    @staticmethod
    def _parse_kernel_sizes(kernel_sizes, depths):
        if kernel_sizes is None:
            if tuple(depths) not in DEFAULT_KERNEL_SIZES:
                raise ValueError(
                    f'arch: no default kernel_sizes for depths {depths} '
                    f'(defaults exist for {sorted(DEFAULT_KERNEL_SIZES)}); '
                    f'give one kernel size per block')
            return copy.deepcopy(DEFAULT_KERNEL_SIZES[tuple(depths)])
        if len(kernel_sizes) != len(depths):
            raise ValueError(f'arch: kernel_sizes has {len(kernel_sizes)} '
                             f'stages, depths {len(depths)}')
        parsed = []
        for i, (stage, depth) in enumerate(zip(kernel_sizes, depths)):
            stage = [stage] * depth if isinstance(stage, int) else list(stage)
            if len(stage) != depth:
                raise ValueError(
                    f'arch: kernel_sizes[{i}] has {len(stage)} kernel sizes '
                    f'for a stage of depth {depth}: {stage}')
            for j, k in enumerate(stage):
                if k not in BLOCK_KERNELS:
                    raise ValueError(
                        f'arch: kernel_sizes[{i}][{j}] must be one of '
                        f'{BLOCK_KERNELS} (odd, with a dilated-branch '
                        f'setting from 7 up), got {k}')
            parsed.append(stage)
        return parsed

    # --------------------------------------------------------------- forward
    def forward(self, x):
        x, channels_last = self._inference_layout(x)
        outs = []
        for i, (down, stage) in enumerate(zip(self.downsample_layers,
                                              self.stages)):
            x = stage(down(x))
            if i in self.out_indices:
                outs.append(getattr(self, f'norm{i}')(x))
        return self._caller_layout(outs, channels_last)

    # ----------------------------------------------------------- training
    def _layer_depth(self, name, decay_type, num_layers):
        """The official downstream constructor's rule (UniRepLKNet
        repository): ``downsample_layers.0`` layer 0, ``stages.0`` 1,
        ``downsample_layers.1`` and ``stages.1`` 2, ``downsample_layers.2``
        3, block j of ``stages.2`` 3 + j // 3, ``downsample_layers.3`` and
        ``stages.3`` n, the rest (the output norms, neck, heads) n + 1;
        n = ``num_layers``, by default the official configs' (9 for T's 18
        blocks in stage 3, 12 for S..XL's 27)."""
        depths = self.arch['depths']
        if len(depths) != 4:
            raise ValueError(f'UniRepLKNet layer decay needs 4 stages, got '
                             f'depths {depths}')
        n = num_layers or default_layer_count(depths)
        parts = name.split('.')
        if parts[0] not in ('downsample_layers', 'stages'):
            return n + 1, n + 1
        stage = int(parts[1])
        if stage == 3:
            return n, n + 1
        if parts[0] == 'downsample_layers':
            return (0, 2, 3)[stage], n + 1
        return (1, 2, 3 + int(parts[2]) // 3)[stage], n + 1

    def _frozen_modules(self):
        if self.frozen_stages < 0:
            return []
        return ([self.downsample_layers[0]] +
                list(self.downsample_layers[1:self.frozen_stages]) +
                list(self.stages[:self.frozen_stages]))
