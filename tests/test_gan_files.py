"Checkpoints and exported generators: atomic writes, exact contents, and clear errors for bad files."
import json, pickle
import pytest, torch
from fastai.torch_core import set_seed

import anime_colorization.gan as gan
from anime_colorization.data import SyntheticFaces
from anime_colorization.lab import colorization_dls
from anime_colorization.unet import UNetGenerator
from anime_colorization.gan import (gan_learner, wgan_critic, save_checkpoint, load_checkpoint, export_generator, load_generator)

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
