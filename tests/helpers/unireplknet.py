"""UniRepLKNet test material written from the official release's layout
(``unireplknet.py`` of the UniRepLKNet repository), independently of
mmrep's modules: state-dict keys and shapes, parameter counts, random
'trained' weights."""
import copy

import torch

from . import meta_params, randomize_bn

# One stage per kind of block: a 3x3 one, 13x13 ones (the paper's kernel),
# a 7x7 one (the smallest dilated setting).
TINY_UNI_ARCH = dict(depths=[1, 1, 2, 1], dims=[8, 16, 32, 64],
                     kernel_sizes=[[3], [13], [13, 3], [7]])

# Dilated branches (kernel, dilation) of the official DilatedReparamBlock.
OFFICIAL_BRANCHES = {
    7: [(5, 1), (3, 2), (3, 3)], 9: [(5, 1), (5, 2), (3, 3), (3, 4)],
    11: [(5, 1), (5, 2), (3, 3), (3, 4), (3, 5)],
    13: [(5, 1), (7, 2), (3, 3), (3, 4), (3, 5)],
    15: [(5, 1), (7, 2), (3, 3), (3, 5), (3, 7)],
    17: [(5, 1), (9, 2), (3, 4), (3, 5), (3, 7)]}
OFFICIAL_DEPTHS = {'A': (2, 2, 6, 2), 'F': (2, 2, 6, 2), 'P': (2, 2, 6, 2),
                   'N': (2, 2, 8, 2), 'T': (3, 3, 18, 3), 'S': (3, 3, 27, 3),
                   'B': (3, 3, 27, 3), 'L': (3, 3, 27, 3),
                   'XL': (3, 3, 27, 3)}
OFFICIAL_DIMS = {'A': 40, 'F': 48, 'P': 64, 'N': 80, 'T': 80, 'S': 96,
                 'B': 128, 'L': 192, 'XL': 256}


def official_arch(name):
    """depths, dims and per-block kernel sizes of an official model."""
    depths = OFFICIAL_DEPTHS[name]
    d = OFFICIAL_DIMS[name]
    stage3 = {6: [13] * 6, 8: [13] * 8, 18: [13, 3] * 9,
              27: [13, 3, 3] * 9}[depths[2]]
    first = [3] * depths[0]
    kernels = [first, [13] * depths[1], stage3, [13] * depths[3]]
    return dict(depths=list(depths), dims=[d, 2 * d, 4 * d, 8 * d],
                kernel_sizes=kernels)


def _bn(prefix, c):
    return {f'{prefix}.weight': (c, ), f'{prefix}.bias': (c, ),
            f'{prefix}.running_mean': (c, ), f'{prefix}.running_var': (c, ),
            f'{prefix}.num_batches_tracked': ()}


def _block_keys(p, d, k, deploy):
    keys = {}
    if k >= 7:
        keys[f'{p}.dwconv.lk_origin.weight'] = (d, 1, k, k)
        if deploy:
            keys[f'{p}.dwconv.lk_origin.bias'] = (d, )
        else:
            keys.update(_bn(f'{p}.dwconv.origin_bn', d))
            for a, r in OFFICIAL_BRANCHES[k]:
                keys[f'{p}.dwconv.dil_conv_k{a}_{r}.weight'] = (d, 1, a, a)
                keys.update(_bn(f'{p}.dwconv.dil_bn_k{a}_{r}', d))
    else:
        keys[f'{p}.dwconv.weight'] = (d, 1, k, k)
        if deploy:
            keys[f'{p}.dwconv.bias'] = (d, )
    if not deploy:
        keys.update(_bn(f'{p}.norm', d))
    q, h = d // 4, 4 * d
    keys.update({f'{p}.se.down.weight': (q, d, 1, 1), f'{p}.se.down.bias': (q, ),
                 f'{p}.se.up.weight': (d, q, 1, 1), f'{p}.se.up.bias': (d, ),
                 f'{p}.pwconv1.1.weight': (h, d), f'{p}.pwconv1.1.bias': (h, ),
                 f'{p}.act.1.gamma': (1, 1, 1, h),
                 f'{p}.pwconv2.0.weight': (d, h)})
    if deploy:
        keys[f'{p}.pwconv2.0.bias'] = (d, )
    else:
        keys.update({f'{p}.act.1.beta': (1, 1, 1, h), f'{p}.gamma': (d, )})
        keys.update(_bn(f'{p}.pwconv2.2', d))
    return keys


def official_keys(arch, deploy=False, classifier=False, out_norms=True,
                  num_classes=1000):
    """{key: shape} of the official model: ImageNet (``classifier``: the
    final ``norm`` and ``head``) or downstream (``out_norms``: norm0..3)."""
    dims, depths = arch['dims'], arch['depths']
    h = dims[0] // 2
    keys = {'downsample_layers.0.0.weight': (h, 3, 3, 3),
            'downsample_layers.0.0.bias': (h, ),
            'downsample_layers.0.1.weight': (h, ),
            'downsample_layers.0.1.bias': (h, ),
            'downsample_layers.0.3.weight': (dims[0], h, 3, 3),
            'downsample_layers.0.3.bias': (dims[0], ),
            'downsample_layers.0.4.weight': (dims[0], ),
            'downsample_layers.0.4.bias': (dims[0], )}
    for i in range(1, len(dims)):
        keys.update({f'downsample_layers.{i}.0.weight':
                     (dims[i], dims[i - 1], 3, 3),
                     f'downsample_layers.{i}.0.bias': (dims[i], ),
                     f'downsample_layers.{i}.1.weight': (dims[i], ),
                     f'downsample_layers.{i}.1.bias': (dims[i], )})
    for i, (d, kernels) in enumerate(zip(dims, arch['kernel_sizes'])):
        assert len(kernels) == depths[i]
        for j, k in enumerate(kernels):
            keys.update(_block_keys(f'stages.{i}.{j}', d, k, deploy))
    if out_norms:
        for i, d in enumerate(dims):
            keys.update({f'norm{i}.weight': (d, ), f'norm{i}.bias': (d, )})
    if classifier:
        c = dims[-1]
        keys.update({'norm.weight': (c, ), 'norm.bias': (c, ),
                     'head.weight': (num_classes, c),
                     'head.bias': (num_classes, )})
    return keys


def official_param_count(arch, **kwargs):
    """Parameters (no BN buffers) of the official layout."""
    buffers = ('running_mean', 'running_var', 'num_batches_tracked')
    return sum(torch.Size(s).numel()
               for k, s in official_keys(arch, **kwargs).items()
               if not k.endswith(buffers))


def official_state_dict(arch, seed=0, **kwargs):
    """Random weights with the official keys and shapes, as the originals
    are written (float32 tensors, int64 ``num_batches_tracked``); variances
    positive."""
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in official_keys(arch, **kwargs).items():
        if key.endswith('num_batches_tracked'):
            state[key] = torch.tensor(1000, dtype=torch.long)
        else:
            state[key] = torch.rand(shape, generator=gen) * 0.4 + 0.1
    return state


def randomize_unireplknet(model, seed=0):
    """Random BN statistics and affines, layer scales and GRN parameters,
    so that every folded term matters in a deploy comparison."""
    gen = torch.Generator().manual_seed(seed)
    for name, param in model.named_parameters():
        if name.endswith(('gamma', 'beta')):
            param.data = (torch.rand(param.shape, generator=gen) * 0.4 + 0.1)
    randomize_bn(model, seed)


def deploy_params(cfg, without=()):
    """Parameters of the config's model in the re-parameterized (deploy)
    form, the form the official README counts; asserts that the training
    form has exactly the official layout's extra parameters (dilated
    branches, BNs, GRN's beta: what re-parameterization merges)."""
    arch = cfg.model.backbone.arch
    arch = official_arch(arch) if isinstance(arch, str) else arch
    trained = meta_params(copy.deepcopy(cfg), without)
    cfg.model.backbone.deploy = True
    deployed = meta_params(cfg, without)
    assert trained - deployed == (official_param_count(arch) -
                                  official_param_count(arch, deploy=True))
    return deployed
