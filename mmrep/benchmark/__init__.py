from .throughput import measure
from .timing import (environment, markdown_table, rel_err, time_ms,
                     write_results)

__all__ = ['environment', 'markdown_table', 'measure', 'rel_err', 'time_ms',
           'write_results']
