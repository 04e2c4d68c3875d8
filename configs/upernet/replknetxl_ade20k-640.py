# Former name of
# upernet_replknetxl_8xb2-accum2-320k_ade20k-640x640.py,
# kept so that existing commands and mmrep:: bases keep working.
_base_ = ['./upernet_replknetxl_8xb2-accum2-320k_ade20k-640x640.py']  # noqa
