# Former name of
# upernet_replknet31l-in22k_8xb1-accum8-640k_ade20k-640x640.py,
# kept so that existing commands and mmrep:: bases keep working.
_base_ = ['./upernet_replknet31l-in22k_8xb1-accum8-640k_ade20k-640x640.py']  # noqa
