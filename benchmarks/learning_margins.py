"""The margins of tests/test_gan_learning.py, measured over several seeds: each test's quantities for seeds 0, 1, 2, ...

The tests run one seed (`SEED`) and assert a gap with a margin; this runs the very same functions (the test module,
imported) for other seeds, so the margins in the tests can be checked against the spread they must hold over.

    python benchmarks/learning_margins.py [--seeds 0 1 2] [--out benchmarks/results/learning_margins/rows.jsonl]
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests'))
import test_gan_learning as t
from anime_colorization.evaluation import ConstantAB

def measure(seed:int)->dict:
    "Every quantity the learning tests assert on, for one seed"
    t.SEED = seed
    t.dcgan_run.cache_clear()
    g, untrained = t.dcgan_run()
    lab = t.held_out_lab(); gray = lab.clone(); gray[:, 1:] = 0
    g_ms_off, g_adv_off, g_tints = t.dcgan_run(mode_seeking=0.)[0], t.dcgan_run(adv_weight=0.)[0], t.dcgan_run(seek='all', tint=0.)[0]
    _, with_gp, _ = t.wgan_gp_run(10.)
    _, without_gp, _ = t.wgan_gp_run(0.)
    return dict(seed=seed,
                skin_gray=t.skin_error(gray), skin_untrained=t.skin_error(untrained), skin_trained=t.skin_error(t.z0_colouring(g)),
                coverage_deterministic=t.hair_coverage(ConstantAB()), coverage_recipe=t.hair_coverage(g),
                coverage_no_mode_seeking=t.hair_coverage(g_ms_off),
                hair_moved_by_adversarial=float(np.linalg.norm(t.hair_colours(g) - t.hair_colours(g_adv_off), axis=-1).mean()),
                tint_share_recipe=t.tint_share(g), tint_share_without_switches=t.tint_share(g_tints),
                lipschitz_gap_gp=with_gp, lipschitz_gap_no_gp=without_gp)

def margins(r:dict)->dict:
    "Each test's gap (what its margin must stay below)"
    return dict(skin=r['skin_gray'] - r['skin_trained'], ms_over_baseline=r['coverage_recipe'] - r['coverage_deterministic'],
                ms_over_off=r['coverage_recipe'] - r['coverage_no_mode_seeking'], adversarial=r['hair_moved_by_adversarial'],
                tint=r['tint_share_without_switches'] - r['tint_share_recipe'], gp=r['lipschitz_gap_no_gp'] - r['lipschitz_gap_gp'])

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, nargs='*', default=[0, 1, 2])
    ap.add_argument('--out', default=str(ROOT/'benchmarks'/'results'/'learning_margins'/'rows.jsonl'))
    a = ap.parse_args()
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    limits = dict(skin=t.SKIN_MARGIN, ms_over_baseline=t.MS_OVER_BASELINE, ms_over_off=t.MS_OVER_OFF, adversarial=t.ADV_MARGIN, tint=t.TINT_MARGIN, gp=t.GP_MARGIN)
    rows = []
    for s in a.seeds:
        t0 = time.perf_counter()
        r = measure(s); r['gaps'] = margins(r); r['seconds'] = time.perf_counter() - t0
        rows.append(r)
        with out.open('a') as f: f.write(json.dumps(r) + '\n')
        print(f"seed {s}: " + ', '.join(f"{k} {v:.3f} (margin {limits[k]})" for k, v in r['gaps'].items()), flush=True)
    print("smallest gap over the seeds: " + ', '.join(f"{k} {min(r['gaps'][k] for r in rows):.3f} (margin {limits[k]})" for k in limits))

if __name__ == '__main__': main()
