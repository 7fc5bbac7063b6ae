"""Tests for the sRGB <-> CIELAB conversions: agreement with skimage, gradients, shapes, errors."""
import itertools, warnings
import numpy as np, pytest, torch
from skimage.color import rgb2lab, lab2rgb
from anime_colorization.lab import rgb_to_lab, rgb_to_l, lab_to_rgb

TOL = 1e-3  # max abs difference allowed vs skimage (LAB units for rgb_to_lab, [0, 1] for lab_to_rgb)

def sk(fn, x:torch.Tensor)->np.ndarray:
    "Apply a skimage conversion in float64 to a `(..., 3, H, W)` tensor; channels back at dim -3."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lab2rgb warns about negative Z / out-of-range values
        return np.moveaxis(fn(np.moveaxis(x.double().numpy(), -3, -1)), -1, -3)

def maxerr(ours:torch.Tensor, ref:np.ndarray)->float:
    assert not ours.isnan().any()
    return float(np.abs(ours.double().numpy() - ref).max())

def random_rgb(n=1_000_000, dtype=torch.float32, seed=0):
    "`n` random colours as one `(3, 1000, n/1000)` image."
    return torch.rand(3, 1000, n // 1000, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)

def cube_edges(steps=256)->torch.Tensor:
    "The RGB cube's 12 edges (8 corners included) as a `(3, 12, steps)` image."
    t, edges = torch.linspace(0, 1, steps, dtype=torch.float64), []
    for axis in range(3):
        for c in itertools.product([0., 1.], repeat=2):
            e = torch.empty(3, steps, dtype=torch.float64)
            e[axis] = t
            e[[i for i in range(3) if i != axis]] = torch.tensor(c, dtype=torch.float64)[:, None]
            edges.append(e)
    return torch.stack(edges, 1)

# --- accuracy vs skimage ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rgb_to_lab_random(dtype):
    x = random_rgb(dtype=dtype)
    assert maxerr(rgb_to_lab(x), sk(rgb2lab, x)) <= TOL

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_rgb_to_lab_cube_edges(dtype):
    x = cube_edges().to(dtype)
    assert maxerr(rgb_to_lab(x), sk(rgb2lab, x)) <= TOL

def test_rgb_to_lab_all_uint8_colours():
    "All 256^3 colours, in 16 chunks of 2^20."
    for r0 in range(0, 256, 16):
        r, g, b = torch.meshgrid(torch.arange(r0, r0 + 16), torch.arange(256), torch.arange(256), indexing="ij")
        x = torch.stack([r, g, b]).to(torch.uint8).reshape(3, 1024, 1024)
        lab = rgb_to_lab(x)
        assert lab.dtype == torch.float32
        ref = sk(rgb2lab, x.double() / 255)  # what rgb2lab(uint8 image) computes
        assert maxerr(lab, ref) <= TOL
        assert maxerr(rgb_to_l(x), ref[:1]) <= TOL

def test_lab_to_rgb_from_real_colours():
    lab = rgb_to_lab(random_rgb(seed=1))
    assert maxerr(lab_to_rgb(lab), sk(lab2rgb, lab)) <= TOL

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_lab_to_rgb_random_lab(dtype):
    g = torch.Generator().manual_seed(2)
    lab = torch.rand(3, 1000, 1000, generator=g, dtype=torch.float64)
    lab = (lab * torch.tensor([100., 255., 255.], dtype=torch.float64)[:, None, None]
           - torch.tensor([0., 128., 128.], dtype=torch.float64)[:, None, None]).to(dtype)
    assert maxerr(lab_to_rgb(lab), sk(lab2rgb, lab)) <= TOL

def test_lab_to_rgb_extreme_values():
    vals = torch.tensor([-50., -16., 0., 50., 100., 150.]), torch.tensor([-300., -128., 0., 127., 300.])
    L, a, b = torch.meshgrid(vals[0], vals[1], vals[1], indexing="ij")
    lab = torch.stack([L, a, b]).reshape(3, 6, 25)
    rgb = lab_to_rgb(lab)
    assert rgb.isfinite().all() and rgb.min() >= 0 and rgb.max() <= 1
    assert maxerr(rgb, sk(lab2rgb, lab)) <= TOL

def test_round_trip():
    x = random_rgb(100_000, torch.float64, seed=3)
    assert (lab_to_rgb(rgb_to_lab(x)) - x).abs().max() < 1e-6
    x32 = x.float()
    assert (lab_to_rgb(rgb_to_lab(x32)) - x32).abs().max() < 1e-4

# --- consistency between the code paths ------------------------------------------------------------------------

def test_rgb_to_l_matches_rgb_to_lab():
    x8 = (random_rgb(100_000, seed=4) * 255).round().to(torch.uint8)
    for x in (x8, x8 / 255., (x8 / 255.).double()):
        assert (rgb_to_l(x) - rgb_to_lab(x)[..., :1, :, :]).abs().max() < 1e-4  # float32 rounding only

def test_uint8_matches_float():
    x8 = (random_rgb(100_000, seed=5) * 255).round().to(torch.uint8)
    assert (rgb_to_lab(x8) - rgb_to_lab(x8.double() / 255)).abs().max() < 2e-4

@pytest.mark.parametrize("fn, x", [(rgb_to_lab, random_rgb(10_000, seed=6)),
                                   (rgb_to_l, random_rgb(10_000, seed=6)),
                                   (lab_to_rgb, rgb_to_lab(random_rgb(10_000, seed=7)))])
def test_grad_path_matches_fast_path(fn, x):
    "With `requires_grad` the out-of-place path runs: same values, and the input is never modified."
    x0 = x.clone()
    fast = fn(x)
    slow = fn(x.clone().requires_grad_())
    assert slow.requires_grad and torch.equal(x, x0)
    assert (fast - slow.detach()).abs().max() < 1e-5

# --- gradients -------------------------------------------------------------------------------------------------

def test_gradcheck():
    g = torch.Generator().manual_seed(8)
    x = (torch.rand(2, 3, 4, 5, generator=g, dtype=torch.float64) * 0.8 + 0.1).requires_grad_()
    assert torch.autograd.gradcheck(rgb_to_lab, (x,))
    assert torch.autograd.gradcheck(rgb_to_l, (x,))
    lab = rgb_to_lab(x.detach()).requires_grad_()
    assert torch.autograd.gradcheck(lab_to_rgb, (lab,))

def test_finite_grads_at_extremes():
    x = cube_edges(5).float().requires_grad_()  # contains exact 0s and 1s
    rgb_to_lab(x).sum().backward()
    assert x.grad.isfinite().all() and x.grad.abs().sum() > 0
    lab = torch.tensor([[-50., 0., 0.], [0., 0., 0.], [100., 0., 0.], [150., 300., -300.], [50., -300., 300.]])
    lab = lab.T[:, :, None].contiguous().requires_grad_()
    lab_to_rgb(lab).sum().backward()
    assert lab.grad.isfinite().all()

# --- shapes, dtypes, errors ------------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 8, 9), (2, 3, 8, 9), (2, 4, 3, 8, 9)])
def test_batch_shapes(shape):
    x = torch.rand(shape, generator=torch.Generator().manual_seed(9))
    lab = rgb_to_lab(x)
    assert lab.shape == shape and rgb_to_l(x).shape == shape[:-3] + (1,) + shape[-2:]
    assert lab_to_rgb(lab).shape == shape
    flat = x.reshape(-1, 3, 8, 9)
    assert torch.allclose(lab.reshape(-1, 3, 8, 9), torch.stack([rgb_to_lab(im) for im in flat]), atol=1e-4)

def test_dtypes_and_layouts():
    x = torch.rand(2, 8, 9, 3).permute(0, 3, 1, 2)  # non-contiguous, e.g. from an HWC array
    assert rgb_to_lab(x).dtype == torch.float32 and rgb_to_lab(x.double()).dtype == torch.float64
    assert torch.allclose(rgb_to_lab(x), rgb_to_lab(x.contiguous()))
    x8 = (x * 255).to(torch.uint8)
    assert torch.equal(rgb_to_lab(x8), rgb_to_lab(x8.contiguous()))
    assert lab_to_rgb(rgb_to_lab(x).double()).dtype == torch.float64
    assert rgb_to_lab(torch.zeros(0, 3, 4, 4)).shape == (0, 3, 4, 4)

@pytest.mark.parametrize("fn", [rgb_to_lab, rgb_to_l, lab_to_rgb])
@pytest.mark.parametrize("shape", [(4, 8, 9), (2, 8, 9, 3), (8, 9)])
def test_wrong_channel_count(fn, shape):
    with pytest.raises(ValueError, match=f"got shape {tuple(shape)}".replace("(", r"\(").replace(")", r"\)")):
        fn(torch.rand(shape))

def test_wrong_dtype():
    with pytest.raises(TypeError): rgb_to_lab(torch.zeros(3, 2, 2, dtype=torch.int64))
    with pytest.raises(TypeError): lab_to_rgb(torch.zeros(3, 2, 2, dtype=torch.uint8))
