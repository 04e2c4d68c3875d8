"""'auto' measures and chooses; forcing, the decision cache, bad
arguments."""
import json
import platform

import pytest
import torch
import torch.nn.functional as F

import mmrep.ops.dispatch as dispatch
import mmrep.ops.dwconv as dwconv
from mmrep.models import RepLKNet
from mmrep.ops import (DISPATCHER, ENV_CACHE, ENV_IMPL, LargeKernelDWConv2d,
                       depthwise_conv2d)
from mmrep.ops.implementations import onednn_available

from ..helpers import TINY_ARCH
from ..helpers.dispatch import FakeClock, fake_dispatcher, ran


def tensors(h=8):
    return torch.randn(1, 2, h, h), torch.randn(2, 1, 5, 5)


def test_auto_picks_the_fastest_and_keeps_it():
    dispatcher, calls = fake_dispatcher(dict(slow=3., fast=1., mid=2.))
    x, w = tensors()
    assert dispatcher.choose(x, w, None, training=True) == 'fast'
    assert set(ran(calls)) == {'slow', 'fast', 'mid'}
    calls.clear()
    assert dispatcher.choose(x, w, None, training=True) == 'fast'
    assert calls == []  # kept, not measured again
    # inference and another shape are other cases: measured again
    assert dispatcher.choose(x, w, None, training=False) == 'fast'
    assert dispatcher.choose(*tensors(9), None, training=True) == 'fast'
    assert len(dispatcher.choices) == 3


def test_a_slow_candidate_stops_being_timed_early():
    dispatcher, calls = fake_dispatcher(dict(fast=1., slow=10.))
    dispatcher.choose(*tensors(), None, training=False)
    assert calls.count('fast') == 1 + dispatcher.repeats
    assert calls.count('slow') == 2  # the warm-up and one timed call


@pytest.mark.parametrize('training, torch_forwards', [
    (False, 2),  # the reference ran channels_last: its own warm-up
    (True, 1),  # the reference was its very call: no warm-up of its own
])
def test_the_reference_warms_up_torch_only_where_it_was_its_call(
        training, torch_forwards):
    dispatcher, calls = fake_dispatcher(dict(fast=1., torch=10.))
    dispatcher.choose(*tensors(), None, training=training)
    assert calls.count('torch') == torch_forwards


@pytest.mark.parametrize('cost, torch_forwards', [
    (10., 1),  # far behind on its reference call: not run again
    (1.2, 3),  # close: the reference call was its warm-up, then timed
])
def test_pytorchs_call_that_computed_the_reference_is_timed(
        cost, torch_forwards):
    """Training on the CPU in float32, the reference is PyTorch's
    candidate's very call: it is computed by that call, timed, and that
    time stands where it is already far behind the best."""
    dispatcher, calls = fake_dispatcher(dict(fast=1., torch=cost))
    x, w = tensors()
    dispatcher.choose(x, w, None, training=True)
    assert ran(calls)[:2] == ['torch', 'torch']  # forward, backward first
    assert calls.count('torch') == torch_forwards
    times = dispatcher.timings[dispatch.case_key(x, w, True)]
    assert times == pytest.approx(dict(fast=2., torch=2 * cost))


def test_a_slow_warm_up_alone_does_not_decide():
    clock = FakeClock()
    dispatcher, calls = fake_dispatcher(dict(fast=1., lazy=0.5), clock)
    first = []

    def forward(x, weight, bias=None):  # 'lazy' pays 10 s once
        clock.now += 10. if not first else 0.
        first.append(1)
        return type(lazy).forward(lazy, x, weight, bias)

    lazy = dispatcher.implementations['lazy']
    lazy.forward = forward
    assert dispatcher.choose(*tensors(), None, training=False) == 'lazy'


def test_training_times_the_backward_too():
    dispatcher, calls = fake_dispatcher(dict(a=1., b=2.))
    dispatcher.choose(*tensors(), None, training=True)
    assert ('b', 'backward') in calls
    calls.clear()
    dispatcher.choose(*tensors(), None, training=False)
    assert calls and all(isinstance(c, str) for c in calls)


def test_environment_forces_an_implementation(monkeypatch):
    messages = []
    monkeypatch.setattr(dispatch, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    dispatcher, calls = fake_dispatcher(dict(slow=3., fast=1.))
    monkeypatch.setenv(ENV_IMPL, 'slow')
    assert dispatcher.choose(*tensors(), None, training=True) == 'slow'
    assert dispatcher.choose(*tensors(), None, training=False) == 'slow'
    assert calls == [] and dispatcher.choices == {}
    # visible: said once, with the rule
    said = [m for m in messages if f'{ENV_IMPL}=slow' in m]
    assert len(said) == 1 and 'configured with another' in said[0]
    monkeypatch.setenv(ENV_IMPL, 'cudnn')
    with pytest.raises(ValueError, match=ENV_IMPL):
        dispatcher.choose(*tensors(), None, training=True)


def test_argument_forces_an_implementation(monkeypatch):
    # a configured implementation wins over the environment's, which
    # replaces 'auto' only (the dispatcher, never asked, never reads it)
    monkeypatch.setenv(ENV_IMPL, 'torch')
    ran = []
    monkeypatch.setattr(DISPATCHER, 'choose',
                        lambda *a: ran.append(a) or 'torch')
    x, w = tensors()
    depthwise_conv2d(x, w, impl='rows')
    assert ran == []
    depthwise_conv2d(x, w, impl='auto')
    assert len(ran) == 1


def test_decisions_persist_in_the_cache_file(monkeypatch, tmp_path):
    path = tmp_path / 'decisions' / 'dwconv.json'
    monkeypatch.setenv(ENV_CACHE, str(path))
    first, _ = fake_dispatcher(dict(a=2., b=1.))
    first.choose(*tensors(), None, training=True)
    table = json.loads(path.read_text())
    (namespace, decisions), = table.items()
    assert f'torch {torch.__version__}' in namespace
    assert list(decisions.values()) == ['b']
    # a new process (dispatcher) where 'a' would now win reads 'b': it runs
    # 'b' once to check it, and times nothing else
    second, calls = fake_dispatcher(dict(a=1., b=2.))
    assert second.choose(*tensors(), None, training=True) == 'b'
    assert calls == ['b', ('b', 'backward')]


def test_choice_is_logged_once_per_case(monkeypatch):
    messages = []
    monkeypatch.setattr(dispatch, 'print_log',
                        lambda msg, **kw: messages.append(msg))
    dispatcher, _ = fake_dispatcher(dict(a=2., b=1.))
    for _ in range(3):
        dispatcher.choose(*tensors(), None, training=True)
    assert len(messages) == 1 and ': b (' in messages[0]


def test_real_auto_times_every_cpu_candidate_and_keeps_the_fastest():
    x, w = torch.randn(1, 4, 11, 13), torch.randn(4, 1, 7, 7)
    y = depthwise_conv2d(x, w, impl='auto')
    (key, choice), = DISPATCHER.choices.items()
    assert 'cpu|float32|c4|k7|n1|h9-11|w12-16|nchw|infer' == key
    times = DISPATCHER.timings[key]
    # Triton: CUDA only; PyTorch's in channels_last: oneDNN's CPU path
    assert set(times) == {'torch', 'rows', 'dense'} | (
        {'channels_last'} if onednn_available() else set())
    assert all(0 < t < float('inf') for t in times.values())
    assert choice == min(times, key=times.get)
    ref = F.conv2d(x.double(), w.double(), padding=3, groups=4)
    assert ((y.double() - ref).norm() / ref.norm()) < 1e-5


def test_measuring_leaves_the_random_state_alone():
    x = torch.randn(2, 4, 12, 12, requires_grad=True)
    w = torch.randn(4, 1, 7, 7, requires_grad=True)
    state = torch.get_rng_state()
    depthwise_conv2d(x, w, impl='auto').sum().backward()
    assert DISPATCHER.choices  # it measured
    assert torch.equal(torch.get_rng_state(), state)


def test_tracing_uses_pytorch():
    conv = LargeKernelDWConv2d(4, 7)
    graph = torch.jit.trace(conv, torch.randn(1, 4, 9, 9),
                            check_trace=False).inlined_graph
    assert 'aten::_convolution' in str(graph)
    assert DISPATCHER.choices == {}


def test_backbone_defaults_to_auto_in_every_large_kernel():
    model = RepLKNet(arch=TINY_ARCH)
    convs = [m for m in model.modules() if isinstance(m, LargeKernelDWConv2d)]
    assert len(convs) == 4 and all(m.impl == 'auto' for m in convs)
    # the official parameter names are unchanged
    assert 'stages.0.blocks.0.large_kernel.lkb_origin.conv.weight' in \
        model.state_dict()


@pytest.mark.parametrize('x, w, impl, match', [
    ((1, 2, 8, 8), (2, 1, 7, 7), 'cudnn', 'impl must be one of'),
    ((1, 2, 8, 8), (2, 1, 6, 6), 'torch', 'kernel size must be odd'),
    ((1, 2, 8, 8), (2, 1, 65, 65), 'torch', r'\[3, 63\]'),
    ((1, 3, 8, 8), (2, 1, 7, 7), 'torch', 'does not match'),
    ((2, 8, 8), (2, 1, 7, 7), 'torch', 'expects x'),
])
def test_bad_arguments(x, w, impl, match):
    with pytest.raises(ValueError, match=match):
        depthwise_conv2d(torch.randn(*x), torch.randn(*w), impl=impl)


def test_the_module_checks_its_arguments_once_at_construction(monkeypatch):
    with pytest.raises(ValueError, match='impl must be one of'):
        LargeKernelDWConv2d(4, 7, impl='cuda')
    with pytest.raises(ValueError, match=r'kernel_size must be odd and in'):
        LargeKernelDWConv2d(4, 65)
    conv = LargeKernelDWConv2d(4, 7, impl='torch')
    checked = []
    monkeypatch.setattr(dwconv, 'check_impl', checked.append)
    conv(torch.randn(1, 4, 9, 9))
    assert checked == []  # not again in the forward
    with pytest.raises(ValueError, match='does not match 3 input channels'):
        conv(torch.randn(1, 3, 9, 9))


def test_large_trials_hand_freed_memory_back(monkeypatch):
    """The trials' thread frees into its own malloc arena; a bucket whose
    trials held TRIM_BYTES or more hands that memory back (else peak RSS
    grows by it), a smaller one does not (a hand-back costs the caller page
    faults)."""
    if platform.libc_ver()[0] == 'glibc':
        assert dispatch.MALLOC_TRIM is not None
    trims = []
    monkeypatch.setattr(dispatch, 'return_freed_memory',
                        lambda: trims.append(1))
    x, w = tensors()
    monkeypatch.setattr(dispatch, 'TRIM_BYTES',
                        dispatch.trial_bytes(x, spot=False))
    dispatcher, _ = fake_dispatcher(dict(a=2., b=1.))
    dispatcher.choose(x, w, None, training=True)
    assert len(trims) == 1
    dispatcher.choose(x, w, None, training=True)  # decided: no trial
    assert len(trims) == 1
    dispatcher.choose(*tensors(h=7), None, training=True)  # smaller
    assert len(trims) == 1
    x = torch.randn(1, 64, 8, 8)
    assert dispatch.trial_bytes(x, spot=True) * 4 == \
        dispatch.trial_bytes(x, spot=False) == 5 * 4 * x.numel()
