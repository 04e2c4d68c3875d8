from .throughput import measure
from .timing import environment, markdown_table, time_ms, write_results

__all__ = ['environment', 'markdown_table', 'measure', 'time_ms',
           'write_results']
