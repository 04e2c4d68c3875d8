"""'auto' decides per bucket of shapes: a new shape of a known bucket costs
no timing, the measuring is bounded, a wrong or failing candidate is never
chosen for a bucket's shapes, and the cache file and odd inputs (a corrupt
file, empty and 1x1 maps) neither crash nor change the numbers."""
import json
import logging

import pytest
import torch
import torch.nn.functional as F

import mmrep.ops.dispatch as dispatch
import mmrep.ops.dwconv as dwconv
from mmrep.ops import (DISPATCHER, ENV_CACHE, IMPLEMENTATIONS, IMPLS,
                       Kernels, depthwise_conv2d)
from mmrep.ops.dispatch import case_key
from mmrep.ops.implementations import TorchKernels

from ..helpers.dispatch import FakeKernels, fake_dispatcher, ran

TORCH = TorchKernels()


def tensors(n=1, h=8, w=8, c=2, k=5):
    gen = torch.Generator().manual_seed(h * 1000 + w)
    return (torch.randn(n, c, h, w, generator=gen),
            torch.randn(c, 1, k, k, generator=gen))


@pytest.fixture
def logged(monkeypatch):
    """What the dispatcher logs: (message, level)."""
    messages = []
    monkeypatch.setattr(dispatch, 'print_log', lambda msg, **kw: messages.
                        append((msg, kw.get('level', logging.INFO))))
    return messages


@pytest.mark.parametrize('first, then', [
    ((1, 91, 128), (1, 128, 91)),  # heights and widths 91..128
    ((3, 12, 16), (4, 16, 13)),  # batches 3..4, sizes 12..16
])
def test_a_new_shape_of_a_known_bucket_costs_no_timing(first, then):
    dispatcher, calls = fake_dispatcher(dict(slow=2., fast=1.))
    x, w = tensors(*first)
    assert dispatcher.choose(x, w, None, training=False) == 'fast'
    assert calls
    calls.clear()
    x2, _ = tensors(*then)
    assert case_key(x2, w, False) == case_key(x, w, False)
    assert dispatcher.choose(x2, w, None, training=False) == 'fast'
    assert calls == []
    # another bucket is measured
    dispatcher.choose(*tensors(3, 17, 16), None, training=False)
    assert set(ran(calls)) == {'slow', 'fast'}


def test_bucket_names_say_which_sizes_they_hold():
    key = case_key(*tensors(n=2, h=91, w=182, c=4, k=7), training=True)
    assert key == 'cpu|float32|c4|k7|n2|h91-128|w182-256|nchw|train'
    # the edges: 90 | 91..128 | 129
    k90, k91, k128, k129 = (case_key(*tensors(h=h, w=8), training=False)
                            for h in (90, 91, 128, 129))
    assert k90 != k91 == k128 != k129
    assert case_key(*tensors(h=1, w=1), training=False).endswith(
        '|n1|h1|w1|nchw|infer')


@pytest.mark.parametrize('slow, measured', [(4., False), (2., True)])
def test_a_close_bucket_that_won_by_far_lends_its_choice(slow, measured):
    dispatcher, calls = fake_dispatcher(dict(slow=slow, fast=1.))
    dispatcher.choose(*tensors(h=16, w=16), None, training=False)
    calls.clear()
    # 20x20 is two steps away (a half-octave each side): when 'fast' won by
    # 4x, its choice is checked, not measured
    x, w = tensors(h=20, w=20)
    assert dispatcher.choose(x, w, None, training=False) == 'fast'
    assert calls == (['fast', 'fast', 'fast', 'slow', 'slow'] if measured
                     else ['fast'])
    family, _ = dispatch.case_of(x, w, False)
    assert (case_key(x, w, False) in dispatcher.measured[family].values()) \
        == measured
    calls.clear()
    dispatcher.choose(*tensors(h=16, w=40), None, training=False)
    assert set(ran(calls)) == {'slow', 'fast'}  # 5 steps away: measured


def test_the_number_of_measured_buckets_is_bounded(logged):
    dispatcher, calls = fake_dispatcher(dict(slow=3., fast=1.), max_cases=2)
    for size in (8, 16):
        dispatcher.choose(*tensors(h=size, w=size), None, training=False)
    assert sum(map(len, dispatcher.measured.values())) == 2
    calls.clear()
    # a third bucket takes the nearest measured choice, checked: it runs
    # once, nothing is timed
    x, w = tensors(h=30, w=30)
    assert dispatcher.choose(x, w, None, training=False) == 'fast'
    assert calls == ['fast']
    assert sum(map(len, dispatcher.measured.values())) == 2
    assert '(bounds reached): the choice of' in logged[-1][0]
    assert sum('buckets measured in' in m for m, _ in logged) == 1


def test_the_time_spent_measuring_is_bounded():
    dispatcher, calls = fake_dispatcher(dict(slow=3., fast=1.), budget_s=10.)
    dispatcher.choose(*tensors(h=8, w=8), None, training=False)
    assert dispatcher.spent_s >= 10.
    calls.clear()
    dispatcher.choose(*tensors(h=40, w=40), None, training=False)
    assert calls == ['fast']  # checked, not measured


def test_the_nearest_measured_choice_is_timed_first():
    dispatcher, calls = fake_dispatcher(dict(a=2., b=1.))  # 'a' first
    assert dispatcher.choose(*tensors(h=16, w=16), None, False) == 'b'
    for size, first in ((20, 'b'), (64, 'a')):  # 2 and 8 buckets away
        calls.clear()
        dispatcher.choose(*tensors(h=size, w=size), None, False)
        assert ran(calls)[0] == first


class Faulty(FakeKernels):
    """A fake implementation whose output is wrong (or that raises) where
    ``where(x)`` holds."""

    def __init__(self, fake, where, raises=False):
        super().__init__(fake.name, fake.cost, fake.clock, fake.calls)
        self.where, self.raises = where, raises

    def forward(self, x, weight, bias=None):
        y = super().forward(x, weight, bias)
        if self.raises and self.where(x):
            raise RuntimeError('out of resource: shared memory')
        return y + 1 if self.where(x) else y


def make_faulty(dispatcher, name, where, raises=False):
    fake = dispatcher.implementations[name]
    dispatcher.implementations[name] = Faulty(fake, where, raises)


def real_faulty(where, raises=False):
    """Kernels for the real op: PyTorch's, but wrong or raising where
    ``where(x)`` holds."""
    def conv(x, weight):
        if raises and where(x):
            raise RuntimeError('out of resource: shared memory')
        y = TORCH.forward(x, weight)
        return y + 1 if where(x) else y
    return Kernels(conv, lambda g, w: TORCH.backward(g, g, w)[0],
                   lambda x, g, w: TORCH.backward(g, x, w)[1])


@pytest.mark.parametrize('raises', [False, True], ids=['wrong', 'raises'])
def test_a_faulty_candidate_is_never_chosen_for_the_bucket(raises, logged):
    dispatcher, calls = fake_dispatcher(dict(torch=3., bad=1.))
    make_faulty(dispatcher, 'bad', lambda x: True, raises)
    x, w = tensors(h=100, w=100)
    key = case_key(x, w, False)
    assert dispatcher.choose(x, w, None, False) == 'torch'
    assert 'bad' in dispatcher.rejected[key]
    calls.clear()
    for h in (91, 110, 128):  # the bucket's new shapes
        assert dispatcher.choose(*tensors(h=h, w=h), None, False) == 'torch'
    assert calls == []
    assert any(lvl == logging.WARNING and 'bad removed' in m
               for m, lvl in logged)


def test_a_reused_choice_wrong_in_a_new_bucket_is_caught():
    """Past the bounds a new bucket takes its neighbour's choice, checked
    first: a candidate right at 16x16 and wrong from 20 wide is not kept
    there."""
    dispatcher, calls = fake_dispatcher(dict(torch=3., quirky=1.),
                                        max_cases=1)
    make_faulty(dispatcher, 'quirky', lambda x: x.shape[-1] >= 20)
    assert dispatcher.choose(*tensors(h=16, w=16), None, False) == 'quirky'
    x, w = tensors(h=16, w=24)
    assert dispatcher.choose(x, w, None, False) == 'torch'
    assert 'quirky' in dispatcher.rejected[case_key(x, w, False)]


class WrongOnZeroKernels(FakeKernels):
    """A fake implementation wrong in the channels whose kernel is all
    zeros, on maps ``wide`` or wider."""

    def __init__(self, fake, wide):
        super().__init__(fake.name, fake.cost, fake.clock, fake.calls)
        self.wide = wide

    def forward(self, x, weight, bias=None):
        y = super().forward(x, weight, bias)
        if x.shape[-1] >= self.wide:
            y[:, weight.flatten(1).eq(0).all(1)] += 1
        return y


@pytest.fixture
def reference_channels(monkeypatch):
    """The channel count of each map ``verify.reference`` computes (not
    where PyTorch's candidate's own call computes the reference)."""
    seen = []
    reference = dispatch.reference
    monkeypatch.setattr(dispatch, 'reference', lambda x, *a: (
        seen.append(x.shape[1]), reference(x, *a))[1])
    return seen


@pytest.mark.parametrize('training', [False, True])
@pytest.mark.parametrize('spot', [0, 5, 15])
def test_a_lent_choice_is_spot_checked_on_a_spread_of_channels(
        spot, training, reference_channels):
    """A choice checked on all 64 channels of a measured bucket is checked
    on 16 of them (the first, the last, evenly between) in a bucket it is
    lent to; wrong in one of those there, it is not kept."""
    from mmrep.ops.verify import spot_channels
    x, w = tensors(h=16, w=16, c=64, k=5)
    checked = spot_channels(x, w, None)[0]
    assert torch.equal(checked[:, [0, -1]], x[:, [0, 63]])
    assert checked.shape[1] == 16
    assert spot_channels(x.to(memory_format=torch.channels_last), w,
                         None)[0].is_contiguous(
                             memory_format=torch.channels_last)
    dispatcher, calls = fake_dispatcher(dict(torch=4., fast=1.))
    dispatcher.implementations['fast'] = WrongOnZeroKernels(
        dispatcher.implementations['fast'], wide=20)
    assert dispatcher.choose(x.requires_grad_(training), w, None,
                             training) == 'fast'
    # training: PyTorch's candidate's own call computed the reference
    assert reference_channels == ([] if training else [64])
    x, w = tensors(h=20, w=20, c=64, k=5)  # lent: 'fast' won by 4x
    w[torch.linspace(0, 63, 16).round().long()[spot]] = 0
    assert dispatcher.choose(x.requires_grad_(training), w, None,
                             training) == 'torch'
    assert reference_channels[-1:] == [16]
    assert 'output differs' in \
        dispatcher.rejected[case_key(x, w, training)]['fast']


def test_a_choice_not_checked_in_full_here_is_checked_in_full(
        monkeypatch, tmp_path, reference_channels, logged):
    """A decision from the cache file, in a process that has measured no
    bucket of its family, is checked on every channel."""
    path = tmp_path / 'dwconv.json'
    monkeypatch.setenv(ENV_CACHE, str(path))
    first, _ = fake_dispatcher(dict(torch=4., fast=1.))
    x, w = tensors(h=20, w=20, c=64, k=5)
    assert first.choose(x, w, None, False) == 'fast'
    reference_channels.clear()
    second, calls = fake_dispatcher(dict(torch=4., fast=1.))
    assert second.choose(x, w, None, False) == 'fast'
    assert calls == ['fast'] and reference_channels == [64]
    assert logged[-1][0].endswith('fast (cache file, checked)')


def test_a_choice_that_raises_on_a_new_shape_of_its_bucket_is_dropped(
        logged, monkeypatch):
    """The real op: 'rows', then 'dense', were the bucket's fastest; both
    raise on one of its shapes; that call and the later ones run PyTorch's
    convolution."""
    for name in ('rows', 'dense'):
        monkeypatch.setitem(IMPLEMENTATIONS, name, real_faulty(
            lambda x: x.shape[-1] == 13, raises=True))
    x, w = tensors(h=12, w=12, c=4, k=7)
    key = case_key(x, w, False)
    DISPATCHER.choices[key] = 'rows'
    DISPATCHER.timings[key] = dict(rows=1., dense=1.5, torch=2.)
    assert torch.equal(depthwise_conv2d(x, w), TORCH.forward(x, w))
    x13 = tensors(h=12, w=13, c=4, k=7)[0]
    assert case_key(x13, w, False) == key
    torch.testing.assert_close(depthwise_conv2d(x13, w),
                               TORCH.forward(x13, w))
    assert DISPATCHER.choices[key] == 'torch'
    for name in ('rows', 'dense'):
        assert 'out of resource' in DISPATCHER.rejected[key][name]
        assert any(f'{name} removed as a candidate' in m for m, _ in logged)


def test_a_choice_beyond_its_size_limit_gives_way_to_the_next_fastest():
    """The dense form's matrix fits the bucket's first shape, not a larger
    one of the same bucket: the next fastest measured runs there."""
    dispatcher, calls = fake_dispatcher(
        dict(torch=3., rows=2., dense=1.),
        candidates=lambda x, w, training: (
            ['rows', 'dense', 'torch'] if x.shape[-1] < 100 else
            ['rows', 'torch']))
    assert dispatcher.choose(*tensors(h=91, w=91), None, False) == 'dense'
    calls.clear()
    assert dispatcher.choose(*tensors(h=91, w=120), None, False) == 'rows'
    assert calls == []


def test_the_cache_file_holds_buckets(monkeypatch, tmp_path):
    path = tmp_path / 'dwconv.json'
    monkeypatch.setenv(ENV_CACHE, str(path))
    first, _ = fake_dispatcher(dict(a=2., b=1.))
    first.choose(*tensors(h=100, w=100), None, training=False)
    (decisions, ) = json.loads(path.read_text()).values()
    assert decisions == {case_key(*tensors(h=100, w=100), False): 'b'}
    # another process, another shape of that bucket: 'b' is checked, only
    second, calls = fake_dispatcher(dict(a=1., b=2.))
    assert second.choose(*tensors(h=95, w=120), None, False) == 'b'
    assert calls == ['b']


@pytest.mark.parametrize('content', [
    b'{"not": "closed"', b'\xff\xfe binary', b'[1, 2, 3]',
    b'{"cpu | torch 2": {"case": 3}}'
], ids=['truncated', 'binary', 'a list', 'foreign values'])
def test_a_corrupt_or_foreign_cache_file_is_logged_and_left_alone(
        content, monkeypatch, tmp_path, logged):
    path = tmp_path / 'dwconv.json'
    path.write_bytes(content)
    monkeypatch.setenv(ENV_CACHE, str(path))
    dispatcher, calls = fake_dispatcher(dict(a=2., b=1.))
    assert dispatcher.choose(*tensors(), None, training=False) == 'b'
    assert set(ran(calls)) == {'a', 'b'}  # measured as without a file
    assert path.read_bytes() == content  # nothing lost
    (warning, ) = [m for m, lvl in logged if lvl == logging.WARNING]
    assert ENV_CACHE in warning and str(path) in warning
    assert 'neither used nor overwritten' in warning


def test_a_bucket_where_only_the_fallback_survives(monkeypatch, logged):
    bad = real_faulty(lambda x: True)
    for name in ('channels_last', 'rows', 'dense'):
        monkeypatch.setitem(IMPLEMENTATIONS, name, bad)
    x, w = tensors(h=10, w=10, c=4, k=7)
    torch.testing.assert_close(depthwise_conv2d(x, w), TORCH.forward(x, w))
    key = case_key(x, w, False)
    assert DISPATCHER.choices[key] == 'torch'
    assert set(DISPATCHER.timings[key]) == {'torch'}
    assert sorted(DISPATCHER.rejected[key]) == ['channels_last', 'dense',
                                                'rows']
    assert any(f'{key}: torch (measured: torch' in m for m, _ in logged)


@pytest.mark.parametrize('impl', IMPLS)
@pytest.mark.parametrize('shape', [(0, 4, 8, 8), (1, 4, 0, 8), (1, 4, 8, 0),
                                   (1, 4, 1, 1)])
def test_empty_and_1x1_maps(shape, impl, monkeypatch):
    device = 'cpu'
    if impl == 'triton':
        pytest.importorskip('triton')
        if torch.cuda.is_available():  # Triton compiles for the GPU
            device = 'cuda'
        else:
            monkeypatch.setenv('TRITON_INTERPRET', '1')
            from mmrep.ops import triton_interpreter_available
            if not triton_interpreter_available():
                pytest.skip('this Triton has no CPU interpreter')
    monkeypatch.setattr(dwconv, '_EMPTY_NOTED', [])
    x = torch.randn(*shape, device=device, requires_grad=True)
    w = torch.randn(4, 1, 7, 7, device=device, requires_grad=True)
    b = torch.randn(4, device=device, requires_grad=True)
    y = depthwise_conv2d(x, w, b, impl)
    assert y.shape == x.shape
    y.sum().backward()
    assert x.grad.shape == x.shape and w.grad.shape == w.shape
    if x.numel():  # 1x1: the kernel's centre only
        want = F.conv2d(x.detach(), w.detach(), b.detach(), padding=3,
                        groups=4)
        torch.testing.assert_close(y.detach(), want)
        torch.testing.assert_close(w.grad[:, :, 3, 3], x.detach().sum(
            (0, 2, 3)).view(4, 1))
    else:
        assert not w.grad.any() and not b.grad.any()
        assert DISPATCHER.choices == {}  # nothing measured
