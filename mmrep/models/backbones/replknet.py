"""RepLKNet backbone (Ding et al., "Scaling Up Your Kernels to 31x31", CVPR 2022)."""
import torch.nn as nn
from mmcv.cnn import fuse_conv_bn

from mmrep.ops import check_impl, check_kernel_size
from mmrep.registry import register
from ..layers import RepLKNetStage, checkpointed, conv_bn
from .base import RepBackbone

_B = dict(layers=[2, 2, 18, 2], channels=[128, 256, 512, 1024], small_kernel=5,
          dw_ratio=1)
ARCH_KEYS = ('large_kernel_sizes', 'layers', 'channels', 'small_kernel',
             'dw_ratio')


def _with_kernels(base, kernels):
    return dict(base, large_kernel_sizes=kernels)


@register('MODELS')
class RepLKNet(RepBackbone):
    """RepLKNet backbone returning the feature maps of its four stages.

    The module names equal the official release's, so its ImageNet
    checkpoints (and mmpretrain's conversions, and official downstream
    checkpoints) load key for key through
    ``init_cfg=dict(type='Pretrained', checkpoint=PATH)``.

    Args:
        arch (str | dict): '31B', '31L', 'XL', or the paper's ablations
            '25B', '13B', '7B', '3B' (31B's layers, channels and small
            kernel; '3B' has none), or a dict
            with keys ``large_kernel_sizes``, ``layers``, ``channels``,
            ``small_kernel`` (int or None) and ``dw_ratio``, or a dict with
            ``base`` (a name above) and the keys it changes.
        in_channels (int): Input image channels. Defaults to 3.
        ffn_ratio (float): ConvFFN expansion ratio. Defaults to 4.
        out_indices (Sequence[int]): Stages whose outputs are returned
            (strides 4, 8, 16, 32). Defaults to (0, 1, 2, 3).
        drop_path_rate (float): Stochastic depth rate of the last block pair,
            linear from 0 over all pairs. Defaults to 0.
        norm_cfg (dict): Norm layer config, e.g. ``dict(type='SyncBN')``.
            Defaults to ``dict(type='BN')``.
        with_cp (bool): Non-reentrant gradient checkpointing of the stem and
            every block; saves memory, works under DDP. Defaults to False.
        frozen_stages (int): Freeze the stem (0) and stages 1..k (k > 0) with
            the transitions before them; -1 freezes nothing. Defaults to -1.
        norm_eval (bool): Keep all norm layers in eval mode while training.
            Defaults to False.
        norm_intermediate_features (bool): Apply a BN to every output feature
            map (official RepLKNet-XL downstream). Defaults to False.
        deploy (bool): Build the re-parameterized form directly (one biased
            large-kernel conv per block). Defaults to False.
        bn_fused (bool): Build with every conv-BN pair fused by mmcv's
            ``fuse_conv_bn`` (conv with bias, BN replaced by Identity), the
            form deploy checkpoints of ``tools/deploy/reparameterize.py
            --fuse-conv-bn`` have; needs ``deploy=True``. Defaults to False.
        large_kernel_impl (str): Implementation of the large depthwise
            convs: 'auto' (the fastest of them, measured and checked once
            per bucket of shapes), 'torch', 'channels_last', 'rows',
            'dense' or 'triton'.
            See :mod:`mmrep.ops`. Defaults to 'auto'.
        init_cfg (dict | list[dict], optional): Initialization config;
            ``dict(type='Pretrained', checkpoint=PATH)`` loads weights from
            a file, URL or any mmengine checkpoint scheme
            (``model_key='model_ema'`` picks the official training
            script's EMA weights).
    """

    arch_keys = ARCH_KEYS
    arch_settings = {
        '31B': _with_kernels(_B, [31, 29, 27, 13]),
        '31L': dict(large_kernel_sizes=[31, 29, 27, 13], layers=[2, 2, 18, 2],
                    channels=[192, 384, 768, 1536], small_kernel=5,
                    dw_ratio=1),
        'XL': dict(large_kernel_sizes=[27, 27, 27, 13], layers=[2, 2, 18, 2],
                   channels=[256, 512, 1024, 2048], small_kernel=None,
                   dw_ratio=1.5),
        '25B': _with_kernels(_B, [25, 25, 25, 13]),
        '13B': _with_kernels(_B, [13, 13, 13, 13]),
        '7B': _with_kernels(_B, [7, 7, 7, 7]),
        # A 3x3 kernel has no smaller kernel to re-parameterize with.
        '3B': dict(_with_kernels(_B, [3, 3, 3, 3]), small_kernel=None),
    }

    def __init__(self,
                 arch='31B',
                 in_channels=3,
                 ffn_ratio=4,
                 out_indices=(0, 1, 2, 3),
                 drop_path_rate=0.,
                 norm_cfg=dict(type='BN'),
                 with_cp=False,
                 frozen_stages=-1,
                 norm_eval=False,
                 norm_intermediate_features=False,
                 deploy=False,
                 bn_fused=False,
                 large_kernel_impl='auto',
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.arch = self._parse_arch(arch)
        check_impl(large_kernel_impl, 'large_kernel_impl')
        kernels, layers, channels, small_kernel, dw_ratio = (
            self.arch[k] for k in ARCH_KEYS)
        self.num_stages = len(layers)
        self.out_indices = self._parse_out_indices(out_indices)
        if bn_fused and not deploy:
            raise ValueError('bn_fused=True needs deploy=True: the large-'
                             'kernel branches are merged before the BNs are '
                             'fused')
        self._check_drop_path_rate(drop_path_rate)
        self.channels = list(channels)
        self.frozen_stages = self._check_frozen_stages(frozen_stages)
        self.norm_eval = norm_eval
        self.with_cp = with_cp

        c1 = channels[0]
        self.stem = nn.ModuleList([
            conv_bn(in_channels, c1, 3, stride=2, norm_cfg=norm_cfg, act=True),
            conv_bn(c1, c1, 3, groups=c1, norm_cfg=norm_cfg, act=True),
            conv_bn(c1, c1, 1, norm_cfg=norm_cfg, act=True),
            conv_bn(c1, c1, 3, stride=2, groups=c1, norm_cfg=norm_cfg,
                    act=True),
        ])
        rates = self._drop_path_rates(drop_path_rate, sum(layers))
        self.stages = nn.ModuleList()
        self.transitions = nn.ModuleList()
        for i, depth in enumerate(layers):
            first = sum(layers[:i])
            self.stages.append(RepLKNetStage(
                channels[i], kernels[i], small_kernel,
                rates[first:first + depth], dw_ratio=dw_ratio,
                ffn_ratio=ffn_ratio, norm_cfg=norm_cfg, with_cp=with_cp,
                norm_intermediate_features=norm_intermediate_features,
                deploy=deploy, impl=large_kernel_impl))
            if i < self.num_stages - 1:
                c_next = channels[i + 1]
                self.transitions.append(nn.Sequential(
                    conv_bn(channels[i], c_next, 1, norm_cfg=norm_cfg,
                            act=True),
                    conv_bn(c_next, c_next, 3, stride=2, groups=c_next,
                            norm_cfg=norm_cfg, act=True)))
        if bn_fused:
            fuse_conv_bn(self)
        self._freeze_stages()

    # ------------------------------------------------------------- arguments
    @classmethod
    def _parse_arch(cls, arch):
        arch = cls._named_arch(arch)
        missing = [k for k in ARCH_KEYS if k not in arch]
        extra = [k for k in arch if k not in ARCH_KEYS]
        if missing or extra:
            raise ValueError(f'arch dict: missing keys {missing}, unknown keys'
                             f' {extra}; expected exactly {list(ARCH_KEYS)}')
        lengths = {k: len(arch[k])
                   for k in ('large_kernel_sizes', 'layers', 'channels')}
        if len(set(lengths.values())) != 1:
            raise ValueError(f'arch: large_kernel_sizes, layers and channels '
                             f'must have the same length, got {lengths}')
        for k in arch['large_kernel_sizes']:  # what the op supports
            check_kernel_size(k, 'arch: large_kernel_sizes')
        small = arch['small_kernel']
        if small is not None:
            if small < 1 or small % 2 == 0:
                raise ValueError(
                    f'arch: small_kernel must be a positive odd number or '
                    f'None, got {small}')
            if small > min(arch['large_kernel_sizes']):
                raise ValueError(
                    f'arch: small_kernel ({small}) must not be larger than '
                    f'any large kernel ({arch["large_kernel_sizes"]})')
        if any(n < 1 for n in arch['layers']):
            raise ValueError(f'arch: layers must be >= 1, got {arch["layers"]}')
        if any(c < 1 for c in arch['channels']) or arch['dw_ratio'] <= 0:
            raise ValueError('arch: channels and dw_ratio must be positive')
        return arch

    # --------------------------------------------------------------- forward
    def forward(self, x):
        x, channels_last = self._inference_layout(x)
        x = self.stem[0](x)
        for layer in self.stem[1:]:
            x = checkpointed(layer, x, self.with_cp)
        outs = []
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i in self.out_indices:
                outs.append(stage.norm(x))
            if i < self.num_stages - 1:
                x = self.transitions[i](x)
        return self._caller_layout(outs, channels_last)

    # ----------------------------------------------------------- training
    decay_types = ('layer_wise', 'stage_wise')

    def _layer_depth(self, name, decay_type, num_layers):
        """The stem is layer 0, each (RepLKBlock, ConvFFN) pair
        ('layer_wise') or each stage ('stage_wise') one deeper; the last
        layer ``num_layers - 1`` (default: pairs + 2 or stages + 2) is what
        lies outside the backbone."""
        layers = self.arch['layers']
        num_layers = num_layers or (
            sum(layers) + 2 if decay_type == 'layer_wise'
            else len(layers) + 2)
        top = num_layers - 1
        parts = name.split('.')
        if parts[0] == 'stem':
            return 0, top
        if parts[0] not in ('stages', 'transitions'):
            return top, top
        stage = int(parts[1]) + (parts[0] == 'transitions')
        if decay_type == 'stage_wise':
            return min(stage + 1, top), top
        first = sum(layers[:stage])
        if parts[0] == 'stages' and parts[2] == 'blocks':
            return min(1 + first + int(parts[3]) // 2, top), top
        if parts[0] == 'stages':  # the stage's output norm: its last pair
            return min(first + layers[stage], top), top
        return min(1 + first, top), top  # the transition into `stage`

    def _frozen_modules(self):
        if self.frozen_stages < 0:
            return []
        modules = [self.stem]
        for i in range(self.frozen_stages):
            if i > 0:
                modules.append(self.transitions[i - 1])
            modules.append(self.stages[i])
        return modules
