"""Turn the checkpoints users bring into the ones mmrep's configs load.

* ImageNet weights (official release or mmpretrain conversion) become a
  clean backbone checkpoint: backbone keys only, no prefix, no classifier.
* Official downstream checkpoints (mmseg 0.x UperNet, mmdet 2.x FCOS /
  Cascade Mask R-CNN) keep their module names, which mmseg 1.x / mmdet 3.x
  still use; the conversion drops the optimizer state and pickled metadata,
  and, given the target config, checks every key and shape against it.
"""

from .loading import (CLASSIFIER_PREFIXES, CheckpointError,
                      backbone_state_dict, compare_keys, read_checkpoint,
                      unwrap_state_dict)

DOWNSTREAM_PREFIXES = ('decode_head.', 'auxiliary_head.', 'neck.',
                       'rpn_head.', 'roi_head.', 'bbox_head.')


def detect_format(state_dict):
    """'downstream' (a whole segmentor/detector), 'mmpretrain' or
    'official' (ImageNet classifiers)."""
    if any(k.startswith(DOWNSTREAM_PREFIXES) for k in state_dict):
        return 'downstream'
    if any(k.startswith('backbone.') for k in state_dict):
        return 'mmpretrain'
    return 'official'


def convert_imagenet(state_dict):
    """Backbone-only weights with official names."""
    state_dict = backbone_state_dict(state_dict)
    return {k: v for k, v in state_dict.items()
            if not k.startswith(CLASSIFIER_PREFIXES)}


def check_against_model(state_dict, model, source):
    """Raise if keys or shapes differ from ``model``'s state dict."""
    diff = compare_keys(state_dict, model.state_dict())
    problems = []
    if diff.missing:
        problems.append('missing keys: ' + ', '.join(diff.missing))
    if diff.unexpected:
        problems.append('unexpected keys: ' + ', '.join(diff.unexpected))
    if diff.mismatched:
        problems.append('shape mismatches:\n  '
                        + '\n  '.join(diff.mismatched))
    if problems:
        raise CheckpointError(f'{source} does not fit the model:\n'
                              + '\n'.join(problems))


def convert_checkpoint(src, model=None, model_key=None):
    """Read ``src`` and return ``(checkpoint_dict, format)``.

    ImageNet formats become ``{'state_dict': backbone weights}``; a
    downstream checkpoint becomes ``{'state_dict': all weights}``. With
    ``model`` (a backbone for ImageNet formats, a segmentor/detector for
    downstream ones) keys and shapes are checked. ``model_key`` picks the
    weights of a container (``'model_ema'`` of the official training
    script).
    """
    state_dict = unwrap_state_dict(read_checkpoint(src), src, model_key)
    fmt = detect_format(state_dict)
    if fmt != 'downstream':
        state_dict = convert_imagenet(state_dict)
    if model is not None:
        check_against_model(state_dict, model, src)
    meta = dict(converted_from=str(src), source_format=fmt)
    return dict(meta=meta, state_dict={k: v.contiguous()
                                       for k, v in state_dict.items()}), fmt
