"""torch.compile keeps the large-kernel op: one custom-operator node per
large kernel, no graph break in the backbone, the implementation chosen
when the graph runs, and the same outputs and gradients as in eager mode;
torch.export still sees PyTorch's convolution. On a torch without custom
operators (< 2.4), 'auto' compiles PyTorch's convolution into one graph
and a named implementation runs between graphs, with the same numbers."""
import copy

import pytest
import torch
import torch.nn as nn

from mmrep.models import RepLKNet
from mmrep.ops import DISPATCHER
from mmrep.ops.compat import HAS_CUSTOM_OP, HAS_IS_EXPORTING

from ..helpers import TINY_ARCH


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def tiny_model(impl='auto'):
    torch.manual_seed(0)
    model = RepLKNet(arch=dict(TINY_ARCH, large_kernel_sizes=[13, 11, 7, 5]),
                     large_kernel_impl=impl)
    for m in model.modules():  # trained-like BN statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.)
    return model


def ops_in(graph_modules):
    """The mmrep::depthwise_conv2d nodes of these graphs."""
    return sum('mmrep.depthwise_conv2d' in str(node.target)
               for gm in graph_modules for node in gm.graph.nodes)


def test_the_backbone_forward_has_no_graph_break():
    model, x = tiny_model(), torch.randn(2, 3, 64, 64)
    for mode in (model.train, model.eval):
        mode()
        explained = torch._dynamo.explain(model)(x)
        assert explained.graph_break_count == 0, explained.break_reasons
        assert explained.graph_count == 1
        # one per large kernel, or PyTorch's convolution in the graph
        assert ops_in(explained.graphs) == (4 if HAS_CUSTOM_OP else 0)


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
    DISPATCHER.reset()
    got_out, got_grad = outputs_and_grads(compiled, x)
    if HAS_CUSTOM_OP:
        assert ops_in(graphs) == 4
        # the compiled graph ran the dispatcher: training cases measured
        assert any(k.endswith('|train') for k in DISPATCHER.choices)
    else:  # PyTorch's convolution, compiled: nothing measured
        assert ops_in(graphs) == 0 and DISPATCHER.choices == {}
    for a, b in zip(got_out + got_grad, want_out + want_grad):
        assert rel_err(a, b) < 1e-5


def test_a_named_implementation_compiles_and_runs_it(monkeypatch):
    """impl='rows' under torch.compile runs the row kernels (as a graph
    node, or between graphs where torch has no custom operators)."""
    eager = tiny_model('rows').eval()
    compiled = torch.compile(copy.deepcopy(eager), backend='aot_eager')
    x = torch.randn(2, 3, 64, 64)
    want_out, want_grad = outputs_and_grads(eager, x)
    calls = count_calls(monkeypatch, 'rows')
    got_out, got_grad = outputs_and_grads(compiled, x)
    assert sorted(calls) == ['backward'] * 4 + ['forward'] * 4
    for a, b in zip(got_out + got_grad, want_out + want_grad):
        assert rel_err(a, b) < 1e-5


def count_calls(monkeypatch, name):
    """The list that each forward and backward of implementation ``name``
    appends to from now on."""
    from mmrep.ops.implementations import IMPLEMENTATIONS
    kernels, calls = IMPLEMENTATIONS[name], []

    class Counted:
        def forward(self, *args):
            calls.append('forward')
            return kernels.forward(*args)

        def backward(self, *args):
            calls.append('backward')
            return kernels.backward(*args)

    monkeypatch.setitem(IMPLEMENTATIONS, name, Counted())
    return calls


def test_torch_export_and_tracing_see_pytorchs_convolution():
    model = tiny_model().eval()
    x = torch.randn(1, 3, 64, 64)
    exported = torch.export.export(model, (x, ))
    targets = {str(n.target) for n in exported.graph.nodes
               if n.op == 'call_function'}
    if HAS_CUSTOM_OP and not HAS_IS_EXPORTING:
        # torch 2.4-2.6 cannot tell export from compile: the op is kept,
        # and the exported program computes the same
        assert sum('mmrep.depthwise_conv2d' in t for t in targets) == 1
        assert rel_err(exported.module()(x)[0], model(x)[0]) < 1e-5
        return
    assert not any('mmrep.' in t for t in targets)
    assert any(t.startswith('aten.conv') for t in targets), targets
    graph = str(torch.jit.trace(model, x, check_trace=False).inlined_graph)
    assert 'mmrep::' not in graph and 'aten::_convolution' in graph
    assert DISPATCHER.choices == {}  # nothing was measured
