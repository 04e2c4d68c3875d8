__version__ = '0.1.0'
# The oldest torch mmrep runs on (setup.py's requirement, checked at import).
MIN_TORCH = '2.1'


def check_torch(version):
    """Raise one clear error for a torch older than :data:`MIN_TORCH`, which
    would otherwise fail somewhere deep inside mmrep."""
    import re
    found = tuple(map(int, re.match(r'(\d+)\.(\d+)', version).groups()))
    if found < tuple(map(int, MIN_TORCH.split('.'))):
        raise ImportError(f'mmrep needs torch >= {MIN_TORCH}, found torch '
                          f'{version}; install a newer torch '
                          f'(docs/install.md)')
