"""The benchmark code: what it times and how it turns times into rows
(fake clocks and timers here: no timing claim is tested); the tools run and
write their JSON and markdown. Measured tables live in docs/benchmarks.md."""
import json

import pytest
import torch

from mmrep.benchmark import measure, time_ms
from mmrep.benchmark import timing
from mmrep.models import RepLKNet
from mmrep.models.layers import ReparamLargeKernelConv

from ..helpers import TINY_ARCH, run_tool


def test_time_ms_drops_the_warmup_and_takes_the_median(monkeypatch):
    durations = iter([100., 100., 3., 1., 2.])  # seconds: 2 warm-up calls
    clock = [0.]
    monkeypatch.setattr(timing.time, 'perf_counter', lambda: clock[0])

    def fn():
        clock[0] += next(durations)

    assert time_ms(fn, torch.device('cpu'), warmup=2, repeats=3) == 2000.
    with pytest.raises(StopIteration):
        next(durations)  # exactly warmup + repeats calls


def test_measure_times_a_training_step_inference_and_the_deploy_form():
    torch.manual_seed(0)
    model = RepLKNet(arch=TINY_ARCH)
    seen, times = [], iter([10., 20., 40.])

    def timer(fn, device, warmup, repeats):
        before = [p.detach().clone() for p in model.parameters()]
        fn()
        seen.append(dict(
            training=model.training,
            stepped=any(not torch.equal(a, b.detach())
                        for a, b in zip(before, model.parameters())),
            deployed=all(m.deployed for m in model.modules()
                         if isinstance(m, ReparamLargeKernelConv))))
        return next(times)

    row = measure('tiny', model, 2, (32, 48), torch.device('cpu'),
                  timer=timer)
    assert seen == [dict(training=True, stepped=True, deployed=False),
                    dict(training=False, stepped=False, deployed=False),
                    dict(training=False, stepped=False, deployed=True)]
    assert (row['train_ms'], row['infer_ms'], row['infer_deploy_ms']) == (
        10., 20., 40.)
    assert row['train_img_s'] == pytest.approx(200.)  # 2 images / 10 ms
    assert row['infer_img_s'] == pytest.approx(100.)
    assert row['infer_deploy_img_s'] == pytest.approx(50.)
    assert row['shape'] == '32x48' and row['batch'] == 2


def test_measure_compiled_runs_the_compiled_forwards_and_times_compiling():
    model = RepLKNet(arch=TINY_ARCH)
    compiled, ran = [], []

    def compiler(fn):
        compiled.append(fn)
        return lambda *a, **k: ran.append(fn) or fn(*a, **k)

    row = measure('tiny', model, 2, (32, 32), torch.device('cpu'),
                  timer=lambda fn, *a: fn() or 1., compile=True,
                  compiler=compiler)
    assert compiled == [model, model]  # the training and inference forward
    assert ran and all(fn is model for fn in ran)
    assert row['compiled'] is True
    for key in ('compile_s', 'infer_compile_s', 'infer_deploy_compile_s'):
        assert row[key] > 0


def test_benchmark_dwconv_times_and_checks_every_impl(tmp_path):
    out_json, out_md = tmp_path / 'dw.json', tmp_path / 'dw.md'
    run_tool('tools/benchmark_dwconv.py', '--preset', 'tiny', '--impls',
             'torch', 'rows', 'dense', 'triton', 'auto', '--dtypes',
             'float32', '--warmup', '0', '--repeats', '1', '--json',
             str(out_json), '--md', str(out_md))
    result = json.loads(out_json.read_text())
    rows = result['rows']
    assert [r['impl'] for r in rows[:5]] == ['torch', 'rows', 'dense',
                                             'triton', 'auto']
    assert len(rows) == 10  # two shapes
    assert all(r['max_rel_err'] < 1e-5 for r in rows)
    for group in (rows[:5], rows[5:]):
        base = group[0]['fwd_bwd_ms']
        for r in group:
            assert r['speedup'] == pytest.approx(base / r['fwd_bwd_ms'])
        assert min(r['vs_best'] for r in group[:4]) == pytest.approx(1.0)
        # 'auto' timed the CPU candidates (not Triton) and kept the fastest
        timed = group[4]['auto_timed_ms']
        assert set(timed) == {'torch', 'rows', 'dense'}
        assert group[4]['chosen'] == min(timed, key=timed.get)
    assert '| shape | dtype | impl | chosen |' in out_md.read_text()


def test_benchmark_model_backbone_and_whole_segmentor(tmp_path):
    config = 'configs/upernet/replknet-tiny_toy-ade.py'
    for extra in (['--backbone-only', '--amp', '--impls', 'torch', 'auto'],
                  []):
        out_json = tmp_path / 'model.json'
        run_tool('tools/benchmark.py', config, '--batch', '2', '--shape',
                 '64', '64', '--warmup', '1', '--repeats', '2', '--json',
                 str(out_json), '--md', str(tmp_path / 'model.md'), *extra)
        rows = json.loads(out_json.read_text())['rows']
        assert [r['impl'] for r in rows] == (['torch', 'auto'] if extra
                                             else ['auto'])
        for row in rows:
            for kind in ('train', 'infer', 'infer_deploy'):
                assert row[f'{kind}_img_s'] == pytest.approx(
                    2e3 / row[f'{kind}_ms'])
            assert row['model'].startswith('RepLKNet' if extra else
                                           'EncoderDecoder')
            assert row['amp'] == bool(extra)
