# Former name of
# upernet_replknet31b-in22k_8xb2-accum8-320k_ade20k-640x640.py,
# kept so that existing commands and mmrep:: bases keep working.
_base_ = ['./upernet_replknet31b-in22k_8xb2-accum8-320k_ade20k-640x640.py']  # noqa
