"""Where a checkpoint comes from: every scheme of mmengine's
``CheckpointLoader``, resolved to bytes that mmrep then reads with
``torch.load(weights_only=True)``.

* a local path;
* ``http://`` / ``https://``: downloaded once into mmengine's download cache
  (``<torch hub dir>/checkpoints``, where ``load_from_http`` keeps them);
* ``torchvision://`` (``modelzoo://``), ``open-mmlab://`` (``openmmlab://``)
  and ``mmcls://``: mmengine's model tables, then the URL or file they name;
* any other ``scheme://`` path (``s3://``, ``petrel://``, ...): mmengine's
  file backends.
"""
import io
import os
import os.path as osp
from urllib.parse import urlparse

import torch
from mmengine.dist import barrier, get_dist_info


def _model_zoo_url(path):
    """The URL (or file) that a model-zoo scheme names, as mmengine's
    loaders resolve it; None for other paths."""
    from mmengine.runner import checkpoint as ckpt
    for prefixes, table in (
            (('torchvision://', 'modelzoo://'), ckpt.get_torchvision_models),
            (('open-mmlab://', 'openmmlab://'), ckpt.get_external_models),
            (('mmcls://', ), ckpt.get_mmcls_models)):
        prefix = next((p for p in prefixes if path.startswith(p)), None)
        if prefix is None:
            continue
        name = path[len(prefix):]
        if prefix in ('open-mmlab://', 'openmmlab://'):
            name = ckpt.get_deprecated_model_names().get(name, name)
        urls = table()
        if name not in urls:
            raise FileNotFoundError(
                f'checkpoint {path!r}: mmengine knows no model {name!r} '
                f'under {prefix}')
        url = urls[name]
        if not url.startswith(('http://', 'https://')):
            url = osp.join(ckpt._get_mmengine_home(), url)
        return url
    return None


def download(url):
    """``url`` in mmengine's download cache (fetched once, by rank 0 first
    in a distributed run); returns the local file."""
    cache = osp.join(torch.hub.get_dir(), 'checkpoints')
    local = osp.join(cache, osp.basename(urlparse(url).path))
    rank, world_size = get_dist_info()
    if rank == 0 and not osp.isfile(local):
        os.makedirs(cache, exist_ok=True)
        try:
            torch.hub.download_url_to_file(url, local, progress=False)
        except Exception as err:
            raise FileNotFoundError(
                f'checkpoint {url!r} could not be downloaded: {err}') from err
    if world_size > 1:
        barrier()
    return local


def open_checkpoint(path):
    """A local file name or an in-memory buffer holding ``path``'s bytes."""
    path = str(path)
    path = _model_zoo_url(path) or path
    if path.startswith(('http://', 'https://')):
        return download(path)
    if '://' in path:
        from mmengine.fileio import get
        return io.BytesIO(get(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file {path!r} does not exist')
    return path
