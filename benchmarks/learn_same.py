"""Does the faster generator step learn like the old one? Train the default DCGAN recipe with the library as it is now,
on exactly the schedule of 06_evaluation's comparison (the same split, the same batch counts: the 12-minute budget of
the committed `results/comparison/timing_06.json`, a quarter of it L1-only warm-up), and set its numbers beside the
committed rows of the same recipe, made by the code before the speed-up with three seeds: the new step must land
within the spread of those seeds.

    python benchmarks/learn_same.py --data ../shared/data/anime-faces-64 --seeds 0 --out /tmp/learn_same

Runs `compare_recipes.py run` on a copy of the package (edits made while it runs do not leak in); about 12 minutes
of this 2-core CPU per seed.
"""
from __future__ import annotations
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT/'benchmarks'/'results'/'comparison'
RECIPE = 'dcgan_anchor_nearest'  # the default recipe's name in compare_recipes.py
METRICS = ('ciede2000', 'ciede2000_best', 'ciede2000_z0', 'psnr', 'colourfulness', 'diversity_ab_grid', 'ab_speckle')

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--seeds', type=int, nargs='*', default=[0])
    p.add_argument('--out', required=True)
    args = p.parse_args()
    out = Path(args.out)
    now = Path(tempfile.mkdtemp(prefix='learn_same_now_'))
    shutil.copytree(ROOT/'anime_colorization', now/'anime_colorization')
    (now/'benchmarks').mkdir(); shutil.copy(ROOT/'benchmarks'/'compare_recipes.py', now/'benchmarks')
    cmd = [sys.executable, str(now/'benchmarks'/'compare_recipes.py'), 'run', '--data', args.data, '--timing', str(RESULTS/'timing_06.json'),
           '--minutes', '12', '--seeds', *map(str, args.seeds), '--recipes', RECIPE, '--no-baselines', '--fractions', '1',
           '--out', str(out), '--device', 'cpu']
    if not (out/'rows.jsonl').exists(): subprocess.run(cmd, check=True, env=dict(os.environ, PYTHONPATH=str(now)), cwd=tempfile.gettempdir())
    new = [json.loads(l) for l in (out/'rows.jsonl').read_text().splitlines()]
    n = new[0]['batches']
    old = [r for r in map(json.loads, (RESULTS/'rows.jsonl').read_text().splitlines()) if r['recipe'] == RECIPE and r['batches'] == n]
    print(f"\n{RECIPE} after {n} batches ({new[0]['l1_batches']} L1-only), evaluated on the 200 faces of the split")
    print(f"{'':26s} " + ' '.join(f"{m:>15s}" for m in METRICS))
    for r in old: print(f"{'before, seed %d' % r['train_seed']:26s} " + ' '.join(f"{r[m]:15.3f}" for m in METRICS))
    for r in new: print(f"{'now, seed %d' % r['train_seed']:26s} " + ' '.join(f"{r[m]:15.3f}" for m in METRICS))
    inside = {m: all(min(o[m] for o in old) - 1e-9 <= r[m] <= max(o[m] for o in old) + 1e-9 for r in new) for m in METRICS}
    print(f"{'within the seeds of before':26s} " + ' '.join(f"{'yes' if inside[m] else 'no':>15s}" for m in METRICS))

if __name__ == '__main__': main()
