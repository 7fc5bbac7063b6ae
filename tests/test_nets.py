"Tests of the generator (`unet`) and the critics (`gan critics`): shapes, noise, configs, parameter counts, autocast."
import copy, json
import pytest
import torch
from torch import nn

from anime_colorization.unet import UNetGenerator, generator_config, seed_generator, n_params, NOISE_MODES
from anime_colorization.gan import (seed_critic, patch_critic, wgan_critic, critic_config, critic_from_config,
                                    has_spectral_norm, patch_mean, SeedCritic, PatchCritic)

# The original Keras models' parameter counts, measured
SEED_G = {64: 7.40e6, 128: 8.64e6}
SEED_D = {64: 2.83e6, 128: 2.93e6}
TOL = 0.02  # relative tolerance on the seed presets' counts (we get +0.7% / +0.6% and +0.0% / -0.1%)

def small(**kw):
    "A small generator for fast tests"
    return UNetGenerator(**{'width': 8, 'max_width': 32, 'depth': 3, 'latent': 4, **kw})

def gray(b=2, size=32, seed=0):
    "Random normalised L in [-1, 1]"
    return torch.rand(b, 1, size, size, generator=torch.Generator().manual_seed(seed))*2 - 1

def modes_kw(mode, size=32):
    "Constructor arguments for noise `mode`"
    return {'noise': mode, 'latent': 0 if mode == 'none' else 4, 'size': size}

# ---- generator: shapes and sizes
@pytest.mark.parametrize('size,depth', [(32, 1), (32, 3), (32, 5), (64, 4), (64, 6), (128, 5)])
def test_generator_shapes(size, depth):
    g = UNetGenerator(width=8, max_width=32, depth=depth).eval()
    l = gray(2, size)
    y = g(l)
    assert y.shape == (2, 3, size, size) and y.dtype == torch.float32
    assert torch.equal(y[:, :1], l)
    assert y[:, 1:].abs().max() <= 1

def test_non_square():
    y = small().eval()(torch.zeros(1, 1, 32, 64))
    assert y.shape == (1, 3, 32, 64)

def test_bad_sizes():
    g = small(depth=3)
    with pytest.raises(ValueError, match=r"36x36 .*divisible by 2\*\*depth = 8"): g(gray(1, 36))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"): g(torch.zeros(1, 3, 32, 32))
    with pytest.raises(ValueError, match="size 36 must be divisible by 2\\*\\*depth = 8"): small(depth=3, size=36)
    with pytest.raises(ValueError, match="needs the image `size`"): small(noise='dense_map')
    with pytest.raises(ValueError, match="built for 32x32 images, got 64x64"): small(noise='dense_map', size=32)(gray(1, 64))
    with pytest.raises(ValueError, match="latent=0"): small(noise='none', latent=4)
    with pytest.raises(ValueError, match="z of shape"): small()(gray(2), torch.zeros(2, 5))
    with pytest.raises(ValueError, match="dec_widths needs 3"): small(dec_widths=[8, 8])
    with pytest.raises(ValueError, match="noise must be one of"): small(noise='everywhere')
    with pytest.raises(ValueError, match="upsample must be one of"): small(upsample='bicubic')

# ---- generator: noise
def test_z_sampling_determinism():
    torch.manual_seed(0)
    g1 = small(seed=7).eval()
    g2 = small(seed=7).eval(); g2.load_state_dict(g1.state_dict())
    l = gray(3)
    y1, y2 = g1(l), g2(l)
    assert g1.last_z.shape == (3, 4) and torch.equal(g1.last_z, g2.last_z) and torch.equal(y1, y2)
    assert torch.equal(g1(l, g1.last_z), y1)                     # the stored z reproduces the output
    assert not torch.equal(g1(l), y1)                            # the module's generator moved on: new z
    g1.manual_seed(7)
    assert torch.equal(g1(l), y1)                                # reseeding starts over
    ya = g2(l, generator=torch.Generator().manual_seed(1))       # a generator given at call time wins
    yb = g1(l, generator=torch.Generator().manual_seed(1))
    assert torch.equal(ya, yb) and torch.equal(g1.last_z, g2.last_z)
    z = g1.sample_z(5, generator=torch.Generator().manual_seed(2))
    assert z.shape == (5, 4) and z.dtype == torch.float32
    assert torch.equal(z, torch.randn(5, 4, generator=torch.Generator().manual_seed(2)))

@pytest.mark.parametrize('mode', NOISE_MODES)
def test_noise_modes(mode):
    torch.manual_seed(0)
    g = small(**modes_kw(mode)).eval()
    l = gray(2)
    y1, y2 = g(l), g(l)
    assert torch.equal(y1[:, :1], l) and torch.equal(y2[:, :1], l)
    assert y1[:, 1:].abs().max() <= 1
    if mode == 'none':
        assert g.last_z.shape == (2, 0) and torch.equal(y1, y2)
    else:
        assert g.last_z.shape == (2, 4)
        assert (y1 - y2).abs().max() > 1e-4, f"noise mode {mode} ignores z"

def test_latent_zero_is_deterministic():
    g = small(latent=0).eval()
    assert g.noise == 'none' and generator_config(g)['noise'] == 'none'
    l = gray(2)
    assert torch.equal(g(l), g(l, torch.randn(2, 3)))  # any z is ignored

@pytest.mark.parametrize('mode', [m for m in NOISE_MODES if m != 'none'])
def test_gradient_reaches_z_layers(mode):
    g = small(**modes_kw(mode))
    z = torch.randn(2, 4, requires_grad=True)
    g(gray(2), z)[:, 1:].square().mean().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    # the weights that read z (the z channels of the inputs are the last ones where z is concatenated)
    if mode == 'dense_map': grads = [g.noise_map.dense.weight.grad]
    elif mode == 'modulation': grads = [lvl.film.affine.weight.grad for lvl in g.decoder]
    elif mode == 'all_scales': grads = [lvl[0].weight.grad[:, -4:] for lvl in g.encoder]   # Conv2d: (out, in, k, k)
    else: grads = [lvl.up[-1].weight.grad[:, -4:] if isinstance(lvl.up, torch.nn.Sequential)  # nearest + Conv2d: (out, in, k, k)
                   else lvl.up.weight.grad[-4:] for lvl in g.decoder]                            # ConvTranspose2d: (in, out, k, k)
    assert all(gr is not None and gr.abs().sum() > 0 for gr in grads)

# ---- generator: layers
@pytest.mark.parametrize('upsample', ['transpose', 'pixelshuffle', 'nearest'])
@pytest.mark.parametrize('padding_mode', ['zeros', 'reflect'])
def test_upsample_and_padding(upsample, padding_mode):
    g = small(upsample=upsample, padding_mode=padding_mode, dropout=0.5)
    l = gray(2)
    y = g(l)
    assert y.shape == (2, 3, 32, 32) and torch.equal(y[:, :1], l)
    y[:, 1:].mean().backward()
    assert all(p.grad is not None for p in g.parameters())

@pytest.mark.parametrize('norm', ['batch', 'instance', 'layer', None])
def test_norms(norm):
    g = small(norm=norm)
    assert g(gray(2)).shape == (2, 3, 32, 32)
    has_bn = any(isinstance(m, nn.BatchNorm2d) for m in g.modules())
    assert has_bn == (norm == 'batch')

def test_no_head_and_bottleneck():
    g = small(head=False, bottleneck=16, dec_widths=[16, 8], noise='decoder').eval()
    assert g(gray(2)).shape == (2, 3, 32, 32)

# ---- generator: configs and presets
@pytest.mark.parametrize('kw', [{}, {'noise': 'dense_map', 'size': 32, 'upsample': 'pixelshuffle'},
                                {'noise': 'modulation', 'norm': 'instance', 'bottleneck': 16, 'seed': 3},
                                {'latent': 0, 'head': False, 'dec_widths': [32, 8], 'growth': 1.5, 'act': 'relu'}])
def test_generator_config_round_trip(kw):
    g = small(**kw).eval()
    cfg = json.loads(json.dumps(generator_config(g)))
    h = UNetGenerator.from_config(cfg).eval()
    assert generator_config(h) == cfg
    assert [(k, p.shape) for k, p in g.state_dict().items()] == [(k, p.shape) for k, p in h.state_dict().items()]
    h.load_state_dict(g.state_dict())
    l, z = gray(2), torch.randn(2, g.latent)
    assert torch.equal(g(l, z), h(l, z))

def test_seed_generator_counts():
    counts = {s: n_params(seed_generator(s)) for s in (64, 128)}
    print(f"seed generator: {counts[64]:,} at 64 px (original {SEED_G[64]:,.0f}), {counts[128]:,} at 128 px (original {SEED_G[128]:,.0f})")
    for s, n in counts.items(): assert abs(n/SEED_G[s] - 1) < TOL
    dense = lambda s: 100*s*s + s*s  # the dense noise layer
    assert counts[128] - counts[64] == dense(128) - dense(64)

def test_seed_generator_forward():
    g = UNetGenerator.seed(64, seed=0).eval()
    c = generator_config(g)
    assert (c['latent'], c['noise'], c['depth'], c['width'], c['norm']) == (100, 'dense_map', 5, 64, 'batch')
    l = gray(2, 64)
    y = g(l)
    assert y.shape == (2, 3, 64, 64) and torch.equal(y[:, :1], l) and g.last_z.shape == (2, 100)
    with pytest.raises(ValueError, match="built for 64x64"): g(gray(1, 128))

def test_deepcopy_keeps_z_stream():
    g = small(seed=5).eval()
    h = copy.deepcopy(g)
    l = gray(2)
    assert torch.equal(g(l), h(l))

# ---- critics
def test_seed_critic_counts_and_shapes():
    counts = {s: n_params(seed_critic(s)) for s in (64, 128)}
    print(f"seed critic: {counts[64]:,} at 64 px (original {SEED_D[64]:,.0f}), {counts[128]:,} at 128 px (original {SEED_D[128]:,.0f})")
    for s, n in counts.items(): assert abs(n/SEED_D[s] - 1) < TOL
    c = seed_critic(64)
    assert any(isinstance(m, nn.BatchNorm2d) for m in c.modules()) and any(isinstance(m, nn.Dropout) for m in c.modules())
    assert c(torch.randn(2, 3, 64, 64)).shape == (2,)
    with pytest.raises(ValueError, match="built for 64x64 images, got 32x32"): c(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"): c(torch.randn(2, 1, 64, 64))
    c = seed_critic(32, norm=None)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in c.modules())

@pytest.mark.parametrize('size,shape', [(32, (2, 2)), (64, (6, 6)), (128, (14, 14))])
def test_patch_critic_shapes(size, shape):
    c = patch_critic(width=16)
    x = torch.randn(2, 3, size, size)
    s = c(x)
    assert s.shape == (2, 1, *shape)
    assert torch.allclose(patch_mean(s), s.mean((1, 2, 3))) and patch_mean(s).shape == (2,)
    assert patch_critic(width=16, reduce=True, padding_mode='reflect')(x).shape == (2,)

def test_patch_critic_too_small():
    with pytest.raises(ValueError, match="at least 24 pixels"): patch_critic(width=8)(torch.randn(1, 3, 16, 16))

@pytest.mark.parametrize('make', [lambda: patch_critic(width=8, spectral=True), lambda: seed_critic(32, spectral=True)])
def test_spectral_norm(make):
    c = make()
    layers = [m for m in c.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert layers and all(has_spectral_norm(m) for m in layers)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in c.modules())  # no BatchNorm by default then
    assert not has_spectral_norm(patch_critic(width=8).body[0])
    assert any(isinstance(m, nn.BatchNorm2d) for m in patch_critic(width=8, spectral=True, norm='batch').modules())

@pytest.mark.parametrize('make', [lambda: wgan_critic(width=8), lambda: wgan_critic(width=8, norm='layer'),
                                  lambda: seed_critic(32, norm=None, dropout=0.)])
def test_wgan_critic_batch_independent(make):
    torch.manual_seed(0)
    c = make().train()
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in c.modules())
    x = torch.randn(4, 3, 32, 32)
    alone = c(x[:1])
    together = c(torch.cat([x[:1], torch.randn(3, 3, 32, 32)*3 + 1]))
    assert together.shape == (4,) and torch.allclose(alone, together[:1], atol=1e-5)
    # gradient penalty: the critic's input gradient must be differentiable again
    xi = x.clone().requires_grad_()
    grad, = torch.autograd.grad(c(xi).sum(), xi, create_graph=True)
    gp = ((grad.flatten(1).norm(dim=1) - 1)**2).mean()
    gp.backward()
    assert all(p.grad is not None for p in c.parameters() if p.ndim > 1)  # (a last bias does not change input gradients)
    with pytest.raises(ValueError, match="must not use BatchNorm"): wgan_critic(norm='batch')

@pytest.mark.parametrize('make', [lambda: seed_critic(32, spectral=True), lambda: patch_critic(width=8, norm='instance', reduce=True),
                                  lambda: wgan_critic(width=8, n_layers=2, padding_mode='reflect')])
def test_critic_config_round_trip(make):
    c = make().eval()
    cfg = json.loads(json.dumps(critic_config(c)))
    d = critic_from_config(cfg).eval()
    assert critic_config(d) == cfg
    d.load_state_dict(c.state_dict())
    x = torch.randn(2, 3, 32, 32)
    assert torch.equal(c(x), d(x))
    with pytest.raises(ValueError, match="kind"): critic_from_config({**cfg, 'kind': 'mlp'})

# ---- together, on synthetic faces, and under autocast
def test_faces_through_generator_and_critics():
    from anime_colorization.lab import rgb_to_lab, normalize_lab
    from anime_colorization.data import SyntheticFaces
    faces = SyntheticFaces(n=4, size=32)
    rgb = torch.stack([torch.from_numpy(f.image).permute(2, 0, 1) for f in faces])
    lab = normalize_lab(rgb_to_lab(rgb))
    l = lab[:, :1]
    g = small().eval()
    fake = g(l)
    assert torch.equal(fake[:, :1], l)
    for c in (seed_critic(32), patch_critic(width=8, reduce=True), wgan_critic(width=8)):
        assert c(fake).shape == c(lab).shape == (4,)

@pytest.mark.parametrize('kw', [{}, *[modes_kw(m) for m in NOISE_MODES], {'upsample': 'pixelshuffle', 'norm': 'instance'},
                                {'upsample': 'nearest', 'padding_mode': 'zeros'}])
def test_generator_autocast(kw):
    g = small(**kw)
    l = gray(2)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = g(l)
    assert y.dtype == torch.float32 and torch.equal(y[:, :1], l) and y.isfinite().all() and y[:, 1:].abs().max() <= 1

def test_critics_autocast():
    x = torch.randn(2, 3, 32, 32)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        for c in (seed_critic(32), seed_critic(32, spectral=True), patch_critic(width=8, spectral=True), wgan_critic(width=8)):
            s = c(x)
            assert s.isfinite().all() and s.shape[0] == 2
    with torch.autocast('cpu', dtype=torch.bfloat16):
        y = UNetGenerator.seed(64)(gray(1, 64))
    assert y.shape == (1, 3, 64, 64)
