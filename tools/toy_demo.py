"""The main job on embedded data: make the toy data, train the tiny RepLKNet
models with tools/train.py, test them with tools/test.py, and compare with a
trivial baseline. Run by `make demo`; the logic lives in
``mmrep.apis.toy_demo``."""
import argparse
import os.path as osp

from mmrep.apis.toy_demo import ROOT, run_demo


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs',
                                                       'demo'))
    parser.add_argument('--json', help='write the demo metrics here')
    args = parser.parse_args(argv)
    return run_demo(args.work_dir, args.json)


if __name__ == '__main__':
    main()
