"""Benchmark: seconds per critic step, generator step and GAN iteration of every recipe, for the library as it is
now against the library at a baseline git revision (default: the last commit before the speed-up), in the same run,
beside the original Keras code's figures measured on this machine (SEED_BASELINE.md); with a torch.profiler
breakdown of one generator step and one critic step, and the PyTorch switches tried on top (channels_last, bfloat16
autocast, torch.compile, threads), and the arithmetic: the floating-point operations of each step, counted, against
the CPU's own matrix-multiply throughput measured in the same run, which sets the fastest any step of that arithmetic
can be on this machine.

    python benchmarks/bench_speed.py                       # 64 and 128 px, every recipe (about 20 minutes on 2 CPU cores)
    python benchmarks/bench_speed.py --size 64 --profile   # one size, with the profiler's breakdown
    python benchmarks/bench_speed.py --switches            # also channels_last / bf16 autocast / compile / threads
    python benchmarks/bench_speed.py --arithmetic         # also each step's GFLOP, the GFLOP/s reached, the floor they set
    python benchmarks/bench_speed.py --arithmetic-only    # only the GFLOP and the floors (about a minute; no timing)
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

class FlopCounter:
    """Floating-point operations of the matrix multiplies and convolutions run inside it: forward, backward and the double
    backward of a gradient penalty (`torch.utils.flop_counter.FlopCounterMode` refuses `autograd.grad` inside a pass)"""
    def __enter__(self):
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils.flop_counter import flop_registry
        counter = self
        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                out = func(*args, **(kwargs or {}))
                count = flop_registry.get(func._overloadpacket)
                if count is not None: counter.flops += count(*args, **(kwargs or {}), out_val=out)
                return out
        self.flops, self.mode = 0, Mode()
        self.mode.__enter__()
        return self
    def __exit__(self, *exc): return self.mode.__exit__(*exc)

def matmul_gflops(sizes=(2048, 4096), reps:int=3)->float:
    "This CPU's float32 matrix-multiply throughput with torch's threads (GFLOP/s, best size and run): the ceiling for convolutions"
    import torch
    best = 0.
    for n in sizes:
        a = torch.randn(n, n); a @ a
        best = max(best, 2*n**3/min(_timed(lambda: a @ a) for _ in range(reps))/1e9)
    return best

def _timed(f)->float:
    t = time.perf_counter(); f(); return time.perf_counter() - t

def one_step_each(learn, measure)->dict:
    "`measure(run)` for a generator step and a critic step (`run`: forward and backward) of a GAN learner on one batch"
    import torch
    m, lf, sw = learn.model, learn.loss_func, learn.gan_switcher
    x, y = (t.as_subclass(torch.Tensor) for t in learn.dls.one_batch())
    out = {}
    for name, gen in (('generator step', True), ('critic step', False)):
        sw.switch(gen)
        out[name] = measure(lambda: lf(m(x), y).backward())
    return out

def step_flops(learn)->dict:
    "GFLOP of one generator step and one critic step (forward and backward) of a GAN learner, on one batch"
    def gflop(run):
        with FlopCounter() as fc: run()
        return fc.flops/1e9
    steps = one_step_each(learn, gflop)
    return dict(g_gflop=steps['generator step'], d_gflop=steps['critic step'])

def measure(recipe:str, preset:str, size:int, steps:int, switch:str, profile:bool, arithmetic:bool=False)->dict:
    "Time `steps` generator steps and their critic steps of one configuration in this process (after one warm-up round)"
    warnings.simplefilter('ignore')
    import torch
    from fastai.callback.core import Callback
    from fastai.torch_core import set_seed
    from anime_colorization.data import SyntheticFaces
    from anime_colorization.datablock import colorization_dls
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
    if arithmetic: out.update(step_flops(learn), matmul_gflops=matmul_gflops())
    return out

def measure_inference(size:int, n:int=25, reps:int=7)->dict:
    "Milliseconds to colour one picture with `n` noises in one call, default generator in eval mode, without gradients"
    import torch
    from anime_colorization.unet import UNetGenerator
    torch.manual_seed(0)
    g = UNetGenerator().eval()
    l, z = torch.rand(1, 1, size, size).repeat(n, 1, 1, 1)*2 - 1, torch.randn(n, 8)
    times = []
    with torch.no_grad():
        for _ in range(reps + 1):
            t = time.perf_counter(); g(l, z); times.append(time.perf_counter() - t)
    return dict(ms=1000*statistics.median(times[1:]))

def profile_steps(learn)->dict:
    "The torch.profiler table (top operators by own CPU time) of one generator step and one critic step"
    from torch.profiler import profile, ProfilerActivity
    def table(run):
        with profile(activities=[ProfilerActivity.CPU]) as prof: run()
        return prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=10, max_name_column_width=34)
    return one_step_each(learn, table)

def baseline_tree(rev:str)->Path:
    "A temporary folder holding the package as it was at git revision `rev`"
    d = Path(tempfile.mkdtemp(prefix='bench_baseline_'))
    tar = subprocess.run(['git', '-C', str(ROOT), 'archive', rev, 'anime_colorization'], capture_output=True, check=True).stdout
    subprocess.run(['tar', '-x', '-C', str(d)], input=tar, check=True)
    return d

def run_one(tree:Path|None, recipe, preset, size, steps, switch='float32', profile=False, arithmetic=False)->dict:
    "`measure` in a fresh process, importing the package from `tree` (None: the working tree)"
    env = dict(os.environ, PYTHONPATH=str(tree or ROOT))
    cmd = [sys.executable, __file__, '--one', json.dumps([recipe, preset, size, steps, switch, profile, arithmetic])]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if out.returncode:
        err = [l for l in out.stderr.strip().splitlines() if l.strip()][-1:] or ['(no message)']
        if switch != 'float32': return dict(failed=err[0][:160])  # a switch that does not work here is a result too
        sys.exit(f"{recipe} {preset} {size} {switch} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])

# the targets, seconds per iteration: the default DCGAN 0.5 s a batch (2 batches an iteration), the seed presets
# twice the original's speed, our WGAN-GP the original's 3.12 s at 64 px
def target(recipe:str, preset:str, size:int)->float|None:
    "The issue's target for a configuration in seconds per iteration (None: it sets none)"
    if preset == 'seed': return KERAS[(recipe, size)]/2
    if (recipe, size) == ('dcgan', 64): return 1.0
    if (recipe, size) == ('wgan_gp', 64): return KERAS[(recipe, size)]
    return None

def print_arithmetic(rows:list):
    "GFLOP per step and iteration, the GFLOP/s reached (when timed), and the fastest an iteration of that arithmetic can be here"
    peak = statistics.median(one['matmul_gflops'] for *_, one, _ in rows)
    print(f"\nArithmetic (matrix multiplies and convolutions, forward and backward, counted; current code). This CPU's "
          f"float32 matrix multiply reaches {peak:.0f} GFLOP/s (median over the runs): an iteration cannot take less than "
          f"its GFLOP / {peak:.0f}.")
    print(f"{'recipe':8s} {'preset':8s} {'px':>4s} | {'G step':>7s} {'D step':>7s} {'iter':>7s} GFLOP | {'reached':>9s} | "
          f"{'floor s/iter':>12s} | {'target s/iter':>13s}")
    for recipe, preset, size, one, med in rows:
        it = one['g_gflop'] + one['n_crit']*one['d_gflop']
        tgt = target(recipe, preset, size)
        verdict = '' if tgt is None else f"{tgt:6.2f} ({'below the floor' if tgt < it/peak else 'above the floor'})"
        reached = '   (untimed)' if med is None else f"{it/med['iteration']:5.0f} GF/s"
        print(f"{recipe:8s} {preset:8s} {size:4d} | {one['g_gflop']:7.1f} {one['d_gflop']:7.1f} {it:7.1f}       | "
              f"{reached:>9s} | {it/peak:12.2f} | {verdict}", flush=True)

KERAS_25_AT_128_MS = 497  # SEED_BASELINE.md: the original's batched predict of 25 colourings at 128 px (bench_colorize's baseline)

def arithmetic_only(args):
    "The arithmetic table without timing the steps (in this process), and the floor of colouring 25 noises in one call"
    import torch
    from fastai.torch_core import set_seed
    from anime_colorization.data import SyntheticFaces
    from anime_colorization.datablock import colorization_dls
    from anime_colorization.dcgan import dcgan_learner
    from anime_colorization.wgan_gp import wgan_gp_learner
    from anime_colorization.unet import UNetGenerator, InferenceUNet
    peak, rows = matmul_gflops(), []
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, {torch.get_num_threads()} threads; batch {BS}")
    for size in args.size:
        dls = colorization_dls(SyntheticFaces(3*BS, size=size).images(), size=size, bs=BS, valid_pct=0.01, device='cpu', progress=False)
        for recipe in args.recipes:
            for preset in args.presets:
                set_seed(0)
                learn = (dcgan_learner if recipe == 'dcgan' else wgan_gp_learner)(dls, preset=None if preset == 'default' else preset)
                rows.append((recipe, preset, size, dict(step_flops(learn), n_crit=1 if recipe == 'dcgan' else 5, matmul_gflops=peak), None))
    print_arithmetic(rows)
    from anime_colorization.colorize import pretrained_path
    from anime_colorization.unet import load_generator
    for name in ('faces64_fast', 'faces64'):  # the shipped colourisers' networks (the default first): they colour at 64 px whatever the picture's size
        g = load_generator(pretrained_path(name))
        with torch.no_grad(), FlopCounter() as fc: g(torch.zeros(25, 1, 64, 64), torch.zeros(25, g.latent))
        with torch.no_grad(), FlopCounter() as folded: InferenceUNet(g)(torch.zeros(1, 1, 64, 64), torch.zeros(25, g.latent))
        floor = folded.flops/peak/1e6
        print(f"\nColouring 25 noises in one call with {name} (the network at 64 px, forward only): {folded.flops/1e9:.1f} GFLOP as the "
              f"colouriser runs it (InferenceUNet, the picture's own part once; the generator as trained: {fc.flops/1e9:.1f}), "
              f"so at least {floor:.0f} ms here; the issue's 10x the original's {KERAS_25_AT_128_MS} ms is "
              f"{KERAS_25_AT_128_MS/10:.1f} ms for the whole call, the network and the join")

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
    p.add_argument('--arithmetic', action='store_true', help="count each step's GFLOP and print the floor they set on this CPU")
    p.add_argument('--arithmetic-only', action='store_true', help="only the arithmetic and its floors, without timing the steps")
    args = p.parse_args()
    if args.one:
        a = json.loads(args.one)
        print(json.dumps(measure_inference(*a[1:]) if a[0] == 'inference' else measure(*a))); return
    if args.arithmetic_only: return arithmetic_only(args)
    import torch
    base = baseline_tree(args.baseline)
    flags = ' '.join(f for f in ('avx512_bf16', 'amx_bf16', 'avx512f', 'avx2') if f in Path('/proc/cpuinfo').read_text()) if Path('/proc/cpuinfo').exists() else '?'
    print(f"torch {torch.__version__}, python {platform.python_version()}, {os.cpu_count()} CPUs ({flags}), "
          f"{torch.get_num_threads()} threads; batch {BS}; baseline: revision {args.baseline}; medians of {args.steps} steps x {args.repeats} runs\n")
    print(f"{'recipe':8s} {'preset':8s} {'px':>4s} | {'baseline G / D / iter / batch (s)':>34s} | {'now G / D / iter / batch (s)':>29s} | "
          f"{'speed-up':>8s} | {'Keras iter':>10s} {'x Keras':>7s}")
    profiles, arithmetic = [], []
    for size in args.size:
        for recipe in args.recipes:
            for preset in args.presets:
                runs = {'base': [], 'now': []}
                for r in range(args.repeats):
                    runs['base'].append(run_one(base, recipe, preset, size, args.steps))
                    runs['now'].append(run_one(None, recipe, preset, size, args.steps, profile=args.profile and r == 0,
                                               arithmetic=args.arithmetic and r == 0))
                med = {k: {f: statistics.median(x[f] for x in v) for f in ('g_step', 'd_step', 'iteration', 'batch')} for k, v in runs.items()}
                b, n = med['base'], med['now']
                keras = KERAS[(recipe, size)]
                fmt = lambda m: f"{m['g_step']:6.2f} {m['d_step']:6.2f} {m['iteration']:6.2f} {m['batch']:6.2f}"
                print(f"{recipe:8s} {preset:8s} {size:4d} | {fmt(b):>34s} | {fmt(n):>29s} | {b['iteration']/n['iteration']:7.2f}x | "
                      f"{keras:10.2f} {keras/n['iteration']:6.2f}x", flush=True)
                if args.profile: profiles.append((f"{recipe} {preset} {size} px", runs['now'][0]['profile']))
                if args.arithmetic: arithmetic.append((recipe, preset, size, runs['now'][0], n))
    if arithmetic: print_arithmetic(arithmetic)
    print(f"\nInference: one picture coloured with 25 noises in one call (default generator, eval mode, no gradients)")
    for size in args.size:
        res = {k: [] for k in ('base', 'now')}
        for _ in range(args.repeats):
            for k, tree in (('base', base), ('now', None)):
                env = dict(os.environ, PYTHONPATH=str(tree or ROOT))
                out = subprocess.run([sys.executable, __file__, '--one', json.dumps(['inference', size])], capture_output=True,
                                     text=True, env=env, cwd=tempfile.gettempdir(), check=True)
                res[k].append(json.loads(out.stdout.strip().splitlines()[-1])['ms'])
        b, n = statistics.median(res['base']), statistics.median(res['now'])
        print(f"{size:4d} px: baseline {b:7.1f} ms, now {n:7.1f} ms ({b/n:.2f}x)", flush=True)
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
