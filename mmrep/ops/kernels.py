"""An implementation of the depthwise convolution as the parts the
custom operator (``custom_op.py``) and the dispatcher (``dispatch.py``) call:
a forward and a backward, neither recording autograd."""
import torch
import torch.nn.functional as F


class Kernels:
    """One implementation of the stride-1, 'same' depthwise convolution.

    Args:
        conv (callable): ``conv(x, weight)``: the forward without bias.
        grad_input (callable): ``grad_input(grad_out, weight)``: dL/dx.
        grad_weight (callable): ``grad_weight(x, grad_out, weight)``:
            dL/dweight, in any float dtype (cast to the weight's).
    """

    # whether a float32 call on the CPU, on tensors in the layout the
    # reference runs in, computes exactly what verify.reference does
    # (PyTorch's own convolution): the dispatcher then times the
    # reference's computation as this candidate's first call
    computes_reference = False

    def __init__(self, conv, grad_input, grad_weight):
        self.conv = conv
        self.grad_input = grad_input
        self.grad_weight = grad_weight

    def forward(self, x, weight, bias=None):
        y = self.conv(x, weight)
        return y if bias is None else y.add_(bias.view(1, -1, 1, 1))

    def backward(self, grad_out, x, weight, needs=(True, True)):
        """(dL/dx, dL/dweight); None where ``needs`` says it is not needed.
        The bias gradient is :func:`bias_grad` (the same for all)."""
        grad_x = self.grad_input(grad_out, weight) if needs[0] else None
        grad_w = (self.grad_weight(x, grad_out, weight).to(weight.dtype)
                  if needs[1] else None)
        return grad_x, grad_w


def bias_grad(grad_out):
    """The bias gradient: the output gradient summed over N, H and W (in
    float32)."""
    return grad_out.sum((0, 2, 3), dtype=torch.float32).to(grad_out.dtype)


def memory_format(x):
    """x's memory format: channels_last where x is laid out so (and not
    also contiguous, as 1x1 maps are), else contiguous."""
    channels_last = (x.is_contiguous(memory_format=torch.channels_last)
                     and not x.is_contiguous())
    return torch.channels_last if channels_last else torch.contiguous_format


def pytorch_conv(x, weight, bias=None):
    """PyTorch's own depthwise convolution of the op (stride 1, 'same').
    The padding is a pair: a traced kernel size (torch < 2.2's tracer gives
    a 0-dim tensor) is then still read as an int."""
    pad = weight.shape[-1] // 2
    return F.conv2d(x, weight, bias, padding=(pad, pad), groups=x.shape[1])
