"""Recompute the noise directions shipped beside the weights (`anime_colorization/pretrained/NAME.directions.json`).

One command, about 1-3 minutes on a 2-core CPU:

    python benchmarks/find_directions.py                 # the shipped faces64, real faces from ../shared
    python benchmarks/find_directions.py --faces 256 --weights path/to/generator.safetensors

Directions are found on the first `--faces` real faces (sorted by name) and measured on the last `--held-out` ones and
on the bundled sample faces (another artist's style), neither of which is used to find them: each direction's effect
(RMS change of 8x8-smoothed AB when z moves +-1 along it) against random unit directions', the control.
"""
import argparse, json, sys, time
from pathlib import Path
import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from anime_colorization.colorize import Colorizer, pretrained_path
from anime_colorization.data import sample_faces
from anime_colorization.explore import find_directions, direction_effects, random_directions, save_directions

REAL = ROOT.parent/'shared'/'data'/'anime-faces-64'

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--weights', default=str(pretrained_path('faces64')), help='a generator safetensors file (default: the shipped faces64)')
    p.add_argument('--data', default=str(REAL), help='a flat folder of real faces')
    p.add_argument('--faces', type=int, default=384, help='faces to find the directions on')
    p.add_argument('--held-out', type=int, default=64, help='other faces to measure them on (0: only the sample faces)')
    p.add_argument('--random', type=int, default=32, help='random unit directions in the control')
    p.add_argument('--out', default=None, help='where to write (default: beside the weights)')
    a = p.parse_args()
    torch.manual_seed(0); torch.set_num_threads(max(1, torch.get_num_threads()))
    files = sorted(Path(a.data).glob('*.jpg')) + sorted(Path(a.data).glob('*.png'))
    if len(files) < a.faces + a.held_out: sys.exit(f"{a.data}: {len(files)} pictures, need {a.faces + a.held_out}")
    c = Colorizer.load(a.weights, device='cpu')
    load = lambda fs: [np.asarray(Image.open(f).convert('RGB').resize((c.size,)*2, Image.LANCZOS)) for f in fs]
    found_on, held = load(files[:a.faces]), (load(files[-a.held_out:]) if a.held_out else [])
    samples = load(sorted(sample_faces().glob('*_face.png')))
    t0 = time.time()
    d = find_directions(c, found_on, progress=lambda i, n: print(f"\rfinding: {i}/{n} faces", end='', file=sys.stderr))
    print(f"\nfound in {time.time() - t0:.0f} s", file=sys.stderr)
    found = dict(found_on=f"{a.faces} real faces {files[0].name}..{files[a.faces - 1].name}")
    path = save_directions(d, a.weights, a.out, **found)  # usable now; rewritten below with the measurements
    rnd = random_directions(a.random, c.latent, seed=0)
    report = {}
    for name, faces in [('held_out_real', held), ('sample_faces', samples)][0 if held else 1:]:  # --held-out 0: samples only
        eff, ctl = direction_effects(c, faces, d.vectors, noises=1), direction_effects(c, faces, rnd, noises=1)
        report[name] = dict(faces=len(faces), directions=[round(float(e), 3) for e in eff],
                            random_mean=round(float(ctl.mean()), 3), random_p90=round(float(ctl.quantile(0.9)), 3),
                            beat_random_mean=int(next((i for i, e in enumerate(eff) if e <= ctl.mean()), len(eff))))
        print(f"{name}: effect (RMS change of 8x8 AB, z +-1) per direction {report[name]['directions']}; "
              f"random unit directions mean {report[name]['random_mean']}, 90th percentile {report[name]['random_p90']}; "
              f"the first {report[name]['beat_random_mean']} beat the random mean", file=sys.stderr)
    path.unlink(); path = save_directions(d, a.weights, a.out, **found, measured=report)
    print(f"wrote {path} in {time.time() - t0:.0f} s")

if __name__ == '__main__': main()
