"""A quick screen for issue 11's open problem, on toy runs: which change to the recipe keeps the skin (and background)
fixed between noises while the hair changes? The learning tests' setup (`tests/test_gan_learning.py`: 640 synthetic
faces at 32 px, small networks, 5 L1-only then 8 adversarial epochs, under a minute a run on 2 cores), then the mean
CIEDE2000 change between 6 noises' colourings per region of 64 held-out synthetic faces, hair coverage, the tint
split and the z = 0 colouring's AB error per region (`zero_err_*`; not in rows written before it was added). A screen, not a verdict: the toy networks are small and short-trained; a variant that separates the regions
here earns a run of the real comparison (`compare_recipes.py`), one that does not is not ruled out at full scale.

    python benchmarks/skin_screen.py VARIANT SEED >> rows.jsonl     # one toy run, one JSON line
    python benchmarks/skin_screen.py --all --out benchmarks/results/skin_screen/rows.jsonl

Variants: the default recipe; the adversarial term weighted 10 instead of 1 (against L1 and anchor weights of 100); a
critic twice as wide, or three critic steps per generator step; the recipe before the tint-free switches (`seek='all'`, `tint=0`); noise in the
decoder only, or as FiLM modulation; a critic with one more stride-2 layer (more context); and a prototype penalty
(`KeepLoss`, here only) that pulls the picture's own colouring towards the z = 0 colouring wherever the z = 0
colouring is already within `tol` AB units of the truth (where the colour is predictable from L); and plain L1 on
the picture's own noise's colouring beside the best of K (`OwnLoss`, here only): where the truth is certain (skin) an
L1 term pulls every noise back hard, where it is spread over several colours (hair) its pull near the median is weak,
so mode seeking should find it cheapest to vary the colour there; and mode seeking that rewards only the share of
each picture's pixels that changed most (`SparseSeekLoss`, here only), so that a change confined to the hair earns
the whole reward and the critic and L1 terms are free to pull everything else back; a gate predicted from L alone
that scales each noise's change pixel by pixel (`gate_prototype.py`; given as (tau in AB units, weight)); and the spread term
(`GANLoss(spread=, spread_tol=)`, given as (weight, tolerance in AB units)): two noises' colourings differ block by
block as much as the z = 0 colouring misses the truth there. Variants ending in `_long` train 32 adversarial epochs
instead of 8 (about 3 minutes): at 8 no variant separates the regions, the default included. Each run also probes its critic
(`critic_probe`): its mean score of held-out real faces, of the same faces with another hair colour (real too), with
their skin's AB turned by 180 degrees or moved 6 AB units across its hue (about the generator's skin change between
noises; neither is real), and of the generator's colourings; a critic that scores turned skin
like real faces cannot teach the generator to keep the skin.
"""
import sys, json, time
from pathlib import Path
import numpy as np, torch
import torch.nn as nn, torch.nn.functional as F
from fastai.torch_core import set_seed
from anime_colorization.data import SyntheticFaces
from anime_colorization.datablock import colorization_dls
from anime_colorization.unet import UNetGenerator
from anime_colorization.gan import GANLoss, kept_buffers, pretrain_generator, patch_critic
from anime_colorization.lab import AB_SCALE, rgb_to_lab, normalize_lab
from anime_colorization.gan import patch_mean
from anime_colorization.dcgan import dcgan_learner
from anime_colorization.evaluation import colourings, hair_modes, mode_coverage, tint_split, region_change
from gate_prototype import GatedGenerator, GateLoss

SIZE = 32
HELD = SyntheticFaces(64, size=SIZE, seed=99)
VARIANTS = {
    'default': dict(),
    'old_all_tint0': dict(seek='all', tint=0.),
    'noise_decoder': dict(gen=dict(noise='decoder')),
    'noise_modulation': dict(gen=dict(noise='modulation')),
    'critic_3layers': dict(crit=dict(n_layers=3)),
    'keep100': dict(keep=(100., 6.)),
    'keep30': dict(keep=(30., 6.)),
    'keep100_tol3': dict(keep=(100., 3.)),
    'own10': dict(own=10.),
    'own30': dict(own=30.),
    'own100': dict(own=100.),
    'sparse30': dict(sparse=0.3),
    'sparse15': dict(sparse=0.15),
    'adv10': dict(adv_weight=10.),
    'critic_wide': dict(crit=dict(width=64)),
    'critic_3steps': dict(n_crit=3),
    'spread10': dict(spread=(10., 0.)),
    'spread30': dict(spread=(30., 0.)),
    'spread30_noms': dict(spread=(30., 0.), mode_seeking=0.),
    'spread100_noms': dict(spread=(100., 0.), mode_seeking=0.),
    'default_long': dict(epochs=32),
    'spread100_noms_long': dict(spread=(100., 0.), mode_seeking=0., epochs=32),
    'spread100_tol6_noms_long': dict(spread=(100., 6.), mode_seeking=0., epochs=32),
    'spread100_tol6_long': dict(spread=(100., 6.), epochs=32),
    'gate20_long': dict(gate=(20., 10.), epochs=32),
    'gate10_long': dict(gate=(10., 10.), epochs=32),
    'gate20_spread_long': dict(gate=(20., 10.), spread=(100., 6.), epochs=32),
    'gate40_spread_long': dict(gate=(40., 10.), spread=(100., 6.), epochs=32),
    'gate20sq_spread_long': dict(gate=(20., 10., 2.), spread=(100., 6.), epochs=32),
}  # keep=(weight, tol): KeepLoss's penalty weight and tolerance in AB units; own: OwnLoss's weight; sparse: SparseSeekLoss's share

class KeepLoss(GANLoss):
    "Prototype: pull the picture's own colouring to the z = 0 colouring where the z = 0 colouring is already right"
    def generator_loss(self, fake, real):
        loss = super().generator_loss(fake, real)
        if self.pretrain: return loss
        g = self.model.generator
        own_z = g.last_z
        with torch.no_grad(), kept_buffers(g): zero_ab = g(fake[:, :1], torch.zeros_like(own_z))[:, 1:]
        g.last_z = own_z
        sure = ((zero_ab - real[:, 1:]).norm(dim=1, keepdim=True) < self.keep_tol/AB_SCALE).float()
        keep = ((fake[:, 1:] - zero_ab).abs()*sure).mean()
        self.components['g_keep'] = keep.detach()
        return loss + self.keep_w*keep

class OwnLoss(GANLoss):
    "Prototype: plain L1 on the picture's own noise's colouring as well (every noise, not only the closest of K)"
    def generator_loss(self, fake, real):
        loss = super().generator_loss(fake, real)
        if self.pretrain: return loss
        own = (fake[:, 1:] - real[:, 1:]).abs().mean()
        self.components['g_own'] = own.detach()
        return loss + self.own_w*own

class SparseSeekLoss(GANLoss):
    "Prototype: mode seeking rewards only each picture's `share` of pixels that changed most (tint-free), not the mean over all"
    def generator_loss(self, fake, real):
        loss = super().generator_loss(fake, real)  # built with mode_seeking=0: the tint penalty and the rest as usual
        if self.pretrain: return loss
        g = self.model.generator
        own_z = g.last_z
        z_ms = g.sample_z(len(fake), fake.device)
        d = fake[:, 1:] - g(fake[:, :1], z_ms)[:, 1:]
        g.last_z = own_z
        per_pixel = (d - d.mean((2, 3), keepdim=True)).abs().sum(1).flatten(1)  # (n, H*W)
        top = per_pixel.topk(max(1, int(self.share*per_pixel.shape[1])), dim=1).values.mean()
        ms = top / (own_z - z_ms).abs().mean().clamp_min(1e-8)
        self.components['g_ms'] = ms.detach()
        return loss + self.ms_w/(ms + 1e-5)

@torch.no_grad()
def critic_probe(learn, faces:SyntheticFaces=HELD, n:int=64)->dict:
    "Mean critic score of held-out real faces, of the same faces with another hair colour (real too), with the skin's AB turned by 180 degrees or moved 6 units across its hue (not real), and of the generator's colourings"
    critic, g = learn.model.critic.eval(), learn.model.generator.eval()
    lab = rgb_to_lab(torch.from_numpy(faces.images(0, n)).permute(0, 3, 1, 2))
    labels = faces.labels(0, n)
    swapped = np.stack([faces.render(i, hair=(labels[i, 0] + 1) % faces.k).image for i in range(n)])
    skin = torch.from_numpy(faces.masks('skin', 0, n))[:, None]
    turned = torch.cat([lab[:, :1], torch.where(skin, -lab[:, 1:], lab[:, 1:])], 1)
    skin_ab = (lab[:, 1:]*skin).sum((0, 2, 3))/skin.sum()  # the skin's mean AB: shift it by 6 units across its hue
    across = torch.stack([-skin_ab[1], skin_ab[0]])/skin_ab.norm()
    nudged = torch.cat([lab[:, :1], lab[:, 1:] + 6*across[None, :, None, None]*skin], 1)
    score = lambda x: float(patch_mean(critic(x)).mean())
    real = normalize_lab(lab)
    return dict(critic_real=score(real), critic_hair_swapped=score(normalize_lab(rgb_to_lab(torch.from_numpy(swapped).permute(0, 3, 1, 2)))),
                critic_skin_turned=score(normalize_lab(turned)), critic_skin_nudged=score(normalize_lab(nudged)), critic_fake=score(g(real[:, :1])),
                skin_ab_turned=float((2*lab[:, 1:]*skin).norm(dim=1).sum()/skin.sum()))

def run(name:str, seed:int)->dict:
    "One toy run of variant `name` with training seed `seed`, measured"
    v = dict(VARIANTS[name])
    gen, crit, keep, own, sparse = v.pop('gen', {}), v.pop('crit', {}), v.pop('keep', None), v.pop('own', None), v.pop('sparse', None)
    n_crit, spread, epochs, gate = v.pop('n_crit', None), v.pop('spread', None), v.pop('epochs', 8), v.pop('gate', None)
    set_seed(seed)
    dls = colorization_dls(SyntheticFaces(640, size=SIZE, seed=0), size=SIZE, bs=32)
    t0 = time.time()
    generator = UNetGenerator(depth=3, width=16, **gen)
    if gate: generator = GatedGenerator(generator, UNetGenerator(depth=3, width=8, latent=0))
    learn = dcgan_learner(dls, generator=generator,
                          critic=patch_critic(**{'width': 32, 'n_layers': 2, 'spectral': True, **crit}), **v)
    if n_crit: learn.gan_switcher.n_crit = n_crit
    if keep:
        o = learn.loss_func
        learn.loss_func = KeepLoss(o.model, o.adversarial, o.adv_weight, o.l1, o.mode_seeking, o.gp, o.hindsight, o.anchor, o.seek, o.tint)
        learn.loss_func.keep_w, learn.loss_func.keep_tol = keep
    if own:
        o = learn.loss_func
        learn.loss_func = OwnLoss(o.model, o.adversarial, o.adv_weight, o.l1, o.mode_seeking, o.gp, o.hindsight, o.anchor, o.seek, o.tint)
        learn.loss_func.own_w = own
    if sparse:
        o = learn.loss_func
        learn.loss_func = SparseSeekLoss(o.model, o.adversarial, o.adv_weight, o.l1, 0., o.gp, o.hindsight, o.anchor, o.seek, o.tint)
        learn.loss_func.ms_w, learn.loss_func.share = o.mode_seeking, sparse
    if gate:  # (tau in AB units, weight[, power])
        learn.loss_func = GateLoss.of(learn.loss_func, *gate)
    if spread:  # (weight, tolerance in AB units)
        learn.loss_func.spread, learn.loss_func.spread_tol = spread
    with learn.no_bar(), learn.no_logging():
        pretrain_generator(learn, 5, lr=1e-3)
        learn.fit(epochs)
    g = learn.model.generator
    lab, zero, _ = colourings(g, HELD.images(), n_variants=6, seed=1)
    truth = rgb_to_lab(torch.from_numpy(HELD.images()).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()
    zero_err = np.linalg.norm(zero[..., 1:] - truth[..., 1:], axis=-1)  # AB units, (N, H, W)
    change = region_change(lab, {r: HELD.masks(r) for r in ('skin', 'hair', 'eyes', 'background')})
    cov = float(mode_coverage(hair_modes(lab, HELD.masks('hair'), HELD.palette), HELD.k).mean())
    row = dict(name=name, seed=seed, minutes=(time.time() - t0)/60, hair_coverage=cov,
               **{f'change_{k}': float(np.nanmean(c)) for k, c in change.items()},
               **{f'zero_err_{r}': float(zero_err[HELD.masks(r)].mean()) for r in ('skin', 'hair', 'background')})
    ts = tint_split(lab)
    row.update(tint_share=float(np.nanmean(ts['tint_share'])), tint_free=float(np.mean(ts['tint_free'])))
    row.update(critic_probe(learn))
    return row

if __name__ == '__main__':
    if sys.argv[1] == '--all':
        out = Path(sys.argv[sys.argv.index('--out') + 1]); out.parent.mkdir(parents=True, exist_ok=True)
        for seed in (0, 1):
            for name in VARIANTS:
                with out.open('a') as f: f.write(json.dumps(run(name, seed)) + '\n')
    else: print(json.dumps(run(sys.argv[1], int(sys.argv[2]))), flush=True)
