from .complexity import (DEFAULT_PROPOSALS, count_detector, count_flops,
                         count_model, count_segmentor, num_params)

__all__ = ['DEFAULT_PROPOSALS', 'count_detector', 'count_flops', 'count_model',
           'count_segmentor', 'num_params']
