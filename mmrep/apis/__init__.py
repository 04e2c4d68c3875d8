"""What mmrep's tools run: the shared start-up of train/test
(``launch``), the train and test tools themselves (``train``, ``test``),
and deploy models (``deploy``)."""
from .deploy import build_trained, reparameterize
from .launch import load_config, parse_tool_args, run, tool_parser

__all__ = ['build_trained', 'load_config', 'parse_tool_args',
           'reparameterize', 'run', 'tool_parser']
