"""Train a segmentor or detector from an mmrep config (mmseg 1.x / mmdet 3.x
conventions: --work-dir, --resume, --amp, --auto-scale-lr, --cfg-options,
--launcher). The logic lives in ``mmrep.apis.train``."""
from mmrep.apis.train import main

if __name__ == '__main__':
    main()
