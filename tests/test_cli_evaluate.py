"`anime-colorize evaluate` as users run it: a real process, the files it writes, what it prints, and its refusals."
from cli_in_process import call_main
import csv, json, math, os, subprocess, sys
from pathlib import Path
import pytest
from PIL import Image

EXE = Path(sys.executable).parent/'anime-colorize'
QUICK = ['--data', 'synthetic:16', '--size', '32', '--variants', '3']
METRICS = ['psnr', 'psnr_best', 'psnr_z0', 'ssim', 'ssim_best', 'ciede2000', 'ciede2000_best', 'ciede2000_z0', 'colourfulness',
           'colourfulness_real', 'colourfulness_ratio', 'diversity_ab_pixel', 'diversity_ab_grid', 'ndb', 'jsd', 'hair_coverage',
           'diversity_tint_free', 'tint_share', 'change_hair', 'change_eyes', 'change_skin', 'change_background', 'change_collar']

def run(*args):
    "`anime-colorize evaluate ARGS` in a real process"
    return subprocess.run([str(EXE), 'evaluate', *map(str, args)], capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'})

def call(*args): return call_main('evaluate', *args)  # in this process: quicker, for refusals that stop before training

@pytest.fixture(scope='module')
def weights(tmp_path_factory):
    "A tiny exported generator (untrained: the numbers do not matter, the files and their shape do)"
    from anime_colorization.unet import UNetGenerator
    from anime_colorization.unet import export_generator
    import torch
    torch.manual_seed(0)
    return export_generator(UNetGenerator(width=8, depth=2), tmp_path_factory.mktemp('gen')/'generator.safetensors')

def fails(*args, msg):
    r = call(*args)
    assert r.returncode == 1, r.stderr[-2000:]
    err = r.stderr.strip()
    assert err.startswith('anime-colorize evaluate: error: ') and '\n' not in err and msg in err, err
    return err

def test_a_generator_on_synthetic_faces(tmp_path, weights):
    out = tmp_path/'eval'
    r = run('--weights', weights, *QUICK, '--out', out)
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ['chroma.png', 'colourfulness.png', 'metrics.csv', 'metrics.json']
    meta = json.loads((out/'metrics.json').read_text())
    assert meta['weights'] == str(weights.resolve()) and meta['data'] == 'synthetic:16'
    assert meta['settings'] == dict(variants=3, max_images=1000, seed=0, size=32, device=meta['settings']['device'], chroma_gate=False)  # no gate beside it
    assert {'anime_colorization', 'torch', 'numpy'} <= set(meta['versions'])
    m = meta['metrics']
    assert (m['model'], m['n_images'], m['n_variants']) == ('generator', 16, 3)
    for key in METRICS + ['mode_seeking_ratio']: assert isinstance(m[key], float) and math.isfinite(m[key]), key
    assert m['diversity_ab_pixel'] > 0, "noise changes an untrained generator's colours"
    with open(out/'metrics.csv', newline='') as f: header, *rows = list(csv.reader(f))
    assert len(rows) == 1 and header[:3] == ['weights', 'data', 'model'] and set(METRICS) <= set(header)
    assert float(rows[0][header.index('psnr')]) == pytest.approx(m['psnr'])
    for png in ['chroma.png', 'colourfulness.png']:
        assert Image.open(out/png).info['Software'].startswith('anime_colorization')
    for words in ['PSNR', 'SSIM', 'CIEDE2000', 'best of 3', 'z = 0', 'colourfulness', 'real pictures', 'per pixel', '8x8 grid', 'hair coverage']:
        assert words in r.stdout, words

def test_the_gray_baseline(tmp_path):
    out = tmp_path/'gray'
    r = call('--weights', 'gray', *QUICK, '--out', out)
    assert r.returncode == 0, r.stderr[-3000:]
    meta = json.loads((out/'metrics.json').read_text())
    m = meta['metrics']
    assert meta['weights'] == 'gray' and m['model'] == 'gray' and m['params'] == 0
    assert m['diversity_ab_pixel'] == 0 and m['ciede2000'] == pytest.approx(m['ciede2000_best']) == pytest.approx(m['ciede2000_z0'])
    assert m['mode_seeking_ratio'] is None, "no noise: NaN, written as null"
    assert m['tint_share'] is None and m['diversity_tint_free'] == 0 and m['change_skin'] == 0, "no two colourings differ"
    assert m['colourfulness'] < m['colourfulness_real']
    assert 'the gray baseline' in r.stdout

def test_an_evaluation_is_kept_without_overwrite(tmp_path):
    out = tmp_path/'gray'
    assert call('--weights', 'gray', *QUICK, '--out', out).returncode == 0
    before = (out/'metrics.json').read_text()
    fails('--weights', 'gray', *QUICK, '--seed', 1, '--out', out, msg=f"{out/'metrics.json'}: exists; pass --overwrite")
    assert (out/'metrics.json').read_text() == before
    r = call('--weights', 'gray', *QUICK, '--seed', 1, '--out', out, '--overwrite')
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((out/'metrics.json').read_text())['settings']['seed'] == 1

def test_user_files_are_never_replaced(tmp_path):
    out = tmp_path/'mine'; out.mkdir()
    (out/'metrics.csv').write_text('precious')
    fails('--weights', 'gray', *QUICK, '--out', out, msg=f"{out/'metrics.csv'}: exists")
    (out/'metrics.csv').unlink(); (out/'chroma.png').write_text('precious')
    fails('--weights', 'gray', *QUICK, '--out', out, msg='was not written by anime-colorize')
    assert (out/'chroma.png').read_text() == 'precious' and sorted(p.name for p in out.iterdir()) == ['chroma.png']
    (tmp_path/'file').write_text('precious')
    fails('--weights', 'gray', *QUICK, '--out', tmp_path/'file', msg='is a file')

def test_bad_use_is_one_clear_line(tmp_path, weights):
    out = tmp_path/'e'
    fails(*QUICK, '--out', out, msg='--weights is required')
    fails('--weights', tmp_path/'missing.safetensors', *QUICK, '--out', out, msg=f"{tmp_path/'missing.safetensors'}: no such generator file")
    (tmp_path/'junk.safetensors').write_bytes(b'not a tensor file')
    fails('--weights', tmp_path/'junk.safetensors', *QUICK, '--out', out, msg=f"{tmp_path/'junk.safetensors'}: not a readable safetensors file")
    from safetensors.torch import save_file
    import torch
    save_file({'w': torch.zeros(2)}, str(tmp_path/'other.safetensors'))
    fails('--weights', tmp_path/'other.safetensors', *QUICK, '--out', out, msg=f"{tmp_path/'other.safetensors'}: a safetensors file, but not one written by")
    fails('--weights', weights, '--data', tmp_path/'nowhere', '--size', 32, '--out', out, msg=f"{tmp_path/'nowhere'}: no such file or folder")
    (tmp_path/'empty').mkdir()
    fails('--weights', 'gray', '--data', tmp_path/'empty', '--size', 32, '--out', out, msg='no usable image')
    fails('--weights', 'gray', '--data', 'synthetic:many', '--out', out, msg='synthetic:N')
    fails('--weights', 'gray', '--out', out, msg='--data is required')
    fails('--weights', 'gray', *QUICK, '--variants', 1, '--out', out, msg='--variants 1: at least 2')
    fails('--weights', weights, '--data', 'synthetic:16', '--size', 34, '--out', out, msg='not divisible by 4')
    fails('--weights', 'gray', *QUICK, '--device', 'tpu', '--out', out, msg="--device tpu: use 'cpu' or 'cuda'")
    assert not out.exists(), "nothing is written when the command refuses"

def test_a_real_process_refuses_with_status_1(tmp_path):
    r = run('--weights', tmp_path/'missing.safetensors', *QUICK, '--out', tmp_path/'e')
    assert r.returncode == 1 and r.stderr.strip() == f"anime-colorize evaluate: error: {tmp_path/'missing.safetensors'}: no such generator file"
    assert r.stdout == '' and not (tmp_path/'e').exists()

def test_listed_in_help():
    r = subprocess.run([str(EXE), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'evaluate' in r.stdout
    r = run('--help')
    for opt in ['--weights', '--data', '--variants', '--out', '--overwrite', '--seed', '--size', '--device']: assert opt in r.stdout

def test_max_images_limits_what_is_measured(tmp_path):
    out = tmp_path/'few'
    assert call('--weights', 'gray', *QUICK, '--max-images', 5, '--out', out).returncode == 0
    assert json.loads((out/'metrics.json').read_text())['metrics']['n_images'] == 5
    fails('--weights', 'gray', *QUICK, '--max-images', 0, '--out', tmp_path/'none', msg='--max-images 0: at least 1')

def test_synthetic_faces_are_not_the_ones_train_uses(tmp_path, weights):
    "`evaluate --data synthetic:N` scores other faces than `train --data synthetic:N` trains on, and says which"
    from anime_colorization.data import SyntheticFaces
    from anime_colorization.evaluation import evaluate
    from anime_colorization.unet import load_generator
    out = tmp_path/'e'
    assert call('--weights', weights, *QUICK, '--out', out).returncode == 0
    meta = json.loads((out/'metrics.json').read_text())
    assert meta['synthetic_faces'] == dict(n=16, size=32, k=4, seed=1, trained_on_seed=0, note=meta['synthetic_faces']['note'])
    g = load_generator(weights, 'cpu')
    scored = evaluate(g, SyntheticFaces(16, size=32, seed=1), n_variants=3, seed=0)
    trained = evaluate(g, SyntheticFaces(16, size=32, seed=0), n_variants=3, seed=0)
    for key in ['psnr', 'colourfulness_real', 'hair_coverage']: assert meta['metrics'][key] == pytest.approx(scored[key]), key
    assert meta['metrics']['colourfulness_real'] != pytest.approx(trained['colourfulness_real'])

def test_the_generator_runs_once_and_faces_are_drawn_once(tmp_path, weights, monkeypatch):
    "Each picture goes through the generator once per noise and once with z = 0, no more; synthetic faces are rendered once"
    from anime_colorization.unet import UNetGenerator
    from anime_colorization.data import SyntheticFaces
    seen, drawn = [], []
    forward, images = UNetGenerator.forward, SyntheticFaces.images
    monkeypatch.setattr(UNetGenerator, 'forward', lambda self, l, *a, **k: seen.append(len(l)) or forward(self, l, *a, **k))
    monkeypatch.setattr(SyntheticFaces, 'images', lambda self, *a, **k: drawn.append(1) or images(self, *a, **k))
    assert call('--weights', weights, *QUICK, '--out', tmp_path/'e').returncode == 0
    assert sum(seen) == 16 * (3 + 1), seen
    assert len(drawn) == 1
    assert Image.open(tmp_path/'e'/'chroma.png').info['Software'].startswith('anime_colorization')

def test_sources_without_pictures_are_one_line(tmp_path):
    fails('--weights', 'gray', '--data', 'synthetic:0', '--out', tmp_path/'e', msg='synthetic:0: no faces')
    (tmp_path/'junk').mkdir(); (tmp_path/'junk'/'a.png').write_bytes(b'no picture')
    err = fails('--weights', 'gray', '--data', tmp_path/'junk', '--size', 32, '--out', tmp_path/'e', msg='no usable image was found')
    assert '1 excluded as not an image' in err
    import zipfile
    with zipfile.ZipFile(tmp_path/'empty.zip', 'w') as z: z.writestr('notes.txt', 'no pictures here')
    fails('--weights', 'gray', '--data', tmp_path/'empty.zip', '--size', 32, '--out', tmp_path/'e', msg='no usable image was found')
    fails('--weights', 'gray', '--data', tmp_path/'synthetic_faces.zip', '--out', tmp_path/'e', msg='synthetic_faces.zip: no such file or folder')
    assert not (tmp_path/'e').exists()

def test_samples_are_the_bundled_faces(tmp_path):
    r = call('--weights', 'gray', '--data', 'samples', '--variants', 2, '--out', tmp_path/'e')
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((tmp_path/'e'/'metrics.json').read_text())['metrics']['n_images'] == 16
