"""The explorer without a browser: sliders, seed, typical and save give the colourings `Colorizer` gives for the noise
they describe; the shipped directions change the colouring more than random directions on faces they were not found on;
`serve` starts, answers and stops without leftovers."""
import io, json, os, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path
import numpy as np
import pytest
import torch
from PIL import Image
from anime_colorization.colorize import Colorizer, pretrained_path
from anime_colorization.data import sample_faces
from anime_colorization.explore import (NoiseExplorer, directions_for, directions_path, load_directions, direction_effects,
                                        random_directions, chroma_grid, interpolate_noises, save_gif, interpolate, default_picture)

ROOT = Path(__file__).resolve().parents[1]
FACE = sample_faces()/'sylvie_blue_normal_face.png'

@pytest.fixture(scope='module')
def colorizer(): return Colorizer.from_pretrained(device='cpu')

@pytest.fixture(scope='module')
def face256():
    return np.asarray(Image.open(FACE).convert('RGB').resize((256, 256), Image.LANCZOS))

def test_shipped_directions_match_the_shipped_weights():
    d = load_directions(directions_path(pretrained_path()), pretrained_path())  # raises if they were found for other weights
    test = d.vectors @ d.vectors.T
    assert torch.allclose(test, torch.eye(len(d.vectors)), atol=1e-5)  # orthonormal
    assert (d.effect[:-1] >= d.effect[1:]).all()  # strongest first

def test_slider_gives_the_colouring_of_its_noise(colorizer, face256, tmp_path):
    e = NoiseExplorer(colorizer, face256, out_dir=tmp_path)
    d = e.directions.vectors
    before = e.colour.value
    e.sliders[1].value = 1.5  # on the slider's step
    assert e.colour.value != before
    z = 1.5*d[1]
    torch.testing.assert_close(e.z, z)
    shown = np.asarray(Image.open(io.BytesIO(e.colour.value)))
    assert shown.shape == (256, 256, 3)  # the picture's own resolution
    np.testing.assert_array_equal(shown, np.asarray(colorizer(face256, z=z)[0]))
    e.sliders[0].value = -0.7
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(e.colour.value))),
                                  np.asarray(colorizer(face256, z=-0.7*d[0] + 1.5*d[1])[0]))

def test_typical_seed_and_save(colorizer, face256, tmp_path):
    e = NoiseExplorer(colorizer, face256, out_dir=tmp_path, rng_seed=0)
    e.sliders[0].value = 2.0
    e.typical()
    assert [s.value for s in e.sliders] == [0.]*len(e.sliders)
    np.testing.assert_array_equal(e.rgb, np.asarray(colorizer.typical(face256)))
    e.seed.value = 7  # typing a seed
    seven = e.rgb.copy()
    np.testing.assert_array_equal(seven, np.asarray(colorizer(face256, n=1, seed=7)[0]))
    e.sliders[2].value = 1.0; e.random()
    assert e.seed.value != 7 and not np.array_equal(e.rgb, seven)
    e.set_seed(7)
    np.testing.assert_array_equal(e.rgb, seven)  # a seed reproduces its colouring
    path = e.save()
    saved = Image.open(path)
    np.testing.assert_array_equal(np.asarray(saved), np.asarray(Image.open(io.BytesIO(e.colour.value))))  # the PNG shown
    np.testing.assert_allclose(json.loads(saved.text['anime_colorization.z']), e.z.numpy(), atol=1e-5)
    assert e.save() != path  # a second save does not replace the first
    with pytest.raises(FileExistsError, match='not replacing'): e.save(path)

def test_directions_beat_random_directions_on_faces_they_were_not_found_on(colorizer):
    "The control differs only in the directions: same faces (the bundled samples, never used to find them), noises, step"
    faces = [np.asarray(Image.open(p).convert('RGB').resize((64, 64), Image.LANCZOS)) for p in sorted(sample_faces().glob('*_face.png'))]
    d = directions_for(colorizer).vectors
    ours = direction_effects(colorizer, faces, d[:2], noises=1)
    rnd = direction_effects(colorizer, faces, random_directions(16, colorizer.latent, seed=3), noises=1)
    print(f"effect of directions 1-2: {ours.tolist()}; random unit directions: mean {rnd.mean():.3f}, max {rnd.max():.3f}")
    assert (ours > rnd.mean()).all()
    assert ours.max() > rnd.quantile(0.9)

def test_grid_cells_can_be_made_again(colorizer):
    grid, z = chroma_grid(colorizer, FACE, 'random', seed=4, cell=32)
    assert z.shape == (5, 5, colorizer.latent) and grid.size[0] > 5*32
    np.testing.assert_array_equal(z[1, 2].numpy(), colorizer.noises(25, seed=4)[7].numpy())  # cell 7 is noise 7 of the seed
    _, zb = chroma_grid(colorizer, FACE, 'blocks', cell=16)
    assert zb.shape == (5, 5, colorizer.latent) and (zb[0, 0, :2] == -2).all() and (zb[0, 0, 2:] == 0).all()

def test_interpolation_and_gif(colorizer, tmp_path):
    z0, z1 = colorizer.noises(2, seed=1)
    zs = interpolate_noises(z0, z1, 5)
    torch.testing.assert_close(zs[0], z0); torch.testing.assert_close(zs[-1], z1)
    frames = interpolate(colorizer, FACE, z0, z1, n=3)
    np.testing.assert_array_equal(np.asarray(frames[-1]), np.asarray(colorizer(FACE, z=z1)[0]))
    gif = save_gif(frames, tmp_path/'a.gif')
    assert Image.open(gif).n_frames == 4  # there and back
    with pytest.raises(FileExistsError): save_gif(frames, gif)

def test_bad_input_gets_a_one_line_error(colorizer, tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing.png: no such file'): NoiseExplorer(colorizer, tmp_path/'nothing.png')
    with pytest.raises(ValueError, match="kind must be"): chroma_grid(colorizer, FACE, 'nope')
    (tmp_path/'d.json').write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match='not a directions file'): load_directions(tmp_path/'d.json')
    with pytest.raises(ValueError, match='n must be at least 2'): interpolate_noises(np.zeros(8), np.ones(8), 1)

def _ours(marker:str)->list:
    "Processes whose environment carries `marker` (serve's Voila server and its kernels inherit it)"
    found = []
    for p in Path('/proc').iterdir():
        if p.name.isdigit() and p.name != str(os.getpid()):
            try:
                if marker.encode() in (p/'environ').read_bytes(): found.append(int(p.name))
            except OSError: pass
    return found

@pytest.mark.skipif(not Path('/proc').is_dir(), reason="needs /proc to look for leftover processes")
def test_serve_answers_and_stops_cleanly_on_ctrl_c(tmp_path):
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); port = s.getsockname()[1]
    marker = f"explore-test-{os.getpid()}-{port}"
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]), 'EXPLORE_TEST_MARKER': marker}
    exe = Path(sys.executable).parent/'anime-colorize'  # the command a user types
    proc = subprocess.Popen([str(exe), 'explore', '--port', str(port), '--device', 'cpu'], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in line, line + proc.stdout.read()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=300) as r:  # Voila runs the page before answering
            assert r.status == 200 and b'widget' in r.read()
        assert len(_ours(marker)) >= 3  # serve, Voila and the page's kernel
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(60) == 0, proc.stdout.read()
        for _ in range(20):
            if not _ours(marker): break
            time.sleep(0.5)
        assert _ours(marker) == []  # no leftover server or kernel
    finally:
        if proc.poll() is None: proc.kill()

def test_serve_refuses_bad_input_before_starting(tmp_path):
    from anime_colorization.explore import serve
    with pytest.raises(FileNotFoundError, match='no such file'): serve(tmp_path/'nothing.png')
    with pytest.raises(FileNotFoundError, match='no such file'): serve(weights=tmp_path/'none.safetensors')
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); s.listen()
        with pytest.raises(OSError, match='in use'): serve(port=s.getsockname()[1])
