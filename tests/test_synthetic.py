import numpy as np, pytest
import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot
from skimage.color import rgb2lab, lab2rgb
from anime_colorization.data import SyntheticFaces, SyntheticFace, make_palette, REGIONS, COLOURS

@pytest.fixture(scope='module')
def faces(): return SyntheticFaces(400, 64, k=4, seed=0)

def L(img): return rgb2lab(img)[..., 0]

def test_sequence(faces):
    assert len(faces) == 400 and isinstance(faces[0], SyntheticFace)
    assert np.array_equal(faces[-1].image, faces[399].image)
    assert [f.hair for f in faces[3:6]] == [faces[i].hair for i in range(3, 6)]
    with pytest.raises(IndexError): faces[400]

def test_deterministic(faces):
    a = faces[7].image
    for i in (3, 100, 7, 0): faces[i]
    assert np.array_equal(faces[7].image, a)
    assert np.array_equal(SyntheticFaces(400, 64, seed=0)[7].image, a)

def test_seeds_differ():
    a, b = SyntheticFaces(20, 64, seed=0).images(), SyntheticFaces(20, 64, seed=1).images()
    assert all(not np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], a[1])

def test_batch_matches_single(faces):
    imgs, regs, labs = faces.images(10, 30), faces.regions(10, 30), faces.labels(10, 30)
    assert imgs.shape == (20, 64, 64, 3) and imgs.dtype == np.uint8 and regs.shape == (20, 64, 64)
    for j, i in enumerate(range(10, 30)):
        f = faces[i]
        assert np.array_equal(imgs[j], f.image) and tuple(labs[j]) == (f.hair, f.eyes)
        for r in REGIONS: assert np.array_equal(regs[j] == REGIONS.index(r), f.masks[r])
    assert np.array_equal(faces.masks('hair', 10, 30), regs == REGIONS.index('hair'))
    assert faces.labels().shape == (400, 2) and len(faces.images(395)) == 5

@pytest.mark.parametrize('size', [16, 32, 64, 128])
def test_masks_partition_and_colours(size):
    faces = SyntheticFaces(12, size, seed=3)
    for f in faces:
        assert f.image.shape == (size, size, 3) and f.image.dtype == np.uint8
        assert set(f.masks) == set(REGIONS)
        stack = np.stack([f.masks[r] for r in REGIONS])
        assert stack.dtype == bool and (stack.sum(0) == 1).all()
        colours = COLOURS.copy()
        colours[REGIONS.index('hair')], colours[REGIONS.index('eyes')] = faces.palette_rgb[f.hair], faces.palette_rgb[f.eyes]
        for r, c in zip(REGIONS, colours): assert (f.image[f.masks[r]] == c).all(), r
        if size >= 32:
            for r in ('background', 'skin', 'hair', 'collar', 'outline', 'eyes', 'pupil', 'mouth'): assert f.masks[r].any(), r

def test_hair_pixels_exactly_palette_colour(faces):
    for f in faces[:20]:
        is_hair_colour = (f.image == faces.palette_rgb[f.hair]).all(-1)
        expected = f.masks['hair'] | (f.masks['eyes'] if f.eyes == f.hair else False)
        assert np.array_equal(is_hair_colour, expected)

@pytest.mark.parametrize('k,lightness', [(1, 55), (4, 55), (6, 45), (12, 60)])
def test_palette_equal_lightness(k, lightness):
    lab, rgb = make_palette(k, lightness)
    assert lab.shape == (k, 3) and rgb.shape == (k, 3) and rgb.dtype == np.uint8
    lab8 = rgb2lab(rgb[None])[0]                               # L of the quantised colours
    assert np.allclose(lab8, lab)
    assert np.abs(lab8[:, 0] - lightness).max() < 0.1 and np.ptp(lab8[:, 0]) < 0.1
    assert np.abs(rgb2lab(lab2rgb(lab[None]))[0] - lab).max() < 0.5    # in gamut
    if k > 1: assert np.linalg.norm(lab[:, None, 1:] - lab[None, :, 1:], axis=-1)[~np.eye(k, dtype=bool)].min() > 10

def test_palette_lightness_distinct_from_skin(faces):
    skin_L = rgb2lab(COLOURS[None, [REGIONS.index('skin')]])[0, 0, 0]
    assert abs(skin_L - faces.palette[:, 0].mean()) > 20

def test_recolouring_keeps_gray_image(faces):
    for i in (0, 1, 2):
        base = faces.render(i)
        grays = [L(faces.render(i, hair=h, eyes=e).image) for h in range(faces.k) for e in range(faces.k)]
        for g in grays: assert np.abs(g - L(base.image)).max() < 0.5
        other = faces.render(i, hair=(base.hair + 1) % faces.k)
        assert other.hair != base.hair and all(np.array_equal(other.masks[r], base.masks[r]) for r in REGIONS)
        assert not np.array_equal(other.image, base.image)

def test_hair_not_predictable_from_L(faces):
    imgs, labs, hair = faces.images(), faces.labels(), faces.masks('hair')
    gray = L(imgs)
    means = [gray[hair & (labs[:, 0] == j)[:, None, None]].mean() for j in range(faces.k)]
    assert np.ptp(means) < 0.5
    whole = [gray[labs[:, 0] == j].mean() for j in range(faces.k)]          # whole-image statistic: geometry only differs
    assert np.ptp(whole) < 1.0

def test_labels_uniform():
    labs = SyntheticFaces(4000, 16, k=4, seed=5).labels()
    for col in labs.T: assert (np.abs(np.bincount(col, minlength=4) / 1000 - 1) < 0.12).all()
    joint = np.bincount(labs[:, 0] * 4 + labs[:, 1], minlength=16) / 250
    assert (np.abs(joint - 1) < 0.3).all()

@pytest.mark.parametrize('kw', [dict(size=15), dict(size=8), dict(k=0), dict(n=-1), dict(lightness=0), dict(lightness=100)])
def test_bad_arguments(kw):
    with pytest.raises(ValueError): SyntheticFaces(**kw)

def test_bad_region_and_palette_index(faces):
    with pytest.raises(ValueError): faces.masks('nose')
    with pytest.raises(ValueError): faces.render(0, hair=faces.k)

def test_show(faces, tmp_path):
    fig = faces.show(4)
    assert len(fig.axes) == 8
    assert len(faces.show(3, masks=False).axes) == 3
    fig.savefig(tmp_path/'demo.png')
    assert (tmp_path/'demo.png').stat().st_size > 1000
    matplotlib.pyplot.close('all')
