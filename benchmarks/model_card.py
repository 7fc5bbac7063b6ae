"""Make the shipped weights and their model card from a long training run of the default recipe.

The shipped generator `anime_colorization/pretrained/faces64` is the default recipe trained by `anime-colorize train`
on the real faces of `anime-faces-64` minus the 200 evaluation faces of SEED_BASELINE.md's split
(`sorted(files)[14000:14200]`), so that the card's numbers are on faces the model never saw. Three steps:

    # 1. the training folder: every face except the 200 evaluation faces (symbolic links, nothing copied)
    python benchmarks/model_card.py folder --data ../shared/data/anime-faces-64 --out faces
    # 2. train (any device; on the 2-core CPU an epoch takes 12-20 minutes); keep a copy of each epoch's checkpoint
    anime-colorize train --data faces --out run --epochs E --valid-pct 0.05 --seed 0
    # 3. evaluate every kept checkpoint on the 200 evaluation faces, choose one, write the weights and the card
    python benchmarks/model_card.py card --data ../shared/data/anime-faces-64 --run run --snapshots snapshots \
        --started STARTED_UNIX_TIME --times snapshots.log

`card` writes `benchmarks/results/model_card/curve.jsonl` (one row of metrics per checkpoint), and into the package
`pretrained/faces64.safetensors` (+ `.json`), `faces64.card.json` (the numbers the demo shows), `faces64.md` (the
model card) and its pictures in `pretrained/card/` (`--pkg` and `--results` put them elsewhere, to look before shipping). A new card has no section on the chroma gate: fit the new weights'
gate and measure it (`benchmarks/fit_gate.py fit`, then `measure`, which adds the section and the gate's headline).
"""
from __future__ import annotations
import argparse, json, os, platform, shutil, sys, time
from pathlib import Path
import numpy as np
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from compare_recipes import seed_split, EVAL  # noqa: E402  (the split and the evaluation faces of the comparison)
from anime_colorization.unet import UNetGenerator, read_safetensors, export_generator
from anime_colorization.evaluation import evaluate, plot_chroma
from anime_colorization.colorize import Colorizer, variant_grid
from anime_colorization.data import sample_faces
from anime_colorization.cli import OLD_NOISE

PKG = HERE.parent/'anime_colorization'/'pretrained'
NAME = 'faces64'
RESULTS = HERE/'results'/'model_card'
HEADLINE = [('ciede2000_z0', 'CIEDE2000 of the z = 0 colouring (lower is better)'),
            ('ciede2000', 'CIEDE2000 of a random colouring'),
            ('ciede2000_best', 'CIEDE2000 of the best of 10 colourings'),
            ('psnr_z0', 'PSNR of the z = 0 colouring (dB)'),
            ('psnr', 'PSNR of a random colouring (dB)'),
            ('colourfulness', 'colourfulness (real faces: {real:.1f})'),
            ('diversity_ab_grid', 'smoothed diversity between noises (AB units, 8x8 grid)'),
            ('tint_share', "share of a noise's change that tints the whole picture"),
            ('diversity_tint_free', 'change between noises besides a tint (AB, 8x8 grid)')]

def folder(args):
    "A folder of links to every face except the 200 evaluation faces"
    files = sorted(os.listdir(args.data))
    held = set(files[EVAL])
    out = Path(args.out); out.mkdir(parents=True, exist_ok=False)
    for f in files:
        if f not in held: os.symlink(Path(args.data).resolve()/f, out/f)
    print(f"{out}: {len(files) - len(held)} faces (left out: the {len(held)} evaluation faces sorted(files)[{EVAL.start}:{EVAL.stop}])")

def run_noise(run:dict)->str:
    "How z entered the run's generator: its run.json's recipe says, and runs from before it did used `OLD_NOISE`"
    return (run.get('recipe') or {}).get('noise') or OLD_NOISE

def snapshot_generator(path:Path, noise:str=OLD_NOISE)->tuple[UNetGenerator, int]:
    "The generator of a training checkpoint (of a run whose z entered as `noise`) and the epochs it had done"
    tensors, meta = read_safetensors(path)
    g = UNetGenerator(size=64, noise=noise)  # the default recipe's generator, as `train` built it
    g.load_state_dict({k[len('model.generator.'):]: v for k, v in tensors.items() if k.startswith('model.generator.')})
    return g.eval(), meta['epoch']

def _final_means(path:Path, recipe:str)->dict:
    "Mean over training seeds of the 12-minute rows of `recipe` in a results file"
    rows = [json.loads(l) for l in path.read_text().splitlines() if l.strip()]
    final = [r for r in rows if r['recipe'] == recipe and r['minutes'] == 12.0]
    out = {k: float(np.mean([r[k] for r in final])) for k, _ in HEADLINE if final and all(r.get(k) is not None for r in final)}
    return {**out, 'seeds': len(final)}

def reference_rows(recipe:dict)->dict:
    "The 12-minute rows (mean over training seeds) of the recipe the run trained with, and of L1-only"
    comparison = HERE/'results'/'comparison'/'rows.jsonl'
    if recipe.get('noise') == 'modulation':  # today's default: three seeds in 06's "Modulation, checked" section
        default = _final_means(HERE/'results'/'noise_modulation'/'real'/'rows.jsonl', 'dcgan_film')
    elif recipe.get('seek') == 'tint_free' and recipe.get('tint') == 50.:  # the default before it: measured in 06's chroma-recipe section
        default = _final_means(HERE/'results'/'chroma_recipe'/'real'/'rows.jsonl', 'dcgan_tint_free_tint')
    else: default = _final_means(comparison, 'dcgan_anchor_nearest')  # the default before both
    return {'default recipe, 12 minutes': default, 'L1-only U-Net, 12 minutes': _final_means(comparison, 'l1_only')}

def card(args):
    run = json.loads((Path(args.run)/'run.json').read_text())
    kept = run['data_report']['kept']
    per_epoch = int(kept*(1 - run['settings']['valid_pct']))//run['settings']['bs']
    times = {}
    if args.times:
        for line in Path(args.times).read_text().splitlines():
            t, name = line.split(); times[name] = int(t)
    _, valid, _ = seed_split(args.data)
    print(f"{len(valid)} evaluation faces")
    RESULTS = Path(args.results); RESULTS.mkdir(parents=True, exist_ok=True)
    rows, seen = [], {}
    done = {}  # rows of checkpoints evaluated by an earlier call (the same file: name and size)
    if (RESULTS/'curve.jsonl').exists():
        for line in (RESULTS/'curve.jsonl').read_text().splitlines(): r = json.loads(line); done[(r['checkpoint'], r.get('bytes'))] = r
    cks = sorted(Path(args.snapshots).glob('ckpt_*.safetensors'))
    for ck in cks:
        cached = done.get((ck.name, ck.stat().st_size))
        if cached and cached['epoch'] != args.epoch and (args.epoch or ck != cks[-1]):  # the shipped one is evaluated again for its pictures
            rows.append(cached); print(f"{ck.name}: evaluated before"); continue
        g, epoch = snapshot_generator(ck, run_noise(run))
        t0 = time.time()
        row, s = evaluate(g, valid, n_variants=10, seed=0, name=f"epoch {epoch}", seen=True, device='cpu')
        row['bytes'] = ck.stat().st_size
        row.update(epoch=epoch, gan_epochs=max(0, epoch - run['pretrain_epochs']), batches=epoch*per_epoch,
                   hours=(times[ck.stem] - args.started)/3600 if ck.stem in times and args.started else None, checkpoint=ck.name)
        rows.append(row); seen[epoch] = (g, s)
        print(f"epoch {epoch}: z0 {row['ciede2000_z0']:.2f} random {row['ciede2000']:.2f} best {row['ciede2000_best']:.2f} "
              f"colourfulness {row['colourfulness']:.1f} diversity {row['diversity_ab_grid']:.1f} ({time.time() - t0:.0f} s)", flush=True)
    (RESULTS/'curve.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    gan_rows = [r for r in rows if r['gan_epochs'] > 0]
    chosen = next(r for r in rows if r['epoch'] == args.epoch) if args.epoch else gan_rows[-1]
    g, s = seen[chosen['epoch']]
    refs = reference_rows(run.get('recipe') or dict(seek='all', tint=0.))
    PKG = Path(args.pkg)
    PKG.mkdir(exist_ok=True); shutil.rmtree(PKG/'card', ignore_errors=True); (PKG/'card').mkdir()
    export_generator(g, PKG/f"{NAME}.safetensors", size=64)
    for p in PKG.glob(f"{NAME}.*"): p.chmod(0o644)
    # the curve
    fig, axs = plt.subplots(1, 3, figsize=(15, 4))
    hrs = [r['hours'] if r['hours'] is not None else r['epoch'] for r in rows]
    xlabel = 'hours of training on the 2-core CPU' if rows[0]['hours'] is not None else 'epochs'
    for ax, keys, title in [(axs[0], ['ciede2000_z0', 'ciede2000', 'ciede2000_best'], 'CIEDE2000 (lower is better)'),
                            (axs[1], ['colourfulness'], f"colourfulness (real: {rows[0]['colourfulness_real']:.1f})"),
                            (axs[2], ['diversity_ab_grid'], 'smoothed diversity between noises')]:
        names = {'ciede2000_z0': 'z = 0', 'ciede2000': 'a random noise', 'ciede2000_best': 'best of 10'}
        for k in keys: ax.plot(hrs, [r[k] for r in rows], 'o-', label=names.get(k, k))
        for (label, ref), style in zip(refs.items(), ['--', ':']):
            for k, c in zip(keys, ['C0', 'C1', 'C2']):
                if k in ref: ax.axhline(ref[k], ls=style, color=c if len(keys) > 1 else 'gray', lw=1)
        ax.set_title(title); ax.set_xlabel(xlabel)
        if len(keys) > 1: ax.legend(fontsize=8)
    axs[0].text(0.02, 0.02, "flat lines: the comparison's 12 minutes, default recipe (--) and L1-only (:)", transform=axs[0].transAxes, fontsize=8)
    fig.tight_layout(); fig.savefig(PKG/'card'/'curve.png', dpi=80); plt.close(fig)
    # chroma grids on held-out faces and on the bundled samples
    plot_chroma(s, n=6, k=6); plt.gcf().savefig(PKG/'card'/'heldout_chroma.jpg', dpi=60, bbox_inches='tight', pil_kwargs=dict(quality=85)); plt.close('all')
    col = Colorizer(g, 64, 'cpu')
    sample = sample_faces()/'sylvie_green_smile_face.png'
    variant_grid(sample, col(sample, n=15), cols=8, cell=96).save(PKG/'card'/'sample_grid.jpg', quality=88)
    # failure cases: the held-out faces whose z = 0 colouring is farthest from the truth
    from anime_colorization.evaluation import ciede2000
    from skimage.color import rgb2lab, lab2rgb
    err = ciede2000(s.zero, rgb2lab(s.pictures))
    worst = np.argsort(err)[::-1][:4]
    zero_rgb = (np.clip(lab2rgb(s.zero), 0, 1)*255).round().astype(np.uint8)
    fig, axs = plt.subplots(2, 4, figsize=(8, 4.4))
    for j, i in enumerate(worst):
        axs[0, j].imshow(s.pictures[i]); axs[0, j].set_title(f"real (CIEDE {err[i]:.1f})", fontsize=8)
        axs[1, j].imshow(zero_rgb[i]); axs[1, j].set_title('z = 0 colouring', fontsize=8)
    for ax in axs.flat: ax.axis('off')
    fig.tight_layout(); fig.savefig(PKG/'card'/'failures.jpg', dpi=70, pil_kwargs=dict(quality=85)); plt.close(fig)
    real_cf = chosen['colourfulness_real']
    headline = {desc.format(real=real_cf): round(chosen[k], 2) for k, desc in HEADLINE}
    notes = Path(args.notes).read_text() if args.notes else ''
    info = dict(name=NAME, epoch=chosen['epoch'], gan_epochs=chosen['gan_epochs'], batches=chosen['batches'],
                hours=chosen['hours'], machine=args.machine, command=args.command, headline=headline,
                metrics={k: chosen[k] for k, _ in HEADLINE + [('colourfulness_real', '')]}, references=refs,
                summary=f"Default recipe trained for {chosen['gan_epochs']} adversarial epochs ({chosen['batches']:,} batches of 32) after "
                        f"{run['pretrain_epochs']} L1-only epochs, on 14,910 real 64x64 anime faces.")
    (PKG/f"{NAME}.card.json").write_text(json.dumps(info, indent=2) + '\n')
    (PKG/f"{NAME}.md").write_text(card_text({**info, 'notes': notes}, rows, run, per_epoch))
    print(json.dumps(info, indent=2))

def card_text(info:dict, rows:list, run:dict, per_epoch:int)->str:
    "The model card in markdown, from the measured numbers"
    ran = run.get('recipe') or dict(seek='all', tint=0.)  # a run from before `seek` and `tint` existed trained with 'all' and 0
    noise = {'modulation': "the noise scaling and shifting the decoder's features (modulation)",
             'all_scales': 'noise at every encoder scale'}.get(run_noise(run), f"noise entering as {run_noise(run)!r}")
    seeks = ("on the tint-free difference between two noises' colourings" if ran['seek'] == 'tint_free' else
             "on the whole difference between two noises' colourings") + (f", tint penalty {ran['tint']:g}" if ran['tint'] else ", no tint penalty")
    m, refs = info['metrics'], info['references']
    d, l1 = refs['default recipe, 12 minutes'], refs['L1-only U-Net, 12 minutes']
    f = lambda v: '' if v is None else f"{v:.2f}"
    table = '\n'.join(f"| {desc.format(real=m['colourfulness_real'])} | {f(m[k])} | {f(d.get(k))} | {f(l1.get(k))} |" for k, desc in HEADLINE)
    hrs = lambda r: '' if r['hours'] is None else f"{r['hours']:.2f}"
    opt = lambda v, digits=2: '' if v is None or v != v else f"{v:.{digits}f}"  # absent in old rows; NaN for a deterministic model
    curve = '\n'.join(f"| {r['epoch']} | {r['gan_epochs']} | {r['batches']:,} | {hrs(r)} | "
                       f"{r['ciede2000_z0']:.2f} | {r['ciede2000']:.2f} | {r['ciede2000_best']:.2f} | {r['colourfulness']:.1f} | {r['diversity_ab_grid']:.1f} | "
                       f"{opt(r.get('tint_share'))} | {opt(r.get('diversity_tint_free'), 1)} |"
                       for r in rows)
    hours = f"{info['hours']:.2f} hours" if info['hours'] is not None else 'unknown time'
    return f"""# Model card: `{NAME}`

The shipped generator trained as a GAN, `Colorizer.from_pretrained('faces64')` (the default, `faces64_fast`, is its
fast copy: the same colouring for the same noise at a quarter of the arithmetic). It colours the lightness of a 64x64
anime face (any picture is shrunk to that scale for the network, and its colour joined to the picture's own
full-resolution lightness) and gives a different colouring for each noise z (8 numbers); z = 0 gives its most accurate
single guess.

## Data
The real faces of `anime-faces-64` (15,896 64x64 crops of anime characters' faces, mostly on white, collected from the
web; the pictures' copyrights belong to their artists, so these weights are for research and personal use, and are
not a licence to the pictures), minus the 200 evaluation faces of the project's split (`sorted(files)[14000:14200]`),
minus the {run['data_report']['found'] - run['data_report']['kept']} the data checks drop ({', '.join(f'{v} {k}' for k, v in run['data_report']['excluded'].items() if v)}): {run['data_report']['kept']:,} faces, of which 5% were kept
for validation and {per_epoch*run['settings']['bs']:,} trained on. Every number below is on the 200 faces it never saw.

## Recipe and training
The default recipe as it stood when trained (`anime-colorize train` defaults: DCGAN with a spectral-norm PatchGAN
critic, best-of-4 L1 (weight 100), L1 on the z = 0 colouring (100), mode seeking (0.05) {seeks}, {noise},
nearest-neighbour upsampling, Adam 2e-4, batch 32, 64x64), {run['pretrain_epochs']} L1-only epochs then
{info['gan_epochs']} adversarial epochs: {info['batches']:,} batches in {hours} on {info['machine']} (shared with
other work while it ran, so the time is an upper bound). The command, in a clean clone with the data beside it:

```
python benchmarks/model_card.py folder --data ../shared/data/anime-faces-64 --out faces
{info['command']}
```

## Quality on the 200 held-out faces
| metric | this model | the same recipe after the comparison's 12 minutes ({d['seeds']} seeds) | L1-only U-Net, 12 minutes ({l1['seeds']} seeds) |
|---|---|---|---|
{table}

The comparison's rows were trained on 14,000 faces; these weights on {per_epoch*run['settings']['bs']:,}.

## Quality against training time
![quality against training time](card/curve.png)

| epoch | adversarial epochs | batches | hours | CIEDE2000 z = 0 | random | best of 10 | colourfulness | diversity 8x8 | tint share | tint-free change |
|---|---|---|---|---|---|---|---|---|---|---|
{curve}

## What it does, in pictures
Held-out faces (gray input, real colours, six noises):

![chroma variants of held-out faces](card/heldout_chroma.jpg)

A bundled sample face, in another artist's style (gray input, then 15 noises):

![chroma variants of a sample face](card/sample_grid.jpg)

## Failure cases
The four held-out faces whose z = 0 colouring is farthest from the real colours (CIEDE2000 of the face):

![the worst z = 0 colourings](card/failures.jpg)

{info.get('notes', '')}
"""

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='step', required=True)
    f = sub.add_parser('folder'); f.add_argument('--data', required=True); f.add_argument('--out', required=True)
    c = sub.add_parser('card'); c.add_argument('--data', required=True); c.add_argument('--run', required=True)
    c.add_argument('--snapshots', required=True); c.add_argument('--times'); c.add_argument('--started', type=int)
    c.add_argument('--epoch', type=int, help='the checkpoint to ship (default: the last)')
    c.add_argument('--machine', default=f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, CPU only")
    c.add_argument('--command', default='')
    c.add_argument('--results', default=str(RESULTS), help='where the curve of every checkpoint goes (default: benchmarks/results/model_card)')
    c.add_argument('--pkg', default=str(PKG), help='where the weights, their card and its pictures go (default: the package)')
    c.add_argument('--notes', help='a markdown file of observations appended to the card (what the pictures show)')
    args = p.parse_args()
    (folder if args.step == 'folder' else card)(args)
