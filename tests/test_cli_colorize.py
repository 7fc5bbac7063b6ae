"`anime-colorize colorize` and `demo` as a user runs them: real processes, their files, their exit status."
import os, re, shutil, subprocess, sys, zipfile
from pathlib import Path
import numpy as np
import torch
from PIL import Image
import pytest
from anime_colorization.data import sample_faces
from anime_colorization.lab import rgb_to_l
from anime_colorization.colorize import Colorizer
from anime_colorization.unet import UNetGenerator, export_generator
from cli_in_process import call_main

EXE = Path(sys.executable).parent/'anime-colorize'
FACES = sorted(sample_faces().glob('*.png'))

def run(*args, cwd=None):
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, cwd=cwd, env={**os.environ, 'MPLBACKEND': 'Agg'})

def lightness(a): return rgb_to_l(torch.tensor(np.asarray(a)[..., :3]).permute(2, 0, 1))[0]

@pytest.fixture(scope='module')
def pictures(tmp_path_factory):
    "A folder tree of the user's pictures: two faces, a sub-folder, a transparent non-square sprite, a broken file"
    root = tmp_path_factory.mktemp('mine')
    (root/'sub').mkdir()
    shutil.copy(FACES[0], root/'a.png'); shutil.copy(FACES[1], root/'sub'/'b.png')
    sprite = np.full((150, 90, 4), 255, np.uint8); sprite[..., 3] = 0
    sprite[60:, :, :3] = np.asarray(Image.open(FACES[2]).resize((90, 90))); sprite[60:, :, 3] = 255
    Image.fromarray(sprite, 'RGBA').save(root/'sprite.png')
    (root/'broken.png').write_bytes(FACES[3].read_bytes()[:2000])
    (root/'notes.txt').write_text('not a picture')
    return root

def test_colorize_a_folder_as_a_user(pictures, tmp_path):
    before = {p: p.read_bytes() for p in pictures.rglob('*') if p.is_file()}
    out = tmp_path/'out'
    r = run('colorize', pictures, '--out', out, '--variants', 3, '--grid', '--typical')
    assert r.returncode == 1, "one input is broken, so the exit status says that something failed"
    assert re.search(r"broken\.png: truncated", r.stderr), r.stderr
    assert 'coloured 3 of 4 pictures' in r.stdout and '1 of 4 inputs failed' in r.stderr
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob('*.png'))
    assert names == sorted([f"{s}_{v}.png" for s in ('a', 'sub/b', 'sprite') for v in ('00', '01', '02', 'typical', 'grid')])
    assert {p: p.read_bytes() for p in pictures.rglob('*') if p.is_file()} == before, "the inputs are untouched"
    for s, src in [('a', FACES[0]), ('sub/b', FACES[1])]:
        im = Image.open(out/f"{s}_01.png")
        assert im.size == Image.open(src).size and im.info['Software'].startswith('anime_colorization')
    sprite_in, sprite_out = np.asarray(Image.open(pictures/'sprite.png')), np.asarray(Image.open(out/'sprite_00.png'))
    assert sprite_out.shape == (150, 90, 4) and (sprite_out[..., 3] == sprite_in[..., 3]).all(), "transparency is kept"
    # the output's lightness is the input's (8-bit rounding and the gamut aside); the variants differ in colour only
    face_in = np.asarray(Image.open(FACES[0]).convert('RGB'))
    for v in ('00', '01', 'typical'):
        assert (lightness(Image.open(out/f"a_{v}.png")) - lightness(face_in)).abs().mean() < 0.7
    assert np.abs(np.asarray(Image.open(out/'a_00.png'), int) - np.asarray(Image.open(out/'a_01.png'), int)).mean() > 1

def test_same_noise_same_file_whatever_the_run(pictures, tmp_path):
    "Variant i of a seed is the same picture in a run of 2 variants and in a run of 3, and equals the library's colouring"
    run('colorize', pictures/'a.png', '--out', tmp_path/'two', '--variants', 2, '--seed', 5)
    run('colorize', pictures/'a.png', '--out', tmp_path/'three', '--variants', 3, '--seed', 5)
    two, three = (np.asarray(Image.open(tmp_path/d/'a_01.png')) for d in ('two', 'three'))
    assert (two == three).all()
    assert (np.asarray(Colorizer.from_pretrained(device='cpu')(pictures/'a.png', n=2, seed=5)[1]) == two).all()

def test_zip_input_and_name_clashes(tmp_path):
    z = tmp_path/'faces.zip'
    with zipfile.ZipFile(z, 'w') as zf:
        zf.write(FACES[0], 'x/one.png'); zf.write(FACES[1], 'two.png')
    r = call_main('colorize', z, '--out', tmp_path/'out', '--variants', 1)
    assert r.returncode == 0, r.stderr
    assert sorted(p.relative_to(tmp_path/'out').as_posix() for p in (tmp_path/'out').rglob('*.png')) == ['two_00.png', 'x/one_00.png']
    shutil.copy(FACES[0], tmp_path/'two.png')  # a file whose outputs would clash with the zip's two.png
    r = call_main('colorize', z, tmp_path/'two.png', '--out', tmp_path/'out2', '--variants', 1)
    assert r.returncode == 1 and r.stderr.count('same names as another input') == 2

def test_never_replaces_a_file_it_did_not_write(tmp_path):
    out = tmp_path/'out'; out.mkdir()
    (out/'face_00.png').write_text('my own notes')
    shutil.copy(FACES[0], tmp_path/'face.png'); shutil.copy(FACES[1], tmp_path/'other.png')
    r = call_main('colorize', tmp_path/'face.png', tmp_path/'other.png', '--out', out, '--variants', 1)
    assert r.returncode == 1 and 'face_00.png exists and was not written by anime-colorize' in r.stderr
    assert (out/'face_00.png').read_text() == 'my own notes' and (out/'other_00.png').exists()
    assert call_main('colorize', tmp_path/'other.png', '--out', out, '--variants', 1).returncode == 0, "its own files it may replace"

@pytest.mark.parametrize('args, message', [
    ((), 'give the pictures to colour'),
    (('{face}',), '--out DIR is required'),
    (('{face}', '--out', '{face}'), 'is a file, not a folder'),
    (('{face}', '--out', '{tmp}/o', '--variants', '0'), '--variants 0: must be at least 1'),
    (('{face}', '--out', '{tmp}/o', '--weights', '{tmp}/nothing.safetensors'), 'nothing.safetensors: no such generator file'),
    (('{face}', '--out', '{tmp}/o', '--weights', '{face}'), 'not a readable safetensors file'),
])
def test_refusals_are_one_line(tmp_path, args, message):
    r = call_main('colorize', *[a.format(face=FACES[0], tmp=tmp_path) for a in args])
    assert r.returncode == 1 and message in r.stderr and r.stderr.count('\n') == 1, r.stderr
    assert not (tmp_path/'o').exists()

def test_any_exported_generator_and_its_size(tmp_path):
    "`--weights` takes a generator `train` exported; its training size comes with it, so a 32 px one colours at 32 px"
    g = UNetGenerator(width=8, depth=2, seed=0)
    export_generator(g, tmp_path/'g.safetensors', size=32)
    col = Colorizer.load(tmp_path/'g.safetensors', device='cpu')
    assert col.size == 32 and tuple(col.prepare(FACES[0]).l.shape) == (1, 1, 32, 32)
    r = call_main('colorize', FACES[0], '--out', tmp_path/'o', '--weights', tmp_path/'g.safetensors', '--variants', 2)
    assert r.returncode == 0, r.stderr
    assert (np.asarray(Image.open(tmp_path/'o'/f"{FACES[0].stem}_01.png")) == np.asarray(col(FACES[0], n=2)[1])).all()

def test_demo_offline_without_shared(tmp_path):
    "The demo needs only the package: run from an empty folder, it writes a page whose every picture exists"
    r = run('demo', '--out', tmp_path/'demo', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    page = tmp_path/'demo'/'index.html'
    assert str(page.resolve()) in r.stdout
    html = page.read_text()
    srcs = re.findall(r"src='([^']+)'", html)
    assert len(srcs) == 3*len(FACES) and all((tmp_path/'demo'/s).exists() for s in srcs)
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'index.html').write_text('<p>my page</p>')
    r = run('demo', '--out', tmp_path/'mine')
    assert r.returncode == 1 and 'was not written by anime-colorize' in r.stderr
    assert (tmp_path/'mine'/'index.html').read_text() == '<p>my page</p>'

def test_colouring_never_imports_the_training_code():
    "A user who only colours pictures loads neither the critics and losses (gan) nor the recipes"
    code = ("import sys; from anime_colorization.colorize import Colorizer; Colorizer.from_pretrained(device='cpu')"
            "('" + str(FACES[0]) + "', n=2); print(sorted(m for m in sys.modules if m.startswith('anime_colorization')))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    loaded = eval(r.stdout.strip().splitlines()[-1])
    assert 'anime_colorization.colorize' in loaded
    assert not {'anime_colorization.gan', 'anime_colorization.dcgan', 'anime_colorization.wgan_gp', 'anime_colorization.evaluation'} & set(loaded)

def test_decompression_bomb_is_refused_like_in_data(tmp_path, monkeypatch):
    "A picture past PIL's pixel limit is refused with the reason (here the limit is lowered instead of writing a huge file)"
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 64*64)
    shutil.copy(FACES[0], tmp_path/'huge.png')   # 128x128 = 4x the lowered limit: PIL's error, not only its warning
    r = call_main('colorize', tmp_path/'huge.png', '--out', tmp_path/'o')
    assert r.returncode == 1 and 'huge.png: decompression bomb' in r.stderr, r.stderr
