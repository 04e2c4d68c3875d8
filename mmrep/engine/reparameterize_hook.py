"""Testing at deploy speed: re-parameterize the loaded model before testing."""
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmrep.models.backbones.base import RepBackbone
from mmrep.registry import register


@register('HOOKS')
class ReparameterizeHook(Hook):
    """Before the test loop (after the checkpoint is loaded), switch every
    RepLKNet / UniRepLKNet backbone of the model to its deploy form
    (``switch_to_deploy``, with the BN running statistics): the same
    predictions, computed at lower cost.

    ``tools/test.py --deploy`` adds it; in a config write
    ``custom_hooks = [dict(type='ReparameterizeHook')]``.
    """

    priority = 'VERY_LOW'

    def before_test(self, runner):
        for backbone in [m for m in runner.model.modules()
                         if isinstance(m, RepBackbone)]:
            blocks = len(backbone.reparam_modules())
            backbone.switch_to_deploy()
            print_log(f'ReparameterizeHook: re-parameterized {blocks} blocks '
                      f'of {type(backbone).__name__} for testing',
                      logger='current')
