"""The model zoo files, and configs inherited from the installed package."""
import glob
import os.path as osp
import subprocess
import sys

import yaml

from .helpers import RENAMED, ROOT


def test_model_index_lists_every_metafile_and_every_config_exists():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        imports = yaml.safe_load(f)['Import']
    folders = {osp.dirname(p) for p in imports}
    assert folders == {'configs/upernet', 'configs/fcos', 'configs/mask_rcnn',
                       'configs/cascade_mask_rcnn'}
    configs = set()
    for meta in imports:
        with open(osp.join(ROOT, meta)) as f:
            content = yaml.safe_load(f)
        assert osp.isfile(osp.join(ROOT, content['Collections'][0]['README']))
        for model in content['Models']:
            assert osp.isfile(osp.join(ROOT, model['Config'])), model
            configs.add(model['Config'])
    shipped = {osp.relpath(p, ROOT) for p in glob.glob(
        osp.join(ROOT, 'configs', '*', '*.py')) if 'toy' not in p and
        osp.relpath(p, osp.join(ROOT, 'configs')) not in RENAMED}
    assert shipped == configs


def test_installed_package_carries_configs_users_inherit(tmp_path):
    """A regular install of mmrep; a user's config elsewhere inherits
    mmrep::upernet/replknet31b_ade20k.py (the former name of the 31B ADE20K
    config, itself a child of the new name)."""
    target = tmp_path / 'site'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--no-build-isolation', '--target', str(target), ROOT],
                   check=True, capture_output=True)
    for old, new in RENAMED.items():
        assert osp.isfile(target / 'mmrep/.mim/configs' / old)
        assert osp.isfile(target / 'mmrep/.mim/configs' / new)
    project = tmp_path / 'my_project'
    project.mkdir()
    (project / 'my_upernet.py').write_text(
        "_base_ = ['mmrep::upernet/replknet31b_ade20k.py']\n"
        "model = dict(decode_head=dict(num_classes=21),\n"
        "             auxiliary_head=dict(num_classes=21))\n")
    code = ('import mmrep; from mmengine.config import Config; '
            "c = Config.fromfile('my_upernet.py'); "
            'print(mmrep.__file__, c.model.backbone.type, '
            'c.model.backbone.arch, c.model.decode_head.num_classes, '
            'c.optim_wrapper.optimizer.lr)')
    out = subprocess.run([sys.executable, '-c', code], cwd=project,
                         env={'PYTHONPATH': str(target), 'PATH': '/usr/bin'},
                         capture_output=True, text=True, check=True).stdout
    assert out.split()[0].startswith(str(target))
    assert out.split()[1:] == ['RepLKNet', '31B', '21', '0.0002']


def unireplknet_models():
    for folder in ('upernet', 'cascade_mask_rcnn', 'mask_rcnn'):
        with open(osp.join(ROOT, 'configs', folder, 'metafile.yml')) as f:
            for model in yaml.safe_load(f)['Models']:
                if 'UniRepLKNet' in model['In Collection']:
                    yield model


def test_unireplknet_zoo_marks_the_papers_numbers_and_agrees_with_readme():
    """Each row says whose its numbers are; the README's row of the same
    config shows the same paper numbers."""
    with open(osp.join(ROOT, 'README.md')) as f:
        readme = f.read().splitlines()
    models = list(unireplknet_models())
    assert len(models) == 17
    for model in models:
        recipe = model['Metadata']['Recipe']
        rows = [line for line in readme
                if f'({model["Config"]})' in line]
        assert len(rows) == 1, model['Config']
        if 'Results' not in model:  # Mask R-CNN
            assert recipe == 'not official (no official number exists)'
            assert 'no official number' in rows[0]
            continue
        assert recipe.endswith("numbers: the paper's (official README)")
        assert recipe.startswith('derived' if '-xl-in22k_8xb2-160k' in
                                 model['Config'] else 'the official config')
        metrics = list(model['Results'][0]['Metrics'].values())
        meta = model['Metadata']
        assert f'| {metrics[0]} / {metrics[1]} |' in rows[0], rows[0]
        assert f'| {meta["Parameters"]} / {meta["FLOPs"]} |' in rows[0]
