"""Testing at deploy speed: re-parameterize the loaded model before testing."""
from mmengine.hooks import Hook
from mmengine.logging import print_log

from mmrep.models.layers import ReparamLargeKernelConv
from mmrep.registry import HOOKS, register_into_downstream


@HOOKS.register_module()
class ReparameterizeHook(Hook):
    """Before the test loop (after the checkpoint is loaded), merge every
    large-kernel branch of the model into its single deploy conv
    (``switch_to_deploy``, with the BN running statistics): the same
    predictions, computed at lower cost.

    ``tools/test.py --deploy`` adds it; in a config write
    ``custom_hooks = [dict(type='ReparameterizeHook')]``.
    """

    priority = 'VERY_LOW'

    def before_test(self, runner):
        branches = [m for m in runner.model.modules()
                    if isinstance(m, ReparamLargeKernelConv)]
        for branch in branches:
            branch.switch_to_deploy()
        print_log(f'ReparameterizeHook: merged {len(branches)} large-kernel '
                  f'branches for testing', logger='current')


register_into_downstream('HOOKS', ReparameterizeHook)
