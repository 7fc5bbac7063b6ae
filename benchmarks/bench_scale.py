"""Benchmark: how memory and time per epoch grow with the dataset size and the image size, for the default DCGAN
recipe at batch 64, each configuration in a fresh process (so its peak RSS is its own).

    python benchmarks/bench_scale.py [SOURCE]     # default: ../shared/data/anime-faces-64, else synthetic faces

Per configuration: the pictures are decoded into the cache (not timed), one full pass of the training loader touches
every picture (timed: the data side of an epoch), then 2 warm-up and 8 timed training steps give seconds per step; the
epoch time is that times the number of batches (a projection from measured steps, stated as such).
Peak RSS includes building the cache when it is cold (the build holds the decoded pictures in memory); run the script
a second time for the figures of training alone.
"""
import json, os, resource, subprocess, sys, time, warnings
from pathlib import Path

BS, WARM, STEPS = 64, 2, 8

def one(src:str, n:int, size:int)->dict:
    warnings.simplefilter('ignore')
    import numpy as np, torch
    from fastai.callback.core import Callback, CancelFitException
    from fastai.torch_core import set_seed
    from anime_colorization.data import image_cache, SyntheticFaces
    from anime_colorization.datablock import colorization_dls
    from anime_colorization.dcgan import dcgan_learner
    pics = image_cache(src, size, progress=False).images[:n] if src != 'synthetic' else SyntheticFaces(n, size).images()
    set_seed(0)
    dls = colorization_dls(np.asarray(pics), size=size, bs=BS, device='cpu')
    t = time.perf_counter()
    for _ in dls.train: pass
    data_s = time.perf_counter() - t
    learn = dcgan_learner(dls)
    class Clock(Callback):
        order = 99
        def before_fit(self): self.times = []
        def before_batch(self): self.t = time.perf_counter()
        def after_batch(self):
            self.times.append(time.perf_counter() - self.t)
            if len(self.times) == WARM + STEPS: raise CancelFitException()
    clock = Clock()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=clock)
    step = sum(clock.times[WARM:])/STEPS
    return dict(n=len(pics), size=size, batches=len(dls.train), data_epoch_s=data_s, s_per_step=step,
                epoch_s=step*len(dls.train), peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**20)

def main():
    if sys.argv[1:2] == ['--one']: print(json.dumps(one(sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))); return
    real = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parents[2]/'shared'/'data'/'anime-faces-64')
    src = str(real) if real.exists() else 'synthetic'
    import torch
    print(f"torch {torch.__version__}, torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}; source: {src}; default DCGAN recipe, batch {BS}")
    print(f"{'pictures':>8s} {'size':>4s} | {'batches':>7s} {'data pass s':>11s} {'s/step':>6s} {'epoch (proj.)':>13s} | {'peak RSS GB':>11s}")
    for n, size in [(1000, 64), (4000, 64), (16000, 64), (4000, 32), (4000, 128)]:
        out = subprocess.run([sys.executable, __file__, '--one', src, str(n), str(size)], capture_output=True, text=True)
        if out.returncode: sys.exit(out.stderr[-3000:])
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{r['n']:8,d} {r['size']:4d} | {r['batches']:7d} {r['data_epoch_s']:11.2f} {r['s_per_step']:6.2f} {r['epoch_s']/60:10.1f} min | {r['peak_rss_gb']:11.2f}")

if __name__ == '__main__': main()
