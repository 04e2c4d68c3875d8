"""The model zoo files, and configs inherited from the installed package."""
import glob
import os.path as osp
import re
import subprocess
import sys

import yaml

from .helpers import RENAMED, ROOT, model_configs


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
    shipped = {osp.relpath(p, ROOT) for p in model_configs()
               if 'toy' not in p and
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
    """Each row says whose its numbers are; the row of the same config in
    its folder's README (the one home of the zoo tables) shows the same
    paper numbers."""
    models = list(unireplknet_models())
    assert len(models) == 17
    for model in models:
        folder, name = osp.split(model['Config'])
        with open(osp.join(ROOT, folder, 'README.md')) as f:
            readme = f.read().splitlines()
        recipe = model['Metadata']['Recipe']
        rows = [line for line in readme if f'[{name}]({name})' in line]
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


def test_every_zoo_row_shows_its_metafile_numbers():
    """The zoo tables live in the config READMEs: each metafile model has
    exactly one row there, showing each of its metrics."""
    for folder in ('upernet', 'fcos', 'mask_rcnn', 'cascade_mask_rcnn'):
        with open(osp.join(ROOT, 'configs', folder, 'metafile.yml')) as f:
            models = yaml.safe_load(f)['Models']
        with open(osp.join(ROOT, 'configs', folder, 'README.md')) as f:
            readme = f.read().splitlines()
        for model in models:
            name = osp.basename(model['Config'])
            rows = [line for line in readme if f'[{name}]({name})' in line]
            assert len(rows) == 1, (folder, name)
            for result in model.get('Results', []):
                for value in result['Metrics'].values():
                    assert f' {value} ' in rows[0], (name, value)


def markdown_pages():
    pages = glob.glob(osp.join(ROOT, 'docs', '*.md')) + glob.glob(
        osp.join(ROOT, 'configs', '*', 'README.md'))
    return ['README.md'] + sorted(osp.relpath(p, ROOT) for p in pages)


def anchors(path):
    """GitHub's anchors of a markdown file's headings."""
    with open(path) as f:
        titles = [line.lstrip('#').strip() for line in f
                  if line.startswith('#')]
    return {re.sub(r'[^\w\- ]', '', t.lower()).replace(' ', '-')
            for t in titles}


def test_every_link_of_the_readme_and_docs_leads_somewhere():
    """Links between the README, docs/ and the config READMEs point at
    files that exist and, with '#', at headings that exist."""
    for page in markdown_pages():
        with open(osp.join(ROOT, page)) as f:
            text = f.read()
        for target in re.findall(r'\]\(([^)\s]+)\)', text):
            if target.startswith(('http://', 'https://')):
                continue
            path, _, anchor = target.partition('#')
            path = osp.normpath(osp.join(ROOT, osp.dirname(page), path)
                                if path else osp.join(ROOT, page))
            assert osp.exists(path), f'{page}: {target}'
            if anchor:
                assert anchor in anchors(path), f'{page}: {target}'


def test_readme_is_a_landing_page():
    """The README stays short: the rest has one home in docs/ and the
    config READMEs, which it links."""
    with open(osp.join(ROOT, 'README.md')) as f:
        readme = f.read()
    assert len(readme.splitlines()) <= 120
    for page in markdown_pages()[1:]:
        if page.startswith('docs/'):
            assert f']({page})' in readme, page
