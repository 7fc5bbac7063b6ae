"""A quick screen for issue 11's open problem, on toy runs: which change to the recipe keeps the skin (and background)
fixed between noises while the hair changes? The learning tests' setup (`tests/test_gan_learning.py`: 640 synthetic
faces at 32 px, small networks, 5 L1-only then 8 adversarial epochs, under a minute a run on 2 cores), then the mean
CIEDE2000 change between 6 noises' colourings per region of 64 held-out synthetic faces, hair coverage and the tint
split. A screen, not a verdict: the toy networks are small and short-trained; a variant that separates the regions
here earns a run of the real comparison (`compare_recipes.py`), one that does not is not ruled out at full scale.

    python benchmarks/skin_screen.py VARIANT SEED >> rows.jsonl     # one toy run, one JSON line
    python benchmarks/skin_screen.py --all --out benchmarks/results/skin_screen/rows.jsonl

Variants: the default recipe; the recipe before the tint-free switches (`seek='all'`, `tint=0`); noise in the
decoder only, or as FiLM modulation; a critic with one more stride-2 layer (more context); and a prototype penalty
(`KeepLoss`, here only) that pulls the picture's own colouring towards the z = 0 colouring wherever the z = 0
colouring is already within `tol` AB units of the truth (where the colour is predictable from L).
"""
import sys, json, time
from pathlib import Path
import numpy as np, torch
from fastai.torch_core import set_seed
from anime_colorization.data import SyntheticFaces
from anime_colorization.lab import colorization_dls
from anime_colorization.unet import UNetGenerator
from anime_colorization.gan import GANLoss, kept_buffers, pretrain_generator, patch_critic
from anime_colorization.lab import AB_SCALE
from anime_colorization.dcgan import dcgan_learner
from anime_colorization.evaluation import colourings, hair_modes, mode_coverage, tint_split, region_change

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
}  # keep=(weight, tol): KeepLoss's penalty weight and tolerance in AB units

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

def run(name:str, seed:int)->dict:
    "One toy run of variant `name` with training seed `seed`, measured"
    v = dict(VARIANTS[name])
    gen, crit, keep = v.pop('gen', {}), v.pop('crit', {}), v.pop('keep', None)
    set_seed(seed)
    dls = colorization_dls(SyntheticFaces(640, size=SIZE, seed=0), size=SIZE, bs=32)
    t0 = time.time()
    learn = dcgan_learner(dls, generator=UNetGenerator(depth=3, width=16, **gen),
                          critic=patch_critic(width=32, **{'n_layers': 2, 'spectral': True, **crit}), **v)
    if keep:
        o = learn.loss_func
        learn.loss_func = KeepLoss(o.model, o.adversarial, o.adv_weight, o.l1, o.mode_seeking, o.gp, o.hindsight, o.anchor, o.seek, o.tint)
        learn.loss_func.keep_w, learn.loss_func.keep_tol = keep
    with learn.no_bar(), learn.no_logging():
        pretrain_generator(learn, 5, lr=1e-3)
        learn.fit(8)
    g = learn.model.generator
    lab, _, _ = colourings(g, HELD.images(), n_variants=6, seed=1)
    change = region_change(lab, {r: HELD.masks(r) for r in ('skin', 'hair', 'eyes', 'background')})
    cov = float(mode_coverage(hair_modes(lab, HELD.masks('hair'), HELD.palette), HELD.k).mean())
    row = dict(name=name, seed=seed, minutes=(time.time() - t0)/60, hair_coverage=cov,
               **{f'change_{k}': float(np.nanmean(c)) for k, c in change.items()})
    ts = tint_split(lab)
    row.update(tint_share=float(np.nanmean(ts['tint_share'])), tint_free=float(np.mean(ts['tint_free'])))
    return row

if __name__ == '__main__':
    if sys.argv[1] == '--all':
        out = Path(sys.argv[sys.argv.index('--out') + 1]); out.parent.mkdir(parents=True, exist_ok=True)
        for seed in (0, 1):
            for name in VARIANTS:
                with out.open('a') as f: f.write(json.dumps(run(name, seed)) + '\n')
    else: print(json.dumps(run(sys.argv[1], int(sys.argv[2]))), flush=True)
