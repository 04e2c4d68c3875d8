"""A dispatcher over fake implementations: PyTorch's convolution that
'takes' a given time on a fake clock, and records each run."""
from mmrep.ops import Dispatcher
from mmrep.ops.implementations import TorchKernels


class FakeClock:
    """Seconds that move only when a fake implementation runs."""

    def __init__(self):
        self.now = 0.

    def __call__(self):
        return self.now


class FakeKernels(TorchKernels):
    """PyTorch's convolution that 'takes' ``cost`` seconds of the fake
    clock per forward and per backward; ``calls`` records each forward's
    name and each backward as ``(name, 'backward')``. As in the real
    table, only 'torch' stands for PyTorch's own convolution (its call may
    compute the reference)."""

    def __init__(self, name, cost, clock, calls):
        self.name, self.cost, self.clock, self.calls = name, cost, clock, \
            calls
        self.computes_reference = name == 'torch'

    def forward(self, x, weight, bias=None):
        self.calls.append(self.name)
        self.clock.now += self.cost
        return super().forward(x, weight, bias)

    def backward(self, grad_out, x, weight, needs=(True, True)):
        self.calls.append((self.name, 'backward'))
        self.clock.now += self.cost
        return super().backward(grad_out, x, weight, needs)


def fake_dispatcher(costs, clock=None, candidates=None, **kwargs):
    """A Dispatcher over implementations that each 'take' costs[name]
    seconds of the fake clock (every name a candidate unless
    ``candidates(x, w, training)`` says otherwise); ``calls`` records every
    run."""
    clock = clock or FakeClock()
    calls = []
    dispatcher = Dispatcher(
        {n: FakeKernels(n, cost, clock, calls) for n, cost in costs.items()},
        candidates or (lambda x, w, training: list(costs)), clock=clock,
        fallback=next(iter(costs)), **kwargs)
    return dispatcher, calls


def ran(calls):
    """The implementations that ran, forward or backward."""
    return [c if isinstance(c, str) else c[0] for c in calls]
