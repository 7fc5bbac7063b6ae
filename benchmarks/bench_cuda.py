"""Benchmark on a CUDA GPU: seconds per training batch of our fastai GAN learners in float32 against bfloat16
autocast (`BF16Autocast`), measured in the same run, and a check that bf16 training learns like float32.

    python benchmarks/bench_cuda.py            # 64 and 128 px
    python benchmarks/bench_cuda.py --size 64

For each recipe, size and precision: a fresh seeded learner on synthetic faces trains `WARMUP + TIMED` batches
(timed with CUDA synchronisation), then on to `CHECK` batches in all; the mean generator L1 (`g_l1`, on
normalised AB) over the last 50 generator batches is printed for both precisions: bf16 must learn as well.
"""
import math, sys, time, warnings
import torch

WARMUP, TIMED, CHECK, BS = 10, 40, 400, 32

def run(recipe:str, size:int, bf16:bool)->dict:
    from fastai.callback.core import Callback, CancelFitException
    from fastai.torch_core import set_seed
    from anime_colorization.data import SyntheticFaces
    from anime_colorization.datablock import colorization_dls
    from anime_colorization.gan import BF16Autocast
    from anime_colorization.dcgan import dcgan_learner
    from anime_colorization.wgan_gp import wgan_gp_learner
    set_seed(0)
    dls = colorization_dls(SyntheticFaces(BS*CHECK//2, size=size).images(), size=size, bs=BS, valid_pct=0.02, device='cuda', progress=False)
    learn = (dcgan_learner if recipe == 'dcgan' else wgan_gp_learner)(dls)
    if not bf16: learn.remove_cbs([cb for cb in learn.cbs if isinstance(cb, BF16Autocast)])
    class Clock(Callback):
        order = 99
        def before_fit(self): self.n, self.l1 = 0, []
        def after_batch(self):
            if not self.training: return
            self.n += 1
            if self.n == WARMUP: torch.cuda.synchronize(); self.t0 = time.perf_counter()
            if self.n == WARMUP + TIMED: torch.cuda.synchronize(); self.t = (time.perf_counter() - self.t0) / TIMED
            if 'g_l1' in self.learn.loss_func.components:
                self.l1.append(self.learn.loss_func.components['g_l1'].item())
            if self.n >= CHECK: raise CancelFitException()
    clock = Clock()
    with learn.no_bar(), learn.no_logging(): learn.fit(100, cbs=clock)
    tail = clock.l1[-50:]
    return dict(s_per_batch=clock.t, g_l1=sum(tail)/len(tail), finite=all(math.isfinite(v) for v in clock.l1))

def main():
    warnings.simplefilter('ignore')
    if not torch.cuda.is_available(): sys.exit("bench_cuda.py: no CUDA device")
    sizes = [int(sys.argv[sys.argv.index('--size') + 1])] if '--size' in sys.argv else [64, 128]
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, batch {BS}; {TIMED} timed batches after {WARMUP}; g_l1 after {CHECK} batches")
    print(f"{'recipe':8s} {'size':>4s} | {'fp32 s/batch':>12s} {'bf16 s/batch':>12s} {'speed-up':>8s} | {'fp32 g_l1':>9s} {'bf16 g_l1':>9s}")
    for size in sizes:
        for recipe in ('dcgan', 'wgan_gp'):
            f, b = run(recipe, size, False), run(recipe, size, True)
            print(f"{recipe:8s} {size:4d} | {f['s_per_batch']:12.4f} {b['s_per_batch']:12.4f} {f['s_per_batch']/b['s_per_batch']:7.2f}x | "
                  f"{f['g_l1']:9.4f} {b['g_l1']:9.4f}{'' if f['finite'] and b['finite'] else '  NON-FINITE LOSS'}", flush=True)

if __name__ == '__main__': main()
