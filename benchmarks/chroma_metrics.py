"""Issue 11's measurements: is the variety between noises a recolouring or a tint, what changes where, and how real
the colourings look to a classifier trained from scratch; for the gray input, the training set's mean AB and trained
generators, on the split's evaluation faces, on the bundled sample faces and on synthetic faces.

    python benchmarks/chroma_metrics.py --data ../shared/data/anime-faces-64 --out benchmarks/results/chroma_metrics \
        --generator /work/ship/gens/epoch05.safetensors ...

Writes `rows.jsonl` (one line per model and source: `evaluate`'s row, which holds the tint and region measures),
`realism.jsonl` (one line per model: the two-sample test's balanced accuracy per seed on the evaluation faces and the
samples) and `controls.json` (real against real: what the test scores when there is nothing to find). Models already in
`rows.jsonl` are skipped, so the command can be repeated as generators appear. Never writes into the data.
"""
from __future__ import annotations
import argparse, json, sys, time
from pathlib import Path
import numpy as np
import torch
sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_recipes import seed_split
from anime_colorization.data import SyntheticFaces
from anime_colorization.lab import source_pictures
from anime_colorization.evaluation import evaluate, realism, two_sample_accuracy, ConstantAB

def _clean(row:dict)->dict:
    "JSON-ready: NaN as null, numpy scalars as floats"
    out = {}
    for k, v in row.items():
        if isinstance(v, (np.floating, float)): v = float(v); v = v if np.isfinite(v) else None
        elif isinstance(v, np.integer): v = int(v)
        out[k] = v
    return out

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True, help="anime-faces-64 (folder or .zip)")
    p.add_argument('--out', required=True, help="results folder")
    p.add_argument('--generator', nargs='*', default=[], help="exported generators (safetensors) to measure besides the baselines")
    p.add_argument('--variants', type=int, default=10)
    p.add_argument('--synthetic', type=int, default=200, help="synthetic faces (seed 1) for the per-region change")
    p.add_argument('--n-train', type=int, default=500, help="training faces for each two-sample classifier (and as many colourings)")
    p.add_argument('--seeds', type=int, nargs='*', default=[0, 1, 2], help="classifier seeds")
    p.add_argument('--epochs', type=int, default=6, help="classifier epochs")
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--no-baselines', action='store_true', help="measure only the generators, not gray and the mean AB")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    train, valid, info = seed_split(a.data)
    samples = source_pictures(None).images
    print(f"split: {len(train)} training and {len(valid)} evaluation faces ({info['dropped']} rejected); {len(samples)} samples", flush=True)
    rows_file, real_file = out/'rows.jsonl', out/'realism.jsonl'
    done = {json.loads(l)['model'] for l in rows_file.read_text().splitlines()} if rows_file.exists() else set()
    cls = dict(seeds=a.seeds, epochs=a.epochs)
    if not (out/'controls.json').exists():
        t = time.time()
        n = a.n_train
        rr = [two_sample_accuracy(train[:n], train[n:2*n], {'evaluation': (valid[:100], valid[100:])}, s, epochs=a.epochs)['evaluation']
              for s in a.seeds]
        (out/'controls.json').write_text(json.dumps(dict(real_vs_real=rr, n_train=n, note=
            f"real faces train[:{n}] against the disjoint train[{n}:{2*n}], tested on evaluation faces [:100] against [100:200]"), indent=1))
        print(f"real vs real: {np.round(rr, 3)} ({time.time() - t:.0f} s)", flush=True)
    models = [(Path(g).stem, g) for g in a.generator]
    if not a.no_baselines: models = [('gray', ConstantAB())] + models + [('mean_ab', ConstantAB.mean_of(train))]
    for name, model in models:
        if name in done: continue
        t = time.time()
        rows = [dict(source='evaluation', **evaluate(model, valid, a.variants, name=name)),
                dict(source='samples', **evaluate(model, samples, a.variants, name=name)),
                dict(source='synthetic', **evaluate(model, SyntheticFaces(a.synthetic, seed=1), a.variants, name=name))]
        acc = realism(model, train[:a.n_train], {'evaluation': valid, 'samples': samples}, **cls)
        extra = {} if isinstance(model, ConstantAB) else json.loads(Path(model).with_suffix('.json').read_text()) \
            if Path(model).with_suffix('.json').exists() else {}
        with real_file.open('a') as f:
            f.write(json.dumps(dict(model=name, n_train=a.n_train, epochs=a.epochs, seeds=a.seeds, file=None if isinstance(model, ConstantAB) else str(model),
                                    **{k: v.tolist() for k, v in acc.items()})) + '\n')
        with rows_file.open('a') as f:
            for r in rows: f.write(json.dumps(_clean(r)) + '\n')
        ev = rows[0]  # noqa
        print(f"{name}: tint share {ev['tint_share']}, tint-free {ev['diversity_tint_free']:.2f}, realism {np.round(acc['evaluation'], 3)} "
              f"samples {np.round(acc['samples'], 3)} ({time.time() - t:.0f} s)", flush=True)

if __name__ == '__main__': main()
