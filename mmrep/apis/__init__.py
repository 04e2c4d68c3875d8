"""What mmrep's tools run, importable and tested directly: the shared
start-up of train/test (``launch``, ``start_checks``), the train and test
tools (``train``, ``test``), deploy models and their compiled form for
CPU serving (``deploy``), ONNX export (``onnx``), MMDeploy export and its
check against PyTorch (``mmdeploy``, ``agreement``) and checkpoint
conversion (``convert``)."""
from .deploy import build_trained, compile_for_cpu, reparameterize
from .launch import load_config, parse_tool_args, run, tool_parser

__all__ = ['build_trained', 'compile_for_cpu', 'load_config',
           'parse_tool_args', 'reparameterize', 'run', 'tool_parser']
