"""Process-group set-up for the launchers mmrep's tools accept.

mmengine's own launchers assume CUDA (they call ``torch.cuda.set_device``)
and its Slurm launcher divides by the GPU count. For GPU runs we leave
everything to mmengine; on CPU-only machines we translate Slurm's variables
into torchrun's, and start a gloo process group ourselves, which mmengine's
Runner then reuses.
"""
import gc
import os
import subprocess

import torch
import torch.distributed as dist
from mmengine.logging import print_log


def slurm_to_torch_env(default_port=29500):
    """Fill RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT from
    the variables ``srun`` sets (SLURM_PROCID, SLURM_NTASKS, ...)."""
    node_list = os.environ['SLURM_NODELIST']
    if 'MASTER_ADDR' not in os.environ:
        hosts = subprocess.run(['scontrol', 'show', 'hostnames', node_list],
                               capture_output=True, text=True, check=True)
        os.environ['MASTER_ADDR'] = hosts.stdout.split()[0]
    os.environ.setdefault('MASTER_PORT', str(default_port))
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def init_cpu_process_group(launcher, backend='gloo', timeout_s=1800):
    """Start a gloo process group for ``launcher`` on a machine without
    GPUs; return the backend used, or None when mmengine should do it."""
    if launcher == 'none' or torch.cuda.is_available():
        return None
    if launcher == 'slurm':
        slurm_to_torch_env()
    elif launcher != 'pytorch':
        raise ValueError(f'--launcher {launcher!r} is not supported on a CPU '
                         f'machine; use pytorch (torchrun) or slurm')
    if backend != 'gloo':  # e.g. the paper configs' nccl: a note, no warning
        print_log(f'process group: gloo on this CPU-only machine (the '
                  f"config's dist_cfg.backend={backend!r} needs GPUs)",
                  logger='current')
    if not dist.is_initialized():
        from datetime import timedelta
        dist.init_process_group('gloo', timeout=timedelta(seconds=timeout_s))
    return 'gloo'


def close_process_group():
    """End the process group while the interpreter is fully alive.

    Left to interpreter exit, gloo's worker threads may release tensors that
    hold Python references after finalization began, which aborts a finished
    run ("terminate called without an active exception"). The caller drops
    its Runner first (its DDP wrapper keeps the group alive); here every
    rank waits for the others, garbage is collected, and the group is
    destroyed.
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        gc.collect()
        dist.destroy_process_group()
