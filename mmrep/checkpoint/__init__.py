from .convert import (check_against_model, convert_checkpoint,
                      convert_imagenet, detect_format)
from .loading import (CheckpointError, KeyDiff, LoadReport,
                      backbone_state_dict, compare_keys,
                      load_backbone_checkpoint, load_state_dict_by_name,
                      read_checkpoint, unwrap_state_dict)
from .safe_types import allow_checkpoint_types
from .sources import open_checkpoint

__all__ = ['CheckpointError', 'KeyDiff', 'LoadReport',
           'allow_checkpoint_types', 'backbone_state_dict',
           'check_against_model', 'compare_keys', 'convert_checkpoint',
           'convert_imagenet', 'detect_format', 'load_backbone_checkpoint',
           'load_state_dict_by_name', 'open_checkpoint', 'read_checkpoint',
           'unwrap_state_dict']
