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
"""
from typing import Optional, Tuple

import torch
from torch import Tensor

from .implementations import IMPLEMENTATIONS, select_impl
from .kernels import bias_grad
from .matmul_dwconv import memory_format


@torch.library.custom_op('mmrep::depthwise_conv2d', mutates_args=())
def depthwise_conv2d_op(x: Tensor, weight: Tensor, bias: Optional[Tensor],
                        impl: str, training: bool) -> Tensor:
    name = select_impl(x, weight, bias, impl, training)
    with torch.autocast(x.device.type, enabled=False):
        y = IMPLEMENTATIONS[name].forward(x, weight, bias)
    return y.contiguous(memory_format=memory_format(x))


@depthwise_conv2d_op.register_fake
def _(x, weight, bias, impl, training):
    return torch.empty_like(x, memory_format=memory_format(x))


@torch.library.custom_op('mmrep::depthwise_conv2d_backward', mutates_args=())
def depthwise_conv2d_backward_op(grad_out: Tensor, x: Tensor, weight: Tensor,
                                 impl: str, needs_x: bool,
                                 needs_weight: bool) -> Tuple[Tensor, Tensor]:
    # the forward ran with training=True: the same case, the same choice
    name = select_impl(x, weight, None, impl, training=True)
    with torch.autocast(x.device.type, enabled=False):
        grad_x, grad_w = IMPLEMENTATIONS[name].backward(
            grad_out, x, weight, (needs_x, needs_weight))
    grad_x = (grad_x.contiguous(memory_format=memory_format(x))
              if needs_x else x.new_empty(0))
    grad_w = grad_w.contiguous() if needs_weight else weight.new_empty(0)
    return grad_x, grad_w


@depthwise_conv2d_backward_op.register_fake
def _(grad_out, x, weight, impl, needs_x, needs_weight):
    grad_x = (torch.empty_like(x, memory_format=memory_format(x))
              if needs_x else x.new_empty(0))
    grad_w = torch.empty_like(weight) if needs_weight else weight.new_empty(0)
    return grad_x, grad_w


def _setup_context(ctx, inputs, output):
    x, weight, bias, impl, _ = inputs
    ctx.save_for_backward(x, weight)
    ctx.impl, ctx.has_bias = impl, bias is not None


def _backward(ctx, grad_out):
    x, weight = ctx.saved_tensors
    needs_x, needs_weight, needs_bias = ctx.needs_input_grad[:3]
    grad_x = grad_w = grad_b = None
    if needs_x or needs_weight:
        grad_x, grad_w = depthwise_conv2d_backward_op(
            grad_out, x, weight, ctx.impl, needs_x, needs_weight)
    if ctx.has_bias and needs_bias:
        grad_b = bias_grad(grad_out)
    return (grad_x if needs_x else None, grad_w if needs_weight else None,
            grad_b, None, None)


depthwise_conv2d_op.register_autograd(_backward, setup_context=_setup_context)
