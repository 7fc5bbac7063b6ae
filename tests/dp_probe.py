"""Run by `test_distributed.py` under torchrun (gloo, CPU): the DCGAN recipe trained with `DataParallelGAN`, one epoch of
L1-only pre-training and one adversarial epoch, with a callback of our own recording what each process read, the first
step of each kind (pre-training, adversarial generator, critic: weights before and after, batch, noises drawn, gradients
once averaged) and the final nets.

The mode-seeking term is off: it is a ratio of two means over the batch, so with it a step on two halves is not a step on
their union (each process divides by its own half's mean), whatever the averaging. The tint penalty is off too: it is a
mean over pictures, but it draws a second noise per picture, which the union step would have to draw alike. Every other
term is a mean over pictures.

    torchrun --standalone --nproc_per_node 2 tests/dp_probe.py OUT
"""
import json, os, sys
from pathlib import Path
import torch, torch.distributed as dist
from fastai.callback.core import Callback
from fastai.torch_core import set_seed
from safetensors.torch import save_file

from anime_colorization.data import SyntheticFaces
from anime_colorization.datablock import colorization_dls
from anime_colorization.unet import UNetGenerator
from anime_colorization.gan import patch_critic, DataParallelGAN, pretrain_generator, plain
from anime_colorization.unet import export_generator
from anime_colorization.dcgan import dcgan_learner

N, SIZE, BS, VALID = 256, 32, 16, 0.125  # 224 training faces: 7 batches of 16 on each of 2 processes, none left over

def faces(): return SyntheticFaces(N, size=SIZE, seed=0)
def nets():
    "A small generator and critic whose normalisation is per picture (instance norm, spectral norm), as the union check needs"
    return UNetGenerator(depth=3, width=16, norm='instance'), patch_critic(width=16, n_layers=2, spectral=True)

def state(model): return {k: v.detach().clone() for k, v in model.state_dict().items()}

class Probe(Callback):
    "Record every training batch's L, and the first step of each kind in each `fit`: weights before and after, batch, noises, gradients"
    order = 13  # after `DataParallelGAN` (12): it has broadcast the weights, averaged the gradients and the buffers
    def __init__(self): self.ls, self.steps, self.kinds, self.fit_no, self.recording = [], [], set(), -1, False
    def before_fit(self):
        self.fit_no += 1
        g = self.learn.model.generator
        if not hasattr(g, '_real_sample_z'):
            g._real_sample_z = g.sample_z
            def sample_z(*a, **k):
                z = g._real_sample_z(*a, **k)
                if self.recording: self.step['z'].append(z.clone())
                return z
            g.sample_z = sample_z
    def before_batch(self):
        if not self.training: return
        self.ls.append((self.fit_no, self.epoch, plain(self.xb[0]).clone()))
        kind = (self.fit_no, bool(self.learn.model.gen_mode))
        self.recording = kind not in self.kinds
        if self.recording:
            self.kinds.add(kind)
            self.step = dict(fit=self.fit_no, gen_mode=kind[1], before=state(self.learn.model), x=plain(self.xb[0]).clone(),
                             y=plain(self.yb[0]).clone(), z=[])
    def after_backward(self):
        if self.recording: self.step['grads'] = {n: p.grad.detach().clone() for n, p in self.learn.model.named_parameters() if p.grad is not None}
    def after_step(self):
        if self.recording: self.step['after'] = state(self.learn.model); self.steps.append(self.step); self.recording = False

def save(probe, learn, out:Path):
    "Write what this process saw: the nets at the end, every batch's L, and the recorded steps"
    out.mkdir(parents=True, exist_ok=True)
    export_generator(learn.model.generator, out/'generator.safetensors')
    save_file(state(learn.model.critic), str(out/'critic.safetensors'))
    save_file({f'l.{i}': l.contiguous() for i, (_, _, l) in enumerate(probe.ls)}, str(out/'batches.safetensors'))
    tensors = {}
    for s, step in enumerate(probe.steps):
        for part in ('before', 'after', 'grads'):
            tensors.update({f'{s}.{part}.{k}': v.contiguous() for k, v in step[part].items()})
        tensors.update({f'{s}.x': step['x'], f'{s}.y': step['y'], f'{s}.z': torch.cat(step['z'])})
    save_file(tensors, str(out/'steps.safetensors'))
    info = dict(batches=[(f, e) for f, e, _ in probe.ls], steps=[dict(fit=s['fit'], gen_mode=s['gen_mode'], n_z=len(s['z'])) for s in probe.steps],
                world=dist.get_world_size(), train_batches=len(learn.dls.train))
    (out/'info.json').write_text(json.dumps(info))

def main(out:Path):
    dist.init_process_group('gloo')
    rank = dist.get_rank()
    set_seed(rank)  # different seeds: the nets must agree because the callback broadcasts them, not by luck
    dls = colorization_dls(faces(), size=SIZE, bs=BS, valid_pct=VALID, seed=0, device='cpu', flip=False, progress=False)
    g, d = nets()
    probe = Probe()
    learn = dcgan_learner(dls, generator=g, critic=d, mode_seeking=0., tint=0., cbs=[DataParallelGAN(), probe])
    with learn.no_bar(), learn.no_logging():
        pretrain_generator(learn, 1)
        learn.fit(1)
    save(probe, learn, out/f'rank{rank}')
    dist.barrier()
    dist.destroy_process_group()

if __name__ == '__main__': main(Path(sys.argv[1]))
