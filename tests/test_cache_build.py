"""The picture cache's first build: decoded on threads and written through a memory map, it holds the same bytes as the
one-piece build it replaced, and a build that does not finish is never taken for a finished one."""
import hashlib, io, json, os, subprocess, sys, zipfile
from collections import Counter
from dataclasses import asdict
import numpy as np
import pytest
from PIL import Image

from anime_colorization import data
from anime_colorization.data import image_cache, find_images, ImageFilters, DataReport, BadImage, to_rgb, square_resize

def todays_npy(source, size, **filters):
    "The `.npy` bytes and report of the build this replaced: every picture decoded in turn, stacked in memory, then `np.save`d"
    flt, skipped = ImageFilters(**filters), Counter()
    items = find_images(source, skipped)
    report = DataReport(str(source), found=len(items), skipped=dict(skipped))
    images, kept, seen = [], [], set()
    for item in items:
        b = item.read_bytes()
        digest = hashlib.blake2b(b, digest_size=16).digest()
        if b and digest in seen: report.exclude(item, 'duplicate'); continue
        try: rgb = to_rgb(data.decode_image(b))
        except BadImage as e: report.exclude(item, e.reason); continue
        reason = flt.reject(rgb)
        if reason: report.exclude(item, reason); continue
        seen.add(digest); images.append(square_resize(rgb, size, flt.resize)); kept.append(item)
    buf = io.BytesIO()
    np.save(buf, np.stack(images) if images else np.zeros((0, size, size, 3), np.uint8), allow_pickle=False)
    report.kept = len(kept)
    return buf.getvalue(), report, [i.name for i in kept]

def mixed_folder(root, n=150):
    "`n` pictures of several sizes and modes, with the files a build must exclude: duplicates, gray, truncated, not images"
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        h, w = rng.integers(20, 90, 2)
        pic = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        if i % 7 == 0: Image.fromarray(pic).convert('RGBA').save(root/f'{i:03d}.png')
        elif i % 5 == 0: Image.fromarray(pic).save(root/f'{i:03d}.jpg', quality=90)
        else: Image.fromarray(pic).save(root/f'{i:03d}.png')
    for p in sorted(root.iterdir())[::20]: (root/f'copy_{p.name}').write_bytes(p.read_bytes())
    (root/'empty.png').write_bytes(b'')
    Image.fromarray(np.full((40, 40), 128, np.uint8)).save(root/'gray.png')
    (root/'cut.png').write_bytes((root/'001.png').read_bytes()[:200])
    (root/'text.png').write_bytes(b'not a picture')
    Image.fromarray(np.zeros((8, 8, 3), np.uint8) + 50).save(root/'tiny.png')
    return root

@pytest.fixture(scope='module')
def folder(tmp_path_factory): return mixed_folder(tmp_path_factory.mktemp('src')/'faces')

@pytest.mark.parametrize('workers', [1, 2, 3])
def test_same_bytes_as_the_one_piece_build(folder, tmp_path, workers):
    want, report, names = todays_npy(folder, 32)
    assert report.kept > 100 and report.excluded['duplicate'] >= 5 and report.excluded['truncated'] == 1 and report.excluded['zero bytes'] == 1, "the folder exercises the exclusions"
    cache = image_cache(folder, 32, cache_dir=tmp_path, progress=False, workers=workers)
    assert cache.path.read_bytes() == want
    assert cache.names == names and asdict(cache.report) == asdict(report) | {'characters': 0}

def test_same_bytes_from_a_zip_and_when_nothing_is_kept(folder, tmp_path):
    zpath = tmp_path/'faces.zip'
    with zipfile.ZipFile(zpath, 'w') as zf:
        for p in sorted(folder.iterdir()): zf.write(p, f'faces/{p.name}')
    assert image_cache(zpath, 24, cache_dir=tmp_path/'c', progress=False, workers=2).path.read_bytes() == todays_npy(zpath, 24)[0]
    gray = tmp_path/'gray'; gray.mkdir()
    for i in range(3): Image.fromarray(np.full((30, 30), 40*i, np.uint8)).save(gray/f'{i}.png')
    empty = image_cache(gray, 16, cache_dir=tmp_path/'c', progress=False)
    assert len(empty) == 0 and empty.path.read_bytes() == todays_npy(gray, 16)[0]

def test_a_window_smaller_than_the_file(folder, tmp_path, monkeypatch):
    "Pictures written through many small windows of the memory map land where one map would put them"
    monkeypatch.setattr(data, 'WINDOW_BYTES', 5*32*32*3 + 7)
    assert image_cache(folder, 32, cache_dir=tmp_path, progress=False, workers=2).path.read_bytes() == todays_npy(folder, 32)[0]

KILLER = """
import os, signal, sys
from anime_colorization import data
calls, real = [0], data.square_resize
def resize(*a, **k):
    calls[0] += 1
    if calls[0] == int(sys.argv[3]): os.kill(os.getpid(), signal.SIGKILL)
    return real(*a, **k)
data.square_resize = resize
data.image_cache(sys.argv[1], 32, cache_dir=sys.argv[2], progress=False, workers=2)
"""

def test_a_killed_build_is_never_taken_for_a_finished_one(folder, tmp_path):
    cdir = tmp_path/'cache'
    r = subprocess.run([sys.executable, '-c', KILLER, str(folder), str(cdir), '60'], capture_output=True, text=True, timeout=300)
    assert r.returncode == -9, r.stderr[-2000:]
    left = sorted(p.name for p in cdir.iterdir())
    assert len(left) == 1 and left[0].endswith('.tmp') and left[0].startswith('.'), f"only the unfinished temporary file: {left}"
    assert (cdir/left[0]).stat().st_size > 0, "the build had written pictures when it was killed"
    cache = image_cache(folder, 32, cache_dir=cdir, progress=False)
    assert cache.path.read_bytes() == todays_npy(folder, 32)[0]

def test_a_build_stopped_by_an_error_leaves_nothing(folder, tmp_path, monkeypatch):
    calls = [0]
    def fail(*a, **k):
        calls[0] += 1
        if calls[0] == 60: raise KeyboardInterrupt
        return square_resize(*a, **k)
    monkeypatch.setattr(data, 'square_resize', fail)
    with pytest.raises(KeyboardInterrupt): image_cache(folder, 32, cache_dir=tmp_path, progress=False, workers=2)
    assert calls[0] >= 60 and list(tmp_path.iterdir()) == []

@pytest.mark.parametrize('damage', ['cut', 'no json', 'json of another build'])
def test_a_damaged_cache_is_rebuilt(folder, tmp_path, damage):
    want = todays_npy(folder, 32)[0]
    cache = image_cache(folder, 32, cache_dir=tmp_path, progress=False)
    npy, meta = cache.path, cache.path.with_suffix('.json')
    del cache
    if damage == 'cut': npy.write_bytes(want[:-3*32*32*3 - 5])
    elif damage == 'no json': meta.unlink()
    else: info = json.loads(meta.read_text()); info['names'] = info['names'][:-1]; meta.write_text(json.dumps(info))
    again = image_cache(folder, 32, cache_dir=tmp_path, progress=False)
    assert again.path == npy and npy.read_bytes() == want and len(again.names) == len(again)
