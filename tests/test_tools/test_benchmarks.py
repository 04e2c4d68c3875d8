"""The benchmark code: what it times and how it turns times into rows
(fake clocks and timers here: no timing claim is tested); the tools run and
write their JSON and markdown. Measured tables live in docs/benchmarks.md."""
import json

import pytest
import torch
from mmengine.config import Config

from mmrep.benchmark import measure, shapes, time_ms, timing
from mmrep.models import RepLKNet
from mmrep.models.layers import ReparamLargeKernelConv
from mmrep.ops import native

from ..helpers import TINY_ARCH, TOY_DET, run_tool


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


def test_variable_shape_workloads_come_from_the_pipelines():
    sizes = shapes.ade20k_sizes(50)
    assert all(min(s) == 512 and max(s) % 32 == 0 and max(s) <= 1024
               for s in sizes)
    assert len(set(sizes)) > 10
    config = Config.fromfile(
        'configs/mask_rcnn/mask-rcnn_replknet31b_fpn_8xb2-ms-crop-3x_coco.py')
    raw = shapes.coco_like_sizes(12)
    samples = shapes.pipeline_samples(
        config.train_dataloader.dataset.pipeline, raw, detection=True)
    made = [tuple(s['inputs'].shape[-2:]) for s in samples]
    # the ms-crop pipeline's sizes: short side <= 800, long side <= 1333,
    # a new size for nearly every image; boxes and masks come along
    assert all(min(s) <= 800 and max(s) <= 1333 for s in made)
    assert len(set(made)) >= 10 and made != raw
    assert all(len(s['data_samples'].gt_instances.masks) == 1
               for s in samples)


def test_benchmark_shapes_runs_each_impl_in_its_own_process(tmp_path):
    out_json = tmp_path / 'shapes.json'
    run_tool('tools/benchmark_shapes.py', 'ade20k', '--config',
             'configs/upernet/replknet-tiny_toy-ade.py', '--count', '3',
             '--impls', 'auto', 'auto, decided', 'rows', '--json',
             str(out_json), '--md', str(tmp_path / 'shapes.md'))
    rows = json.loads(out_json.read_text())['rows']
    assert [r['impl'] for r in rows] == ['auto', 'auto, decided', 'rows']
    assert all(r['runs_s'] == [r['total_s']] for r in rows)
    for row in rows:  # the toy test pipeline keeps the sizes as they are
        assert [tuple(s) for s in row['shapes']] == shapes.ade20k_sizes(3)
        assert row['items'] == 3 and len(row['seconds']) == 3
        assert row['total_s'] == pytest.approx(sum(row['seconds']))
        assert row['vs_best'] == pytest.approx(row['total_s'] /
                                               rows[2]['total_s'])
        assert row['peak_mem_mb'] > 0
    auto, decided, fixed = rows
    assert auto['measured'] > 0 and auto['measuring_s'] > 0
    # given the decisions, 'auto' measures nothing and chooses the same
    assert decided['measured'] == 0 and decided['measuring_s'] == 0
    assert decided['choices'] == auto['choices']
    assert fixed['choices'] == {}
    assert '| impl | items | distinct_shapes |' in (
        tmp_path / 'shapes.md').read_text()


def test_median_run_is_a_run_that_happened():
    runs = [dict(impl='rows', total_s=t, first_s=t / 10)
            for t in (3.0, 1.0, 2.0, 9.0)]
    row = shapes.median_run(runs)
    # the lower median of an even count, whole: its own first call
    assert row['total_s'] == 2.0 and row['first_s'] == 0.2
    assert row['runs_s'] == [3.0, 1.0, 2.0, 9.0]
    assert shapes.median_run(runs[:3])['total_s'] == 2.0


def test_benchmark_shapes_repeats_in_rounds(tmp_path):
    out_json = tmp_path / 'shapes.json'
    run_tool('tools/benchmark_shapes.py', 'ade20k', '--config',
             'configs/upernet/replknet-tiny_toy-ade.py', '--count', '2',
             '--impls', 'auto', 'rows', '--repeat', '2', '--json',
             str(out_json))
    rows = json.loads(out_json.read_text())['rows']
    assert [r['impl'] for r in rows] == ['auto', 'rows']
    for row in rows:
        assert len(row['runs_s']) == 2
        assert row['total_s'] == min(row['runs_s'])
    # every round starts afresh: 'auto' measures again in each process
    assert rows[0]['measured'] > 0


def test_benchmark_shapes_trains_at_the_pipelines_sizes(tmp_path):
    out_json = tmp_path / 'shapes.json'
    run_tool('tools/benchmark_shapes.py', 'coco', '--config', TOY_DET,
             '--sizes-from', TOY_DET, TOY_DET, '--count', '2', '--batch',
             '2', '--impls', 'rows', '--json', str(out_json))
    (row, ) = json.loads(out_json.read_text())['rows']
    assert row['items'] == 2 and row['vs_best'] == 1
    # the toy pipeline resizes to 128 wide or high; the batch is padded
    # to its largest image, rounded up to 32
    assert all(max(s) == 128 and min(s) % 32 == 0 for s in row['shapes'])


def test_benchmark_inference_side_by_side(tmp_path):
    """The backbone, and the whole segmentor as image -> logits (what
    compile_for_cpu serves too)."""
    for extra, outputs in ((['--backbone-only'], 4), ([], 1)):
        out_json = tmp_path / 'infer.json'
        run_tool('tools/benchmark_inference.py',
                 'configs/upernet/replknet-tiny_toy-ade.py', '--batch', '1',
                 '--size', '64', '--runtimes', 'eager', 'compiled',
                 'onnxruntime', '--rounds', '2', '--warmup', '0',
                 '--repeats', '1', '--work-dir', str(tmp_path), '--json',
                 str(out_json), '--md', str(tmp_path / 'infer.md'), *extra)
        rows = json.loads(out_json.read_text())['rows']
        assert [r['runtime'] for r in rows] == ['eager', 'compiled',
                                                'onnxruntime']
        # compiled: checked against eager before it was timed
        assert rows.pop(1)['rel_err'] < 1e-4
        eager, ort = rows
        assert len(eager['rounds_ms']) == 2
        assert ort['rel_err'] < 1e-4 and eager['rel_err'] == 0
        assert eager['x_onnxruntime'] == pytest.approx(ort['ms'] /
                                                       eager['ms'])
        assert ort['x_eager'] == pytest.approx(eager['ms'] / ort['ms'])
        assert '| x_onnxruntime |' in (tmp_path / 'infer.md').read_text()
        import onnx
        model = onnx.load(str(tmp_path / 'model_1x64.onnx'))
        assert len(model.graph.output) == outputs


@pytest.mark.skipif(not native.cpu_supported(),
                    reason="mmrep's AVX-512 kernel needs an AVX-512 CPU and "
                    'torch >= 2.4')
def test_benchmark_serving_dwconv_checks_both_and_writes_ratios(tmp_path):
    out_json, out_md = tmp_path / 'serve.json', tmp_path / 'serve.md'
    run_tool('tools/benchmark_serving_dwconv.py', '--batch', '1', '--size',
             '32', '--dtypes', 'bfloat16', 'float32', '--weights', '2',
             '--repeats', '1', '--json', str(out_json), '--md', str(out_md))
    rows = json.loads(out_json.read_text())['rows']
    # 31B's four stages and UniRepLKNet-S's three, in both dtypes
    assert [r['model'] for r in rows] == ['RepLKNet-31B'] * 8 + [
        'UniRepLKNet-S'] * 6
    assert rows[0]['shape'] == '1x128x8x8 K=31'
    for r in rows:
        tol = 1e-6 if r['dtype'] == 'float32' else 4e-3
        assert r['rel_err_mmrep'] < tol and r['rel_err_onednn'] < 1e-2
        assert r['speedup'] == pytest.approx(r['onednn_us'] / r['mmrep_us'])
    assert '| onednn_us | mmrep_us | speedup |' in out_md.read_text()


def test_inference_comparison_refuses_a_runtime_that_disagrees():
    from mmrep.benchmark.inference import Runtime, compare
    x = torch.randn(1, 3, 8, 8)
    reference = [x.numpy() * 2]
    good = Runtime('eager', 'f32', lambda x: [x.numpy() * 2])
    close = Runtime('eager-bf16', 'bf16', lambda x: [x.numpy() * 2.02])
    bad = Runtime('onnxruntime', 'f32', lambda x: [x.numpy() * 2.02])
    ticks = iter(range(1, 100))
    rows = compare([good, close], x, reference, rounds=3,
                   timer=lambda fn, device, warmup, repeats: next(ticks))
    assert [r['rounds_ms'] for r in rows] == [[1, 3, 5], [2, 4, 6]]
    assert rows[1]['x_eager'] == pytest.approx(3 / 4)
    assert rows[1]['rel_err'] == pytest.approx(0.01, rel=1e-3)
    with pytest.raises(RuntimeError, match='onnxruntime .f32. disagrees'):
        compare([good, bad], x, reference, timer=lambda *a: 1.0)


@pytest.mark.parametrize('preload, malloc', [
    ('/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4',
     'libtcmalloc_minimal.so.4'),
    ('/opt/a.so:/usr/lib/libjemalloc.so.2', 'libjemalloc.so.2'),
    ('/opt/malloc_dir/libfast.so', None),
    ('', None)])
def test_a_preloaded_malloc_is_recorded_and_keeps_openvino_out(
        monkeypatch, preload, malloc):
    """OpenVINO aborted the process beside tcmalloc and jemalloc: it is
    left out of the defaults there and refused by name, before it loads."""
    from mmrep.benchmark import inference
    monkeypatch.setenv('LD_PRELOAD', preload)
    assert timing.environment(torch.device('cpu'))['malloc'] == (malloc or
                                                                 'libc')
    if malloc is None:
        return
    assert not inference.openvino_usable()
    with pytest.raises(RuntimeError, match=f'LD_PRELOAD puts {malloc}'):
        inference.openvino('missing.onnx', threads=2)
