# Former name of
# upernet_replknet31b_8xb2-accum4-80k_cityscapes-769x769.py,
# kept so that existing commands and mmrep:: bases keep working.
_base_ = ['./upernet_replknet31b_8xb2-accum4-80k_cityscapes-769x769.py']  # noqa
