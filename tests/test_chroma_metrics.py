"""Issue 11's measures, each against a control that differs in one thing: the tint split of the diversity between noises,
the change between noises per region of synthetic faces, and the classifier two-sample realism test."""
import math
import numpy as np
import pytest
import torch
from skimage.color import deltaE_ciede2000
from conftest import needs_real_faces, REAL_FACES
from anime_colorization.data import SyntheticFaces, REGIONS
from anime_colorization.lab import AB_SCALE, rgb_to_lab
from anime_colorization.evaluation import (tint_split, region_change, evaluate, colourings, two_sample_accuracy, realism,
                                           one_colouring, ConstantAB, PaletteOracle, CHANGE_REGIONS)

def pair(size=16, l=60.):
    "One picture with two identical colourings `(1, 2, size, size, 3)`"
    x = np.zeros((1, 2, size, size, 3)); x[..., 0] = l
    return x

# tint split

def test_a_uniform_shift_is_all_tint():
    x = pair(); x[:, 1, ..., 1:] = (6., 8.)
    t = tint_split(x)
    assert t['tint_share'] == pytest.approx([1.]) and t['tint_free'] == pytest.approx([0.], abs=1e-9)

@pytest.mark.parametrize('cols,s', [(2, 1/8), (4, 1/4), (8, 1/2), (12, 3/4)])
def test_a_change_on_a_region_has_the_regions_share(cols, s):
    "The same shift as above on a share s of the grid cells: share s, tint-free 2 s (1 - s) |v|"
    x = pair(); x[:, 1, :, :cols, 1:] = (6., 8.)   # 16 px on an 8x8 grid: 2 columns of pixels per grid column
    t = tint_split(x)
    assert t['tint_share'] == pytest.approx([s]) and t['tint_free'] == pytest.approx([2*s*(1 - s)*10])

def test_a_tint_added_to_any_colourings_leaves_the_tint_free_part_alone():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 20, (3, 4, 16, 16, 3)); x[..., 0] = 50
    tinted = x.copy(); tinted[..., 1:] += rng.normal(0, 15, (3, 4, 1, 1, 2))   # one uniform shift per colouring
    a, b = tint_split(x), tint_split(tinted)
    assert b['tint_free'] == pytest.approx(a['tint_free'])
    assert (b['tint_share'] > a['tint_share']).all()

def test_the_tint_share_averages_pairs_and_skips_identical_ones():
    "K = 3: colouring 2 shifts everything, colouring 3 repeats colouring 1: pairs (1,2) and (2,3) are tints, (1,3) has no share"
    x = np.zeros((1, 3, 16, 16, 3)); x[:, 1, ..., 1] = 10.
    t = tint_split(x)
    assert t['tint_share'] == pytest.approx([1.]) and t['tint_free'] == pytest.approx([0.], abs=1e-9)
    assert np.isnan(tint_split(pair())['tint_share'][0])

def test_tint_split_refuses_bad_input():
    with pytest.raises(ValueError, match='at least 2'): tint_split(pair()[:, :1])
    with pytest.raises(ValueError, match=r'\(N, K, H, W, 3\)'): tint_split(pair()[0])
    with pytest.raises(ValueError, match=r'\(N, K, H, W, 3\)'): tint_split(pair()[..., :2])

# change per region

def ciede_of_a_shift(a):
    "CIEDE2000 between (L, 0, 0) and (L, a, 0) by hand: a pure chroma difference dC'/S_C, whatever L"
    g = 0.5 * (1 - math.sqrt((a/2)**7 / ((a/2)**7 + 25**7)))
    dc = a * (1 + g)
    return dc / (1 + 0.045 * dc / 2)

class Switch(torch.nn.Module):
    "A control: paints AB (a, 0) everywhere when the noise is positive, else (0, 0)"
    def __init__(self, a): super().__init__(); self.a, self.latent = a, 1; self.register_buffer('x', torch.zeros(()))
    def sample_z(self, n, device=None, generator=None): return torch.randn(n, 1, generator=generator).to(device)
    def forward(self, l, z):
        ab = torch.zeros(len(l), 2, *l.shape[-2:]); ab[:, 0] = (z[:, 0] > 0).float()[:, None, None] * self.a / AB_SCALE
        return torch.cat([l, ab], 1)

@pytest.fixture(scope='module')
def faces(): return SyntheticFaces(12, size=32, k=4, seed=1)

def test_a_control_that_changes_everything_changes_every_region_by_the_hand_value(faces):
    n = len(faces)
    lab, _, z = colourings(Switch(10.), faces.images(), n_variants=6, seed=0)
    on = z[:, :, 0] > 0
    flips = (on != np.roll(on, -1, 1)).mean(1)   # per face: share of the pairs (j, j+1) where one colouring is shifted
    codes = faces.regions()
    ch = region_change(lab, {r: codes == REGIONS.index(r) for r in CHANGE_REGIONS})
    for r in CHANGE_REGIONS: assert ch[r] == pytest.approx(flips * ciede_of_a_shift(10.), abs=1e-3), r
    ab = region_change(lab, {'skin': codes == REGIONS.index('skin')}, metric='ab')
    assert ab['skin'] == pytest.approx(flips * 10., abs=1e-3)
    assert 0 < flips.mean() < 1

def test_the_palette_oracle_changes_the_hair_alone_by_the_palettes_distances(faces):
    "Hair change: the CIEDE2000 between the palette colours its noises draw, pair by pair; skin, background, collar, eyes: 0"
    oracle = PaletteOracle(faces)
    lab, _, z = colourings(oracle, faces.images(), n_variants=8, seed=0)
    codes = faces.regions()
    ch = region_change(lab, {r: codes == REGIONS.index(r) for r in CHANGE_REGIONS})
    for r in ('skin', 'background', 'collar', 'eyes'): assert (ch[r] == 0).all(), r
    hair = (torch.special.ndtr(torch.from_numpy(z[:, :, 0])) * faces.k).long().clamp(0, faces.k - 1).numpy()
    pal = rgb_to_lab(torch.from_numpy(faces.palette_rgb.reshape(1, -1, 1, 3)).permute(0, 3, 1, 2).double() / 255)
    pal = pal.permute(0, 2, 3, 1).numpy()[0, :, 0]   # (K, 3)
    expected = np.mean([deltaE_ciede2000(pal[hair[:, j]], pal[hair[:, (j + 1) % 8]]) for j in range(8)], 0)
    assert ch['hair'] == pytest.approx(expected, abs=0.05)
    assert expected.mean() > 10

def test_evaluate_reports_the_new_measures(faces):
    oracle = evaluate(PaletteOracle(faces), faces, n_variants=8, n_samples=2000, ndb_bins=10)
    switch = evaluate(Switch(10.), faces, n_variants=8, n_samples=2000, ndb_bins=10)
    gray = evaluate(ConstantAB(), faces, n_variants=3, n_samples=2000, ndb_bins=10)
    for r in CHANGE_REGIONS: assert gray[f'change_{r}'] == 0 and switch[f'change_{r}'] > 1, r
    assert oracle['change_skin'] == oracle['change_background'] == 0 and oracle['change_hair'] > 10
    assert switch['tint_share'] == pytest.approx(1.) and switch['diversity_tint_free'] == pytest.approx(0., abs=1e-6)
    assert oracle['tint_share'] < 0.5 and oracle['diversity_tint_free'] > 3
    assert np.isnan(gray['tint_share']) and gray['diversity_tint_free'] == 0
    samples = evaluate(Switch(10.), None, n_variants=4)
    assert samples['n_images'] == 16 and samples['tint_share'] == pytest.approx(1.) and 'change_skin' not in samples

def test_region_change_refuses_bad_input(faces):
    lab = np.zeros((2, 3, 8, 8, 3)); m = np.ones((2, 8, 8), bool)
    with pytest.raises(ValueError, match='at least 2'): region_change(lab[:, :1], {'a': m})
    with pytest.raises(ValueError, match=r'expected \(2, 8, 8\)'): region_change(lab, {'a': m[0]})
    with pytest.raises(ValueError, match='metric'): region_change(lab, {'a': m}, metric='rgb')
    with pytest.raises(ValueError, match=r'\(N, K, H, W, 3\)'): region_change(lab[0], {'a': m})

# realism

@pytest.fixture(scope='module')
def synthetic():
    faces = SyntheticFaces(400, size=32, seed=3)
    pics = faces.images()
    return faces, pics[:300], {'held-out': pics[300:]}

def test_the_classifier_tells_gray_and_a_constant_colour_but_not_the_oracle(synthetic):
    faces, train, held = synthetic
    acc = {name: realism(m, train, held, seeds=(0,), epochs=6)['held-out'][0]
           for name, m in [('gray', ConstantAB()), ('constant', ConstantAB((20., 10.))), ('oracle', PaletteOracle(faces))]}
    assert acc['gray'] > 0.95 and acc['constant'] > 0.95, acc
    assert abs(acc['oracle'] - 0.5) < 0.15, acc

def test_real_against_real_is_chance(synthetic):
    _, train, held = synthetic
    h = held['held-out']
    acc = two_sample_accuracy(train[:150], train[150:], {'h': (h[:50], h[50:])}, seed=1, epochs=6)['h']
    assert abs(acc - 0.5) < 0.15, acc

def test_one_colouring_is_seeded_8_bit_and_leaves_the_mode(synthetic):
    faces, train, _ = synthetic
    oracle = PaletteOracle(faces).train()
    a, b = one_colouring(oracle, train[:20], seed=5), one_colouring(oracle, train[:20], seed=5)
    assert a.dtype == np.uint8 and a.shape == train[:20].shape and (a == b).all() and oracle.training
    assert not (one_colouring(oracle, train[:20], seed=6) == a).all()
    assert (one_colouring(ConstantAB(), train[:4]) == one_colouring(ConstantAB(), train[:4], seed=9)).all()

def test_realism_refuses_bad_input(synthetic):
    _, train, held = synthetic
    with pytest.raises(ValueError, match='different sizes'): two_sample_accuracy(train, train[:, :16, :16], {})
    with pytest.raises(ValueError, match='at least 2'): two_sample_accuracy(train[:1], train, {})
    with pytest.raises(ValueError, match='uint8 RGB'): two_sample_accuracy(train, train.astype(np.float32), {})
    with pytest.raises(ValueError, match='a pair'): two_sample_accuracy(train, train, {'h': train})
    with pytest.raises(ValueError, match='multiples of 4'): two_sample_accuracy(train[:, :30, :30], train[:, :30, :30], {})
    with pytest.raises(ValueError, match='at least one seed'): realism(ConstantAB(), train, held, seeds=())
    with pytest.raises(FileNotFoundError): realism('no/such.safetensors', train, held)

def real_faces(s:slice)->np.ndarray:
    "uint8 RGB 64 px faces of SEED_BASELINE.md's split, by sorted file name"
    from PIL import Image
    files = sorted(p for p in REAL_FACES.iterdir() if p.suffix.lower() in ('.jpg', '.jpeg', '.png'))[s]
    return np.stack([np.asarray(Image.open(f).convert('RGB').resize((64, 64), Image.BILINEAR)) for f in files])

@needs_real_faces
def test_on_real_faces_gray_and_mean_ab_are_told_apart_and_real_faces_are_not():
    "The split's training faces against their gray or mean-AB colourings, tested on the evaluation faces; real against disjoint real"
    train, valid = real_faces(slice(0, 600)), real_faces(slice(14000, 14200))
    for m in [ConstantAB(), ConstantAB.mean_of(train)]:
        acc = realism(m, train, {'evaluation': valid}, seeds=(0,), epochs=6)['evaluation'][0]
        assert acc > 0.95, (m.ab, acc)
    acc = two_sample_accuracy(train[:300], train[300:], {'e': (valid[:100], valid[100:])}, epochs=6)['e']
    assert abs(acc - 0.5) < 0.12, acc

def test_compare_recipes_adds_realism_and_the_samples_to_the_final_row(tmp_path):
    "`compare_recipes.py run --realism N --samples`: the final snapshot's row also holds the two-sample test and the samples' metrics"
    import json, subprocess, sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    (tmp_path/'timing.json').write_text(json.dumps({'recipes': {'l1_only': {'l1': 1.0}}}))
    cmd = [sys.executable, str(root/'benchmarks'/'compare_recipes.py'), 'run', '--synthetic', '64', '--timing', str(tmp_path/'timing.json'),
           '--minutes', '0.05', '--seeds', '0', '--recipes', 'l1_only', '--fractions', '0.5', '1', '--variants', '2', '--grid-faces', '2',
           '--grid-noises', '2', '--threads', '2', '--device', 'cpu', '--no-baselines', '--realism', '32', '--realism-seeds', '0', '1',
           '--samples', '--out', str(tmp_path/'out')]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    half, final = [json.loads(l) for l in (tmp_path/'out'/'rows.jsonl').read_text().splitlines()]
    assert 'realism' not in half and 'samples_psnr' not in half, "only the final snapshot"
    assert 0 <= final['realism'] <= 1 and final['realism_std'] >= 0 and final['realism_n_train'] == 32
    assert 0 <= final['samples_realism'] <= 1 and final['samples_colourfulness_real'] > 0
    assert np.isnan(final['tint_share']) and final['diversity_tint_free'] == 0, "a deterministic model has no tint"
    assert final['change_skin'] == 0 and final['hair_coverage'] == 0.25
