"""The backbone with impl='auto' computes what it computes with 'torch':
outputs and gradients, in training form and in deploy form."""
import copy

import pytest
import torch
import torch.nn as nn

from mmrep.models import RepLKNet
from mmrep.ops import DISPATCHER, ENV_IMPL

from ..helpers import TINY_ARCH

# large enough kernels and maps that the row form uses several blocks
ARCH = dict(TINY_ARCH, large_kernel_sizes=[13, 11, 7, 5])


def rel_err(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def trained_like(model):
    """Random BN statistics, as a trained model has (eval mode: BN is then
    a fixed affine map and the gradients are well conditioned)."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.)
    return model.eval()


def outputs_and_grads(model, x):
    x = x.clone().requires_grad_()
    model.zero_grad()
    outs = model(x)
    sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).sum()
        for o in outs).backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    return list(outs), dict(grads, input=x.grad)


def assert_same(model, reference, x):
    got_out, got_grad = outputs_and_grads(model, x)
    want_out, want_grad = outputs_and_grads(reference, x)
    for a, b in zip(got_out, want_out):
        assert rel_err(a, b) < 1e-5
    assert got_grad.keys() == want_grad.keys()
    for name in want_grad:
        assert rel_err(got_grad[name], want_grad[name]) < 1e-4, name


# None: 'auto' measures (also inside activation checkpointing, whose
# recomputation must see the same calls); 'rows'/'dense': 'auto' forced
# through the environment, so both matrix forms run inside the backbone.
@pytest.mark.parametrize('forced, with_cp', [(None, False), (None, True),
                                             ('rows', False),
                                             ('dense', False)])
def test_auto_matches_torch_in_training_and_deploy_form(forced, with_cp,
                                                        monkeypatch):
    if forced:
        monkeypatch.setenv(ENV_IMPL, forced)
    else:
        monkeypatch.delenv(ENV_IMPL, raising=False)
    torch.manual_seed(0)
    reference = trained_like(RepLKNet(arch=ARCH, large_kernel_impl='torch'))
    auto = RepLKNet(arch=ARCH, large_kernel_impl='auto', with_cp=with_cp)
    auto.load_state_dict(reference.state_dict())
    auto.eval()
    x = torch.randn(2, 3, 96, 80)

    assert_same(auto, reference, x)
    assert bool(DISPATCHER.choices) != bool(forced)  # measured unless forced
    assert_same(copy.deepcopy(auto).switch_to_deploy(),
                copy.deepcopy(reference).switch_to_deploy(), x)
