"""`bench_speed.py`'s arithmetic: the operations it counts for a step are the ones torch counts, and it counts what
torch's own counter refuses (the gradient penalty's double backward)."""
import sys
from pathlib import Path
import pytest, torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'benchmarks'))
from bench_speed import FlopCounter

def conv_step(x, w):
    F.conv2d(x, w, padding=1).square().sum().backward()

def test_a_convolution_forward_and_backward_is_counted_like_torch_counts_it():
    x, w = torch.randn(2, 3, 8, 8, requires_grad=True), torch.randn(5, 3, 3, 3, requires_grad=True)
    forward = 2*2*5*8*8*3*3*3  # 2 FLOP per multiply-add, per output value, per input channel and tap
    with FlopCounter() as ours: conv_step(x, w)
    with FlopCounterMode(display=False) as theirs: conv_step(x, w)
    assert ours.flops == theirs.get_total_flops() == 3*forward  # backward: the input's gradient and the weight's
    x.requires_grad_(False)
    with FlopCounter() as ours: conv_step(x, w)
    assert ours.flops == 2*forward, "no gradient is computed for an input that does not need one"

def test_the_double_backward_of_a_gradient_penalty_is_counted():
    torch.manual_seed(0)
    critic, x = torch.nn.Conv2d(3, 5, 3, padding=1, bias=False), torch.randn(2, 3, 8, 8)
    def penalty():
        mix = x.clone().requires_grad_(True)
        g, = torch.autograd.grad(critic(mix).square().sum(), mix, create_graph=True)
        g.square().sum().backward()
    with pytest.raises(RuntimeError, match='autograd.grad'):
        with FlopCounterMode(display=False): penalty()
    with FlopCounter() as ours: penalty()
    # forward; the gradient for the input; its backward: for the output gradient and for the weight; then back through
    # the forward: for the weight and for the input (a leaf that asked for gradients): six times the forward
    assert ours.flops == 6*2*2*5*8*8*3*3*3
