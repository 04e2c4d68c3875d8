from .config import (build_model, prepare_cpu_distributed, replace_sync_bn,
                     task_of)
from .dist import (close_process_group, init_cpu_process_group,
                   slurm_to_torch_env)

__all__ = ['build_model', 'prepare_cpu_distributed', 'replace_sync_bn', 'task_of',
           'close_process_group', 'init_cpu_process_group',
           'slurm_to_torch_env']
