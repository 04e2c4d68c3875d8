# Former name of
# upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py,
# kept so that existing commands and mmrep:: bases keep working.
_base_ = ['./upernet_replknet31b_8xb2-accum8-320k_ade20k-512x512.py']  # noqa
