"""Benchmark: the data pipeline on the real faces, against a decode-every-time baseline measured in the same run.

    python benchmarks/bench_data.py [SOURCE]     # default: ../shared/data/anime-faces-64

Prints, for `colorization_dls(SOURCE, size=64, bs=64)`:
- the cold first build of the decode-once cache (a fresh cache folder),
- a warm start (cache found and memory-mapped) and then images/s of full training epochs to normalised (L, LAB) tensors,
- the baseline: what a loader without the cache does per image (read the file, decode it with PIL, convert it with
  skimage's rgb2lab, as the original Keras project did), on the first 2,000 images.
"""
import os, platform, sys, tempfile, time, warnings
from pathlib import Path
import numpy as np, torch
from PIL import Image
from skimage.color import rgb2lab

from anime_colorization.data import find_images
from anime_colorization.datablock import colorization_dls

def epoch(dl):
    "Images per second of one pass over `dl`"
    t, n = time.perf_counter(), 0
    for x, y in dl: n += len(x)
    return n / (time.perf_counter() - t), n

def baseline(items, n=2000):
    "Images per second of read + PIL decode + skimage rgb2lab per image"
    t = time.perf_counter()
    for item in items[:n]: rgb2lab(np.asarray(Image.open(item.source/item.name).convert('RGB')))
    return min(n, len(items)) / (time.perf_counter() - t)

def main():
    src = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]/'shared'/'data'/'anime-faces-64')
    if not src.exists(): sys.exit(f"{src}: not found; pass a dataset folder or zip")
    print(f"torch {torch.__version__}, python {platform.python_version()}, torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}")
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        dls = colorization_dls(src, size=64, bs=64, cache_dir=cache, device='cpu', progress=False)
        cold = time.perf_counter() - t
        print(f"source: {src} ({dls.report.found:,} files, {dls.report.kept:,} kept)\n")
        t = time.perf_counter()
        dls = colorization_dls(src, size=64, bs=64, cache_dir=cache, device='cpu', progress=False)
        warm = time.perf_counter() - t
        rates = [epoch(dls.train) for _ in range(3)]
        base = baseline(find_images(src))
    best, n = max(r for r, _ in rates), rates[0][1]
    print(f"{'cold cache build (decode, validate, resize, write)':55s} {cold:8.1f} s")
    print(f"{'warm start (cache found, memory-mapped)':55s} {warm:8.2f} s")
    print(f"{'training epoch to normalised (L, LAB), best of 3':55s} {best:8.0f} images/s  ({n:,} images; all 3: {', '.join(f'{r:.0f}' for r, _ in rates)})")
    print(f"{'baseline: read + PIL decode + skimage rgb2lab per image':55s} {base:8.0f} images/s")
    print(f"{'speed-up of a warm epoch over the baseline':55s} {best/base:8.1f} x")

if __name__ == '__main__':
    warnings.simplefilter('ignore', FutureWarning)
    main()
