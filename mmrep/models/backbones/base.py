"""What mmrep's backbones share: argument checks, freezing, norm_eval,
pretrained weights through mmrep's loader, and the switch to deploy."""
import copy

import torch
from mmengine.logging import MMLogger, print_log
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmrep.checkpoint import load_backbone_checkpoint
from mmrep.ops.heap import keep_large_maps
from mmrep.ops.onednn import (compiled_cpu_inference, cpu_inference,
                              to_channels_last)
from ..layers.reparam import Reparameterizable

_CPU_INFERENCE_NOTED = []


class RepBackbone(BaseModule):
    """Base of the re-parameterizable backbones.

    Subclasses set ``num_stages`` before calling :meth:`_parse_out_indices`
    and :meth:`_check_frozen_stages`, and return the modules that
    ``frozen_stages`` freezes from :meth:`_frozen_modules`.
    """

    num_stages = 4
    arch_settings = {}
    arch_keys = ()
    decay_types = ('layer_wise', )  # the layer-wise lr decay rules it has

    @classmethod
    def _named_arch(cls, arch):
        """A copy of the settings of ``arch``: a name of
        ``arch_settings``, a dict, or a dict with ``base`` (a name) and the
        keys it changes (see :meth:`_changed_arch`)."""
        if isinstance(arch, str):
            if arch not in cls.arch_settings:
                raise ValueError(
                    f'arch {arch!r} is unknown; choose one of '
                    f'{list(cls.arch_settings)} or pass a dict with keys '
                    f'{list(cls.arch_keys)}')
            arch = cls.arch_settings[arch]
        elif not isinstance(arch, dict):
            raise ValueError(f'arch must be a str or a dict, got {type(arch)}')
        elif 'base' in arch:
            base = arch['base']
            if base not in cls.arch_settings:
                raise ValueError(f'arch base {base!r} is unknown; choose one '
                                 f'of {list(cls.arch_settings)}')
            arch = cls._changed_arch(
                cls.arch_settings[base],
                {k: v for k, v in arch.items() if k != 'base'})
        return copy.deepcopy(dict(arch))

    @staticmethod
    def _changed_arch(settings, changes):
        return dict(settings, **changes)

    def _parse_out_indices(self, out_indices):
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        parsed = []
        for index in out_indices:
            if not -self.num_stages <= index < self.num_stages:
                raise ValueError(
                    f'out_indices: {index} is out of range for '
                    f'{self.num_stages} stages (valid: 0..{self.num_stages - 1}'
                    f' or negative)')
            parsed.append(index % self.num_stages)
        if not parsed:
            raise ValueError('out_indices must name at least one stage')
        return tuple(sorted(set(parsed)))

    def _check_frozen_stages(self, frozen_stages):
        if not -1 <= frozen_stages <= self.num_stages:
            raise ValueError(f'frozen_stages must be in [-1, {self.num_stages}]'
                             f', got {frozen_stages}')
        return frozen_stages

    @staticmethod
    def _check_drop_path_rate(rate):
        if not 0 <= rate < 1:
            raise ValueError(f'drop_path_rate must be in [0, 1), got {rate}')
        return rate

    @staticmethod
    def _drop_path_rates(rate, num):
        """``num`` stochastic-depth rates, linear from 0 to ``rate``: the
        official ``torch.linspace`` values (made on the CPU, so that a model
        built under ``torch.device('meta')`` gets the same)."""
        return torch.linspace(0, rate, num, device='cpu').tolist()

    # --------------------------------------------------------------- layout
    def _inference_layout(self, x):
        """``x`` and whether the forward runs channels_last: in CPU
        inference (:func:`mmrep.ops.onednn.cpu_inference`) every layer
        then runs oneDNN's blocked convolutions and its depthwise path
        without reorders between them, and so does a graph of it compiled
        by ``torch.compile``; elsewhere ``x`` as it is."""
        if compiled_cpu_inference(x, self):  # no log inside a graph
            return to_channels_last(x), True
        if cpu_inference(x, self):
            if not _CPU_INFERENCE_NOTED:
                _CPU_INFERENCE_NOTED.append(True)
                print_log(
                    'CPU inference: channels_last maps, oneDNN convolutions '
                    'with the BNs folded in and activations fused, weights '
                    'reordered once (said once; off with torch.backends.'
                    'mkldnn.flags(enabled=False))', logger='current')
                keep_large_maps()
            return to_channels_last(x), True
        return x, False

    @staticmethod
    def _caller_layout(outs, channels_last):
        """The stage maps in the layout the caller gave (contiguous NCHW
        after a channels_last forward), for heads that ``view`` them."""
        return tuple(o.contiguous() for o in outs) if channels_last \
            else tuple(outs)

    # ----------------------------------------------------------- training
    def _frozen_modules(self):
        raise NotImplementedError

    def _freeze_stages(self):
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def train(self, mode=True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self

    def get_layer_depth(self, param_name, prefix='',
                        decay_type='layer_wise', num_layers=None):
        """Depth of a parameter for layer-wise lr decay, as mmpretrain's
        backbones tell it (so that a constructor needs no backbone
        internals).

        Args:
            param_name (str): The parameter's name in the model, e.g.
                'backbone.stages.1.blocks.3.pw1.conv.weight'.
            prefix (str): What the model puts before the backbone's own
                names, e.g. 'backbone.'. A name without it (neck, heads)
                is of the last layer.
            decay_type (str): One of ``decay_types``.
            num_layers (int, optional): The family's layer count (see
                :meth:`_layer_depth`); defaults to the family's own.

        Returns:
            tuple[int, int]: The parameter's layer and the last layer.
        """
        if decay_type not in self.decay_types:
            raise ValueError(
                f'paramwise_cfg.decay_type must be one of {self.decay_types}'
                f", got {decay_type!r}: {type(self).__name__}'s rule is "
                f"{' or '.join(self.decay_types)}")
        if not param_name.startswith(prefix):
            _, top = self._layer_depth('', decay_type, num_layers)
            return top, top
        return self._layer_depth(param_name[len(prefix):], decay_type,
                                 num_layers)

    def _layer_depth(self, name, decay_type, num_layers):
        """(layer, last layer) of the backbone's parameter ``name``; a
        name that is not a backbone module's is of the last layer."""
        raise NotImplementedError

    # ------------------------------------------------------------ weights
    def init_weights(self):
        """Apply ``init_cfg``; its ``Pretrained`` entry (alone or in a list,
        applied last as in mmengine) goes through mmrep's loader, which
        reads every checkpoint source and format and reports keys by name.
        Extra keys of that entry: ``prefix``, ``strict``, ``model_key``."""
        init_cfgs = self.init_cfg if isinstance(self.init_cfg, list) else [
            self.init_cfg] if self.init_cfg else []
        pretrained = [c for c in init_cfgs if c.get('type') == 'Pretrained']
        if not pretrained:
            super().init_weights()
            return
        others = [c for c in init_cfgs if c.get('type') != 'Pretrained']
        if others:
            self.init_cfg = others
            try:
                super().init_weights()
            finally:
                self.init_cfg = init_cfgs
        for cfg in pretrained:
            load_backbone_checkpoint(
                self, cfg['checkpoint'], prefix=cfg.get('prefix'),
                logger=MMLogger.get_current_instance(),
                strict=cfg.get('strict', False),
                model_key=cfg.get('model_key'))
        self._is_init = True

    def reparam_modules(self):
        """The outermost modules with a ``switch_to_deploy`` (RepLKNet's
        large-kernel branches, UniRepLKNet's blocks)."""
        found = []

        def visit(module):
            for child in module.children():
                if isinstance(child, Reparameterizable):
                    found.append(child)
                else:
                    visit(child)

        visit(self)
        return found

    def switch_to_deploy(self):
        """Re-parameterize every block into its deploy form.

        Uses the BN running statistics; the model computes the same function
        in eval mode afterwards.
        """
        for module in self.reparam_modules():
            module.switch_to_deploy()
        return self
