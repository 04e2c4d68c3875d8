from .complexity import DEFAULT_PROPOSALS, count_detector, count_flops

__all__ = ['DEFAULT_PROPOSALS', 'count_detector', 'count_flops']
