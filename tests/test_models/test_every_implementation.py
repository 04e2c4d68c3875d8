"""Both families at full size (RepLKNet-31B, UniRepLKNet-T) in every
implementation of the large-kernel op: a training forward + backward, eval
and the deploy form, each equal to PyTorch's convolution ('torch'). This
module is what make test-torch checks first on an older torch."""
import pytest
import torch

from mmrep.models import RepLKNet, UniRepLKNet
from mmrep.ops import LargeKernelDWConv2d

from ..helpers import needs_triton, randomize_bn
from ..helpers.unireplknet import randomize_unireplknet

# Full size under Triton's CPU interpreter would take many minutes; there
# tests/test_ops/test_triton_dwconv.py runs a tiny backbone through it.
IMPLS = ['auto', 'rows', 'dense', pytest.param('triton', marks=[
    needs_triton, pytest.mark.skipif(not torch.cuda.is_available(),
                                     reason='full size: GPU only')])]
# BN in eval mode while training (norm_eval): batch statistics of 1x2x2
# maps would amplify the last bits of any two implementations' rounding
FAMILIES = {
    'RepLKNet-31B': lambda impl: RepLKNet(
        arch='31B', drop_path_rate=0., norm_eval=True, large_kernel_impl=impl),
    'UniRepLKNet-T': lambda impl: UniRepLKNet(
        arch='T', drop_path_rate=0., norm_eval=True, large_kernel_impl=impl),
}
RANDOMIZE = {'RepLKNet-31B': randomize_bn,
             'UniRepLKNet-T': randomize_unireplknet}


def run(family, impl):
    """(training outputs, input gradient, a weight gradient per large
    kernel, eval outputs, deploy-form outputs) of one fixed model."""
    torch.manual_seed(0)
    model = FAMILIES[family](impl)
    RANDOMIZE[family](model)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    model.train()
    xg = x.clone().requires_grad_()
    train_outs = model(xg)
    sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).sum()
        for o in train_outs).backward()
    kernels = [m.weight.grad.clone() for m in model.modules()
               if isinstance(m, LargeKernelDWConv2d)]
    model.eval()
    with torch.no_grad():
        eval_outs = model(x)
        model.switch_to_deploy()
        deploy_outs = model(x)
    return ([o.detach() for o in train_outs], [xg.grad], kernels,
            list(eval_outs), list(deploy_outs))


@pytest.fixture(scope='module')
def reference():
    """The 'torch' results, once per family."""
    return {}


def rel_err(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('family', list(FAMILIES))
def test_equals_pytorchs_convolution(family, impl, reference):
    if family not in reference:
        reference[family] = run(family, 'torch')
    want, got = reference[family], run(family, impl)
    names = ('training output', 'input gradient', 'large-kernel gradient',
             'eval output', 'deploy-form output')
    for name, got_part, want_part in zip(names, got, want):
        assert len(got_part) == len(want_part) > 0, name
        for i, (a, b) in enumerate(zip(got_part, want_part)):
            assert rel_err(a, b) < 1e-4, f'{family} {impl}: {name} {i}'
    # the deploy form computes what the eval form does
    for a, b in zip(got[4], got[3]):
        assert rel_err(a, b) < 1e-4
