"""Fit the chroma gate (06a_chroma_gate) of a generator, and measure what the gate changes against the same generator without it.

    # fit the shipped generators' gates on the split's 14,000 training faces (SEED_BASELINE.md), into the package
    python benchmarks/fit_gate.py fit --data ../shared/data/anime-faces-64 --weights faces64 faces64_fast
    # the 200 evaluation faces and the bundled samples, each generator with and without its gate
    python benchmarks/fit_gate.py measure --data ../shared/data/anime-faces-64 --weights faces64 faces64_fast
    # synthetic faces, where skin, hair and background are known: a generator trained on 14,000 of them
    # (`compare_recipes.py run --synthetic 14000 --keep ...`), its gate fitted on the same faces, measured on 200 others
    python benchmarks/fit_gate.py synthetic --generator SYNTHETIC_RUN/dcgan_tint_free_tint.safetensors [--results FOLDER]

Each measurement is one `evaluate` row per generator with the gate and without it: the same weights, the same noises,
the same faces; only the gate differs. Rows go to `benchmarks/results/chroma_gate/`.
"""
from __future__ import annotations
import argparse, json, sys, time
from pathlib import Path
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from compare_recipes import seed_split  # noqa: E402  (SEED_BASELINE.md's split)
from model_card import HEADLINE  # noqa: E402  (the card's headline measures)
from anime_colorization.colorize import Colorizer, pretrained_path, pretrained_card
from anime_colorization.datablock import colorization_dls
from anime_colorization.data import SyntheticFaces
from anime_colorization.evaluation import evaluate, colourings, realism
from anime_colorization.lab import source_pictures
from anime_colorization.gate import fit_gate, export_gate, gate_file, load_gate
from anime_colorization.lab import rgb_to_lab
from anime_colorization.unet import load_generator

RESULTS = HERE/'results'/'chroma_gate'
CARD_START, CARD_END = '<!-- chroma gate: written by benchmarks/fit_gate.py measure -->', '<!-- end of chroma gate -->'
KEYS = ['ciede2000_z0', 'ciede2000', 'ciede2000_best', 'psnr_z0', 'psnr', 'colourfulness', 'colourfulness_real', 'diversity_ab_grid',
        'tint_share', 'diversity_tint_free', 'hair_coverage', 'change_skin', 'change_background', 'change_hair', 'change_eyes', 'change_collar']

class ColouriserModule(nn.Module):
    "A `Colorizer` as the module `evaluate` takes: `(l, z)` -> normalised LAB, through its gate if it has one"
    def __init__(self, col:Colorizer):
        super().__init__()
        self.col, self.latent = col, col.latent
        self.register_buffer('where', torch.zeros(0, device=col.device))
    def sample_z(self, n, device=None, generator=None): return torch.randn(n, self.latent, generator=generator).to(device)
    def forward(self, l, z): return torch.cat([l, self.col.ab(l, z).to(l.dtype)], 1)

def fit(generator, images:np.ndarray, epochs:int, out:Path, seed:int=0, tol:float=20., power:float=3.):
    "Fit a gate to `generator` on `images` (5% kept for its validation loss) and write it to `out`; `tol`, `power`: `gate_target`'s"
    dls = colorization_dls(images, size=images.shape[1], bs=64, valid_pct=0.05, seed=seed, device='cpu', progress=False)
    t0 = time.time()
    gate = fit_gate(generator, dls, epochs=epochs, seed=seed, tol=tol, power=power)
    export_gate(gate, out)
    print(f"{out}: fitted in {time.time() - t0:.0f} s ({epochs} epochs on {len(dls.train_ds)} pictures)", flush=True)
    return time.time() - t0

def change_by_error(col:Colorizer, faces:np.ndarray, bins=(0, 3, 6, 10, 15, 25, 40, 1000)):
    "Per bin of the z = 0 colouring's 4x4-block AB error: the share of blocks and their mean AB change between noises (06_evaluation's measure)"
    lab, zero, _ = colourings(ColouriserModule(col), faces, n_variants=4, seed=0)
    lab, zero = torch.from_numpy(lab).permute(0, 1, 4, 2, 3), torch.from_numpy(zero).permute(0, 3, 1, 2)
    truth = rgb_to_lab(torch.from_numpy(faces).permute(0, 3, 1, 2))
    size = lambda x: F.avg_pool2d(x[:, 1:].norm(dim=1, keepdim=True), 4).flatten()
    err = size(zero - truth)
    change = torch.stack([size(lab[:, i] - lab[:, i + 1]) for i in range(3)]).mean(0)
    return [dict(error=f"{lo}-{hi}" if hi < 1000 else f"{lo}+", share=float(((err >= lo) & (err < hi)).float().mean()),
                 change=float(change[(err >= lo) & (err < hi)].mean())) for lo, hi in zip(bins[:-1], bins[1:])]

def rows_of(col_pair:dict, sources:dict, name:str)->list:
    "`evaluate` rows of each colouriser on each source"
    rows = []
    for gated, col in col_pair.items():
        for src_name, src in sources.items():
            r = evaluate(ColouriserModule(col), src, n_variants=10, seed=0, name=name)
            row = dict(weights=name, gate=gated, faces=src_name, **{k: r[k] for k in KEYS if k in r})
            rows.append(row); print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    return rows

def card_section(name:str, rows:list, cbe:dict, fit_info:dict|None)->str:
    "The model card's section on the gate, from the measured rows"
    get = lambda gated, faces: next(r for r in rows if r['gate'] == gated and r['faces'] == faces)
    f = lambda v: f"{v:.2f}"
    table = '\n'.join(f"| {desc.format(real=get(False, 'heldout')['colourfulness_real'])} | {f(get(False, 'heldout')[k])} | {f(get(True, 'heldout')[k])} | "
                      f"{f(get(False, 'samples')[k])} | {f(get(True, 'samples')[k])} |" for k, desc in HEADLINE)
    bins = '\n'.join(f"| {a['error']} | {a['share']:.2f} | {a['change']:.2f} | {b['change']:.2f} |" for a, b in zip(cbe['False'], cbe['True']))
    fitted = (f"fitted in {fit_info['seconds']/60:.1f} minutes ({fit_info['epochs']} epochs, {fit_info['threads']} CPU thread"
              f"{'s' if fit_info['threads'] > 1 else ''}) on the {fit_info['pictures']:,} training faces of SEED_BASELINE.md's split (95% fitted, 5% for its validation loss)") if fit_info else 'fitted'
    return f"""{CARD_START}
## Chroma gate (`{name}.gate.safetensors`)
Colouring goes through a chroma gate by default (06a_chroma_gate): a small U-Net that predicts from L alone how far a
noise may move each pixel's colour away from the z = 0 colouring, so that noises recolour hair, eyes and clothes and
keep skin and background. `--no-gate` (or `gate=False`) colours without it; the z = 0 colouring is the same either way.
The gate was {fitted}, with `fit_gate`'s defaults:
`python benchmarks/fit_gate.py fit --data anime-faces-64 --weights {name}`.

The same weights and noises with and without it (`python benchmarks/fit_gate.py measure`), on the 200 held-out faces
and the 16 bundled samples:

| | held out, no gate | held out, gate | samples, no gate | samples, gate |
|---|---|---|---|---|
{table}

The AB change between two noises, in 4x4-pixel blocks of the held-out faces binned by the z = 0 colouring's error there:

| z = 0 error (AB) | share of blocks | change, no gate | change, gate |
|---|---|---|---|
{bins}
{CARD_END}
"""

def write_card(name:str, rows:list, cbe:dict):
    "Put the gate's section into the weights' model card and its headline numbers into the card's JSON (the demo shows them)"
    fit_path = RESULTS/f"fit_{name}.json"
    section = card_section(name, rows, cbe, json.loads(fit_path.read_text()) if fit_path.exists() else None)
    md = pretrained_path(name).with_suffix('.md')
    text = md.read_text()
    if CARD_START in text:  # written before: replaced, so that measuring again leaves the card as one run makes it
        text = text[:text.index(CARD_START)].rstrip('\n') + '\n\n' + text[text.index(CARD_END) + len(CARD_END):].lstrip('\n')
    marker = '## Where it stopped' if '## Where it stopped' in text else None
    text = text.replace(marker, section + '\n' + marker) if marker else text.rstrip('\n') + '\n\n' + section
    md.write_text(text)
    card_json = pretrained_path(name).with_suffix('.card.json')
    if card_json.exists():
        info = json.loads(card_json.read_text())
        held = next(r for r in rows if r['gate'] and r['faces'] == 'heldout')
        info['gate_headline'] = {desc.format(real=held['colourfulness_real']): round(held[k], 2) for k, desc in HEADLINE if k in held}
        card_json.write_text(json.dumps(info, indent=2) + '\n')

def main(args):
    torch.set_num_threads(args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.step == 'synthetic':
        res = Path(args.results or RESULTS); res.mkdir(parents=True, exist_ok=True)
        g = load_generator(args.generator)
        out = Path(args.out or res/'synthetic.gate.safetensors')
        if args.refit or not out.exists():  # (a gate fitted before is measured again as it is)
            seconds = fit(g, SyntheticFaces(14000, seed=0).images(), args.epochs, out, tol=args.tol, power=args.power)
            (res/'fit_synthetic.json').write_text(json.dumps(dict(generator=str(args.generator), epochs=args.epochs, pictures=14000,
                                                                      seconds=seconds, threads=args.threads, tol=args.tol, power=args.power), indent=1))
        cols = {False: Colorizer(g, device='cpu', name='synthetic'), True: Colorizer(g, device='cpu', name='synthetic', gate=load_gate(out))}
        rows = rows_of(cols, {'synthetic': SyntheticFaces(200, seed=1)}, Path(args.generator).stem)
        (res/'measured_synthetic.json').write_text(json.dumps(dict(generator=str(args.generator), rows=rows), indent=1))
        return
    train, valid, _ = seed_split(args.data)
    res = Path(args.results or RESULTS); res.mkdir(parents=True, exist_ok=True)
    # shipped weights by name (their cards get the gate's section), or one generator file (`--generator`: rows only)
    targets = [(Path(args.generator).stem, Path(args.generator))] if args.generator else [(n, pretrained_path(n)) for n in args.weights]
    for name, path in targets:
        if args.step == 'fit':
            timing = fit(load_generator(path), train, args.epochs, gate_file(path), tol=args.tol, power=args.power)
            (res/f"fit_{name}.json").write_text(json.dumps(dict(weights=name, epochs=args.epochs, pictures=len(train), seconds=timing,
                                                                       threads=args.threads, tol=args.tol, power=args.power), indent=1))
        else:
            cols = {False: Colorizer.load(path, 'cpu', gate=False), True: Colorizer.load(path, 'cpu')}
            if cols[True].gate is None: raise SystemExit(f"{gate_file(path)}: no gate; run `fit` first")
            rows = rows_of(cols, {'heldout': valid, 'samples': None}, name)
            cbe = {str(k): change_by_error(c, valid) for k, c in cols.items()}
            (res/f"measured_{name}.json").write_text(json.dumps(dict(rows=rows, change_by_error=cbe), indent=1))
            if not args.generator: write_card(name, rows, cbe)
            if args.realism:  # the two-sample test (06_evaluation): a classifier told real faces from colourings, per classifier seed
                tests = {'heldout': valid, 'samples': source_pictures(None).images}
                acc = {str(k): {t: v.tolist() for t, v in realism(ColouriserModule(c), train[:args.realism], tests, seeds=args.realism_seeds).items()}
                       for k, c in cols.items()}
                print(json.dumps(acc), flush=True)
                (res/f"realism_{name}.json").write_text(json.dumps(dict(n_train=args.realism, seeds=args.realism_seeds, accuracy=acc), indent=1))

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('step', choices=['fit', 'measure', 'synthetic'])
    p.add_argument('--data', help="anime-faces-64 (folder or .zip)")
    p.add_argument('--weights', nargs='*', default=['faces64'], help="shipped generators")
    p.add_argument('--generator', help="synthetic: the generator trained on synthetic faces; fit and measure: a generator file instead of --weights (no card is written)")
    p.add_argument('--out', help="synthetic: where to write its gate")
    p.add_argument('--epochs', type=int, default=4)
    p.add_argument('--tol', type=float, default=20., help="fit: AB error at which the gate is fully open (fit_gate's default)")
    p.add_argument('--power', type=float, default=3., help="fit: the gate target's power, above 1 shuts harder where the error is small (fit_gate's default)")
    p.add_argument('--realism', type=int, default=0, help="measure: also the two-sample realism test with this many training faces (0: off)")
    p.add_argument('--realism-seeds', type=int, nargs='*', default=[0, 1, 2])
    p.add_argument('--results', help="the folder of the JSON files (and, for synthetic, the gate) (default: results/chroma_gate)")
    p.add_argument('--refit', action='store_true', help="synthetic: fit the gate again even if its file exists")
    p.add_argument('--threads', type=int, default=torch.get_num_threads())
    main(p.parse_args())
