"""Read RepLKNet weights in the formats users bring and load them by name.

Formats understood (detected from the keys, see :func:`backbone_state_dict`):

* the official ImageNet release: a plain state_dict, or one under ``'model'``,
  with the classifier's ``norm.*`` and ``head.*`` (ignored here);
* mmpretrain conversions: the same names under ``backbone.``;
* downstream checkpoints (official mmseg 0.x / mmdet 2.x ones and mmengine's):
  ``state_dict`` with ``backbone.``, ``decode_head.``, ``neck.``... prefixes.
"""
import os.path as osp
from dataclasses import dataclass, field

import torch

# Keys of the official ImageNet classifier that a backbone does not have.
CLASSIFIER_PREFIXES = ('norm.', 'head.')


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be read or does not fit the model."""


def read_checkpoint(path):
    """Load ``path`` on the CPU with ``weights_only=True`` (no arbitrary
    pickled objects), raising :class:`CheckpointError` naming the file."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file {path!r} does not exist')
    try:
        return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # torch raises several types for a bad file
        raise CheckpointError(
            f'checkpoint file {path!r} is not a readable PyTorch checkpoint '
            f'of tensors (corrupted, truncated, or holding pickled objects '
            f'that weights_only=True refuses): {err}') from err


def unwrap_state_dict(obj, path='<checkpoint>'):
    """Return the state dict inside a loaded checkpoint object."""
    if not isinstance(obj, dict):
        raise CheckpointError(f'{path!r} holds a {type(obj).__name__}, not a '
                              f'state dict')
    for key in ('state_dict', 'model'):
        if key in obj and isinstance(obj[key], dict):
            obj = obj[key]
            break
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
    mismatched = [f'{k}: checkpoint {tuple(v.shape)} vs model '
                  f'{tuple(own[k].shape)}'
                  for k, v in state_dict.items()
                  if k in own and v.shape != own[k].shape]
    if mismatched:
        raise CheckpointError(
            f'{source}: shape mismatch for {len(mismatched)} key(s) - is it a '
            f'checkpoint of another arch?\n  ' + '\n  '.join(mismatched))
    if not set(state_dict) & set(own):
        raise CheckpointError(
            f'{source}: no key matches {type(model).__name__} (the file has '
            f'e.g. {sorted(state_dict)[:5]}); it is not a checkpoint of this '
            f'model')
    result = model.load_state_dict(state_dict, strict=False)
    report = LoadReport(sorted(result.missing_keys),
                        sorted(result.unexpected_keys), ignored)
    _report(report, source, logger, strict)
    return report


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
                             strict=False):
    """Load a RepLKNet backbone's weights from any supported format."""
    state_dict = unwrap_state_dict(read_checkpoint(path), path)
    state_dict = backbone_state_dict(state_dict, prefix)
    report = load_state_dict_by_name(model, state_dict, source=path,
                                     logger=logger, strict=strict)
    if logger is not None:
        used = len(state_dict) - len(report.unexpected) - len(report.ignored)
        logger.info(f'loaded {used} tensors into {type(model).__name__} '
                    f'from {path}')
    return report
