"""Benchmark: one update of the noise explorer (a slider's new value -> new PNG bytes in the image widget) for a
256x256 picture, against the baseline of a full `colorizer(image, n=1)` call, and the parts of an update.

Run as `python benchmarks/bench_explore.py [--browser]`. All cases are timed in the same run, interleaved round by
round (so that load from other processes hits all of them alike); each reports its median and best wall time and its
median CPU time (all threads), which waiting for a busy CPU does not inflate.
`--browser` also measures, in headless Chromium on the Voila page, the time from a key press on a slider to the new
picture in the page (the round trip through the websocket and the kernel). Writes `benchmarks/results/explore.json`.
"""
import argparse, io, json, os, platform, signal, socket, subprocess, sys, time
from pathlib import Path
import numpy as np, torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from anime_colorization.colorize import Colorizer, join_colour
from anime_colorization.data import sample_faces
from anime_colorization.explore import NoiseExplorer, png_bytes, default_picture

def timed(cases:dict, rounds:int)->dict:
    "Each case once per round, interleaved, after a warm-up round: median and best wall time, and median CPU time, in ms"
    ts, cpu = {k: [] for k in cases}, {k: [] for k in cases}
    for r in range(rounds + 1):
        for k, fn in cases.items():
            t0, c0 = time.perf_counter(), time.process_time(); fn()
            if r: ts[k].append(1000*(time.perf_counter() - t0)); cpu[k].append(1000*(time.process_time() - c0))
    return {k: dict(median_ms=round(float(np.median(v)), 1), best_ms=round(float(min(v)), 1),
                    cpu_median_ms=round(float(np.median(cpu[k])), 1)) for k, v in ts.items()}

def browser_round_trip(presses:int=10)->dict:
    "Key press on the first slider -> new blob in the colour image, measured inside the page"
    from playwright.sync_api import sync_playwright
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    env = {**os.environ, 'PYTHONPATH': str(ROOT)}
    big = Path('/tmp')/f'bench_explore_{os.getpid()}.png'
    Image.open(default_picture()).convert('RGB').resize((256, 256), Image.LANCZOS).save(big)
    proc = subprocess.Popen([sys.executable, '-c', f"from anime_colorization.explore import serve; serve({str(big)!r}, port={port}, device='cpu')"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = proc.stdout.readline().split(' at ')[1].split()[0]
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path='/usr/bin/chromium', headless=True,
                                  args=['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'])
            page = b.new_page(); page.goto(url, timeout=300_000)
            page.wait_for_function("document.querySelectorAll('.widget-image').length >= 2 && "
                                   "document.querySelectorAll('.widget-image')[1].src.startsWith('blob:')", timeout=300_000)
            handle = page.query_selector('.noUi-handle'); handle.focus()
            ms = []
            for i in range(presses + 1):
                src = page.query_selector_all('.widget-image')[1].get_attribute('src')
                page.evaluate("() => { window.__t0 = performance.now(); }")
                page.keyboard.press('ArrowRight')
                page.wait_for_function("(s) => document.querySelectorAll('.widget-image')[1].src !== s", arg=src, timeout=60_000)
                if i: ms.append(page.evaluate("() => performance.now() - window.__t0"))
            b.close()
        return dict(presses=presses, median_ms=round(float(np.median(ms)), 1), best_ms=round(float(min(ms)), 1))
    finally:
        proc.send_signal(signal.SIGINT); proc.wait(60); big.unlink(missing_ok=True)

def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--rounds', type=int, default=15); ap.add_argument('--browser', action='store_true')
    ap.add_argument('--out', default=str(ROOT/'benchmarks'/'results'/'explore.json'), help='where to write the results (JSON)')
    a = ap.parse_args()
    c = Colorizer.from_pretrained(device='cpu')
    pic = np.asarray(Image.open(sample_faces()/'sylvie_blue_normal_face.png').convert('RGB').resize((256, 256), Image.LANCZOS))
    e, plain = NoiseExplorer(c, pic), NoiseExplorer(Colorizer.from_pretrained(device='cpu', gate=False), pic)
    prepared, z = e.prepared, c.noises(1, seed=0)  # a noise other than 0, so that the chroma gate has work
    ab = c.predict_ab(prepared, z); rgb = join_colour(prepared.picture, ab[0])
    values = iter(np.tile(np.round(np.arange(-3, 3.01, 0.1), 1), 100))
    def slide(explorer=e): explorer.sliders[0].value = float(next(values))
    other = Colorizer.from_pretrained(device='cpu')  # (its own colouriser: a call with another L would drop the explorer's kept z = 0 colouring)
    res = timed({'baseline: colorizer(image, n=1)': lambda: other(pic, n=1),
                 'explorer update (slider -> PNG bytes in the widget)': slide,
                 'the same update without the chroma gate': lambda: slide(plain),
                 'part: predict_ab': lambda: c.predict_ab(prepared, z),
                 'part: join_colour at 256x256': lambda: join_colour(prepared.picture, ab[0]),
                 'part: PNG encoding (zlib level 1)': lambda: png_bytes(rgb)}, a.rounds)
    out = dict(picture='256x256', device='cpu', torch_threads=torch.get_num_threads(), cpu=platform.processor() or platform.machine(),
               load_average_before=os.getloadavg(), rounds=a.rounds, results=res)
    if a.browser: out['browser_round_trip (key press -> new picture in the page)'] = browser_round_trip()
    out['load_average_after'] = os.getloadavg()
    for k, v in res.items(): print(f"{k:55s} median {v['median_ms']:8.1f} ms   best {v['best_ms']:8.1f} ms   CPU (all threads) {v['cpu_median_ms']:8.1f} ms")
    if a.browser: print('browser round trip:', out['browser_round_trip (key press -> new picture in the page)'])
    print(f"load average {out['load_average_before']} -> {out['load_average_after']} (other work on this machine slows every case alike)")
    path = Path(a.out)
    path.write_text(json.dumps(out, indent=1) + '\n'); print('wrote', path)

if __name__ == '__main__': main()
