"""Does the faster generator step learn like the old one? Train the default DCGAN recipe with the library as it is now
and as it was at a baseline git revision, for the same number of batches and the same seeds, on SEED_BASELINE.md's
split of the real faces, and evaluate both on the 200 evaluation faces: the speed-up must change the numbers by no
more than the seeds do.

    python benchmarks/learn_same.py --data ../shared/data/anime-faces-64 --batches 320 --seeds 0 1 --out /tmp/learn_same

Each side runs `benchmarks/compare_recipes.py run` of its own revision (the baseline's from `git archive`), with a
timing file that turns the budget into exactly `--batches` batches (a quarter L1-only warm-up, as in the comparison).
Prints one row per side and seed, then the mean and spread of each side.
"""
from __future__ import annotations
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECIPE = 'dcgan_anchor_nearest'  # the default recipe's name in compare_recipes.py (both revisions)
METRICS = ('ciede2000', 'ciede2000_best', 'ciede2000_z0', 'psnr', 'colourfulness', 'diversity_ab_grid', 'ab_speckle')

def side(tree:Path, data:str, batches:int, seeds:list, out:Path):
    "Run one revision's comparison driver for `batches` batches of the default recipe per seed; its rows"
    out.mkdir(parents=True, exist_ok=True)
    timing = out/'timing.json'  # 1 s per batch in both phases: a budget of `batches` seconds is `batches` batches
    timing.write_text(json.dumps({'machine': 'synthetic budget', 'recipes': {RECIPE: {'l1': 1.0, 'gan': 1.0}}}))
    cmd = [sys.executable, str(tree/'benchmarks'/'compare_recipes.py'), 'run', '--data', data, '--timing', str(timing),
           '--minutes', str(batches/60), '--seeds', *map(str, seeds), '--recipes', RECIPE, '--no-baselines',
           '--fractions', '1', '--out', str(out/'runs'), '--device', 'cpu']
    subprocess.run(cmd, check=True, env=dict(os.environ, PYTHONPATH=str(tree)), cwd=tempfile.gettempdir())
    return [json.loads(l) for l in (out/'runs'/'rows.jsonl').read_text().splitlines()]

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--batches', type=int, default=320)
    p.add_argument('--seeds', type=int, nargs='*', default=[0, 1])
    p.add_argument('--baseline', default='2fe9439')
    p.add_argument('--out', required=True)
    args = p.parse_args()
    out = Path(args.out)
    base = Path(tempfile.mkdtemp(prefix='learn_same_baseline_'))
    tar = subprocess.run(['git', '-C', str(ROOT), 'archive', args.baseline, 'anime_colorization', 'benchmarks/compare_recipes.py'],
                         capture_output=True, check=True).stdout
    subprocess.run(['tar', '-x', '-C', str(base)], input=tar, check=True)
    now = Path(tempfile.mkdtemp(prefix='learn_same_now_'))  # a copy, so that edits made while it runs do not leak in
    shutil.copytree(ROOT/'anime_colorization', now/'anime_colorization')
    (now/'benchmarks').mkdir(); shutil.copy(ROOT/'benchmarks'/'compare_recipes.py', now/'benchmarks')
    rows = {'baseline': side(base, args.data, args.batches, args.seeds, out/'baseline'),
            'now': side(now, args.data, args.batches, args.seeds, out/'now')}
    print(f"\n{args.batches} batches of {RECIPE} per run; baseline = revision {args.baseline}")
    print(f"{'side':9s} {'seed':>4s} " + ' '.join(f"{m:>17s}" for m in METRICS))
    for name, rs in rows.items():
        for r in rs: print(f"{name:9s} {r['train_seed']:4d} " + ' '.join(f"{r[m]:17.3f}" for m in METRICS))
    for name, rs in rows.items():
        cells = [f"{statistics.mean(r[m] for r in rs):9.3f} ± {(max(r[m] for r in rs) - min(r[m] for r in rs))/2:5.3f}" for m in METRICS]
        print(f"{name:9s} mean " + ' '.join(f"{c:>17s}" for c in cells))
    (out/'summary.json').write_text(json.dumps(rows, indent=1))

if __name__ == '__main__': main()
