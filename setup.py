"""mmrep: RepLKNet large-kernel backbones for MMSegmentation and MMDetection."""
import os.path as osp

from setuptools import find_packages, setup


def versions():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'mmrep', 'version.py')) as f:
        exec(f.read(), scope)
    return scope


setup(
    name='mmrep',
    version=versions()['__version__'],
    description='RepLKNet (CVPR 2022) and UniRepLKNet (CVPR 2024) backbones '
    'for MMSegmentation 1.x and MMDetection 3.x',
    long_description=open('README.md').read() if osp.exists('README.md')
    else '',
    long_description_content_type='text/markdown',
    license='MIT',
    packages=find_packages(include=['mmrep', 'mmrep.*']),
    # mmrep/.mim links the configs and model index into the package, so
    # installed users can inherit them as 'mmrep::upernet/...'.
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=['mmengine>=0.10.0', 'mmcv>=2.0.0,<2.2.0',
                      f'torch>={versions()["MIN_TORCH"]}'],
    extras_require=dict(seg=['mmsegmentation>=1.2.0', 'ftfy', 'regex'],
                        det=['mmdet>=3.3.0', 'pycocotools']),
    zip_safe=False)
