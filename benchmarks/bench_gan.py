"""Benchmark: one full GAN iteration (critic steps + one generator step) through our fastai Learner, against a
hand-written plain-PyTorch loop of the same networks and losses, measured in the same run; with each run's peak RSS.

    python benchmarks/bench_gan.py            # all configurations (several minutes on 2 CPU cores)
    python benchmarks/bench_gan.py --quick    # 64 px only
    python benchmarks/bench_gan.py --size 128 # one size only

Each configuration runs in a fresh process (so peak RSS is its own): a warm-up iteration, then `ITERS` timed ones.
Data: synthetic faces already in memory, so only the GAN step is timed.
"""
import json, os, platform, resource, subprocess, sys, time, warnings
from functools import partial

ITERS, BS = 4, 32

def run_one(recipe:str, preset:str, size:int, loop:str)->dict:
    "Time `ITERS` iterations of one configuration in this process"
    warnings.simplefilter('ignore')
    import torch
    from fastai.callback.core import Callback
    from fastai.torch_core import set_seed
    from anime_colorization.data import SyntheticFaces
    from anime_colorization.datablock import colorization_dls
    from anime_colorization.dcgan import dcgan_learner
    from anime_colorization.wgan_gp import wgan_gp_learner
    from anime_colorization.gan import GANLoss
    set_seed(0)
    n_crit = 1 if recipe == 'dcgan' else 5
    steps = (ITERS + 1)*(n_crit + 1)
    dls = colorization_dls(SyntheticFaces(BS*steps + BS, size=size).images(), size=size, bs=BS, valid_pct=0.01, device='cpu')
    make = dcgan_learner if recipe == 'dcgan' else wgan_gp_learner
    learn = make(dls, preset=None if preset == 'default' else preset)
    if loop == 'fastai':
        class Clock(Callback):
            order = 99
            def before_fit(self): self.times = []
            def before_batch(self): self.t = time.perf_counter()
            def after_batch(self):
                if self.training: self.times.append(time.perf_counter() - self.t)
        clock = Clock()
        with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=clock)
        t = clock.times[n_crit + 1:(ITERS + 1)*(n_crit + 1)]  # drop the warm-up iteration
    else:  # the same nets and loss formulas in a plain PyTorch loop
        model, lossf = learn.model, learn.loss_func
        g, d = model.generator, model.critic
        opt_g = torch.optim.Adam(g.parameters(), lr=1e-4, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(d.parameters(), lr=1e-4, betas=(0.5, 0.999))
        batches, t = iter(dls.train), []
        for step in range(steps):
            x, y = next(batches)
            x, y = x.as_subclass(torch.Tensor), y.as_subclass(torch.Tensor)
            t0 = time.perf_counter()
            critic_step = step % (n_crit + 1) < n_crit
            model.gen_mode = not critic_step
            if critic_step:
                with torch.no_grad(): fake = g(x)
                loss = lossf.critic_loss(fake, y); opt_d.zero_grad(set_to_none=True); loss.backward(); opt_d.step()
            else:
                for p in d.parameters(): p.requires_grad_(False)
                loss = lossf.generator_loss(g(x), y); opt_g.zero_grad(set_to_none=True); loss.backward(); opt_g.step()
                for p in d.parameters(): p.requires_grad_(True)
            t.append(time.perf_counter() - t0)
        t = t[n_crit + 1:]
    per_iter = sum(t)/ITERS
    return dict(recipe=recipe, preset=preset, size=size, loop=loop, s_per_iter=per_iter,
                images_per_s=BS*(n_crit + 1)/per_iter, peak_rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/2**20)

def main():
    if len(sys.argv) > 1 and sys.argv[1] == '--one':
        print(json.dumps(run_one(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]))); return
    import torch
    sizes = [64] if '--quick' in sys.argv else [int(sys.argv[sys.argv.index('--size') + 1])] if '--size' in sys.argv else [64, 128]
    configs = [(r, p, s) for s in sizes for r in ('dcgan', 'wgan_gp') for p in ('seed', 'default')]
    print(f"torch {torch.__version__}, python {platform.python_version()}, torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}")
    print(f"batch {BS}; an iteration = the critic steps (1 for DCGAN, 5 for WGAN-GP) + 1 generator step, each on its own batch")
    print(f"{'recipe':8s} {'preset':8s} {'size':>4s} | {'fastai s/iter':>13s} {'img/s':>6s} {'RSS GB':>6s} | {'plain s/iter':>12s} {'img/s':>6s} {'RSS GB':>6s} | fastai overhead")
    for recipe, preset, size in configs:
        res = {}
        for loop in ('fastai', 'plain'):
            out = subprocess.run([sys.executable, __file__, '--one', recipe, preset, str(size), loop], capture_output=True, text=True)
            if out.returncode: sys.exit(out.stderr)
            res[loop] = json.loads(out.stdout.strip().splitlines()[-1])
        f, p = res['fastai'], res['plain']
        print(f"{recipe:8s} {preset:8s} {size:4d} | {f['s_per_iter']:13.2f} {f['images_per_s']:6.1f} {f['peak_rss_gb']:6.2f} | "
              f"{p['s_per_iter']:12.2f} {p['images_per_s']:6.1f} {p['peak_rss_gb']:6.2f} | {100*(f['s_per_iter']/p['s_per_iter'] - 1):+.0f}%")

if __name__ == '__main__': main()
