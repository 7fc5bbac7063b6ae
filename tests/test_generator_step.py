"""The batched generator step computes the loss and gradients of running every noise separately, with fewer pictures
through the generator with gradients: checked against the loop it replaced (the code of revision 2fe9439, below)."""
import pytest, torch
import torch.nn.functional as F
from anime_colorization.unet import UNetGenerator
from anime_colorization.gan import GANModel, GANLoss, patch_critic, patch_mean, kept_buffers, plain

def loop_generator_loss(loss:GANLoss, fake, real):
    "The generator loss as it was computed before: one generator pass with gradients per noise (revision 2fe9439)"
    model, c, total = loss.model, {}, fake.new_zeros((), dtype=torch.float32)
    with kept_buffers(model.critic): s = patch_mean(model.critic(fake))
    total = total + loss.adv_weight*F.softplus(-s).mean()
    l1 = (fake[:, 1:] - real[:, 1:]).abs().flatten(1).mean(1)
    g, z1 = model.generator, model.generator.last_z
    more = [(g(fake[:, :1])[:, 1:] - real[:, 1:]).abs().flatten(1).mean(1) for _ in range(loss.hindsight - 1)]
    l1 = torch.stack([l1, *more]).min(0).values
    anchor = (g(fake[:, :1], torch.zeros_like(z1))[:, 1:] - real[:, 1:]).abs().mean()
    total = total + loss.anchor*anchor + loss.l1*l1.mean()
    fake2 = g(fake[:, :1], g.sample_z(len(fake), fake.device))
    ms = (fake[:, 1:] - fake2[:, 1:]).abs().mean() / (z1 - g.last_z).abs().mean().clamp_min(1e-8)
    return total + loss.mode_seeking / (ms + 1e-5), dict(g_l1=l1.mean(), g_anchor=anchor, g_ms=ms)

def setup(norm:str, train:bool, seed:int=0):
    torch.manual_seed(seed)
    g = UNetGenerator(width=8, depth=3, norm=norm, seed=seed).train(train)
    gan = GANModel(g, patch_critic(width=8, n_layers=2, spectral=True).eval()).double()  # float64: the mode-seeking
    for p in gan.critic.parameters(): p.requires_grad_(False)  # term's 1/ratio magnifies float32 rounding 1e8-fold here
    l, real = torch.rand(16, 1, 32, 32, dtype=torch.float64)*2 - 1, torch.rand(16, 3, 32, 32, dtype=torch.float64)*2 - 1
    return gan, GANLoss(gan, 'bce', l1=100., mode_seeking=0.05, hindsight=4, anchor=100.), l, real

def loss_and_grads(gan, compute, l, seed):
    "The loss, its components and the generator's gradients, with the generator's noise stream seeded with `seed`"
    g = gan.generator
    g.manual_seed(seed)
    total, parts = compute(plain(gan(l)))
    return total, parts, torch.autograd.grad(total, [p for p in g.parameters()])

# ('instance' would be no test: it subtracts each channel's mean, so the noise, a constant map, would have no effect)
@pytest.mark.parametrize('norm,train', [('layer', True), (None, True), ('batch', False)])
def test_same_loss_and_gradients_as_the_loop(norm, train):
    "Per-picture generators (a per-picture norm in training mode, or BatchNorm in eval mode): equal to float tolerance"
    for seed in (0, 1):
        gan, loss, l, real = setup(norm, train, seed)
        new = loss_and_grads(gan, lambda fake: (loss(fake, real), loss.components), l, 100 + seed)
        old = loss_and_grads(gan, lambda fake: loop_generator_loss(loss, fake, real), l, 100 + seed)
        torch.testing.assert_close(new[0], old[0], rtol=1e-9, atol=1e-9)
        for k in ('g_l1', 'g_anchor', 'g_ms'): torch.testing.assert_close(new[1][k], old[1][k], rtol=1e-9, atol=1e-12)
        for a, b in zip(new[2], old[2]): torch.testing.assert_close(a, b, rtol=1e-7, atol=1e-9)

def test_the_control_differs_when_the_choice_is_wrong():
    "The comparison can fail: holding each picture to its *farthest* noise gives another loss and other gradients"
    gan, loss, l, real = setup('layer', True)
    g = gan.generator
    assert not torch.allclose(g(l[:2], torch.zeros(2, 8)), g(l[:2], torch.ones(2, 8)))  # the noise matters
    def farthest(fake):
        g = gan.generator
        own = (fake[:, 1:] - real[:, 1:]).abs().flatten(1).mean(1)
        more = [(g(fake[:, :1])[:, 1:] - real[:, 1:]).abs().flatten(1).mean(1) for _ in range(loss.hindsight - 1)]
        return 100.*torch.stack([own, *more]).max(0).values.mean(), {}
    def best_only(fake):
        loss.adv_weight, loss.anchor, loss.mode_seeking = 0., 0., 0.
        return loss(fake, real), {}
    wrong, right = loss_and_grads(gan, farthest, l, 7), loss_and_grads(gan, best_only, l, 7)
    assert right[0] < wrong[0]
    assert not all(torch.allclose(a, b, rtol=1e-7, atol=1e-9) for a, b in zip(right[2], wrong[2]))  # the tolerance above

def test_fewer_pictures_through_the_generator_with_gradients():
    "The default terms: 3B to 4B pictures through the generator with gradients (the loop: 6B), and 3B without"
    gan, loss, l, real = setup('batch', True)
    seen = []
    gan.generator.register_forward_hook(lambda m, inp, out: seen.append((len(inp[0]), torch.is_grad_enabled())))
    loss(gan(l), real)
    n = len(l)
    with_grad = sum(k for k, grad in seen if grad)
    test_calls = list(seen)
    assert len([k for k, grad in seen if not grad]) == 1, test_calls  # the three other noises in one batch
    assert sum(k for k, grad in seen if not grad) == 3*n  # the three other noises, chosen among without gradients
    assert 3*n <= with_grad <= 4*n, test_calls  # own + z = 0 + mode seeking + the pictures whose closest noise is another
    seen.clear()
    loop_generator_loss(loss, plain(gan(l)), real)
    assert sum(k for k, grad in seen if grad) == 6*n  # the loop it replaced

def test_the_spread_term_reuses_the_other_terms_passes():
    "The spread term compares colourings the step makes anyway (z = 0 for the anchor, the second noise of mode seeking)"
    gan, loss, l, real = setup('batch', True)
    def passes():
        seen = []
        hook = gan.generator.register_forward_hook(lambda m, inp, out: seen.append((len(inp[0]), torch.is_grad_enabled())))
        gan.generator.manual_seed(3)
        loss(gan(l), real)
        hook.remove()
        return seen
    without = passes()
    loss.spread = 100.
    assert passes() == without and loss.components['g_spread'] > 0  # the same passes, one more term
    loss.anchor = 0.
    no_anchor = passes()
    loss.spread = 0.
    assert no_anchor == passes() + [(len(l), False)]  # without the anchor: one pass at z = 0, without gradients
