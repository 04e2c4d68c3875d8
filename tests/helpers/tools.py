"""The tools' own modules, for tests that use their functions: tools/ is
a folder of scripts, not a package."""
import importlib.util
import os.path as osp

from . import ROOT


def load_tool(name):
    """tools/<name>.py as a module."""
    spec = importlib.util.spec_from_file_location(
        f'mmrep_tools_{name}', osp.join(ROOT, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


toy_demo = load_tool('toy_demo')
latest_test_metrics = toy_demo.latest_test_metrics
majority_miou = toy_demo.majority_miou
