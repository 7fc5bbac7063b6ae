"""Peak memory and time of a cold build of the picture cache: today's `image_cache` against the build it replaced.

The build it replaced (`one_piece`, kept here as it was) decoded every picture in turn, held them all in a list,
stacked them and `np.save`d the stack. Today's decodes on threads and writes each picture into the `.npy` file
through a memory map. Each build runs in a fresh process on an empty cache folder; its peak RSS is that process's
`ru_maxrss`, next to the RSS it had before the build (Python, numpy, PIL and the library imported). Both builds must
write the same bytes, and the benchmark checks that they do.

    python benchmarks/bench_cache.py [--source FOLDER] [--copies 10] [--size 64]

The larger folder is `--copies` copies of the source in a temporary folder, each file given one more byte after its
end so that no copy is a duplicate of another (the pictures decode the same; their bytes differ).
"""
import argparse, hashlib, io, json, os, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path

CHILD = r'''
import hashlib, io, json, resource, sys, time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
import numpy as np
from anime_colorization import data

def one_piece(source, size, cache_dir):
    "The cache build as it was before the streaming build: decode in turn, hold every picture, stack, np.save"
    flt, skipped = data.ImageFilters(), Counter()
    items = data.find_images(source, skipped)
    report = data.DataReport(str(source), found=len(items), skipped=dict(skipped))
    images, kept, seen = [], [], set()
    for item in items:
        b = (item.source/item.name).read_bytes()
        digest = hashlib.blake2b(b, digest_size=16).digest()
        if b and digest in seen: report.exclude(item, 'duplicate'); continue
        try: rgb = data.to_rgb(data.decode_image(b))
        except data.BadImage as e: report.exclude(item, e.reason); continue
        reason = flt.reject(rgb)
        if reason: report.exclude(item, reason); continue
        seen.add(digest); images.append(data.square_resize(rgb, size, flt.resize)); kept.append(item)
    images = np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8)
    npy = Path(cache_dir)/'one_piece.npy'
    npy.parent.mkdir(parents=True, exist_ok=True)
    with open(npy, 'wb') as f: np.save(f, images, allow_pickle=False)
    (Path(cache_dir)/'one_piece.json').write_text(json.dumps(dict(names=[i.name for i in kept])))
    return npy, len(kept)

how, source, size, cache_dir = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if how == 'one_piece': npy, n = one_piece(source, size, cache_dir)
else:
    c = data.image_cache(source, size, cache_dir=cache_dir, progress=False)
    npy, n = c.path, len(c)
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(dict(how=how, pictures=n, seconds=seconds, rss_before_mib=before/1024, peak_rss_mib=peak/1024, npy=str(npy))))
'''

def build(how, source, size, workdir):
    "One cold build in a fresh process: its printed measurements"
    cache = Path(tempfile.mkdtemp(dir=workdir, prefix=f'cache_{how}_'))
    r = subprocess.run([sys.executable, '-c', CHILD, how, str(source), str(size), str(cache)], capture_output=True, text=True)
    if r.returncode: sys.exit(f"the {how} build failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1]), cache

def digest(path):
    h = hashlib.blake2b(digest_size=16)
    with open(path, 'rb') as f:
        for b in iter(lambda: f.read(2**24), b''): h.update(b)
    return h.hexdigest()

def copies(source, n, dest):
    "`n` copies of the flat folder `source` in `dest`, copy k's files ending in k extra bytes so that none is a duplicate"
    for k in range(n):
        d = dest/f'copy{k:02d}'; d.mkdir(parents=True)
        for p in source.iterdir():
            if p.is_file(): (d/p.name).write_bytes(p.read_bytes() + b'\0'*k)
    return dest

def warm(folder):
    "Read every file once so that both builds find them in the page cache"
    for p in folder.rglob('*'):
        if p.is_file(): p.read_bytes()

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--source', default=str(Path(__file__).resolve().parents[2]/'shared'/'data'/'anime-faces-64'))
    ap.add_argument('--copies', type=int, default=10)
    ap.add_argument('--size', type=int, default=64)
    a = ap.parse_args()
    source = Path(a.source)
    if not source.is_dir(): sys.exit(f"{source}: no such folder (pass --source)")
    print(f"cores this process may use: {len(os.sched_getaffinity(0))}; picture size {a.size}")
    with tempfile.TemporaryDirectory(prefix='bench_cache_') as tmp:
        tmp = Path(tmp)
        big = copies(source, a.copies, tmp/'big')
        rows = []
        for name, folder in [(source.name, source), (f'{a.copies} x {source.name}', big)]:
            warm(folder)
            for how in ('one_piece', 'streaming'):
                row, cache = build(how, folder, a.size, tmp)
                row['digest'] = digest(row['npy'])
                rows.append(dict(folder=name, **row))
                print(f"{name:>24} {how:>10}: {row['pictures']:>7,} pictures {row['seconds']:7.1f} s   "
                      f"peak RSS {row['peak_rss_mib']:7.0f} MiB (before the build {row['rss_before_mib']:4.0f} MiB)", flush=True)
                shutil.rmtree(cache)
            assert rows[-1]['digest'] == rows[-2]['digest'], f"{name}: the two builds wrote different bytes"
            print(f"{name:>24}: both builds wrote the same bytes (blake2b {rows[-1]['digest']})")
        small, large = rows[1]['peak_rss_mib'] - rows[1]['rss_before_mib'], rows[3]['peak_rss_mib'] - rows[3]['rss_before_mib']
        print(f"streaming build's own peak memory: {small:.0f} MiB for {rows[1]['pictures']:,} pictures, "
              f"{large:.0f} MiB for {rows[3]['pictures']:,} pictures")
        old_small, old_large = rows[0]['peak_rss_mib'] - rows[0]['rss_before_mib'], rows[2]['peak_rss_mib'] - rows[2]['rss_before_mib']
        print(f"one-piece build's own peak memory: {old_small:.0f} MiB for {rows[0]['pictures']:,} pictures, "
              f"{old_large:.0f} MiB for {rows[2]['pictures']:,} pictures")

if __name__ == '__main__': main()
