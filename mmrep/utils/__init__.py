from .config import fall_back_to_bn_on_cpu, replace_sync_bn, task_of
from .dist import init_cpu_process_group, slurm_to_torch_env

__all__ = ['fall_back_to_bn_on_cpu', 'replace_sync_bn', 'task_of',
           'init_cpu_process_group', 'slurm_to_torch_env']
