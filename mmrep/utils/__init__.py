from .config import (build_model, drop_pretrained, prepare_cpu_distributed,
                     pretrained_entries, read_config, replace_sync_bn,
                     task_of)
from .dist import (close_process_group, init_cpu_process_group,
                   slurm_to_torch_env)

__all__ = ['build_model', 'drop_pretrained', 'prepare_cpu_distributed',
           'pretrained_entries', 'read_config', 'replace_sync_bn', 'task_of',
           'close_process_group', 'init_cpu_process_group',
           'slurm_to_torch_env']
