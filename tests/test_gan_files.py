"Checkpoints and exported generators: atomic writes, exact contents, and clear errors for bad files."
import json, pickle
import pytest, torch
from fastai.torch_core import set_seed

import anime_colorization.gan as gan
from anime_colorization.data import SyntheticFaces
from anime_colorization.datablock import colorization_dls
from anime_colorization.unet import UNetGenerator
from anime_colorization.gan import (gan_learner, wgan_critic, save_checkpoint, load_checkpoint)
from anime_colorization.unet import export_generator, load_generator

def small_learner():
    set_seed(0)
    dls = colorization_dls(SyntheticFaces(64, size=32), size=32, bs=16)
    return gan_learner(dls, UNetGenerator(depth=3, width=8), wgan_critic(width=8), adversarial='wgan', n_crit=2, l1=1.)

def test_a_killed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    learn = small_learner()
    path = save_checkpoint(learn, tmp_path/'ckpt.safetensors', epoch=1)
    before = path.read_bytes()
    def dies_mid_write(tensors, fname, metadata=None):
        open(fname, 'wb').write(b'half a file')
        raise KeyboardInterrupt  # the process is interrupted while writing
    monkeypatch.setattr(gan, 'save_file', dies_mid_write)
    with pytest.raises(KeyboardInterrupt): save_checkpoint(learn, path, epoch=2)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ['ckpt.safetensors'], "no temporary file is left behind"

def test_checkpoint_holds_position_and_refuses_other_models(tmp_path):
    learn = small_learner()
    with learn.no_bar(), learn.no_logging(): learn.fit(1)
    sw = learn.gan_switcher
    path = save_checkpoint(learn, tmp_path/'ckpt.safetensors', epoch=1)
    other = small_learner()
    assert load_checkpoint(other, path) == 1
    assert (other.gan_switcher.generating, other.gan_switcher.steps) == (sw.generating, sw.steps)
    for a, b in zip(learn.model.state_dict().values(), other.model.state_dict().values()): assert torch.equal(a, b)
    set_seed(0)
    dls = colorization_dls(SyntheticFaces(64, size=32), size=32, bs=16)
    bigger = gan_learner(dls, UNetGenerator(depth=3, width=16), wgan_critic(width=8), adversarial='wgan')
    with pytest.raises(ValueError, match='does not match this model'): load_checkpoint(bigger, path)

def test_generator_files_fail_clearly(tmp_path):
    g = UNetGenerator(depth=3, width=8)
    path = export_generator(g, tmp_path/'g.safetensors')
    assert json.loads((tmp_path/'g.json').read_text())['config']['width'] == 8
    data = path.read_bytes()
    (tmp_path/'truncated.safetensors').write_bytes(data[:len(data)//2])
    with pytest.raises(ValueError, match='truncated.safetensors: not a readable safetensors file'): load_generator(tmp_path/'truncated.safetensors')
    (tmp_path/'pickled.safetensors').write_bytes(pickle.dumps(g.state_dict()))
    with pytest.raises(ValueError, match='pickled.safetensors'): load_generator(tmp_path/'pickled.safetensors')
    with pytest.raises(FileNotFoundError, match='missing.safetensors'): load_generator(tmp_path/'missing.safetensors')
    # weights of another architecture under a config that says otherwise
    meta = json.loads((tmp_path/'g.json').read_text()); meta['config']['width'] = 16
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in g.state_dict().items()}, str(tmp_path/'mismatch.safetensors'),
              metadata={'anime_colorization': json.dumps(meta)})
    with pytest.raises(ValueError, match='mismatch.safetensors: weights do not match its config'): load_generator(tmp_path/'mismatch.safetensors')
    back = load_generator(path)
    assert not back.training and torch.equal(back.state_dict()['to_ab.weight'], g.state_dict()['to_ab.weight'])

def test_penalty_stays_correct_under_bf16_autocast():
    "The gradient penalty under bfloat16 autocast (as on CUDA; here the CPU's autocast) agrees with float32"
    torch.manual_seed(0)
    critic = wgan_critic(width=16)
    real, fake = torch.randn(8, 3, 32, 32), torch.randn(8, 3, 32, 32)
    torch.manual_seed(1); exact = gan.gradient_penalty(critic, real, fake)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        torch.manual_seed(1); low = gan.gradient_penalty(critic, real, fake)
    assert low.dtype == torch.float32 and torch.isfinite(low)
    assert abs(low.item() - exact.item()) <= 0.05*abs(exact.item()) + 1e-3

def test_bf16_autocast_is_off_on_the_cpu():
    learn = small_learner()
    with learn.no_bar(), learn.no_logging(): learn.fit(1)
    assert learn.bf16_autocast.enabled is False

@pytest.mark.parametrize('recipe', ['dcgan', 'wgan_gp'])
def test_seed_presets_train(recipe):
    "The original's networks (BatchNorm in both nets) go through real training steps, and the frozen net does not move"
    from anime_colorization.dcgan import dcgan_learner
    from anime_colorization.wgan_gp import wgan_gp_learner
    set_seed(0)
    dls = colorization_dls(SyntheticFaces(40, size=64), size=64, bs=8)
    learn = (dcgan_learner if recipe == 'dcgan' else wgan_gp_learner)(dls, preset='seed')
    g0 = [t.clone() for t in learn.model.generator.state_dict().values()]
    with learn.no_bar(), learn.no_logging(): learn.fit(1)
    assert all(torch.isfinite(torch.tensor(v)) for v in learn.recorder.values[-1][:2])
    moved = any(not torch.equal(a, b) for a, b in zip(g0, learn.model.generator.state_dict().values()))
    assert moved == (recipe == 'dcgan'), "DCGAN takes generator steps here; WGAN-GP's 4 batches are all critic steps"
