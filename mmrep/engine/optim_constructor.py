"""An optimizer wrapper constructor whose parameter groups ``torch.compile``
can trace."""
from mmengine.optim import DefaultOptimWrapperConstructor

from mmrep.registry import register


@register('OPTIM_WRAPPER_CONSTRUCTORS')
class PlainGroupsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor, handing the optimizer plain ``dict``
    parameter groups.

    With a ``paramwise_cfg``, mmengine's constructor puts the groups into
    the optimizer's ConfigDict, which turns each into a ConfigDict; under
    mmengine's ``compile=True`` (``torch.compile`` of the whole
    ``train_step``, optimizer step included) TorchDynamo then fails inside
    ``optimizer.step`` ("'UserDefinedDictVariable' object has no attribute
    'items'", torch 2.13). The groups' contents are unchanged.

    Example::

        optim_wrapper = dict(
            type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4),
            constructor='PlainGroupsOptimWrapperConstructor',
            paramwise_cfg=dict(norm_decay_mult=0.))
    """

    def __call__(self, model):
        optim_wrapper = super().__call__(model)
        groups = optim_wrapper.optimizer.param_groups
        groups[:] = [dict(group) for group in groups]
        return optim_wrapper
