"""Test a checkpoint with an mmrep config: mIoU for segmentation configs,
COCO bbox/segm mAP for detection configs (mmseg 1.x / mmdet 3.x options,
plus --deploy). The logic lives in ``mmrep.apis.test``."""
from mmrep.apis.test import main

if __name__ == '__main__':
    main()
