"""The benchmark tools run and write their JSON and markdown (timings on the
CPU here; the measured tables live in docs/benchmarks.md)."""
import json

import pytest

from ..conftest import run_tool


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
        # 'auto' never times Triton on the CPU
        assert group[4]['chosen'] in ('torch', 'rows', 'dense')
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
            assert row['train_img_s'] > 0 and row['infer_img_s'] > 0
            assert row['infer_deploy_img_s'] > 0
            assert row['model'].startswith('RepLKNet' if extra else
                                           'EncoderDecoder')
