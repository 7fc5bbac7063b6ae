"`colorization_dls` on every kind of source: what the batches hold, how the split falls, what the cache does."
import numpy as np
import pytest, torch
from PIL import Image

from anime_colorization.data import SyntheticFaces, image_cache
from anime_colorization.lab import denormalize_lab, rgb_to_lab
from anime_colorization.datablock import colorization_dls, TensorL, TensorLAB
from conftest import needs_real_faces, REAL_FACES

def plain(t): return t.as_subclass(torch.Tensor)

def character_tree(root, n_chars=6, per_char=5):
    "A moeimouto-like tree: one folder per character, each character a distinct hue"
    for c in range(n_chars):
        (root/f'{c:03d}_char').mkdir(parents=True)
        for i in range(per_char):
            im = np.zeros((40, 40, 3), np.uint8); im[...] = (20*c + 20, 220 - 20*c, 10*i + 5); im[:10] = 255
            Image.fromarray(im).save(root/f'{c:03d}_char'/f'{i}.png')
    return root

def test_batches_are_normalised_lab(tmp_path):
    dls = colorization_dls(character_tree(tmp_path/'t'), size=32, bs=4, progress=False)
    x, y = dls.one_batch()
    assert (type(x), type(y)) == (TensorL, TensorLAB)
    assert x.shape == (4, 1, 32, 32) and y.shape == (4, 3, 32, 32) and x.dtype == torch.float32
    assert torch.equal(plain(x), plain(y[:, :1]))
    assert plain(y).abs().max() <= 1

def test_targets_match_the_cached_pictures(tmp_path):
    "Validation batches (no flips) are exactly the cache's pictures, converted"
    src = character_tree(tmp_path/'t')
    dls = colorization_dls(src, size=32, bs=2, progress=False)
    cache = image_cache(src, size=32, progress=False)
    i = dls.valid_ds.items[dls.valid.get_idxs()[0]]  # the cache index of the first validation picture
    x, y = dls.valid.one_batch()
    want = rgb_to_lab(torch.from_numpy(np.array(cache.images[i])).permute(2, 0, 1)[None])
    assert torch.allclose(denormalize_lab(plain(y[:1])), want, atol=1e-3)

def test_split_by_character(tmp_path):
    src = character_tree(tmp_path/'t', n_chars=10)
    dls = colorization_dls(src, size=32, bs=4, valid_pct=0.2, seed=3, progress=False)
    chars = image_cache(src, size=32, progress=False).characters
    train = {chars[i] for i in dls.train_ds.items}
    valid = {chars[i] for i in dls.valid_ds.items}
    assert train and valid and not (train & valid)
    assert len(dls.valid_ds) == 10
    again = colorization_dls(src, size=32, bs=4, valid_pct=0.2, seed=3, progress=False)
    assert list(again.valid_ds.items) == list(dls.valid_ds.items)
    other = colorization_dls(src, size=32, bs=4, valid_pct=0.2, seed=4, progress=False)
    assert list(other.valid_ds.items) != list(dls.valid_ds.items)

def test_in_memory_sources():
    faces = SyntheticFaces(100, size=32)
    dls = colorization_dls(faces, size=32, bs=8)
    assert len(dls.train_ds) == 90 and len(dls.valid_ds) == 10
    dls = colorization_dls(faces.images(), size=16, bs=8)
    assert dls.one_batch()[0].shape == (8, 1, 16, 16)
    with pytest.raises(ValueError, match='uint8 array'): colorization_dls(np.zeros((4, 8, 8)), size=8)

def test_show_batch_draws_inputs_and_targets():
    import matplotlib.pyplot as plt
    dls = colorization_dls(bs=4, progress=False)
    dls.show_batch(max_n=4)
    assert len([a for a in plt.gcf().axes if a.images]) == 8
    plt.close('all')

def test_cache_is_reused_and_rebuilt(tmp_path):
    src = character_tree(tmp_path/'t')
    first = image_cache(src, size=32, progress=False)
    again = image_cache(src, size=32, progress=False)
    assert again.path == first.path and isinstance(again.images, np.memmap)
    assert image_cache(src, size=32, progress=False, white_background=True).path != first.path, "filters key the cache"
    assert image_cache(src, size=48, progress=False).path != first.path, "the size keys the cache"
    Image.new('RGB', (40, 40), (10, 200, 30)).save(src/'000_char'/'new.png')
    rebuilt = image_cache(src, size=32, progress=False)
    assert rebuilt.path != first.path and len(rebuilt) == len(first) + 1

def test_a_damaged_cache_is_rebuilt(tmp_path):
    src = character_tree(tmp_path/'t')
    first = image_cache(src, size=32, progress=False)
    pictures, path = np.array(first.images), first.path
    del first  # let go of the memory map before damaging its file
    path.write_bytes(b'garbage')
    again = image_cache(src, size=32, progress=False)
    assert again.path == path and np.array_equal(np.asarray(again.images), pictures)

@needs_real_faces
def test_real_faces():
    dls = colorization_dls(REAL_FACES, size=64, bs=64, progress=False)
    assert dls.report.found == 15_896 and dls.report.kept >= 15_800
    assert len(dls.valid_ds) == round(dls.report.kept * 0.1)
    x, y = dls.one_batch()
    assert x.shape == (64, 1, 64, 64) and plain(y[:, 1:]).abs().mean() > 0.02, "real faces are colourful"
