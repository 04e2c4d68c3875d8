"""``mmrep::depthwise_conv2d``: the depthwise convolution as a PyTorch custom
operator, so that ``torch.compile`` keeps it as one node of its graphs and
the implementation is still chosen when the graph runs (the dispatcher sees
the real tensors there, as in eager mode).

Two operators, each with a fake (shape-only) implementation for tracing:

* ``mmrep::depthwise_conv2d(x, weight, bias, impl, training)``: the output,
  in x's memory format. ``training`` says whether a backward will follow,
  which 'auto' measures as a case of its own.
* ``mmrep::depthwise_conv2d_backward(grad_out, x, weight, impl, needs_x,
  needs_weight)``: the input and weight gradients of the same
  implementation (an empty tensor where one is not needed). The bias
  gradient is a plain sum, left to autograd's caller (and the compiler).

On a torch without ``torch.library.custom_op`` (< 2.4) the same forward and
backward run as an autograd Function, outside any compiled graph
(:mod:`mmrep.ops.compat`).

:func:`depthwise_conv2d` is the entry point either way.
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from .compat import HAS_CUSTOM_OP
from .implementations import DISPATCHER, IMPLEMENTATIONS, select_impl
from .kernels import bias_grad, memory_format


def _run_chosen(impl, name, x, weight, training, call):
    """``call(name)``. Where 'auto' chose ``name`` for this call's bucket
    and it raises on this shape, the bucket drops it and the next choice
    runs (a fault is never kept; see ``dispatch.py``)."""
    with torch.autocast(x.device.type, enabled=False):
        while True:
            try:
                return call(name)
            except Exception as error:
                if impl != 'auto' or name == DISPATCHER.fallback or \
                        DISPATCHER.forced():
                    raise
                DISPATCHER.drop(x, weight, training, name, error)
                name = select_impl(x, weight, None, impl, training)


def _forward(x: Tensor, weight: Tensor, bias: Optional[Tensor], impl: str,
             training: bool) -> Tensor:
    y = _run_chosen(
        impl, select_impl(x, weight, bias, impl, training), x, weight,
        training, lambda name: IMPLEMENTATIONS[name].forward(x, weight, bias))
    return y.contiguous(memory_format=memory_format(x))


def _backward(grad_out: Tensor, x: Tensor, weight: Tensor, impl: str,
              needs_x: bool, needs_weight: bool) -> Tuple[Tensor, Tensor]:
    # the forward ran with training=True: the same bucket, the same choice
    grad_x, grad_w = _run_chosen(
        impl, select_impl(x, weight, None, impl, training=True), x, weight,
        True, lambda name: IMPLEMENTATIONS[name].backward(
            grad_out, x, weight, (needs_x, needs_weight)))
    grad_x = (grad_x.contiguous(memory_format=memory_format(x))
              if needs_x else x.new_empty(0))
    grad_w = grad_w.contiguous() if needs_weight else weight.new_empty(0)
    return grad_x, grad_w


def _input_grads(backward, ctx, grad_out):
    """The autograd formula both forms share: (dx, dw, db, None, None)."""
    x, weight = ctx.saved_tensors
    needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
    grad_x = grad_w = grad_b = None
    if needs_x or needs_weight:
        grad_x, grad_w = backward(grad_out, x, weight, ctx.impl, needs_x,
                                  needs_weight)
    if ctx.has_bias and needs_bias:
        grad_b = bias_grad(grad_out)
    return (grad_x if needs_x else None, grad_w if needs_weight else None,
            grad_b, None, None)


def _save(ctx, x, weight, bias, impl):
    ctx.save_for_backward(x, weight)
    ctx.impl, ctx.has_bias = impl, bias is not None


if HAS_CUSTOM_OP:
    forward_op = torch.library.custom_op(
        'mmrep::depthwise_conv2d', _forward, mutates_args=())
    backward_op = torch.library.custom_op(
        'mmrep::depthwise_conv2d_backward', _backward, mutates_args=())

    @forward_op.register_fake
    def _(x, weight, bias, impl, training):
        return torch.empty_like(x, memory_format=memory_format(x))

    @backward_op.register_fake
    def _(grad_out, x, weight, impl, needs_x, needs_weight):
        grad_x = (torch.empty_like(x, memory_format=memory_format(x))
                  if needs_x else x.new_empty(0))
        grad_w = (torch.empty_like(weight) if needs_weight else
                  weight.new_empty(0))
        return grad_x, grad_w

    forward_op.register_autograd(
        lambda ctx, grad_out: _input_grads(backward_op, ctx, grad_out),
        setup_context=lambda ctx, inputs, output: _save(ctx, *inputs[:4]))
    depthwise_conv2d = forward_op
else:
    class _DepthwiseConv2d(torch.autograd.Function):

        @staticmethod
        def forward(ctx, x, weight, bias, impl, training):
            _save(ctx, x, weight, bias, impl)
            return _forward(x, weight, bias, impl, training)

        @staticmethod
        def backward(ctx, grad_out):
            return _input_grads(_backward, ctx, grad_out)

    # Dynamo of these releases would trace into the dispatcher's Python;
    # the op runs eagerly between the compiled graphs instead.
    depthwise_conv2d = torch.compiler.disable(_DepthwiseConv2d.apply)
