"""torch.compile keeps the large-kernel op: one custom-operator node per
large kernel, no graph break in the backbone, the implementation chosen
when the graph runs, and the same outputs and gradients as in eager mode;
torch.export still sees PyTorch's convolution."""
import copy

import pytest
import torch
import torch.nn as nn

from mmrep.models import RepLKNet
from mmrep.ops import DISPATCHER, ENV_CACHE, ENV_IMPL

from ..helpers import TINY_ARCH

OP = torch.ops.mmrep.depthwise_conv2d.default


@pytest.fixture(autouse=True)
def fresh_dispatcher(monkeypatch):
    monkeypatch.delenv(ENV_IMPL, raising=False)
    monkeypatch.delenv(ENV_CACHE, raising=False)
    for name in ('choices', 'timings', 'rejected'):
        monkeypatch.setattr(DISPATCHER, name, {})
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def tiny_model():
    torch.manual_seed(0)
    model = RepLKNet(arch=dict(TINY_ARCH, large_kernel_sizes=[13, 11, 7, 5]))
    for m in model.modules():  # trained-like BN statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.)
    return model


def ops_in(graph_modules):
    return sum(node.target in (OP, torch.ops.mmrep.depthwise_conv2d)
               for gm in graph_modules for node in gm.graph.nodes)


def test_the_backbone_forward_has_no_graph_break():
    model, x = tiny_model(), torch.randn(2, 3, 64, 64)
    for mode in (model.train, model.eval):
        mode()
        explained = torch._dynamo.explain(model)(x)
        assert explained.graph_break_count == 0, explained.break_reasons
        assert explained.graph_count == 1
        assert ops_in(explained.graphs) == 4  # one per large kernel


def outputs_and_grads(model, x):
    x = x.clone().requires_grad_()
    outs = model(x)
    loss = sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).sum()
               for o in outs)
    loss.backward()
    grads = [p.grad.clone() for p in model.parameters()] + [x.grad]
    return [o.detach() for o in outs], grads


def rel_err(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def test_compiled_equals_eager_and_chooses_at_run_time():
    eager = tiny_model().eval()  # eval: BN statistics fixed, same in both
    compiled_model = copy.deepcopy(eager)
    graphs = []

    def recording_inductor(gm, example_inputs):
        from torch._inductor import compile_fx
        graphs.append(gm)
        return compile_fx.compile_fx(gm, example_inputs)

    compiled = torch.compile(compiled_model, backend=recording_inductor)
    x = torch.randn(2, 3, 64, 64)
    want_out, want_grad = outputs_and_grads(eager, x)
    DISPATCHER.choices.clear()
    got_out, got_grad = outputs_and_grads(compiled, x)
    assert ops_in(graphs) == 4
    # the compiled graph ran the dispatcher: training cases were measured
    assert any(k.endswith('|train') for k in DISPATCHER.choices)
    for a, b in zip(got_out + got_grad, want_out + want_grad):
        assert rel_err(a, b) < 1e-5


def test_torch_export_and_tracing_see_pytorchs_convolution():
    model = tiny_model().eval()
    x = torch.randn(1, 3, 64, 64)
    exported = torch.export.export(model, (x, ))
    targets = {str(n.target) for n in exported.graph.nodes
               if n.op == 'call_function'}
    assert not any('mmrep.' in t for t in targets)
    assert 'aten.conv2d.default' in targets
    graph = str(torch.jit.trace(model, x, check_trace=False).inlined_graph)
    assert 'mmrep::' not in graph and 'aten::_convolution' in graph
    assert DISPATCHER.choices == {}  # nothing was measured
