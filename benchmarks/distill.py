"""A cheaper generator for fast colouring on a CPU: a narrower U-Net trained to copy the shipped generator (distillation).

The shipped `faces64` does 4.5 GFLOP for 25 colourings of a 64x64 face (6.6 before its noise became modulation), so on
the 2-core CPU the network alone needs at least 24 ms, and with its gate and the join 25 colourings of a 128x128 picture
take 68 ms, over issue 12's target (a tenth of the original's 497 ms).
A U-Net of a quarter of its arithmetic (width 16 instead of 32) is trained here to give, for the same L and noise z,
the same AB as `faces64`: plain L1 to the teacher's colouring, on every face but the 200 evaluation faces (those
`faces64` trained on, its validation faces and the grayscale ones its data checks dropped: the student needs only L), a fresh noise per picture per step (one picture in eight at z = 0, the typical colouring).
No critic and no ground truth colours: the student learns the teacher's function, noise space included, so the
teacher's directions, palettes and card carry over as far as the copy is faithful, which `card` measures.

    # train (snapshots of the student every --every steps, with its error against the teacher on held-out faces)
    python benchmarks/distill.py train --data ../shared/data/anime-faces-64 --out distill_run --steps 6000 --every 750
    # the same from a generator file not yet in the package (the card still names the teacher faces64)
    python benchmarks/distill.py train --out distill_run --teacher run/generator.safetensors
    # evaluate every snapshot on the 200 evaluation faces, ship the last as pretrained/faces64_fast with its card
    python benchmarks/distill.py card --data ../shared/data/anime-faces-64 --run distill_run
"""
from __future__ import annotations
import argparse, json, os, platform, shutil, sys, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from compare_recipes import EVAL  # noqa: E402  (the 200 evaluation faces of the split)
from anime_colorization.data import find_images, image_cache
from anime_colorization.lab import rgb_to_l, normalize_lab
from anime_colorization.unet import UNetGenerator, export_generator
from anime_colorization.colorize import Colorizer

TEACHER, NAME = 'faces64', 'faces64_fast'
PKG = HERE.parent/'anime_colorization'/'pretrained'
RESULTS = HERE/'results'/'distill'

def student_config(teacher:UNetGenerator, width:int)->dict:
    "The teacher's architecture with every level's channels scaled by width / teacher width"
    c = {k: v for k, v in teacher.config.items() if k not in ('seed',)}
    f = width/c['width']
    return {**c, 'width': width, 'dec_widths': [max(1, int(round(w*f))) for w in c['dec_widths']]}

def faces_l(data, size=64)->tuple[torch.Tensor, torch.Tensor]:
    "Normalised L `(N, 1, size, size)` of the training faces (all but the 200 evaluation faces) and of the evaluation faces"
    files = sorted(item.name for item in find_images(data))
    held = set(files[EVAL])
    cache = image_cache(data, size, progress=False, keep_grayscale=True)
    images = np.asarray(cache.images)
    train = [i for i, n in enumerate(cache.names) if n not in held]
    valid = [i for i, n in enumerate(cache.names) if n in held]
    to_l = lambda x: normalize_lab(rgb_to_l(torch.from_numpy(x).permute(0, 3, 1, 2)))
    return to_l(images[train]), to_l(images[valid])

def load_teacher(teacher:str)->Colorizer:
    "The generator to copy, without its chroma gate (the copy learns the network; the gate is fitted to the copy afterwards): a shipped name or a file"
    if Path(teacher).suffix == '.safetensors': return Colorizer.load(teacher, device='cpu', gate=False)
    return Colorizer.from_pretrained(teacher, device='cpu', gate=False)

def held_out_error(student, teacher:Colorizer, l:torch.Tensor, z:torch.Tensor)->float:
    "Mean |AB student - AB teacher| in AB units (CIELAB) over held-out faces, one fixed noise each"
    from anime_colorization.lab import AB_SCALE
    student.eval()
    with torch.inference_mode():
        err = sum((student(l[i:i+100], z[i:i+100])[:, 1:] - teacher.ab(l[i:i+100], z[i:i+100])).abs().sum().item()
                  for i in range(0, len(l), 100))
    student.train()
    return err/(l.numel()*2)*AB_SCALE

def train(args):
    torch.manual_seed(args.seed)
    out = Path(args.out); out.mkdir(parents=True, exist_ok=False)  # a new run folder: nothing of an earlier run is overwritten
    teacher = load_teacher(args.teacher)
    cfg = student_config(teacher.generator, args.width)
    student = UNetGenerator.from_config(cfg).train()
    n_s = sum(p.numel() for p in student.parameters()); n_t = sum(p.numel() for p in teacher.generator.parameters())
    l_train, l_valid = faces_l(args.data) if not args.smoke else (torch.rand(256, 1, 64, 64)*2 - 1, torch.rand(40, 1, 64, 64)*2 - 1)
    g = torch.Generator().manual_seed(args.seed + 1)
    z_valid = torch.randn(len(l_valid), teacher.latent, generator=g)
    print(f"teacher {TEACHER}: {n_t:,} parameters; student width {args.width}: {n_s:,} parameters; "
          f"{len(l_train)} training faces, {len(l_valid)} held out", flush=True)
    opt = torch.optim.Adam(student.parameters(), lr=args.lr, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.steps, pct_start=max(0.05, 2/args.steps))
    settings = dict(vars(args), teacher=TEACHER, teacher_file=str(Path(args.teacher).resolve()) if args.teacher != TEACHER else None, config=cfg, parameters=n_s, teacher_parameters=n_t, faces=len(l_train),
                    machine=f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs", torch=torch.__version__)
    (out/'settings.json').write_text(json.dumps(settings, indent=2))
    log = open(out/'log.jsonl', 'w')
    t0, running = time.time(), []
    for step in range(1, args.steps + 1):
        idx = torch.randint(len(l_train), (args.bs,), generator=g)
        l = l_train[idx]
        flip = torch.rand(args.bs, generator=g) < 0.5
        l = torch.where(flip[:, None, None, None], l.flip(-1), l)
        z = torch.randn(args.bs, teacher.latent, generator=g)
        z[torch.rand(args.bs, generator=g) < 1/8] = 0  # the typical colouring
        target = teacher.ab(l, z)
        loss = F.l1_loss(student(l, z)[:, 1:], target)
        opt.zero_grad(); loss.backward(); opt.step(); sched.step()
        running.append(loss.item())
        if step % args.every == 0 or step == args.steps:
            err = held_out_error(student, teacher, l_valid, z_valid)
            row = dict(step=step, seconds=round(time.time() - t0, 1), train_l1=float(np.mean(running)), held_out_ab_error=err)
            running = []
            log.write(json.dumps(row) + '\n'); log.flush()
            export_generator(student.eval(), out/f"student_{step:06d}.safetensors", size=64); student.train()
            print(json.dumps(row), flush=True)
    log.close()
    print(f"done: {args.steps} steps in {(time.time() - t0)/60:.1f} min")

def fidelity(student, teacher:Colorizer, l:torch.Tensor, k:int=4, seed:int=0)->dict:
    "How close the copy is, in AB units over held-out faces and k seeded noises each: student against teacher, beside the control of what a noise changes"
    from anime_colorization.lab import AB_SCALE
    z = torch.randn(len(l), k, teacher.latent, generator=torch.Generator().manual_seed(seed))
    z[:, 0] = 0  # the typical colouring among them
    copy = noise = 0.
    with torch.inference_mode():
        for j in range(k):
            t = teacher.ab(l, z[:, j])
            copy += (student.ab(l, z[:, j]) - t).abs().mean().item()
            noise += (teacher.ab(l, z[:, (j + 1) % k]) - t).abs().mean().item()
    return dict(copy_ab_error=copy/k*AB_SCALE, teacher_noise_change=noise/k*AB_SCALE)

def network_gflop(col:Colorizer, n:int=25)->float:
    "GFLOP of the colouriser's network for n noises of one 64x64 picture, counted as it runs them"
    from bench_speed import FlopCounter
    with torch.no_grad(), FlopCounter() as fc:  # (the counter sees nothing under inference mode, which `col.ab` uses)
        col.network(torch.zeros(1, 1, col.size, col.size), torch.zeros(n, col.latent))
    return fc.flops/1e9

def card(args):
    import matplotlib; matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from compare_recipes import seed_split
    from model_card import HEADLINE
    from anime_colorization.evaluation import evaluate, plot_chroma
    from anime_colorization.colorize import variant_grid
    from anime_colorization.data import sample_faces
    run, PKG, RESULTS = Path(args.run), Path(args.pkg), Path(args.results)
    settings = json.loads((run/'settings.json').read_text())
    log = {r['step']: r for r in map(json.loads, (run/'log.jsonl').read_text().splitlines())}
    _, valid, _ = seed_split(args.data)
    valid = valid[:args.faces]
    l_valid = normalize_lab(rgb_to_l(torch.from_numpy(valid).permute(0, 3, 1, 2)))
    teacher = load_teacher(settings.get('teacher_file') or TEACHER)
    rows = []
    t_row, _ = evaluate(teacher.generator, valid, n_variants=10, seed=0, name=TEACHER, seen=True, device='cpu')
    t_row.update(fidelity(teacher, teacher, l_valid), gflop=network_gflop(teacher), step=None)
    print(f"{TEACHER}: z0 {t_row['ciede2000_z0']:.2f} random {t_row['ciede2000']:.2f} noise change {t_row['teacher_noise_change']:.2f}", flush=True)
    snaps = sorted(run.glob('student_*.safetensors'))
    for snap in snaps:
        col = Colorizer.load(snap, device='cpu')
        step = int(snap.stem.split('_')[1])
        row, s = evaluate(col.generator, valid, n_variants=10, seed=0, name=snap.stem, seen=True, device='cpu')
        row.update(fidelity(col, teacher, l_valid), step=step, minutes=log[step]['seconds']/60)
        rows.append(row)
        print(f"step {step}: copy error {row['copy_ab_error']:.2f} AB; z0 {row['ciede2000_z0']:.2f} random {row['ciede2000']:.2f} "
              f"best {row['ciede2000_best']:.2f} colourfulness {row['colourfulness']:.1f} tint-free {row['diversity_tint_free']:.1f}", flush=True)
    chosen, g = rows[-1], col.generator
    chosen['gflop'] = network_gflop(col)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS/'rows.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in [t_row] + rows))
    for p in PKG.glob(f"{NAME}.*"): p.unlink()
    shutil.rmtree(PKG/f"{NAME}_card", ignore_errors=True); (PKG/f"{NAME}_card").mkdir(parents=True)
    export_generator(g, PKG/f"{NAME}.safetensors", size=64)
    for p in PKG.glob(f"{NAME}.*"): p.chmod(0o644)
    # pictures: the same noises through the teacher and the copy, on a bundled sample (another artist's style)
    sample = sample_faces()/'sylvie_green_smile_face.png'
    z = teacher.noises(8)
    strip = lambda c: variant_grid(sample, c(sample, z=z), cols=9, cell=96)
    a, b = strip(teacher), strip(col)
    from PIL import Image
    both = Image.new('RGB', (a.width, a.height + b.height), 'white'); both.paste(a, (0, 0)); both.paste(b, (0, a.height))
    both.save(PKG/f"{NAME}_card"/'teacher_and_copy.jpg', quality=88)
    plot_chroma(s, n=6, k=6); plt.gcf().savefig(PKG/f"{NAME}_card"/'heldout_chroma.jpg', dpi=60, bbox_inches='tight', pil_kwargs=dict(quality=85)); plt.close('all')
    headline = {desc.format(real=chosen['colourfulness_real']): round(chosen[k], 2) for k, desc in HEADLINE}
    st = settings
    command = args.command or (f"python benchmarks/distill.py train --data ../shared/data/anime-faces-64 --out {run.name} --width {st['width']} "
                               f"--steps {st['steps']} --bs {st['bs']} --lr {st['lr']:g} --every {st['every']} --seed {st['seed']}\n"
                               f"python benchmarks/distill.py card --data ../shared/data/anime-faces-64 --run {run.name}")
    info = dict(name=NAME, teacher=TEACHER, steps=chosen['step'], minutes=round(chosen['minutes'], 1), machine=args.machine or settings['machine'],
                command=command, headline=headline, metrics={k: chosen[k] for k, _ in HEADLINE + [('colourfulness_real', '')]},
                teacher_metrics={k: t_row[k] for k, _ in HEADLINE}, copy_ab_error=chosen['copy_ab_error'],
                teacher_noise_change=t_row['teacher_noise_change'], gflop_25=chosen['gflop'], teacher_gflop_25=t_row['gflop'],
                parameters=settings['parameters'], teacher_parameters=settings['teacher_parameters'], teacher_width=teacher.generator.config['width'],
                summary=f"A width-{settings['width']} copy of {TEACHER} ({chosen['gflop']/t_row['gflop']:.0%} of its arithmetic), "
                        f"trained for {chosen['step']:,} steps of {settings['bs']} to give the same colouring for the same noise.")
    (PKG/f"{NAME}.card.json").write_text(json.dumps(info, indent=2) + '\n')
    (PKG/f"{NAME}.md").write_text(card_text(info, rows, settings, HEADLINE))
    print(json.dumps(info, indent=2))

def card_text(info:dict, rows:list, settings:dict, headline:list)->str:
    "The fast model's card in markdown, from the measured numbers"
    m, t = info['metrics'], info['teacher_metrics']
    table = '\n'.join(f"| {desc.format(real=m['colourfulness_real'])} | {m[k]:.2f} | {t[k]:.2f} |" for k, desc in headline)
    curve = '\n'.join(f"| {r['step']:,} | {r['minutes']:.0f} | {r['copy_ab_error']:.2f} | {r['ciede2000_z0']:.2f} | {r['ciede2000']:.2f} | "
                      f"{r['ciede2000_best']:.2f} | {r['colourfulness']:.1f} | {r['diversity_tint_free']:.1f} |" for r in rows)
    return f"""# Model card: `{NAME}`

A fast copy of [`{TEACHER}`]({TEACHER}.md) for colouring on a CPU, and the shipped generator that colours by default
(`Colorizer.from_pretrained()`, or no `--weights` on the command line). It is the same U-Net with every level {settings['width']}/{info['teacher_width']} as
wide, so it does {info['gflop_25']:.1f} GFLOP for 25 colourings of a 64x64 face where `{TEACHER}` does {info['teacher_gflop_25']:.1f}
({info['parameters']:,} parameters against {info['teacher_parameters']:,}). It was not trained as a GAN: it learned to give,
for the same gray face and the same noise z, the colouring `{TEACHER}` gives (L1 between the two, a new noise for every
picture at every step, one in eight at z = 0). So the same noise means the same colouring in both, up to the copy's
error, and what `{TEACHER}`'s card says of its data, its licence caveat and its failures holds for this copy too.

## Training
{info['steps']:,} steps of {settings['bs']} faces ({info['minutes']:.0f} minutes on {info['machine']}), Adam with a one-cycle schedule
up to {settings['lr']:g}, on every face of `anime-faces-64` but the 200 evaluation faces of the split,
`sorted(files)[14000:14200]` ({settings['faces']:,}: the faces `{TEACHER}` trained on, its validation faces and the grayscale
ones its data checks dropped, as the copy needs only their lightness), flipped at random. The command, in a clean clone with the data beside it:

```
{info['command']}
```

The copy's difference to `{TEACHER}` on held-out faces (below) fell from {rows[0]['copy_ab_error']:.2f} AB units after
{rows[0]['step']:,} steps to {rows[-1]['copy_ab_error']:.2f} after {rows[-1]['step']:,}; over the last two snapshots it changed by
{rows[-1]['copy_ab_error'] - rows[-2]['copy_ab_error']:+.2f}. The shipped weights are the last snapshot.

## How close the copy is, on the 200 held-out faces
The mean AB difference between the copy's colouring and `{TEACHER}`'s for the same noise (4 noises a face, one of
them z = 0) is **{info['copy_ab_error']:.2f}** AB units; two different noises of `{TEACHER}` itself differ by
{info['teacher_noise_change']:.2f} on the same faces. Both models' numbers, measured the same way in the same run:

| metric | {NAME} | {TEACHER} |
|---|---|---|
{table}

## Against training steps
| step | minutes | AB difference to {TEACHER} | CIEDE2000 z = 0 | random | best of 10 | colourfulness | tint-free change |
|---|---|---|---|---|---|---|---|
{curve}

## In pictures
A bundled sample face (another artist's style), the same 8 noises through `{TEACHER}` (top) and this copy (bottom):

![the same noises through the teacher and the copy]({NAME}_card/teacher_and_copy.jpg)

Held-out faces (gray input, real colours, six noises of the copy):

![chroma variants of held-out faces]({NAME}_card/heldout_chroma.jpg)
"""

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)
    t = sub.add_parser('train')
    t.add_argument('--data', default=str(HERE.parent.parent/'shared'/'data'/'anime-faces-64'))
    t.add_argument('--out', required=True)
    t.add_argument('--teacher', default=TEACHER, help=f"the generator to copy: a shipped name or a .safetensors file (default: {TEACHER}); the card still names it {TEACHER}")
    t.add_argument('--width', type=int, default=16)
    t.add_argument('--steps', type=int, default=6000)
    t.add_argument('--bs', type=int, default=64)
    t.add_argument('--lr', type=float, default=2e-3)
    t.add_argument('--every', type=int, default=750)
    t.add_argument('--seed', type=int, default=0)
    t.add_argument('--smoke', action='store_true', help='random L instead of the faces (a quick check of the script)')
    c = sub.add_parser('card')
    c.add_argument('--data', default=str(HERE.parent.parent/'shared'/'data'/'anime-faces-64'))
    c.add_argument('--run', required=True)
    c.add_argument('--command', default='', help="the card's command (default: the one the run's settings give)")
    c.add_argument('--machine', default='', help="the machine it trained on, in words (default: the run's own record)")
    c.add_argument('--faces', type=int, default=200, help='evaluate on the first of the 200 evaluation faces only (a quick check)')
    c.add_argument('--pkg', default=str(PKG), help='where the weights and the card go (default: into the package)')
    c.add_argument('--results', default=str(RESULTS), help="where the curve's rows go")
    args = p.parse_args()
    {'train': train, 'card': card}[args.cmd](args)

if __name__ == '__main__': main()
