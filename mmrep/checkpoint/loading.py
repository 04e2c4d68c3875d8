"""Read RepLKNet and UniRepLKNet weights in the formats users bring and
load them by name.

Formats understood (detected from the keys, see :func:`backbone_state_dict`):

* the official ImageNet release: a plain state_dict, or one under ``'model'``,
  with the classifier's ``norm.*`` and ``head.*`` (ignored here);
* mmpretrain conversions: the same names under ``backbone.``;
* downstream checkpoints (official mmseg 0.x / mmdet 2.x ones and mmengine's):
  ``state_dict`` with ``backbone.``, ``decode_head.``, ``neck.``... prefixes.

Containers: the official training script's ``{'model', 'model_ema',
'optimizer', 'scaler', 'epoch', 'args'}`` (``args`` an argparse.Namespace),
mmcv 1.x / mmengine files with ``meta`` (config text, class names, numpy
scalars). Files are read with ``weights_only=True`` and the harmless types
of :mod:`mmrep.checkpoint.safe_types`; anything else is refused by name.
"""
import re
from dataclasses import dataclass, field

import torch

from .safe_types import needs_newer_torch
from .sources import open_checkpoint

# Keys of the official ImageNet classifiers that a backbone does not have.
CLASSIFIER_PREFIXES = ('norm.', 'head.')
# Top-level module names that tell the two families' checkpoints apart.
FAMILY_PREFIXES = {'RepLKNet': ('stem.', 'transitions.'),
                   'UniRepLKNet': ('downsample_layers.', )}


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be read or does not fit the model."""


def read_checkpoint(path):
    """Load ``path`` (a file, URL or any mmengine checkpoint scheme, see
    :mod:`mmrep.checkpoint.sources`) on the CPU with ``weights_only=True``,
    raising :class:`CheckpointError` naming the file."""
    source = open_checkpoint(path)
    try:
        return torch.load(source, map_location='cpu', weights_only=True)
    except Exception as err:  # torch raises several types for a bad file
        if 'WeightsUnpickler error' in str(err):
            # 'GLOBAL m.name was not an allowed global' (torch >= 2.4),
            # 'Unsupported class m.name' (older)
            refused = re.search(r'(?:GLOBAL|Unsupported class) ([\w.]+)',
                                str(err))
            what = (f'a pickled {refused.group(1)}' if refused else
                    'pickled data')
            newer = refused and needs_newer_torch(refused.group(1))
            if newer:
                raise CheckpointError(
                    f'checkpoint file {path!r} holds {what}, which torch '
                    f'{torch.__version__} cannot read weights-only; reading '
                    f'it needs {newer}. Upgrade torch, or convert the file '
                    f'once where torch is newer (tools/convert_checkpoint.py '
                    f'writes the weights alone, which every torch reads)'
                ) from err
            raise CheckpointError(
                f'checkpoint file {path!r} holds {what}, which mmrep does '
                f'not unpickle (only tensors and a few harmless types are '
                f'read); save the weights alone with torch.save(state_dict)'
            ) from err
        raise CheckpointError(
            f'checkpoint file {path!r} is not a readable PyTorch checkpoint '
            f'(corrupted or truncated): {err}') from err


# Where the weights are in the containers users bring, in order of priority
# when the user does not name one: mmengine / mmcv files, then the official
# training script's (which may also hold 'model_ema').
WEIGHT_KEYS = ('state_dict', 'model')


def unwrap_state_dict(obj, path='<checkpoint>', model_key=None):
    """Return the state dict inside a loaded checkpoint object: the entry
    ``model_key`` (e.g. ``'model_ema'``) when given, else ``state_dict`` or
    ``model``, else ``obj`` itself."""
    if not isinstance(obj, dict):
        raise CheckpointError(f'{path!r} holds a {type(obj).__name__}, not a '
                              f'state dict')
    if model_key is not None:
        if not isinstance(obj.get(model_key), dict):
            raise CheckpointError(
                f'{path!r} has no weights under {model_key!r} (its entries: '
                f'{sorted(obj)[:10]})')
        obj = obj[model_key]
    else:
        key = next((k for k in WEIGHT_KEYS if isinstance(obj.get(k), dict)),
                   None)
        obj = obj[key] if key else obj
    tensors = {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not tensors:
        raise CheckpointError(f'{path!r} holds no tensors (keys: '
                              f'{sorted(obj)[:10]})')
    return {k[len('module.'):] if k.startswith('module.') else k: v
            for k, v in tensors.items()}


def backbone_state_dict(state_dict, prefix=None):
    """Keep the backbone's entries, with names relative to the backbone.

    With ``prefix`` given, only keys under it are kept. Otherwise a
    ``backbone.`` prefix is detected (mmpretrain and downstream formats);
    a plain official state dict is returned unchanged.
    """
    if prefix is None and any(k.startswith('backbone.') for k in state_dict):
        prefix = 'backbone.'
    if not prefix:
        return dict(state_dict)
    prefix = prefix if prefix.endswith('.') else prefix + '.'
    return {k[len(prefix):]: v for k, v in state_dict.items()
            if k.startswith(prefix)}


@dataclass
class KeyDiff:
    """How a state dict's keys differ from a model's: the model's keys the
    file lacks, the file's keys the model lacks, and the shared keys whose
    shapes differ (``'key: checkpoint (..) vs model (..)'``)."""
    missing: list
    unexpected: list
    mismatched: list

    def __bool__(self):
        return bool(self.missing or self.unexpected or self.mismatched)


def compare_keys(state_dict, own):
    """The :class:`KeyDiff` of ``state_dict`` against ``own`` (a model's
    state dict): the one key check of loading, converting and resuming."""
    return KeyDiff(
        missing=sorted(set(own) - set(state_dict)),
        unexpected=sorted(set(state_dict) - set(own)),
        mismatched=[f'{k}: checkpoint {tuple(v.shape)} vs model '
                    f'{tuple(own[k].shape)}' for k, v in state_dict.items()
                    if k in own and tuple(v.shape) != tuple(own[k].shape)])


@dataclass
class LoadReport:
    """What a load did: keys missing in the file, unexpected in the model,
    and classifier keys ignored on purpose."""
    missing: list = field(default_factory=list)
    unexpected: list = field(default_factory=list)
    ignored: list = field(default_factory=list)


def load_state_dict_by_name(model, state_dict, source='<checkpoint>',
                            logger=None, strict=False):
    """Copy ``state_dict`` into ``model`` key by key.

    Shape mismatches raise (naming key and both shapes), as does a file
    sharing no key with the model. Missing and unexpected keys are reported by
    name through ``logger``; with ``strict`` they raise.
    """
    own = model.state_dict()
    ignored = sorted(k for k in state_dict
                     if k.startswith(CLASSIFIER_PREFIXES) and k not in own)
    state_dict = {k: v for k, v in state_dict.items() if k not in ignored}
    diff = compare_keys(state_dict, own)
    if diff.mismatched:
        raise CheckpointError(
            f'{source}: shape mismatch for {len(diff.mismatched)} key(s) - is '
            f'it a checkpoint of another arch?\n  '
            + '\n  '.join(diff.mismatched))
    if not set(state_dict) & set(own):
        raise CheckpointError(
            f'{source}: no key matches {type(model).__name__} (the file has '
            f'e.g. {sorted(state_dict)[:5]}); it is not a checkpoint of this '
            f'model{_family_hint(state_dict)}')
    # the differences are reported by name below, or raise under strict
    model.load_state_dict(state_dict, strict=False)
    report = LoadReport(diff.missing, diff.unexpected, ignored)
    _report(report, source, logger, strict)
    return report


def _family_hint(state_dict):
    for family, prefixes in FAMILY_PREFIXES.items():
        if any(k.startswith(prefixes) for k in state_dict):
            return f' (its keys are those of a {family})'
    return ''


def _report(report, source, logger, strict):
    lines = []
    if report.missing:
        lines.append(f'missing keys in {source} (left as initialized): '
                     + ', '.join(report.missing))
    if report.unexpected:
        lines.append(f'unexpected keys in {source} (not used): '
                     + ', '.join(report.unexpected))
    if strict and lines:
        raise CheckpointError('\n'.join(lines))
    if logger is not None:
        for line in lines:
            logger.warning(line)
        if report.ignored:
            logger.info(f'ignored the ImageNet classifier keys of {source}: '
                        + ', '.join(report.ignored))


def load_backbone_checkpoint(model, path, prefix=None, logger=None,
                             strict=False, model_key=None):
    """Load a RepLKNet or UniRepLKNet backbone's weights from any supported
    format; ``model_key`` picks the entry of a container (e.g. ``'model_ema'``)."""
    checkpoint = read_checkpoint(path)
    if (model_key is None and logger is not None and
            isinstance(checkpoint, dict) and 'model_ema' in checkpoint):
        logger.info(f'{path} holds "model" and "model_ema" weights; loading '
                    f'"model" (init_cfg.model_key="model_ema" loads the EMA '
                    f'weights)')
    state_dict = unwrap_state_dict(checkpoint, path, model_key)
    state_dict = backbone_state_dict(state_dict, prefix)
    report = load_state_dict_by_name(model, state_dict, source=path,
                                     logger=logger, strict=strict)
    if logger is not None:
        used = len(state_dict) - len(report.unexpected) - len(report.ignored)
        logger.info(f'loaded {used} tensors into {type(model).__name__} '
                    f'from {path}')
    return report
