import pytest

from mmrep.models import RepLKNet

from ..helpers import TINY_ARCH


def arch(**changes):
    return dict(TINY_ARCH, **changes)


@pytest.mark.parametrize('kwargs, match', [
    (dict(arch='31X'), r"arch '31X' is unknown"),
    (dict(arch=31), 'arch must be a str or a dict'),
    (dict(arch=arch(large_kernel_sizes=[7, 8, 5, 5])),
     r'large_kernel_sizes must be odd and in \[3, 63\], got 8'),
    (dict(arch=arch(large_kernel_sizes=[65, 7, 5, 5])),
     r'large_kernel_sizes must be odd and in \[3, 63\], got 65'),
    (dict(arch=TINY_ARCH, large_kernel_impl='cuda'),
     'large_kernel_impl must be one of'),
    (dict(arch=TINY_ARCH, bn_fused=True), 'bn_fused=True needs deploy=True'),
    (dict(arch=arch(layers=[1, 1, 1])), 'must have the same length'),
    (dict(arch=arch(channels=[8, 16, 32, 64, 128])),
     'must have the same length'),
    (dict(arch=arch(small_kernel=9)),
     r'small_kernel \(9\) must not be larger'),
    (dict(arch=arch(small_kernel=4)), 'small_kernel must be a positive odd'),
    (dict(arch={'layers': [1]}), 'missing keys'),
    (dict(arch=arch(depth=3)), r"unknown keys \['depth'\]"),
    (dict(arch=dict(base='31X', layers=[1, 1, 1, 1])),
     r"arch base '31X' is unknown"),
    (dict(arch=dict(base='31B', layers=[1, 1, 1])),
     'must have the same length'),
    (dict(arch=TINY_ARCH, out_indices=(0, 4)), 'out_indices: 4 is out of'),
    (dict(arch=TINY_ARCH, out_indices=(-5, )), 'out_indices: -5 is out of'),
    (dict(arch=TINY_ARCH, frozen_stages=5), 'frozen_stages must be in'),
    (dict(arch=TINY_ARCH, drop_path_rate=-0.1),
     r'drop_path_rate must be in \[0, 1\), got -0.1'),
    (dict(arch=TINY_ARCH, drop_path_rate=1.0), 'drop_path_rate must be in'),
])
def test_bad_arguments_raise_value_error_naming_them(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RepLKNet(**kwargs)


def test_arch_base_with_changes():
    """What --cfg-options model.backbone.arch._delete_=True
    model.backbone.arch.base=31B model.backbone.arch.layers=[1,1,1,1]
    builds: 31B's settings with one changed."""
    import torch
    with torch.device('meta'):
        model = RepLKNet(arch=dict(base='31B', layers=[1, 1, 1, 1]))
    expected = dict(RepLKNet.arch_settings['31B'], layers=[1, 1, 1, 1])
    assert model.arch == expected


def uni(**changes):
    from ..helpers.unireplknet import TINY_UNI_ARCH
    return dict(TINY_UNI_ARCH, **changes)


@pytest.mark.parametrize('kwargs, match', [
    (dict(arch='M'), r"arch 'M' is unknown"),
    (dict(arch=[3, 3, 27, 3]), 'arch must be a str or a dict'),
    (dict(arch=uni(kernel_sizes=[[3], [12], [13, 3], [7]])),
     r'kernel_sizes\[1\]\[0\] must be one of .*got 12'),
    (dict(arch=uni(kernel_sizes=[[3], [13], [13, 31], [7]])),
     r'kernel_sizes\[2\]\[1\] must be one of .*got 31'),
    (dict(arch=uni(kernel_sizes=[[3], [13], [13], [7]])),
     r'kernel_sizes\[2\] has 1 kernel sizes for a stage of depth 2'),
    (dict(arch=uni(kernel_sizes=[[3], [13], [13, 3]])),
     'kernel_sizes has 3 stages, depths 4'),
    (dict(arch=uni(kernel_sizes=None, depths=[1, 1, 2, 1])),
     r'no default kernel_sizes for depths \[1, 1, 2, 1\]'),
    (dict(arch=uni(dims=[8, 16, 32])), 'depths and dims must have the same'),
    (dict(arch=uni(dims=[8, 16, 30, 63])), 'dims must be even'),
    (dict(arch=uni(depths=[1, 0, 2, 1])), 'depths must be >= 1'),
    (dict(arch={'dims': [8]}), r"missing keys \['depths'\]"),
    (dict(arch=uni(layers=[1, 1, 1, 1])), r"unknown keys \['layers'\]"),
    (dict(arch=dict(base='Z', dims=[8, 16, 32, 64])),
     r"arch base 'Z' is unknown"),
    (dict(arch=dict(base='T', depths=[1, 1, 1, 1])),
     'no default kernel_sizes for depths'),
    (dict(arch=uni(), out_indices=(0, 4)), 'out_indices: 4 is out of'),
    (dict(arch=uni(), out_indices=(-5, )), 'out_indices: -5 is out of'),
    (dict(arch=uni(), frozen_stages=5), 'frozen_stages must be in'),
    (dict(arch=uni(), drop_path_rate=-0.1),
     r'drop_path_rate must be in \[0, 1\), got -0.1'),
    (dict(arch=uni(), large_kernel_impl='igemm'),
     'large_kernel_impl must be one of'),
])
def test_unireplknet_bad_arguments_raise_value_error_naming_them(kwargs,
                                                                 match):
    from mmrep.models import UniRepLKNet
    with pytest.raises(ValueError, match=match):
        UniRepLKNet(**kwargs)


def test_unireplknet_arch_base_with_changes():
    import torch
    from mmrep.models import UniRepLKNet
    with torch.device('meta'):
        model = UniRepLKNet(arch=dict(base='S', dims=[8, 16, 32, 64]))
    assert model.arch == dict(UniRepLKNet.arch_settings['S'],
                              dims=[8, 16, 32, 64])
    with torch.device('meta'):  # new depths: their default kernel sizes
        model = UniRepLKNet(arch=dict(base='S', depths=[3, 3, 18, 3]))
    assert model.arch['kernel_sizes'] == \
        UniRepLKNet.arch_settings['T']['kernel_sizes']
