"""Benchmark: seconds per critic step, generator step and GAN iteration of every recipe, for the library as it is
now against the library at a baseline git revision (default: the last commit before the speed-up), in the same run,
beside the original Keras code's figures measured on this machine (SEED_BASELINE.md); with a torch.profiler
breakdown of one generator step and one critic step, and the PyTorch switches tried on top (channels_last, bfloat16
autocast, torch.compile, threads).

    python benchmarks/bench_speed.py                       # 64 and 128 px, every recipe (about 20 minutes on 2 CPU cores)
    python benchmarks/bench_speed.py --size 64 --profile   # one size, with the profiler's breakdown
    python benchmarks/bench_speed.py --switches            # also channels_last / bf16 autocast / compile / threads
    python benchmarks/bench_speed.py --baseline 2fe9439    # another baseline revision

Each measurement runs in a fresh process, the baseline's from a copy of the package at that revision (`git archive`),
and the two alternate (baseline, current, baseline, current, ...) so that a load that comes and goes on the machine
falls on both. A GAN "batch" is one fastai training batch (a critic or a generator step); an iteration is `n_crit`
critic steps and one generator step, as in the original code. Data: synthetic faces in memory; only the steps count.
"""
from __future__ import annotations
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BS = 32
# SEED_BASELINE.md: the original Keras code on this machine, seconds per iteration (n_crit critic + 1 generator batch)
KERAS = {('dcgan', 64): 0.98, ('wgan_gp', 64): 3.12, ('dcgan', 128): 3.76, ('wgan_gp', 128): 13.07}

def measure(recipe:str, preset:str, size:int, steps:int, switch:str, profile:bool)->dict:
    "Time `steps` generator steps and their critic steps of one configuration in this process (after one warm-up round)"
    warnings.simplefilter('ignore')
    import torch
    from fastai.callback.core import Callback
    from fastai.torch_core import set_seed
    from anime_colorization.data import SyntheticFaces
    from anime_colorization.lab import colorization_dls
    from anime_colorization.dcgan import dcgan_learner
    from anime_colorization.wgan_gp import wgan_gp_learner
    if switch.startswith('threads'): torch.set_num_threads(int(switch[7:]))
    set_seed(0)
    n_crit = 1 if recipe == 'dcgan' else 5
    n_batches = (steps + 1)*(n_crit + 1)
    dls = colorization_dls(SyntheticFaces(BS*n_batches + BS, size=size).images(), size=size, bs=BS, valid_pct=0.01,
                           device='cpu', progress=False)
    learn = (dcgan_learner if recipe == 'dcgan' else wgan_gp_learner)(dls, preset=None if preset == 'default' else preset)
    if switch == 'channels_last': learn.model.to(memory_format=torch.channels_last)
    if switch == 'compile':
        learn.model.generator.compile(); learn.model.critic.compile()
    class Clock(Callback):
        order = 99
        def before_fit(self): self.times, self.ctx = [], None
        def before_batch(self):
            if switch == 'channels_last': self.learn.xb = tuple(x.contiguous(memory_format=torch.channels_last) for x in self.xb)
            if switch == 'bf16':
                self.ctx = torch.autocast('cpu', dtype=torch.bfloat16); self.ctx.__enter__()
            self.gen, self.t = self.learn.model.gen_mode, time.perf_counter()
        def after_loss(self):
            if self.ctx is not None: self.ctx.__exit__(None, None, None); self.ctx = None
        def after_batch(self):
            if self.training: self.times.append((self.gen, time.perf_counter() - self.t))
    clock = Clock()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, cbs=clock)
    timed = clock.times[n_crit + 1:]  # the first round warms up (and compiles)
    g = [t for gen, t in timed if gen]; d = [t for gen, t in timed if not gen]
    out = dict(g_step=statistics.median(g), d_step=statistics.median(d), n_crit=n_crit)
    out['iteration'] = n_crit*out['d_step'] + out['g_step']
    out['batch'] = out['iteration']/(n_crit + 1)
    if profile: out['profile'] = profile_steps(learn)
    return out

def profile_steps(learn)->dict:
    "The torch.profiler table (top operators by own CPU time) of one generator step and one critic step"
    import torch
    from torch.profiler import profile, ProfilerActivity
    m, lf, sw = learn.model, learn.loss_func, learn.gan_switcher
    x, y = (t.as_subclass(torch.Tensor) for t in learn.dls.one_batch())
    tables = {}
    for name, gen in (('generator step', True), ('critic step', False)):
        sw.switch(gen)
        with profile(activities=[ProfilerActivity.CPU]) as prof: lf(m(x), y).backward()
        tables[name] = prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=10, max_name_column_width=34)
    return tables

def baseline_tree(rev:str)->Path:
    "A temporary folder holding the package as it was at git revision `rev`"
    d = Path(tempfile.mkdtemp(prefix='bench_baseline_'))
    tar = subprocess.run(['git', '-C', str(ROOT), 'archive', rev, 'anime_colorization'], capture_output=True, check=True).stdout
    subprocess.run(['tar', '-x', '-C', str(d)], input=tar, check=True)
    return d

def run_one(tree:Path|None, recipe, preset, size, steps, switch='float32', profile=False)->dict:
    "`measure` in a fresh process, importing the package from `tree` (None: the working tree)"
    env = dict(os.environ, PYTHONPATH=str(tree or ROOT))
    cmd = [sys.executable, __file__, '--one', json.dumps([recipe, preset, size, steps, switch, profile])]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if out.returncode:
        err = [l for l in out.stderr.strip().splitlines() if l.strip()][-1:] or ['(no message)']
        if switch != 'float32': return dict(failed=err[0][:160])  # a switch that does not work here is a result too
        sys.exit(f"{recipe} {preset} {size} {switch} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--one', help=argparse.SUPPRESS)
    p.add_argument('--size', type=int, nargs='*', default=[64, 128])
    p.add_argument('--recipes', nargs='*', default=['dcgan', 'wgan_gp'])
    p.add_argument('--presets', nargs='*', default=['default', 'seed'])
    p.add_argument('--steps', type=int, default=3, help="timed generator steps per measurement")
    p.add_argument('--repeats', type=int, default=2, help="alternating baseline/current measurements per configuration")
    p.add_argument('--baseline', default='2fe9439', help="git revision of the baseline")
    p.add_argument('--profile', action='store_true', help="print the profiler's breakdown of the current code")
    p.add_argument('--switches', action='store_true', help="also try channels_last, bf16 autocast, compile and threads")
    args = p.parse_args()
    if args.one:
        print(json.dumps(measure(*json.loads(args.one)))); return
    import torch
    base = baseline_tree(args.baseline)
    flags = ' '.join(f for f in ('avx512_bf16', 'amx_bf16', 'avx512f', 'avx2') if f in Path('/proc/cpuinfo').read_text()) if Path('/proc/cpuinfo').exists() else '?'
    print(f"torch {torch.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs ({flags}), "
          f"{torch.get_num_threads()} threads; batch {BS}; baseline: revision {args.baseline}; medians of {args.steps} steps x {args.repeats} runs\n")
    print(f"{'recipe':8s} {'preset':8s} {'px':>4s} | {'baseline G / D / iter / batch (s)':>34s} | {'now G / D / iter / batch (s)':>29s} | "
          f"{'speed-up':>8s} | {'Keras iter':>10s} {'x Keras':>7s}")
    profiles = []
    for size in args.size:
        for recipe in args.recipes:
            for preset in args.presets:
                runs = {'base': [], 'now': []}
                for r in range(args.repeats):
                    runs['base'].append(run_one(base, recipe, preset, size, args.steps))
                    runs['now'].append(run_one(None, recipe, preset, size, args.steps, profile=args.profile and r == 0))
                med = {k: {f: statistics.median(x[f] for x in v) for f in ('g_step', 'd_step', 'iteration', 'batch')} for k, v in runs.items()}
                b, n = med['base'], med['now']
                keras = KERAS[(recipe, size)]
                fmt = lambda m: f"{m['g_step']:6.2f} {m['d_step']:6.2f} {m['iteration']:6.2f} {m['batch']:6.2f}"
                print(f"{recipe:8s} {preset:8s} {size:4d} | {fmt(b):>34s} | {fmt(n):>29s} | {b['iteration']/n['iteration']:7.2f}x | "
                      f"{keras:10.2f} {keras/n['iteration']:6.2f}x", flush=True)
                if args.profile: profiles.append((f"{recipe} {preset} {size} px", runs['now'][0]['profile']))
    if args.switches:
        print("\nPyTorch switches on the default recipes (current code), each against plain float32 in the same run:")
        for size in args.size:
            for recipe in args.recipes:
                res = {}
                for sw in ('float32', 'channels_last', 'bf16', 'threads1', 'compile'):
                    runs = [run_one(None, recipe, 'default', size, args.steps, sw) for _ in range(args.repeats)]
                    res[sw] = runs[0]['failed'] if 'failed' in runs[0] else statistics.median(r['iteration'] for r in runs)
                show = lambda k, v: f"{k}: fails ({v})" if isinstance(v, str) else f"{k} {v:.2f} s/iter ({res['float32']/v:.2f}x)"
                print(f"{recipe:8s} {size:4d} px: " + '; '.join(show(k, v) for k, v in res.items()), flush=True)
    for name, tables in profiles:
        for step, table in tables.items(): print(f"\n== {name}: one {step}\n{table}")

if __name__ == '__main__': main()
