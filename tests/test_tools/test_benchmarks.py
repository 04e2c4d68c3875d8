"""The benchmark tools run and write their JSON and markdown (timings on the
CPU here; the GPU numbers live in docs/benchmarks.md)."""
import json

from ..conftest import run_tool


def test_benchmark_dwconv_times_and_checks_every_impl(tmp_path):
    out_json, out_md = tmp_path / 'dw.json', tmp_path / 'dw.md'
    run_tool('tools/benchmark_dwconv.py', '--preset', 'tiny', '--impls',
             'torch', 'triton', '--dtypes', 'float32', '--warmup', '0',
             '--repeats', '1', '--json', str(out_json), '--md', str(out_md))
    result = json.loads(out_json.read_text())
    rows = result['rows']
    assert {r['impl'] for r in rows} == {'torch', 'triton'}
    assert all(r['fwd_ms'] > 0 and r['fwd_bwd_ms'] > 0 for r in rows)
    assert all(r['max_rel_err'] < 1e-5 for r in rows)
    assert '| shape | dtype | impl |' in out_md.read_text()


def test_benchmark_model_backbone_and_whole_segmentor(tmp_path):
    config = 'configs/upernet/replknet-tiny_toy-ade.py'
    for extra in (['--backbone-only', '--amp'], []):
        out_json = tmp_path / 'model.json'
        run_tool('tools/benchmark.py', config, '--batch', '2', '--shape',
                 '64', '64', '--warmup', '1', '--repeats', '2', '--json',
                 str(out_json), '--md', str(tmp_path / 'model.md'), *extra)
        row = json.loads(out_json.read_text())['rows'][0]
        assert row['train_img_s'] > 0 and row['infer_img_s'] > 0
        assert row['model'].startswith('RepLKNet' if extra else
                                       'EncoderDecoder')
