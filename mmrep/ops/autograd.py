"""One autograd Function per implementation of the depthwise convolution,
built from its three parts."""
import torch


def dwconv_function(name, conv, grad_input, grad_weight):
    """An autograd Function ``(x, weight, bias) -> y`` for the depthwise
    convolution whose implementation supplies

    * ``conv(x, weight)``: the forward without bias;
    * ``grad_input(grad_out, weight)``: dL/dx;
    * ``grad_weight(x, grad_out, weight)``: dL/dweight (any float dtype).

    The bias is added to the output, and its gradient is the sum of the
    output gradient over N, H and W (in float32).
    """

    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        y = conv(x, weight)
        return y if bias is None else y.add_(bias.view(1, -1, 1, 1))

    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_x = grad_input(grad_out, weight)
        if ctx.needs_input_grad[1]:
            grad_w = grad_weight(x, grad_out, weight).to(weight.dtype)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = grad_out.sum((0, 2, 3), dtype=torch.float32).to(
                grad_out.dtype)
        return grad_x, grad_w, grad_b

    return type(name, (torch.autograd.Function, ), dict(
        forward=staticmethod(forward), backward=staticmethod(backward),
        __doc__=f'{name}: the depthwise convolution with autograd.'))
