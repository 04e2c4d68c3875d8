"""'auto' never crashes on a candidate and never keeps a wrong one: failures
and wrong results are injected through the table the dispatcher uses
(``mmrep.ops.IMPLEMENTATIONS``), in inference and in training."""
import json

import pytest
import torch
import torch.nn.functional as F

import mmrep.ops.dispatch as dispatch
from mmrep.ops import (DISPATCHER, ENV_CACHE, IMPLEMENTATIONS,
                       Kernels, depthwise_conv2d)
from mmrep.ops.dispatch import case_key
from mmrep.ops.implementations import TorchKernels
from mmrep.ops.verify import (TOLERANCES, mismatch, reference,
                              reference_is_torch_call, tolerance)


class OutOfResources(Exception):
    """Stands in for Triton's errors (``TritonError(Exception)``): neither a
    RuntimeError nor a ValueError."""


def raising(error):
    def run(*args):
        raise error
    return Kernels(run, run, run)


TORCH = TorchKernels()
INJECTED = {
    # a candidate that cannot run
    'raises': lambda: raising(OutOfResources('out of resource: shared '
                                             'memory, required 232448')),
    # fast and wrong: the relative error is 1
    'wrong output': lambda: Kernels(lambda x, w: x * w.mean(),
                                    lambda g, w: g,
                                    lambda x, g, w: torch.zeros_like(w)),
    # right output, wrong gradients
    'wrong input grad': lambda: Kernels(
        lambda x, w: TORCH.forward(x, w), lambda g, w: 2 * g,
        lambda x, g, w: TORCH.backward(g, x, w)[1]),
    'wrong weight grad': lambda: Kernels(
        lambda x, w: TORCH.forward(x, w),
        lambda g, w: TORCH.backward(g, g, w)[0],
        lambda x, g, w: TORCH.backward(g, x, w)[1] * 1.01),
    'nan': lambda: Kernels(lambda x, w: torch.full_like(x, float('nan')),
                           lambda g, w: g, lambda x, g, w: w),
}


@pytest.fixture
def fresh(monkeypatch):
    """The dispatcher's warnings (it starts with no decision:
    conftest.py)."""
    messages = []
    monkeypatch.setattr(dispatch, 'print_log',
                        lambda msg, **kw: messages.append((msg, kw)))
    return messages


def tensors(training):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 4, 12, 14, generator=gen)
    w = torch.randn(4, 1, 7, 7, generator=gen)
    b = torch.randn(4, generator=gen)
    return [t.requires_grad_(training) for t in (x, w, b)]


def run(impl, training):
    """Output (and gradients of a fixed projection) of the convolution."""
    x, w, b = tensors(training)
    conv = (lambda: F.conv2d(x, w, b, padding=3, groups=4)) if impl is None \
        else (lambda: depthwise_conv2d(x, w, b, impl))
    with torch.set_grad_enabled(training):
        y = conv()
    if not training:
        return [y]
    proj = torch.linspace(-1, 1, y.numel()).view_as(y)
    return [y.detach(), *torch.autograd.grad((y * proj).sum(), (x, w, b))]


def assert_pytorch_result(got, training):
    want = run(None, training)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def warnings_naming(messages, name):
    return [m for m, kw in messages if kw.get('level') == dispatch.logging.
            WARNING and f': {name} removed as a candidate' in m]


@pytest.mark.parametrize('training', [False, True], ids=['infer', 'train'])
@pytest.mark.parametrize('fault', ['raises', 'wrong output', 'nan'])
def test_a_failing_or_wrong_candidate_is_removed(fault, training, fresh,
                                                 monkeypatch):
    monkeypatch.setitem(IMPLEMENTATIONS, 'rows', INJECTED[fault]())
    got = run('auto', training)
    assert_pytorch_result(got, training)
    (key, choice), = DISPATCHER.choices.items()
    assert choice != 'rows' and 'rows' not in DISPATCHER.timings[key]
    why = DISPATCHER.rejected[key]['rows']
    assert ('OutOfResources: out of resource' in why if fault == 'raises'
            else 'output differs' in why)
    (warning, ) = warnings_naming(fresh, 'rows')
    assert key in warning and why in warning


@pytest.mark.parametrize('fault', ['wrong input grad', 'wrong weight grad'])
def test_wrong_gradients_are_caught_when_training(fault, fresh, monkeypatch):
    monkeypatch.setitem(IMPLEMENTATIONS, 'rows', INJECTED[fault]())
    assert_pytorch_result(run('auto', True), True)
    (key, why), = ((k, r['rows']) for k, r in DISPATCHER.rejected.items())
    assert key.endswith('|train')
    assert fault.split()[1] + ' gradient differs' in why
    # inference never runs the gradients: there the candidate is right
    run('auto', False)
    assert len(DISPATCHER.rejected) == 1


@pytest.mark.parametrize('training', [False, True], ids=['infer', 'train'])
def test_with_every_matrix_form_wrong_pytorch_runs(training, fresh,
                                                   monkeypatch):
    monkeypatch.setitem(IMPLEMENTATIONS, 'rows', INJECTED['raises']())
    monkeypatch.setitem(IMPLEMENTATIONS, 'dense', INJECTED['wrong output']())
    got = run('auto', training)
    # PyTorch's convolution, in inference maybe through channels_last
    assert set(DISPATCHER.choices.values()) <= {'torch', 'channels_last'}
    assert_pytorch_result(got, training)
    assert warnings_naming(fresh, 'rows') and warnings_naming(fresh, 'dense')


def test_with_no_candidate_left_the_fallback_runs(fresh, monkeypatch):
    bad = INJECTED['wrong output']()
    for name in ('channels_last', 'rows', 'dense', 'torch'):
        monkeypatch.setitem(IMPLEMENTATIONS, name, bad)
    x, w, _ = tensors(False)
    assert DISPATCHER.choose(x, w, None, False) == 'torch'
    assert any('no candidate passed' in m for m, _ in fresh)


def test_keyboard_interrupt_and_system_exit_still_propagate(fresh,
                                                            monkeypatch):
    x, w, b = tensors(False)
    for error in (KeyboardInterrupt, SystemExit):
        monkeypatch.setitem(IMPLEMENTATIONS, 'rows', raising(error()))
        with pytest.raises(error):
            depthwise_conv2d(x, w, b, 'auto')
        assert DISPATCHER.choices == {}


def test_a_cached_choice_is_checked_the_first_time(fresh, monkeypatch,
                                                   tmp_path):
    path = tmp_path / 'dwconv.json'
    monkeypatch.setenv(ENV_CACHE, str(path))
    x, w, _ = tensors(False)
    key = case_key(x, w, False)
    path.write_text(json.dumps(
        {DISPATCHER._namespace(x.device): {key: 'rows'}}))
    ran = []
    right = Kernels(lambda x, w: ran.append('rows') or TORCH.forward(x, w),
                    None, None)
    monkeypatch.setitem(IMPLEMENTATIONS, 'rows', right)
    assert DISPATCHER.choose(x, w, None, False) == 'rows'
    assert key not in DISPATCHER.rejected and ran  # it ran, and passed
    assert set(DISPATCHER.timings[key]) == {'rows'}  # no other was timed

    # the same file where 'rows' now computes something else
    DISPATCHER.reset()
    monkeypatch.setitem(IMPLEMENTATIONS, 'rows', INJECTED['wrong output']())
    choice = DISPATCHER.choose(x, w, None, False)
    assert choice != 'rows' and 'rows' in DISPATCHER.rejected[key]
    assert json.loads(path.read_text())[
        DISPATCHER._namespace(x.device)][key] == choice  # corrected


def test_the_real_candidates_pass_on_this_machine(fresh):
    """Every candidate passes; 'channels_last' (PyTorch's convolution
    through oneDNN) is timed for inference only."""
    for training in (False, True):
        run('auto', training)
    assert DISPATCHER.rejected == {}
    infer, train = (DISPATCHER.timings[case_key(*tensors(t)[:2], t)]
                    for t in (False, True))
    assert set(train) == {'rows', 'dense', 'torch'}
    assert set(infer) == {'channels_last', 'rows', 'dense', 'torch'}


@pytest.mark.parametrize('training', [False, True], ids=['infer', 'train'])
def test_without_onednn_channels_last_is_no_candidate(fresh, training):
    """With oneDNN off (as in a torch built without it) 'auto' does not
    time 'channels_last', and a config naming it still computes PyTorch's
    numbers (PyTorch's native channels_last path)."""
    with torch.backends.mkldnn.flags(enabled=False):
        assert_pytorch_result(run('auto', training), training)
        assert_pytorch_result(run('channels_last', training), training)
    timings = DISPATCHER.timings[case_key(*tensors(training)[:2], training)]
    assert set(timings) == {'rows', 'dense', 'torch'}


@pytest.mark.parametrize('dtype', [torch.float32, torch.bfloat16,
                                   torch.float16])
def test_tolerance_tells_rounding_from_a_wrong_result(dtype):
    x, w, b = (t.detach().to(dtype) for t in tensors(False))
    want = reference(x, w, b, x)
    rounded = [t.to(dtype) for t in want]
    assert mismatch(rounded, want, dtype, x.device) is None
    wrong = [want[0] * 1.1] + rounded[1:]
    assert 'output differs' in mismatch(wrong, want, dtype, x.device)
    assert tolerance(dtype, x.device) == TOLERANCES[dtype] < 0.05


@pytest.mark.parametrize('training', [False, True])
@pytest.mark.parametrize('layout', [torch.contiguous_format,
                                    torch.channels_last])
def test_the_cpu_reference_is_pytorchs_convolution_in_either_layout(
        training, layout):
    """Inference runs channels_last (oneDNN's fast path), training the
    input's layout; the numbers are PyTorch's NCHW convolution's."""
    x, w, b = (t.detach() for t in tensors(False))
    x = x.contiguous(memory_format=layout)
    want = reference(x, w, b, x if training else None)
    nchw = F.conv2d(x.contiguous(), w, b, padding=3, groups=4)
    torch.testing.assert_close(want[0], nchw, rtol=1e-5, atol=1e-5)
    runs_channels_last = not training or layout == torch.channels_last
    assert runs_channels_last == (not want[0].is_contiguous() and want[
        0].is_contiguous(memory_format=torch.channels_last))
    assert reference_is_torch_call(x, training) == (
        training or layout == torch.channels_last)
    assert not reference_is_torch_call(x.double(), training)
