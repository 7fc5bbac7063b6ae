"""Train every colourisation recipe for the same CPU-time budget on the split of SEED_BASELINE.md, with several
seeds, and evaluate snapshots along the way: the experiment behind nbs/06_evaluation.ipynb.

Two steps:

    # 1. seconds per batch of each recipe on *this* CPU (the budget is CPU wall-clock time)
    python benchmarks/compare_recipes.py measure --data ../shared/data/anime-faces-64 --out timing.json
    # 2. train each recipe for the number of batches it completes in --minutes on that CPU, and evaluate
    python benchmarks/compare_recipes.py run --data ../shared/data/anime-faces-64 --timing timing.json \
        --minutes 12 --seeds 0 1 2 --out comparison/

Step 2 gives the same result on any device (it counts batches, not seconds), so it can run on a GPU: the
budget stays "what this CPU trains in 12 minutes". On the 2-core CPU itself it takes minutes x recipes x seeds.
"""
from __future__ import annotations
import argparse, json, os, sys, time
from pathlib import Path
import numpy as np
import torch
from fastai.callback.core import Callback, CancelFitException
from fastai.torch_core import set_seed, no_random
from anime_colorization.data import find_images, image_cache, SyntheticFaces
from anime_colorization.lab import denormalize_lab, lab_to_rgb
from anime_colorization.datablock import colorization_block
from anime_colorization.unet import UNetGenerator
from anime_colorization.gan import BF16Autocast, GANSwitcher
from anime_colorization.unet import export_generator
from anime_colorization.dcgan import dcgan_learner
from anime_colorization.wgan_gp import wgan_gp_learner
from anime_colorization.evaluation import evaluate, colourings, realism, ConstantAB
from anime_colorization.lab import source_pictures
sys.path.insert(0, str(Path(__file__).parent))
from gate_prototype import GatedGenerator, GateLoss

# name: (GAN, settings). 'warmup' is the share of the budget spent on L1-only generator training first (NoGAN).
RECIPES = {
    'seed_dcgan':      ('dcgan', dict(preset='seed')),
    'seed_wgan_gp':    ('wgan',  dict(preset='seed')),
    'l1_only':         ('l1',    dict()),
    'dcgan':           ('dcgan', dict(warmup=0.25)),
    'wgan_gp':         ('wgan',  dict(warmup=0.25)),
    'dcgan_decoder':   ('dcgan', dict(warmup=0.25, noise='decoder')),
    'dcgan_hindsight': ('dcgan', dict(warmup=0.25, hindsight=4)),
    'dcgan_hindsight_decoder': ('dcgan', dict(warmup=0.25, hindsight=4, noise='decoder')),
    'dcgan_anchor':    ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100.)),
    'dcgan_anchor_nearest': ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest')),
    'wgan_gp_anchor':  ('wgan',  dict(warmup=0.25, hindsight=4, anchor=100.)),
    'wgan_gp_anchor_nearest': ('wgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest')),
    # issue 11, chroma variants: the default (dcgan_anchor_nearest) with mode seeking on the tint-free difference, then also
    # a penalty on the tint itself; 'like': a recipe whose measured seconds per batch it shares (the same passes)
    'dcgan_tint_free':      ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', like='dcgan_anchor_nearest')),
    'dcgan_tint_free_tint': ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., like='dcgan_anchor_nearest')),
    # then the spread term: noises change colours where the z = 0 colouring misses the truth, and only there
    'dcgan_spread':         ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., spread=100., like='dcgan_anchor_nearest')),
    'dcgan_spread30':       ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., spread=30., like='dcgan_anchor_nearest')),
    # a prototype (gate_prototype.py): the spread recipe with a gate, predicted from L, that scales each noise's change
    # pixel by pixel; as many batches as the default (each costs more: one more generator pass per colouring)
    'dcgan_gate_spread':    ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., spread=100., gate=(20., 10.), like='dcgan_anchor_nearest')),
    # the same with the gate's target squared: shut harder where the z = 0 colouring is nearly right
    'dcgan_gate2_spread':   ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., spread=100., gate=(20., 10., 2.), like='dcgan_anchor_nearest')),
    # where the noise enters: the default with z modulating each decoder level's features (FiLM: x*(1 + scale(z)) + shift(z))
    # instead of z's channels concatenated to every encoder level; a noise scales features, which differ between regions
    'dcgan_film':           ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., noise='modulation', like='dcgan_anchor_nearest')),
    # the same with half the budget, not a quarter, on L1-only training first: the z = 0 colouring is what L1 trains,
    # and an L1 batch costs a quarter of a GAN batch (1,604 L1 + 420 GAN batches in 12 minutes, against 802 + 630)
    'dcgan_film_warm':      ('dcgan', dict(warmup=0.5, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., noise='modulation', like='dcgan_anchor_nearest')),
    # issue 10, less arithmetic: the default (dcgan_tint_free_tint) with half-width networks, a generator of width 16
    # (like the fast copy faces64_fast) and a critic of width 32. 'dcgan_lean' trains as many batches as the default
    # (does it learn the same per batch?); 'dcgan_lean_time' as many as its own measured speed buys in the budget
    'dcgan_lean':           ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., width=16, critic_width=32, like='dcgan_anchor_nearest')),
    'dcgan_lean_time':      ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., width=16, critic_width=32)),
    # the generator alone at half width (the critic as the default's), in its own measured speed's budget
    'dcgan_lean_g_time':    ('dcgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', seek='tint_free', tint=50., width=16, critic_width=64)),
    # our WGAN-GP (wgan_gp_anchor_nearest) at half widths: its speed against the original's 3.12 s an iteration
    'wgan_gp_lean_time':    ('wgan', dict(warmup=0.25, hindsight=4, anchor=100., upsample='nearest', width=16, critic_width=32)),
}
BASELINES = ('gray', 'mean_ab')
TRAIN, EVAL = slice(0, 14000), slice(14000, 14200)   # SEED_BASELINE.md: sorted(files)[:14000] / [14000:14200]

def seed_split(source, size=64):
    "Train and evaluation pictures of SEED_BASELINE.md's split, by sorted file name; files our checks reject are left out"
    files = sorted(item.name for item in find_images(source))
    cache = image_cache(source, size, progress=False, keep_grayscale=True)
    pos = {n: i for i, n in enumerate(cache.names)}
    pick = lambda s: np.asarray(cache.images)[[pos[n] for n in files[s] if n in pos]]
    train, valid = pick(TRAIN), pick(EVAL)
    return train, valid, dict(found=len(files), dropped=len(files[TRAIN]) + len(files[EVAL]) - len(train) - len(valid))

def pictures(args):
    "Training pictures, evaluation pictures and what `evaluate` gets: the real split, or synthetic faces (`--synthetic N`)"
    if args.synthetic:
        faces = SyntheticFaces(200, seed=1)  # other faces than the training ones (seed 0)
        return SyntheticFaces(args.synthetic, seed=0).images(), faces.images(), faces
    train, valid, _ = seed_split(args.data)
    return train, valid, valid

def learner(recipe:str, train:np.ndarray, valid:np.ndarray, seed:int, device):
    "A learner for `recipe`, seeded, on `train` with `valid` for validation; float32 everywhere (no autocast)"
    kind, opts = RECIPES[recipe]
    set_seed(seed)
    images = np.concatenate([train, valid])
    with no_random(seed):
        dls = colorization_block(images, list(range(len(train), len(images)))).dataloaders(
            range(len(images)), bs=32, device=device, num_workers=0)
    size = train.shape[1]
    if kind == 'l1':
        gen = UNetGenerator(latent=0, upsample='transpose', size=size, seed=seed)
        learn = dcgan_learner(dls, generator=gen, critic_width=64, mode_seeking=0., hindsight=1, anchor=0., tint=0.)
    else:
        preset = opts.get('preset')
        gen = None if preset else UNetGenerator(noise=opts.get('noise', 'all_scales'), upsample=opts.get('upsample', 'transpose'),
                                                width=opts.get('width', 32), size=size, seed=seed)
        if opts.get('gate'): gen = GatedGenerator(gen, UNetGenerator(latent=0, width=8, size=size, seed=seed))
        make = dcgan_learner if kind == 'dcgan' else wgan_gp_learner  # widths explicit: the recipes as they were measured
        learn = make(dls, preset=preset, generator=gen, critic_width=None if preset else opts.get('critic_width', 64), hindsight=opts.get('hindsight', 1), anchor=opts.get('anchor', 0.),
                     seek=opts.get('seek', 'all'), tint=opts.get('tint', 0.), spread=opts.get('spread', 0.))  # explicit: the recipes as they were measured
        if preset: learn.model.generator.manual_seed(seed)
        if opts.get('gate'): learn.loss_func = GateLoss.of(learn.loss_func, *opts['gate'])
    learn.remove_cbs([cb for cb in learn.cbs if isinstance(cb, BF16Autocast)])
    return learn

class Budget(Callback):
    "Train `n_l1` L1-only batches, then `n_gan` GAN batches; call `on_snapshot(batches)` at the given batch counts; stop"
    order = GANSwitcher.order + 1
    def __init__(self, n_l1:int, n_gan:int, snapshots=(), on_snapshot=None, times:list|None=None):
        self.n_l1, self.n_gan, self.snapshots, self.on_snapshot, self.times = n_l1, n_gan, set(snapshots), on_snapshot, times
    def _pretrain(self, on:bool):
        sw = self.learn.gan_switcher
        sw.pretrain = self.learn.loss_func.pretrain = on
        sw.switch(True if on else sw.generating)
    def before_fit(self): self.n = 0; self._pretrain(self.n_l1 > 0)
    def before_train(self): self._pretrain(self.n < self.n_l1)
    def after_batch(self):
        if not self.training: return
        self.n += 1
        if self.times is not None: self.times.append(time.perf_counter())
        if self.n == self.n_l1: self._pretrain(False)
        if self.n in self.snapshots and self.on_snapshot: self.on_snapshot(self.n)
        if self.n >= self.n_l1 + self.n_gan: raise CancelFitException()

def _fit(learn, budget):
    with learn.no_bar(), learn.no_logging(): learn.fit(10**6, cbs=[budget])

def measure(args):
    "Seconds per batch of each recipe's L1 and GAN phases on this machine"
    train, valid, _ = seed_split(args.data)
    out = {'machine': f"{os.cpu_count()} CPUs, torch {torch.__version__}, {torch.get_num_threads()} threads", 'recipes': {}}
    for r in args.recipes or RECIPES:
        res = {}
        for phase in ('l1', 'gan'):
            if phase == 'gan' and RECIPES[r][0] == 'l1': continue
            learn, times = learner(r, train[:2000], valid, 0, 'cpu'), []
            n = args.batches + 12
            _fit(learn, Budget(n if phase == 'l1' else 0, 0 if phase == 'l1' else n, times=times))
            res[phase] = (times[-1] - times[-1 - args.batches]) / args.batches
        out['recipes'][r] = res
        print(r, {k: round(v, 3) for k, v in res.items()}, flush=True)
    Path(args.out).write_text(json.dumps(out, indent=2))

def batches(recipe:str, timing:dict, minutes:float)->tuple[int, int]:
    "L1 and GAN batches `recipe` trains in `minutes` of the measured machine"
    kind, opts = RECIPES[recipe]
    t, budget = timing['recipes'][recipe if recipe in timing['recipes'] else opts['like']], minutes * 60
    if kind == 'l1': return round(budget / t['l1']), 0
    w = opts.get('warmup', 0.)
    return round(w * budget / t['l1']), round((1 - w) * budget / t['gan'])

def _grid(model, rgb, n_noise, seed):
    "uint8 RGB colourings `(N, n_noise + 1, H, W, 3)` (z = 0 last) of a few pictures, for the chroma grids"
    var, zero, _ = colourings(model, rgb, n_noise, seed)
    lab = np.concatenate([var, zero[:, None]], 1)
    rgb = lab_to_rgb(torch.from_numpy(lab).movedim(-1, -3)).clamp(0, 1).movedim(-3, -1).numpy()
    return (rgb * 255).round().astype(np.uint8)

def extra(model, train, valid, args)->dict:
    "The final snapshot's optional measures: the two-sample realism test (`--realism N`) and `evaluate` on the bundled samples (`--samples`)"
    out = {}
    if args.samples:
        row = evaluate(model, source_pictures(None).images, n_variants=args.variants, seed=0)
        out.update({f'samples_{k}': v for k, v in row.items() if isinstance(v, float)})
    if args.realism:
        tests = {'evaluation': valid, **({'samples': source_pictures(None).images} if args.samples else {})}
        acc = realism(model, train[:args.realism], tests, seeds=args.realism_seeds)
        out.update(realism=float(acc['evaluation'].mean()), realism_std=float(acc['evaluation'].std()), realism_n_train=args.realism)
        if args.samples: out.update(samples_realism=float(acc['samples'].mean()), samples_realism_std=float(acc['samples'].std()))
    return out

def job(recipe, seed, args, timing):
    "Train one recipe with one seed and evaluate its snapshots; returns (rows, grid)"
    torch.set_num_threads(args.threads)
    train, valid, source = pictures(args)
    dev = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if dev.startswith('cuda'): torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    rows, grid = [], None
    if recipe in BASELINES:
        model = ConstantAB() if recipe == 'gray' else ConstantAB.mean_of(train)
        row = evaluate(model, source, n_variants=args.variants, seed=0, name=recipe)
        return [dict(recipe=recipe, train_seed=seed, minutes=0., batches=0, **row, **extra(model, train, valid, args))], _grid(model, valid[:args.grid_faces], args.grid_noises, 0)
    n_l1, n_gan = batches(recipe, timing, args.minutes)
    total, t0 = n_l1 + n_gan, time.time()
    learn = learner(recipe, train, valid, seed, dev)
    snaps = sorted({max(1, round(f * total)) for f in args.fractions})
    def snapshot(n):
        g = learn.model.generator
        row = evaluate(g, source, n_variants=args.variants, seed=0, name=recipe)
        if n == total: row.update(extra(g, train, valid, args))
        rows.append(dict(recipe=recipe, train_seed=seed, minutes=args.minutes * n / total, batches=n, l1_batches=min(n, n_l1),
                         device_seconds=time.time() - t0, **row))
        print(f"{recipe} seed {seed}: {n}/{total} batches, ciede {row['ciede2000']:.2f}, div8 {row['diversity_ab_grid']:.2f}", flush=True)
        if n == total and seed == 0:
            nonlocal grid
            grid = _grid(g, valid[:args.grid_faces], args.grid_noises, 0)
        if n == total and args.keep and isinstance(g, UNetGenerator):
            export_generator(g, Path(args.out)/(f"{recipe}.safetensors" if seed == 0 else f"{recipe}_seed{seed}.safetensors"))
    _fit(learn, Budget(n_l1, n_gan, snaps, snapshot))
    return rows, grid

def run(args):
    timing = json.loads(Path(args.timing).read_text())
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
    if not args.synthetic:
        train, valid, info = seed_split(args.data)  # builds the picture cache once, before the jobs read it
        print(f"split: {len(train)} training and {len(valid)} evaluation pictures of {info['found']} ({info['dropped']} rejected)", flush=True)
    jobs = [(b, 0) for b in BASELINES if not args.no_baselines] + [(r, s) for s in args.seeds for r in (args.recipes or RECIPES)]
    rows_file = out/'rows.jsonl'
    grids = dict(np.load(out/'grids.npz')) if (out/'grids.npz').exists() else {}  # earlier runs' grids in this folder stay
    done = {(d['recipe'], d['train_seed']) for d in map(json.loads, rows_file.read_text().splitlines())} if rows_file.exists() else set()
    jobs = [j for j in jobs if j not in done]
    untimed = sorted({r for r, _ in jobs if r not in BASELINES and r not in timing['recipes'] and RECIPES[r][1].get('like') not in timing['recipes']})
    if untimed:  # before any training: a budget in minutes needs each recipe's measured seconds per batch
        sys.exit(f"{args.timing}: no seconds per batch for {', '.join(untimed)}; measure them (compare_recipes.py measure --recipes ...) "
                 f"or pass a timing file that has them (the half-width recipes: benchmarks/results/lean/timing.json)")
    def collect(res, r, s):
        rows, grid = res
        with rows_file.open('a') as f:
            for row in rows: f.write(json.dumps(row) + '\n')
        if grid is not None: grids[r] = grid; np.savez_compressed(out/'grids.npz', **grids)
    if args.jobs > 1:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed
        with ProcessPoolExecutor(args.jobs, mp_context=mp.get_context('spawn')) as ex:
            futs = {ex.submit(job, r, s, args, timing): (r, s) for r, s in jobs}
            for f in as_completed(futs): collect(f.result(), *futs[f])
    else:
        for r, s in jobs: collect(job(r, s, args, timing), r, s)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('step', choices=['measure', 'run'])
    p.add_argument('--data', help="anime-faces-64 (folder or .zip)")
    p.add_argument('--synthetic', type=int, help="train on this many synthetic faces (seed 0), evaluate on 200 others (seed 1)")
    p.add_argument('--out', required=True, help="timing JSON (measure) or results folder (run)")
    p.add_argument('--recipes', nargs='*', choices=list(RECIPES), help="default: all")
    p.add_argument('--batches', type=int, default=12, help="timed batches per phase (measure)")
    p.add_argument('--timing', help="the JSON written by `measure` (run)")
    p.add_argument('--minutes', type=float, default=12., help="training budget in minutes of the measured CPU")
    p.add_argument('--seeds', type=int, nargs='*', default=[0, 1, 2])
    p.add_argument('--fractions', type=float, nargs='*', default=[0.125, 0.25, 0.5, 1.])
    p.add_argument('--variants', type=int, default=10)
    p.add_argument('--grid-faces', type=int, default=6)
    p.add_argument('--grid-noises', type=int, default=8)
    p.add_argument('--realism', type=int, default=0, help="after training, the two-sample realism test with this many training faces (0: off)")
    p.add_argument('--realism-seeds', type=int, nargs='*', default=[0, 1, 2], help="classifier seeds of the realism test")
    p.add_argument('--samples', action='store_true', help="after training, also evaluate on the bundled sample faces (samples_ columns)")
    p.add_argument('--device')
    p.add_argument('--jobs', type=int, default=1)
    p.add_argument('--threads', type=int, default=torch.get_num_threads())
    p.add_argument('--no-baselines', action='store_true', help="skip the gray and mean-AB baselines")
    p.add_argument('--keep', action='store_true', help="also write each run's generator (RECIPE.safetensors for seed 0, RECIPE_seedN.safetensors for others)")
    args = p.parse_args()
    if args.step == 'run' and not args.timing: p.error("run needs --timing")
    if not (args.data or args.synthetic) or (args.step == 'measure' and not args.data): p.error("--data is required (or --synthetic N for run)")
    measure(args) if args.step == 'measure' else run(args)

if __name__ == '__main__': main()
