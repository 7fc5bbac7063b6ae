"""`benchmarks/gate_prototype.py`, issue 11's gate prototype: a noise changes the z = 0 colouring only as far as a gate
predicted from L lets it. Each claim against the control that differs in that one thing."""
import sys
from pathlib import Path
import torch
from fastai.torch_core import set_seed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]/'benchmarks'))
from gate_prototype import GatedGenerator, GateLoss
from anime_colorization.unet import UNetGenerator
from anime_colorization.data import SyntheticFaces
from anime_colorization.datablock import colorization_dls
from anime_colorization.dcgan import dcgan_learner
from anime_colorization.gan import patch_critic

def gated(seed=0):
    set_seed(seed)
    return GatedGenerator(UNetGenerator(depth=2, width=8), UNetGenerator(depth=2, width=4, latent=0)).eval()

def test_the_gate_decides_how_far_a_noise_moves_the_colouring():
    g, l = gated(), torch.rand(3, 1, 16, 16)*2 - 1
    z, zero = torch.randn(3, g.latent), torch.zeros(3, g.latent)
    with torch.no_grad():
        own, at_zero = g.base(l, z), g.base(l, zero)
        assert not torch.allclose(own, at_zero), "the control: the base's noise changes its colouring"
        torch.testing.assert_close(g(l, zero), at_zero)  # z = 0 is the base's z = 0 colouring, whatever the gate
        g.gate_map = lambda l: torch.zeros_like(l)   # closed everywhere: no noise moves anything
        torch.testing.assert_close(g(l, z), at_zero)
        g.gate_map = lambda l: torch.ones_like(l)    # open everywhere: the base's own colouring
        torch.testing.assert_close(g(l, z), own)
        half = torch.zeros_like(l); half[..., :8] = 1  # open on the left half only
        g.gate_map = lambda l: half
        out = g(l, z)
        torch.testing.assert_close(out[..., :8], own[..., :8]); torch.testing.assert_close(out[..., 8:], at_zero[..., 8:])

def test_the_gate_learns_where_the_z0_colouring_misses_and_only_from_its_own_term():
    "A few generator steps move the gate towards the z = 0 colouring's error; the GAN's other terms give it no gradient"
    faces = SyntheticFaces(64, size=16, seed=0)
    dls = colorization_dls(faces, size=16, bs=16)
    set_seed(0)
    g = GatedGenerator(UNetGenerator(depth=2, width=8), UNetGenerator(depth=2, width=4, latent=0))
    learn = dcgan_learner(dls, generator=g, critic=patch_critic(width=8, n_layers=2, spectral=True), hindsight=2, anchor=100., spread=10.)
    plain = learn.loss_func
    learn.loss_func = GateLoss.of(plain, 20., 10.)
    for k in ('adversarial', 'adv_weight', 'l1', 'mode_seeking', 'hindsight', 'anchor', 'seek', 'tint', 'spread', 'spread_tol'):
        assert getattr(learn.loss_func, k) == getattr(plain, k), k  # the same GAN, with the gate's term
    xb, yb = dls.one_batch()
    model, loss = learn.model.train(), learn.loss_func
    model.gen_mode = True
    fake = model(xb)
    g.zero_grad(); loss(fake, yb).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.gate.parameters() if p.requires_grad), "the gate's term trains it"
    g.zero_grad(); loss.gate_w = 0.; fake = model(xb); loss(fake, yb).backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in g.gate.parameters()), "the other terms reach the gate"
