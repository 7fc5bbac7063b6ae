"`anime-colorize gate` as a user runs it on a generator of their own, and what `colorize` then does with the gate."
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import torch
from PIL import Image
from anime_colorization.colorize import Colorizer
from anime_colorization.data import sample_faces
from anime_colorization.gate import gate_file, load_gate, weights_digest
from anime_colorization.unet import UNetGenerator, export_generator, load_generator
from cli_in_process import call_main

EXE = Path(sys.executable).parent/'anime-colorize'
FACE = sample_faces()/'sylvie_blue_giggle_face.png'

def run(*args):
    return subprocess.run([str(EXE), *map(str, args)], capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'})

def pixels(path): return np.asarray(Image.open(path), dtype=int)

def test_fit_a_gate_then_colour_through_it(tmp_path):
    "The gate lands beside the weights, colouring uses it (z = 0 unchanged, other noises changed), --no-gate does not"
    weights = export_generator(UNetGenerator(depth=4, width=8, latent=8, size=32, seed=0), tmp_path/'mine.safetensors', size=32)
    before = weights.read_bytes()
    r = run('gate', '--weights', weights, '--data', 'synthetic:128', '--epochs', 1, '--bs', 32, '--cache-dir', tmp_path/'cache')
    assert r.returncode == 0, r.stderr
    assert f"wrote {gate_file(weights)}" in r.stdout
    assert weights.read_bytes() == before, "the weights are not touched"
    assert load_gate(gate_file(weights)).fitted_to == weights_digest(load_generator(weights))
    assert load_gate(gate_file(weights)).power == 3, "fit_gate's default target"
    softer = tmp_path/'softer.gate.safetensors'  # --power reaches the fit: the same run with the target squared
    r = run('gate', '--weights', weights, '--data', 'synthetic:128', '--epochs', 1, '--bs', 32, '--cache-dir', tmp_path/'cache', '--power', 2, '--out', softer)
    assert r.returncode == 0, r.stderr
    assert load_gate(softer).power == 2
    assert not torch.equal(load_gate(softer).net.to_ab.weight, load_gate(gate_file(weights)).net.to_ab.weight), "another target, another fit"
    for out, extra in [('gated', []), ('plain', ['--no-gate'])]:
        r = run('colorize', FACE, '--out', tmp_path/out, '--weights', weights, '--variants', 2, '--typical', *extra)
        assert r.returncode == 0, r.stderr
    stem = FACE.stem
    assert (pixels(tmp_path/'gated'/f"{stem}_typical.png") == pixels(tmp_path/'plain'/f"{stem}_typical.png")).all(), "z = 0 is the same"
    assert np.abs(pixels(tmp_path/'gated'/f"{stem}_01.png") - pixels(tmp_path/'plain'/f"{stem}_01.png")).mean() > 0.5, "the gate changes the variants"
    ours = Colorizer.load(weights, 'cpu')
    assert (np.asarray(ours(FACE, n=2, seed=0)[1], dtype=int) == pixels(tmp_path/'gated'/f"{stem}_01.png")).all()
    assert (np.asarray(Colorizer.load(weights, 'cpu', gate=False)(FACE, n=2, seed=0)[1], dtype=int) == pixels(tmp_path/'plain'/f"{stem}_01.png")).all()

def test_a_gate_of_other_weights_is_refused_by_name(tmp_path):
    "Weights replaced after their gate was fitted: colouring stops with one line naming the gate, and --no-gate still works"
    weights = export_generator(UNetGenerator(depth=4, width=8, latent=8, size=32, seed=0), tmp_path/'mine.safetensors', size=32)
    assert run('gate', '--weights', weights, '--data', 'synthetic:64', '--epochs', 1, '--bs', 32, '--cache-dir', tmp_path/'cache').returncode == 0
    g = UNetGenerator(depth=4, width=8, latent=8, size=32, seed=0)
    with torch.no_grad(): g.to_ab.bias += 0.1
    export_generator(g, weights, size=32)  # retrained, say
    r = run('colorize', FACE, '--out', tmp_path/'o', '--weights', weights)
    assert r.returncode == 1 and f"{gate_file(weights)}: this chroma gate was fitted to other weights" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert run('colorize', FACE, '--out', tmp_path/'o', '--weights', weights, '--no-gate').returncode == 0

def test_gate_refusals_are_one_line(tmp_path):
    "Each mistake is one line and exit status 1 (through `main` in this process, as the refusals come before any work)"
    (tmp_path/'taken.safetensors').write_text('mine')
    weights = export_generator(UNetGenerator(depth=4, width=8, latent=8, size=32), tmp_path/'g.safetensors', size=32)
    for args, msg in [(['--data', 'samples'], '--weights is required'),
                      (['--weights', 'faces64', '--data', 'samples'], 'faces64: a shipped generator; it comes with its gate'),
                      (['--weights', tmp_path/'none.safetensors', '--data', 'samples'], 'none.safetensors: no such generator file'),
                      (['--weights', weights, '--data', 'samples', '--out', tmp_path/'taken.safetensors'], 'taken.safetensors: exists and is not a chroma gate'),
                      (['--weights', weights, '--data', 'samples', '--epochs', 0], '--epochs 0: must be at least 1'),
                      (['--weights', weights, '--data', 'samples', '--power', 0], '--power 0.0: must be above 0'),
                      (['--weights', weights, '--data', tmp_path/'nowhere'], 'nowhere: no such file or folder')]:
        r = call_main('gate', *args)
        assert r.returncode == 1 and msg in r.stderr and len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
    assert (tmp_path/'taken.safetensors').read_text() == 'mine'

def test_evaluate_measures_the_generator_through_its_gate(tmp_path):
    "With a gate beside the weights, evaluate measures what colorize gives; --no-gate the generator alone (z = 0 is the same)"
    weights = export_generator(UNetGenerator(depth=4, width=8, latent=8, size=32, seed=0), tmp_path/'mine.safetensors', size=32)
    plain = call_main('evaluate', '--weights', weights, '--data', 'synthetic:32', '--size', 32, '--variants', 3, '--out', tmp_path/'before')
    assert plain.returncode == 0, plain.stderr
    assert call_main('gate', '--weights', weights, '--data', 'synthetic:64', '--epochs', 1, '--bs', 32, '--cache-dir', tmp_path/'cache').returncode == 0
    runs = {}
    for name, extra in [('gated', []), ('alone', ['--no-gate'])]:
        r = call_main('evaluate', '--weights', weights, '--data', 'synthetic:32', '--size', 32, '--variants', 3, '--out', tmp_path/name, *extra)
        assert r.returncode == 0, r.stderr
        runs[name] = json.loads((tmp_path/name/'metrics.json').read_text())
        assert runs[name]['settings']['chroma_gate'] == (name == 'gated')
        assert ('through the chroma gate' in r.stdout) == (name == 'gated'), r.stdout
    gated, alone, before = (runs['gated']['metrics'], runs['alone']['metrics'],
                            json.loads((tmp_path/'before'/'metrics.json').read_text())['metrics'])
    assert alone == before, "--no-gate measures what was measured before the gate existed"
    assert abs(gated['ciede2000_z0'] - alone['ciede2000_z0']) < 1e-6, "the z = 0 colouring is the same"
    assert gated['diversity_ab_grid'] < alone['diversity_ab_grid'], "the gate holds some of the change back"
