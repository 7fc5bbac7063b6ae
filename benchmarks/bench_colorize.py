"""Speed of colouring with the shipped weights, each number beside a baseline measured in the same run.

    python benchmarks/bench_colorize.py [--reps 7] [--folder 1000] [--out benchmarks/results/bench_colorize.txt]

1. 25 colourings of one 128x128 picture: one `colorizer(image, n=25)` call (one batch through the network) against
   25 calls of one noise each, and against the original Keras code's batched predict of 25 at 128 px (497 ms on this
   machine, SEED_BASELINE.md; a constant, as that code is not part of the project). Its two parts each against the
   way they were computed before: the network (`InferenceUNet`, without the chroma gate) against the generator as
   trained (eval mode, channels-last, the picture's L repeated for each noise), and the join against `fit_gamut` then
   `lab_to_rgb`. The call with the chroma gate (the default) against the same call without it, timed alternately.
   With `faces64`, the GAN that the default `faces64_fast` copies (if shipped): the same call, timed alternately.
   With --keras-python (a Python that has TensorFlow): also against the original's generator rebuilt in Keras
   (`keras_original.py`), one batched predict of 25 at 128 px, timed alternately with both calls in the same run, as
   the 497 ms constant was measured in another session at another speed of this shared machine.
2. A 1024x1024 picture end to end, PNG bytes in to PNG bytes out (decode, L, network, join at full size, encode),
   against the same with the join done by upsampling a full-size float AB at once (`F.interpolate`).
3. Start-up of `anime-colorize --help` in a fresh process, against the same with the training code imported first.
   `anime-colorize demo`: wall time and peak memory of the whole command in a fresh process.
4. `anime-colorize colorize` over a folder of N pictures (128x128 sample faces, 1 variant each): pictures per second of
   the command, against the same pictures coloured one call each in one process (no batching).
5. Memory of a very large picture (--large, default 8000x8000): peak RSS of a fresh process colouring it (z = 0) with
   the strip join, against the same process joining with a full-size upsampled AB at once.
Medians of --reps runs (after one warm-up) for 1 and 2. Wall-clock times depend on what else the machine runs.
"""
from __future__ import annotations
import argparse, io, os, resource, shutil, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from anime_colorization.colorize import Colorizer, read_picture, join_colour, fit_gamut, pretrained_names
from anime_colorization.data import sample_faces
from anime_colorization.lab import rgb_to_l, lab_to_rgb, AB_SCALE

KERAS_25_AT_128_MS = 497  # SEED_BASELINE.md: the original's one batched predict of 25 colourings at 128 px
KERAS_25_AT_64_MS = 130   # ... and at 64 px (DCGAN)

def timed(f, reps):
    f()  # warm-up
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return statistics.median(ts)

def timed_pair(f, g, reps):
    "Medians of `f` and `g` timed alternately, so that a change in the machine's speed affects both alike"
    f(); g()
    ts = {f: [], g: []}
    for _ in range(reps):
        for h in (f, g):
            t = time.perf_counter(); h(); ts[h].append(time.perf_counter() - t)
    return statistics.median(ts[f]), statistics.median(ts[g])

def png_bytes(image, level=3):
    buf = io.BytesIO(); image.save(buf, format='PNG', compress_level=level); return buf.getvalue()

def join_whole(picture, ab):
    "The control of the strip join: upsample the whole AB at once, then convert"
    H, W = picture.shape
    big = F.interpolate(ab[None].float()*AB_SCALE, size=(H, W), mode='bilinear', align_corners=False)[0]
    l = rgb_to_l(torch.tensor(picture.rgb).permute(2, 0, 1))
    return lab_to_rgb(torch.cat([l, big])).mul_(255).round_().to(torch.uint8).permute(1, 2, 0).numpy()

def join_plain(picture, ab):
    "The control of the join's arithmetic: `fit_gamut` on every pixel of every colouring, then `lab_to_rgb`"
    H, W = picture.shape
    big = F.interpolate(ab.float()*AB_SCALE, size=(H, W), mode='bilinear', align_corners=False)  # (n, 2, H, W)
    l = rgb_to_l(torch.tensor(picture.rgb).permute(2, 0, 1))[None].expand(len(ab), -1, -1, -1)
    fitted = fit_gamut(l.reshape(-1), big.permute(1, 0, 2, 3).reshape(2, -1)).view(2, len(ab), H, W).permute(1, 0, 2, 3)
    return lab_to_rgb(torch.cat([l, fitted], 1)).mul_(255).round_().to(torch.uint8).permute(0, 2, 3, 1).numpy()

class KerasOriginal:
    "`keras_original.py --serve` in a process of its own: `time()` runs one batched predict there and returns its seconds"
    def __init__(self, python, size=128, n=25):
        self.proc = subprocess.Popen([python, str(Path(__file__).parent/'keras_original.py'), '--serve', '--size', str(size), '--n', str(n)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready = self.proc.stdout.readline().split()
        if not ready or ready[0] != 'ready': raise RuntimeError(f"{python} could not run keras_original.py (is TensorFlow installed there?)")
        self.params, self.tf_version = int(ready[1]), ready[2]
    def time(self):
        self.proc.stdin.write('\n'); self.proc.stdin.flush()
        return float(self.proc.stdout.readline())/1e3
    def close(self): self.proc.stdin.close(); self.proc.wait()

def timed_many(fs, reps, settle=0.3):
    "Medians of the functions of `fs` (name -> function returning None, or its own measured seconds), timed in turn"
    for f in fs.values(): f()
    ts = {k: [] for k in fs}
    for _ in range(reps):
        for k, f in fs.items():
            time.sleep(settle)  # the other process's idle threads stop spinning before the next one is timed
            t = time.perf_counter(); own = f(); ts[k].append(own if own is not None else time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in ts.items()}

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--reps', type=int, default=15)
    p.add_argument('--folder', type=int, default=1000, help='pictures in the folder of part 4 (0 skips it)')
    p.add_argument('--large', type=int, default=8000, help='side of the very large picture of part 5 (0 skips it)')
    p.add_argument('--out', help='also write the report here')
    p.add_argument('--keras-python', help="a Python with TensorFlow: time the original's generator rebuilt in Keras in the same run")
    args = p.parse_args()
    lines = []
    say = lambda s: (print(s, flush=True), lines.append(s))
    col = Colorizer.from_pretrained(device='cpu')
    say(f"{col}; torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs")
    face = sample_faces()/'sylvie_blue_giggle_face.png'   # 128x128
    prepared = col.prepare(face)
    z = col.noises(25)
    one_call = timed(lambda: col(prepared, z=z), args.reps)
    separate = timed(lambda: [col(prepared, z=z[i]) for i in range(25)], args.reps)
    g, l25 = col.generator.to(memory_format=torch.channels_last), prepared.l.expand(25, -1, -1, -1).contiguous(memory_format=torch.channels_last)
    def generator_as_trained():
        with torch.inference_mode(): return g(l25, z)
    plain = Colorizer.from_pretrained(device='cpu', gate=False)  # the network alone, without the chroma gate
    net_only, net_before = timed_pair(lambda: plain.predict_ab(prepared, z), generator_as_trained, args.reps)
    ab = col.predict_ab(prepared, z)
    assert np.abs(join_colour(prepared.picture, ab).astype(int) - join_plain(prepared.picture, ab)).max() <= 1
    join_now, join_before = timed_pair(lambda: join_colour(prepared.picture, ab), lambda: join_plain(prepared.picture, ab), args.reps)
    join_clip = timed(lambda: join_colour(prepared.picture, ab, gamut=False), args.reps)
    big = F.interpolate(ab.float()*AB_SCALE, size=prepared.picture.shape, mode='bilinear', align_corners=False).permute(1, 0, 2, 3)
    l = rgb_to_l(torch.tensor(prepared.picture.rgb).permute(2, 0, 1)).expand(25, -1, -1)
    out_of_gamut = (fit_gamut(l.reshape(-1), big.reshape(2, -1)) != big.reshape(2, -1)).any(0).float().mean().item()
    say(f"25 colourings of a 128x128 picture: one call {one_call*1e3:.0f} ms; 25 calls {separate*1e3:.0f} ms "
        f"({separate/one_call:.1f}x slower); original Keras {KERAS_25_AT_128_MS} ms -> {KERAS_25_AT_128_MS/1e3/one_call:.1f}x "
        f"faster than the original (target: 10x)")
    say(f"  its parts: the network {net_only*1e3:.1f} ms (the generator as trained: {net_before*1e3:.1f} ms, "
        f"{net_before/net_only:.2f}x); the join at 128x128 {join_now*1e3:.1f} ms (fit_gamut then lab_to_rgb: "
        f"{join_before*1e3:.1f} ms, {join_before/join_now:.2f}x); the join without fit_gamut (RGB clipped) {join_clip*1e3:.1f} ms; "
        f"{out_of_gamut:.0%} of these colourings' pixels are out of gamut at their lightness")
    if col.gate is not None:
        gated_call, plain_call = timed_pair(lambda: col(prepared, z=z), lambda: plain(prepared, z=z), args.reps)
        say(f"  the chroma gate (on by default; its z = 0 colouring and the gate, once for the 25): one call {gated_call*1e3:.0f} ms "
            f"with it, {plain_call*1e3:.0f} ms without ({gated_call/plain_call:.2f}x), timed alternately")
    name = Path(col.name).stem  # the default shipped generator
    if name != 'faces64' and 'faces64' in pretrained_names():
        gan = Colorizer.from_pretrained('faces64', device='cpu')  # the GAN the default copies
        gprep = gan.prepare(face)
        fast_call, full_call = timed_pair(lambda: col(prepared, z=z), lambda: gan(gprep, z=z), args.reps)
        fast_net, full_net = timed_pair(lambda: col.predict_ab(prepared, z), lambda: gan.predict_ab(gprep, z), args.reps)
        say(f"the same 25 colourings with faces64, the GAN the default {name} copies: one call {full_call*1e3:.0f} ms, against "
            f"{fast_call*1e3:.0f} ms with {name} in the same run ({full_call/fast_call:.1f}x; faces64 alone: "
            f"{KERAS_25_AT_128_MS/1e3/full_call:.1f}x faster than the original); the network with its gate {full_net*1e3:.1f} ms "
            f"({name}'s: {fast_net*1e3:.1f} ms)")
        if args.keras_python:
            keras, keras64 = KerasOriginal(args.keras_python), KerasOriginal(args.keras_python, size=64)
            t = timed_many({'keras': keras.time, 'keras64': keras64.time, 'fast': lambda: (col(prepared, z=z), None)[1],
                            'full': lambda: (gan(gprep, z=z), None)[1]}, args.reps)
            keras.close(); keras64.close()
            say(f"the original's generator rebuilt in Keras (TensorFlow {keras.tf_version}, {keras.params:,} parameters "
                f"against the original's 8.64M), one batched predict of 25 at 128 px, timed in turn with both calls: "
                f"{t['keras']*1e3:.0f} ms (the {KERAS_25_AT_128_MS} ms constant was measured in another session); "
                f"{name}'s call {t['fast']*1e3:.0f} ms ({t['keras']/t['fast']:.1f}x faster), faces64's "
                f"{t['full']*1e3:.0f} ms ({t['keras']/t['full']:.1f}x faster); the rebuild at 64 px: {t['keras64']*1e3:.0f} ms "
                f"(SEED_BASELINE.md's original at 64 px: {KERAS_25_AT_64_MS} ms)")
    big = Image.open(face).resize((1024, 1024), Image.LANCZOS)
    data = png_bytes(big)
    end_to_end = timed(lambda: png_bytes(col.typical(Image.open(io.BytesIO(data)))), args.reps)
    pic = read_picture(Image.open(io.BytesIO(data)))
    ab = col.predict_ab(col.prepare(pic), torch.zeros(1, col.latent))[0]
    strips = timed(lambda: join_colour(pic, ab), args.reps)
    whole = timed(lambda: join_whole(pic, ab), args.reps)
    decode = timed(lambda: Image.open(io.BytesIO(data)).load(), args.reps)
    encode = timed(lambda: png_bytes(big), args.reps)
    say(f"1024x1024 end to end (PNG bytes in -> PNG bytes out): {end_to_end*1e3:.0f} ms (target: 300 ms); of which "
        f"decode {decode*1e3:.0f} ms, join {strips*1e3:.0f} ms (whole-picture upsampling instead: {whole*1e3:.0f} ms), "
        f"encode {encode*1e3:.0f} ms")
    exe = Path(sys.executable).parent/'anime-colorize'
    # start-up: the command as it is, against the same command with the training code imported first (as it was before)
    as_before = ("import sys, anime_colorization.gan, anime_colorization.dcgan, anime_colorization.wgan_gp, anime_colorization.evaluation; "
                 "from anime_colorization.cli import main; sys.argv = ['anime-colorize', '--help']; main()")
    run = lambda cmd: subprocess.run(cmd, capture_output=True, check=True)
    now_s, before_s = timed_pair(lambda: run([str(exe), '--help']), lambda: run([sys.executable, '-c', as_before]), 3)
    say(f"start-up, anime-colorize --help in a fresh process: {now_s:.1f} s; with the training code imported as well "
        f"(fastai, the GAN, the evaluation; as before): {before_s:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t = time.perf_counter()
        r = subprocess.run([str(exe), 'demo', '--out', str(tmp/'demo')], capture_output=True, text=True, cwd=tmp)
        demo_s = time.perf_counter() - t
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss/1024
        assert r.returncode == 0, r.stderr
        say(f"anime-colorize demo: {demo_s:.1f} s wall, peak RSS {rss:.0f} MiB (target: under a minute)")
        if args.folder:
            faces = sorted(sample_faces().glob('*.png'))
            (tmp/'many').mkdir()
            for i in range(args.folder): shutil.copy(faces[i % len(faces)], tmp/'many'/f"{i:05d}.png")
            t = time.perf_counter()
            r = subprocess.run([str(exe), 'colorize', str(tmp/'many'), '--out', str(tmp/'coloured'), '--variants', '1'],
                               capture_output=True, text=True)
            cmd_s = time.perf_counter() - t
            assert r.returncode == 0, r.stderr
            files = sorted((tmp/'many').glob('*.png'))[:100]
            t = time.perf_counter()
            for f in files: col(f, n=1)[0].save(tmp/'single.png')
            single = (time.perf_counter() - t)/len(files)
            say(f"anime-colorize colorize over {args.folder} pictures of 128x128, 1 variant: {cmd_s:.1f} s, "
                f"{args.folder/cmd_s:.0f} pictures/s (process start included); one call per picture in one process: "
                f"{1/single:.0f} pictures/s")
    if args.large:
        peak = {}
        for how in ('strips', 'whole'):
            code = f"""
import resource, torch, numpy as np
from PIL import Image
from anime_colorization.colorize import Colorizer, join_colour
import bench_colorize as b
col = Colorizer.from_pretrained(device='cpu')
big = np.asarray(Image.open('{face}').resize(({args.large}, {args.large}), Image.BILINEAR))
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
p = col.prepare(big)
ab = col.predict_ab(p, torch.zeros(1, col.latent))[0]
out = join_colour(p.picture, ab) if '{how}' == 'strips' else b.join_whole(p.picture, ab)
print(base/1024, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024)
"""
            r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=Path(__file__).parent)
            assert r.returncode == 0, r.stderr
            peak[how] = [float(v) for v in r.stdout.split()]
        px = args.large**2
        say(f"a {args.large}x{args.large} picture ({px/1e6:.0f} Mpx; its uint8 RGB alone is {3*px/2**20:.0f} MiB): peak RSS "
            f"{peak['strips'][1]:.0f} MiB with the strip join, {peak['whole'][1]:.0f} MiB joining the whole picture at once "
            f"(the process held {peak['strips'][0]:.0f} MiB with the picture decoded, before colouring)")
    if args.out: Path(args.out).write_text('\n'.join(lines) + '\n')

if __name__ == '__main__': main()
