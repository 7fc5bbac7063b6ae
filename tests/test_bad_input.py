"Bad input: a tree of broken, odd and tricky files, as a folder and as a zip; each case does what 00_data promises."
import hashlib, io, shutil, struct, zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from anime_colorization.data import image_cache, find_images, DataError, REASONS
from anime_colorization.datablock import colorization_dls

RNG = np.random.default_rng(0)

def colourful(h=48, w=48):
    "A colourful picture: a smooth gradient of hues, so JPEG keeps it colourful"
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x*255//w, y*255//h, np.full((h, w), 128)], -1).astype(np.uint8)

def png_bytes(img, **kw): b = io.BytesIO(); img.save(b, 'PNG', **kw); return b.getvalue()
def jpg_bytes(img): b = io.BytesIO(); img.save(b, 'JPEG', quality=95); return b.getvalue()

def png_chunk(kind, data): return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))

def raw_png(width, height, bit_depth, colour_type, rows:bytes):
    "A PNG written by hand (PIL cannot write 16-bit RGB, nor lie about its size)"
    ihdr = struct.pack('>IIBBBBB', width, height, bit_depth, colour_type, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + png_chunk(b'IHDR', ihdr) + png_chunk(b'IDAT', zlib.compress(rows)) + png_chunk(b'IEND', b'')

def rgb16_png(a16):
    "A 16-bit-per-channel RGB PNG of a uint16 array (H, W, 3)"
    rows = b''.join(b'\x00' + a16[i].astype('>u2').tobytes() for i in range(a16.shape[0]))
    return raw_png(a16.shape[1], a16.shape[0], 16, 2, rows)

GOOD = colourful()

def make_tree(root:Path)->Path:
    "Write the bad-input tree; return its root"
    files = {}
    good_png = png_bytes(Image.fromarray(GOOD))
    good_jpg = jpg_bytes(Image.fromarray(GOOD))
    files['chars/asuka/good.png'] = good_png
    files['chars/asuka/good_2.png'] = good_png                          # exact duplicate
    files['chars/rei/good.jpg'] = good_jpg
    files['chars/rei/truncated.jpg'] = good_jpg[:len(good_jpg)//2]
    files['chars/rei/truncated.png'] = good_png[:len(good_png)//2]
    bad = bytearray(good_png); bad[len(bad)//2:len(bad)//2+40] = bytes(40)
    files['chars/rei/corrupt.png'] = bytes(bad)                          # damaged compressed data
    bad = bytearray(good_jpg); bad[20:300] = RNG.integers(0, 256, 280, dtype=np.uint8).tobytes()
    files['chars/rei/corrupt.jpg'] = bytes(bad)                          # damaged headers
    files['chars/ひなた/zero.png'] = b''
    files['chars/ひなた/text saved as.png'] = b'this is not a picture\n' * 20
    files['chars/ひなた/notes.txt'] = b'notes'
    files['chars/ひなた/labels.csv'] = b'a,b\n1,2\n'
    files['chars/ひなた/.hidden.png'] = good_png
    files['chars/ひなた/café au lait.png'] = png_bytes(Image.fromarray(np.roll(GOOD, 7, 0)))  # spaces and non-ASCII
    files['chars/misc/deep/nested/face.png'] = png_bytes(Image.fromarray(np.roll(GOOD, 11, 1)))
    files['chars/misc/gray.png'] = png_bytes(Image.fromarray(GOOD[..., 0], 'L'))
    files['chars/misc/gray as rgb.jpg'] = jpg_bytes(Image.fromarray(np.repeat(GOOD[..., :1], 3, -1)))
    rgba = np.dstack([GOOD, np.full(GOOD.shape[:2], 255, np.uint8)]); rgba[:8] = 0  # top rows fully transparent
    files['chars/misc/rgba.png'] = png_bytes(Image.fromarray(rgba, 'RGBA'))
    la = np.dstack([GOOD[..., 1], np.full(GOOD.shape[:2], 255, np.uint8)]); la[:8] = 0
    files['chars/misc/la.png'] = png_bytes(Image.fromarray(la, 'LA'))
    files['chars/misc/palette.png'] = png_bytes(Image.fromarray(GOOD).quantize(64))
    pal = Image.fromarray(GOOD).quantize(64); pal_a = np.asarray(pal).copy(); pal_a[:8] = 0
    pal = Image.fromarray(pal_a, 'P'); pal.putpalette(Image.fromarray(GOOD).quantize(64).getpalette())
    files['chars/misc/palette transparent.png'] = png_bytes(pal, transparency=0)
    files['chars/misc/cmyk.jpg'] = jpg_bytes(Image.fromarray(GOOD).convert('CMYK'))
    g16 = (GOOD[..., 0].astype(np.uint16) * 257)
    files['chars/misc/gray16.png'] = png_bytes(Image.fromarray(g16))
    files['chars/misc/rgb16.png'] = rgb16_png(GOOD.astype(np.uint16) * 257 + 100)
    files['chars/misc/one pixel.png'] = png_bytes(Image.new('RGB', (1, 1), 'red'))
    files['chars/misc/bomb.png'] = raw_png(100_000, 100_000, 8, 2, b'\x00' * 100)
    for name, data in files.items():
        p = root/name; p.parent.mkdir(parents=True, exist_ok=True); p.write_bytes(data)
    return root

EXPECTED = {'zero bytes': 1, 'not an image': 1, 'truncated': 2, 'unreadable': 2, 'decompression bomb': 1,
            'too small': 1, 'grayscale': 4, 'no white background': 0, 'duplicate': 1}
KEPT = ['chars/asuka/good.png', 'chars/misc/cmyk.jpg', 'chars/misc/deep/nested/face.png', 'chars/misc/palette transparent.png',
        'chars/misc/palette.png', 'chars/misc/rgb16.png', 'chars/misc/rgba.png', 'chars/rei/good.jpg', 'chars/ひなた/café au lait.png']

def snapshot(root:Path)->dict:
    "Every file under `root` with its bytes' digest and modification time"
    return {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob('*')) if p.is_file()}

@pytest.fixture(scope='module')
def tree(tmp_path_factory):
    root = make_tree(tmp_path_factory.mktemp('bad')/'faces')
    shutil.make_archive(str(root), 'zip', root.parent, root.name)
    return root

def by_name(cache): return {n.split('/', 1)[1] if n.startswith('faces/') else n: im for n, im in zip(cache.names, cache.images)}

@pytest.mark.parametrize('as_zip', [False, True], ids=['folder', 'zip'])
def test_report_counts_each_reason(tree, as_zip):
    source = tree.with_suffix('.zip') if as_zip else tree
    before = snapshot(tree.parent)
    cache = image_cache(source, size=32, progress=False)
    assert cache.report.excluded == EXPECTED
    assert cache.report.skipped == {'not an image file': 2, 'hidden file': 1}
    assert cache.report.found == 22 and cache.report.kept == len(KEPT)
    assert sorted(by_name(cache)) == KEPT
    assert snapshot(tree.parent) == before, "the source was modified"
    assert cache.images.dtype == np.uint8 and cache.images.shape == (len(KEPT), 32, 32, 3)

def test_characters_from_folders(tree):
    items = find_images(tree)
    chars = {i.name: i.character for i in items}
    assert chars['chars/ひなた/café au lait.png'] == 'ひなた'
    assert chars['chars/misc/deep/nested/face.png'] == 'nested'
    assert all(i.character is not None for i in items)

def test_examples_name_the_files(tree):
    report = image_cache(tree, size=32, progress=False).report
    assert report.examples['decompression bomb'] == [str(tree/'chars/misc/bomb.png')]
    assert sorted(report.examples['truncated']) == sorted([str(tree/'chars/rei/truncated.jpg'), str(tree/'chars/rei/truncated.png')])
    assert 'bomb.png' in str(report) and 'decompression bomb' in str(report)

def test_conversions(tree):
    "Transparency on white, palettes, CMYK and 16 bits come out as the right 8-bit sRGB"
    ims = by_name(image_cache(tree, size=48, progress=False))
    good = GOOD.astype(int)
    assert np.abs(ims['chars/asuka/good.png'].astype(int) - good).max() <= 1
    assert (ims['chars/misc/rgba.png'][:8] == 255).all(), "transparent pixels must be white"
    assert np.abs(ims['chars/misc/rgba.png'][8:].astype(int) - good[8:]).max() <= 1
    assert (ims['chars/misc/palette transparent.png'][:8] == 255).all()
    assert (ims['chars/misc/palette.png'] == np.asarray(Image.fromarray(GOOD).quantize(64).convert('RGB'))).all()
    assert np.abs(ims['chars/misc/cmyk.jpg'].astype(int) - good).mean() < 6
    assert np.abs(ims['chars/misc/rgb16.png'].astype(int) - good).max() <= 1, "16-bit colour scaled to 8 bits"

def test_grayscale_kept_on_request(tree):
    ims = by_name(image_cache(tree, size=48, progress=False, keep_grayscale=True))
    assert {'chars/misc/gray.png', 'chars/misc/gray16.png', 'chars/misc/la.png', 'chars/misc/gray as rgb.jpg'} <= set(ims)
    assert np.abs(ims['chars/misc/gray16.png'][..., 0].astype(int) - GOOD[..., 0]).max() <= 1, "16-bit gray scaled, not clipped"
    assert (ims['chars/misc/la.png'][:8] == 255).all(), "LA composited on white"

def test_min_size_is_configurable(tree):
    report = image_cache(tree, size=32, progress=False, min_size=64).report
    decodable = report.found - sum(report.excluded[r] for r in ['zero bytes', 'not an image', 'truncated', 'unreadable', 'decompression bomb'])
    assert report.excluded['too small'] == decodable == 15 and report.kept == 0

def test_dataloaders_refuse_an_unusable_source(tmp_path):
    (tmp_path/'empty').mkdir()
    with pytest.raises(DataError, match='no usable image'): colorization_dls(tmp_path/'empty', progress=False)
    (tmp_path/'text.png').write_text('no')
    with pytest.raises(DataError, match='not a folder and not a zip'): colorization_dls(tmp_path/'text.png', progress=False)
    with pytest.raises(DataError, match='no such file'): colorization_dls(tmp_path/'missing', progress=False)

def test_a_bad_zip_is_a_clear_error(tmp_path):
    z = tmp_path/'faces.zip'; z.write_bytes(b'PK\x03\x04' + bytes(50))
    with pytest.raises(DataError, match='faces.zip'): image_cache(z, progress=False)

def test_source_is_never_written(tree):
    before = snapshot(tree.parent)
    dls = colorization_dls(tree, size=32, bs=4, progress=False)
    dls.one_batch()
    assert snapshot(tree.parent) == before
