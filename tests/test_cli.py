"""The `anime-colorize` command end to end, as a user runs it: a real process, its output, its files, its exit status.
Refusals, which stop before any work, run through `main` in this process (`call`): the same message and status, without
a new process's start-up for each."""
import os, shutil, subprocess, sys
from pathlib import Path
import numpy as np
from PIL import Image
import pytest

from cli_in_process import call_main

EXE = Path(sys.executable).parent/'anime-colorize'

def run(*args, cwd=None):
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, cwd=cwd, env={**os.environ, 'MPLBACKEND': 'Agg'})

def call(*args, cwd=None):
    "`run` in this process (`call_main`), from the folder `cwd`"
    old = os.getcwd()
    os.chdir(cwd or old)
    try: return call_main(*map(str, args))
    finally: os.chdir(old)

def test_data_on_bundled_samples(tmp_path):
    r = run('data', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert 'bundled sample faces: 16 image files found, 16 kept' in r.stdout
    assert 'preview of a training batch' in r.stdout
    png = Image.open(tmp_path/'data_preview.png')
    assert png.info['Software'].startswith('anime_colorization') and png.size[0] > 500
    assert run('data', cwd=tmp_path).returncode == 0, "our own preview may be replaced"

def test_data_on_a_zip_with_filters(tmp_path):
    src = tmp_path/'faces'
    for c in ['a', 'b', 'c']:
        (src/c).mkdir(parents=True)
        for i in range(4):
            im = np.zeros((40, 40, 3), np.uint8); im[..., 0] = 40*i + 30; im[..., 1] = ord(c)
            if c != 'c': im[:4] = im[-4:] = 255  # character c has no white border
            Image.fromarray(im).save(src/c/f'{i}.png')
    shutil.make_archive(str(src), 'zip', tmp_path, 'faces')
    r = run('data', src.with_suffix('.zip'), '--size', 32, '--bs', 4, '--white-background', '--white-share', 0.3, '--out', tmp_path/'p.png')
    assert r.returncode == 0, r.stderr
    assert 'faces.zip: 12 image files found, 8 kept (2 characters)' in r.stdout
    assert 'no white background         4' in r.stdout
    assert 'split by character' in r.stdout
    assert (tmp_path/'p.png').exists()

def test_bad_use_is_one_clear_line(tmp_path):
    r = call('data', tmp_path/'missing', '--out', tmp_path/'p.png')
    assert r.returncode == 1 and r.stderr.strip() == f"anime-colorize data: error: {tmp_path/'missing'}: no such file or folder"
    (tmp_path/'empty').mkdir()
    r = call('data', tmp_path/'empty', '--out', tmp_path/'p.png')
    assert r.returncode == 1 and 'no usable image' in r.stderr and 'Traceback' not in r.stderr
    (tmp_path/'keep.png').write_bytes(b'mine')
    r = call('data', '--out', tmp_path/'keep.png')
    assert r.returncode == 1 and 'was not written by anime-colorize' in r.stderr
    assert (tmp_path/'keep.png').read_bytes() == b'mine'
    r = call('data', '--resize', 'stretch', '--out', tmp_path/'p.png')
    assert r.returncode == 1 and "'crop', 'pad' or 'squish'" in r.stderr
    r = call('frobnicate')
    assert r.returncode == 2 and 'unknown sub-command' in r.stderr

def test_help_explains_each_option():
    r = call('data', '--help')
    assert r.returncode == 0
    for opt in ['--size', '--bs', '--valid-pct', '--seed', '--out', '--overwrite', '--white-background', '--keep-grayscale', '--cache-dir']:
        assert opt in r.stdout
    r = run('--help')  # the installed command itself
    assert r.returncode == 0 and 'data' in r.stdout

def _faces_folder(path:Path, n:int=6)->Path:
    path.mkdir(parents=True)
    for i in range(n):
        im = np.zeros((40, 40, 3), np.uint8); im[..., 0] = 30*i + 40; im[..., 2] = 200 - 20*i; im[10:30, 10:30, 1] = 150
        Image.fromarray(im).save(path/f'{i}.png')
    return path

def test_data_names_the_same_sources_as_train_and_evaluate(tmp_path):
    r = run('data', 'samples', '--out', tmp_path/'s.png')
    assert r.returncode == 0 and 'bundled sample faces: 16 image files found, 16 kept' in r.stdout, r.stderr
    r = run('data', 'synthetic:12', '--size', 32, '--bs', 4, '--out', tmp_path/'syn.png')
    assert r.returncode == 0 and 'SyntheticFaces(n=12, size=32, k=4, seed=0): 12 image files found, 12 kept' in r.stdout, r.stderr
    # anything else is a path: one that looks like the words is still a path
    _faces_folder(tmp_path/'synthetic')
    r = run('data', './synthetic/', '--size', 32, '--bs', 4, '--out', tmp_path/'p.png', cwd=tmp_path)
    assert r.returncode == 0 and ': 6 image files found, 6 kept' in r.stdout and 'SyntheticFaces' not in r.stdout, r.stdout + r.stderr
    r = call('data', 'synthetic_faces.zip', '--out', tmp_path/'p.png', cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.strip().endswith('synthetic_faces.zip: no such file or folder (generated faces are written synthetic or synthetic:N, N at least 1)')
    r = call('data', 'synthetic:0', '--out', tmp_path/'p.png', cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.strip() == 'anime-colorize data: error: synthetic:0: no faces; write synthetic:N with N at least 1'

def test_data_errors_are_one_line(tmp_path):
    src = tmp_path/'junk'; src.mkdir()
    (src/'a.png').write_bytes(b'not a picture'); Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(src/'tiny.png')
    r = run('data', src, '--out', tmp_path/'p.png')
    err = r.stderr.strip()
    assert r.returncode == 1 and '\n' not in err and 'Traceback' not in err, r.stderr
    assert err == f"anime-colorize data: error: {src}: no usable image was found (2 image files found, 0 kept; 1 excluded as not an image; 1 excluded as too small)"

def test_an_existing_folder_is_never_the_preview_even_with_overwrite(tmp_path):
    (tmp_path/'out').mkdir(); (tmp_path/'out'/'keep.txt').write_text('precious')
    for extra in ([], ['--overwrite']):
        r = run('data', '--out', tmp_path/'out', *extra)
        assert r.returncode == 1 and r.stderr.strip() == f"anime-colorize data: error: {tmp_path/'out'}: is a folder, not a file name", r.stderr
    assert [p.name for p in (tmp_path/'out').iterdir()] == ['keep.txt']
