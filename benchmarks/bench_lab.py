"""Benchmark: batched torch sRGB <-> CIELAB vs a Python loop of skimage's `rgb2lab` / `lab2rgb`.

Run as `python benchmarks/bench_lab.py`. All cases are timed in the same run, interleaved round by round
(so that load from other processes hits all of them alike); each reports its best round after a warm-up.
"""
import os, platform, sys, time, warnings
import numpy as np, torch
from skimage.color import lab2rgb, rgb2lab

from anime_colorization.lab import rgb_to_lab, rgb_to_l, lab_to_rgb

N, H, W, ROUNDS = 256, 64, 64, 7

def best_times(cases:dict, # name -> zero-argument function
               rounds:int=ROUNDS, # timed rounds after one warm-up round
              )->dict: # name -> best time in seconds
    "Time every case once per round, interleaved, and keep each case's best round."
    best = {name: float('inf') for name in cases}
    for r in range(rounds + 1):
        for name, fn in cases.items():
            t0 = time.perf_counter(); fn(); dt = time.perf_counter() - t0
            if r: best[name] = min(best[name], dt)
    return best

def main():
    rng = np.random.default_rng(0)
    imgs_u8 = rng.integers(0, 256, (N, H, W, 3), dtype=np.uint8)  # what a user's loop would see: HWC images
    imgs_f32 = imgs_u8.astype(np.float32) / 255
    x_u8 = torch.from_numpy(imgs_u8).permute(0, 3, 1, 2).contiguous()  # (N, 3, H, W)
    x_f32 = x_u8.float() / 255
    labs_sk = [rgb2lab(im) for im in imgs_u8]
    lab = rgb_to_lab(x_u8)

    def sk_lab2rgb():
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return [lab2rgb(im) for im in labs_sk]

    # name -> (function, name of the baseline it is compared with)
    cases = {
        'skimage rgb2lab loop, uint8':   (lambda: [rgb2lab(im) for im in imgs_u8], None),
        'skimage rgb2lab loop, float32': (lambda: [rgb2lab(im) for im in imgs_f32], None),
        'skimage lab2rgb loop':          (sk_lab2rgb, None),
        'rgb_to_lab, uint8':             (lambda: rgb_to_lab(x_u8), 'skimage rgb2lab loop, uint8'),
        'rgb_to_lab, float32':           (lambda: rgb_to_lab(x_f32), 'skimage rgb2lab loop, float32'),
        'rgb_to_l, uint8':               (lambda: rgb_to_l(x_u8), 'skimage rgb2lab loop, uint8'),
        'lab_to_rgb, float32':           (lambda: lab_to_rgb(lab), 'skimage lab2rgb loop'),
    }
    with torch.no_grad(): best = best_times({name: fn for name, (fn, _) in cases.items()})

    print(f"torch {torch.__version__}, numpy {np.__version__}, python {platform.python_version()}; "
          f"torch threads: {torch.get_num_threads()}, CPUs: {os.cpu_count()}")
    print(f"batch: {N} images of {H}x{W}; best of {ROUNDS} interleaved rounds after a warm-up\n")
    print(f"{'case':32s} {'ms/batch':>9s} {'images/s':>9s}  speed-up")
    for name, (_, base) in cases.items():
        t = best[name]
        vs = f"x{best[base] / t:.2f} vs {base}" if base else "(baseline)"
        print(f"{name:32s} {t * 1e3:9.2f} {N / t:9.0f}  {vs}")

if __name__ == '__main__': main()
