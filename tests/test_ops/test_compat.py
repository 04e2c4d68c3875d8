"""Running on the torch users have: one clear error below the floor, and
what an older torch lacks logged once, naming the torch and the feature
(the torch release is the independent oracle here; mmrep detects
features)."""
import re
import subprocess
import sys

import pytest
import torch

from mmrep.version import MIN_TORCH, check_torch

RELEASE = tuple(map(int, torch.__version__.split('.')[:2]))


@pytest.mark.parametrize('version', ['1.13.1', '2.0.1+cu118', '2.0.0a0+git'])
def test_a_torch_below_the_floor_gets_one_clear_error(version):
    with pytest.raises(ImportError, match=re.escape(
            f'mmrep needs torch >= {MIN_TORCH}, found torch {version}')):
        check_torch(version)


@pytest.mark.parametrize('version', ['2.1.0a0+git', '2.1.2+cu121', '2.13.0',
                                     '3.0.0'])
def test_the_floor_and_newer_pass(version):
    check_torch(version)


def expected_fallbacks():
    """(features this torch must report, whether that is all of them)."""
    if RELEASE < (2, 4):  # float16 CPU products: at least 2.1 lacks them
        return {'torch.library.custom_op', 'torch.get_autocast_dtype',
                'torch.ops.mkldnn._nbytes'}, False
    if RELEASE < (2, 7):
        return {'torch.compiler.is_exporting'}, True
    return set(), True


def test_what_this_torch_lacks_is_logged_once():
    code = ('import torch, mmrep\n'
            'from mmrep.ops import LargeKernelDWConv2d, depthwise_conv2d\n'
            'conv = LargeKernelDWConv2d(4, 7)\n'
            'conv(torch.randn(1, 4, 9, 9)).sum().backward()\n'
            'depthwise_conv2d(torch.randn(1, 4, 9, 9), conv.weight)\n'
            'LargeKernelDWConv2d(4, 9)\n')
    proc = subprocess.run([sys.executable, '-c', code], text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          check=True)
    prefix = f'torch {torch.__version__} has no '
    lines = [line.split(prefix, 1)[1] for line in proc.stdout.splitlines()
             if prefix in line]
    features = [line.split(' (torch >= ')[0] for line in lines]
    assert len(features) == len(set(features)), lines  # each once
    expected, complete = expected_fallbacks()
    assert expected <= set(features), proc.stdout
    if complete:
        assert set(features) == expected, proc.stdout
