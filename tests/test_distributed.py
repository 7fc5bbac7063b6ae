"""Data-parallel training with two CPU processes (gloo), launched by torchrun, on synthetic faces. Every verdict is
reached here, from what the processes wrote, never from what the code under test says about itself."""
import csv, json, os, subprocess, sys
from pathlib import Path
import pytest, torch
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from safetensors.torch import load_file

from anime_colorization.lab import rgb_to_lab, normalize_lab

from anime_colorization.datablock import colorization_dls
from anime_colorization.dcgan import dcgan_learner
from anime_colorization.gan import pretrain_generator
import dp_probe

EXE = Path(sys.executable).parent/'anime-colorize'
ENV = {**os.environ, 'MPLBACKEND': 'Agg', 'OMP_NUM_THREADS': '1'}

def torchrun(*args, timeout=600):
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', *map(str, args)],
                       capture_output=True, text=True, env=ENV, timeout=timeout)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    return r

@pytest.fixture(scope='module')
def probed(tmp_path_factory):
    "What each of the two processes of `dp_probe.py` wrote"
    out = tmp_path_factory.mktemp('dp')
    torchrun(Path(dp_probe.__file__), out)
    ranks = [out/f'rank{r}' for r in range(2)]
    return [dict(info=json.loads((d/'info.json').read_text()), gen=load_file(d/'generator.safetensors'),
                 critic=load_file(d/'critic.safetensors'), batches=load_file(d/'batches.safetensors'),
                 steps=load_file(d/'steps.safetensors')) for d in ranks]

def test_both_processes_end_with_the_same_nets(probed):
    a, b = probed
    for net in ('gen', 'critic'):
        assert a[net].keys() == b[net].keys() and a[net]
        for k in a[net]: assert torch.equal(a[net][k], b[net][k]), f"{net} {k} differs between the processes"
    start = {k.split('.before.', 1)[1]: v for k, v in a['steps'].items() if k.startswith('0.before.')}
    moved = [k for k in a['gen'] if not torch.equal(a['gen'][k], start[f'generator.{k}'])]
    assert len(moved) > len(a['gen'])//2, "training moved the generator (so equal weights are not just equal starting points)"
    assert any(not torch.equal(a['critic'][k], start[f'critic.{k}']) for k in a['critic'])

def picture_ids(batches, train_l):
    "The training picture each recorded L is: the nearest by far (the loader converts in float32, so not bit for bit)"
    ids = []
    for l in batches:
        d, idx = torch.cdist(l.flatten(1).double(), train_l.flatten(1).double()).topk(2, largest=False)
        assert (d[:, 0] < 0.1).all() and (d[:, 1] > 1.).all(), "every picture read is one of the training pictures, unmistakably"
        ids += idx[:, 0].tolist()
    return ids

def test_each_epoch_is_split_between_the_processes(probed):
    dls = colorization_dls(dp_probe.faces(), size=dp_probe.SIZE, bs=dp_probe.BS, valid_pct=dp_probe.VALID, seed=0, device='cpu', flip=False)
    rgb = dp_probe.faces().images()[list(dls.train_ds.items)]
    train_l = normalize_lab(rgb_to_lab(torch.from_numpy(rgb).permute(0, 3, 1, 2)))[:, :1]
    n = len(train_l)
    seen = []
    for p in probed:
        per_epoch = {}
        for i, (fit_no, epoch) in enumerate(p['info']['batches']):
            per_epoch.setdefault((fit_no, epoch), []).append(p['batches'][f'l.{i}'])
        seen.append({k: picture_ids(v, train_l) for k, v in per_epoch.items()})
    assert seen[0].keys() == seen[1].keys() and len(seen[0]) == 2, "one pre-training epoch and one adversarial epoch on each process"
    for epoch in seen[0]:
        a, b = seen[0][epoch], seen[1][epoch]
        assert len(a) == len(b) == n//2 and len(set(a)) == len(set(b)) == n//2, "each process reads half the pictures, each once"
        assert not set(a) & set(b), "the two processes read different pictures"
        assert set(a) | set(b) == set(range(n)), "together they read every training picture"
    assert seen[0][(0, 0)] != seen[0][(1, 0)], "each epoch is shuffled anew"

def one_process_step(weights, batch, zs, pretrain:bool, gen_mode:bool):
    "One step of the same recipe in this process, from `weights`, on `batch`, drawing the noises `zs`: what `Probe` recorded"
    g, d = dp_probe.nets()
    items = [(x, y) for x, y in zip(*batch)]
    dls = DataLoaders(DataLoader(items, bs=len(items)), DataLoader(items, bs=len(items)), device='cpu')
    probe = dp_probe.Probe()
    learn = dcgan_learner(dls, generator=g, critic=d, mode_seeking=0., tint=0., cbs=[probe])
    learn.model.load_state_dict(weights)
    learn.gan_switcher.generating = gen_mode  # the mode the processes were in at that step
    queue, real = list(zs), g.sample_z
    g.sample_z = lambda n, device=None, generator=None: queue.pop(0) if queue else real(n, device, generator)
    with learn.no_bar(), learn.no_logging():
        if pretrain: pretrain_generator(learn, 1)
        else: learn.fit(1)
    assert not queue, "the step drew as many noises as the processes did"
    return probe.steps[0]

def recorded_step(p, s):
    "Step `s` of one process: its kind, weights before, batch, noises (one tensor per draw), averaged gradients and weights after"
    t, info = p['steps'], p['info']['steps'][s]
    part = lambda name: {k.split(f'.{name}.', 1)[1]: v for k, v in t.items() if k.startswith(f'{s}.{name}.')}
    return info, part('before'), (t[f'{s}.x'], t[f'{s}.y']), list(t[f'{s}.z'].chunk(info['n_z'])), part('grads'), part('after')

def relative(a, b): return (a - b).abs().max().item() / (b.abs().max().item() + 1e-12)

@pytest.mark.parametrize('s, what', [(0, 'first pre-training step'), (1, 'first adversarial generator step'), (2, 'first critic step')])
def test_first_steps_equal_one_process_on_the_union(probed, s, what):
    (kind, before, (x0, y0), z0, g0, after0), (kind1, _, (x1, y1), z1, _, after1) = recorded_step(probed[0], s), recorded_step(probed[1], s)
    assert kind == kind1 and (kind['fit'], kind['gen_mode']) == [(0, True), (1, True), (1, False)][s]
    assert not torch.equal(x0, x1), "the processes stepped on different batches"
    for k in after0: assert torch.equal(after0[k], after1[k]), f"{what}: {k} differs between the processes"
    args = dict(pretrain=kind['fit'] == 0, gen_mode=kind['gen_mode'])
    union = one_process_step(before, (torch.cat([x0, x1]), torch.cat([y0, y1])), [torch.cat(z) for z in zip(z0, z1)], **args)
    alone = one_process_step(before, (x0, y0), z0, **args)
    assert union['grads'].keys() == g0.keys() and g0, f"{what}: the same parameters have gradients"
    flat = lambda g: torch.cat([g[k].flatten() for k in sorted(g0)])
    top = flat(union['grads']).abs().max().item()
    for k in g0:  # to float tolerance; biases just before an instance norm get gradients of pure rounding noise (~1e-8)
        assert torch.allclose(g0[k], union['grads'][k], rtol=1e-3, atol=1e-5*top), f"{what}: the averaged gradient of {k} is the union's"
    assert relative(flat(g0), flat(union['grads'])) < 1e-5
    off = relative(flat(alone['grads']), flat(union['grads']))
    assert off > 1e-2, f"control: one process's own batch gives other gradients (relative difference {off:.2g})"
    if s != 1:  # the optimiser's first step for these weights (the adversarial generator step follows pre-training's)
        for k in after0:
            g = union['grads'].get(k)
            sure = (g.abs() > 1e-6) if g is not None and g.shape == after0[k].shape else torch.ones_like(after0[k], dtype=torch.bool)
            # Adam's first step is lr*g/(|g| + 1e-8): where g is rounding noise, so is the step; elsewhere it must match
            assert torch.allclose(after0[k][sure], union['after'][k][sure], rtol=1e-4, atol=1e-6), f"{what}: {k} after the step"

def test_train_command_with_two_processes(tmp_path):
    "The `train` command under torchrun: one run folder, written by rank 0 alone, whose generator is rank 0's"
    out = tmp_path/'run'
    r = torchrun(EXE, 'train', '--data', 'synthetic:256', '--size', '32', '--bs', '16', '--epochs', '1', '--pretrain-epochs', '1',
                 '--device', 'cpu', '--out', out)
    assert r.stdout.count('finished 2 epochs') == 1, "only rank 0 reports and writes"
    run = json.loads((out/'run.json').read_text())
    assert run['processes'] == 2 and run['status'] == 'finished'
    with open(out/'history.csv', newline='') as f: assert [int(row[0]) for row in list(csv.reader(f))[1:]] == [0, 1]
    assert sorted(p.name for p in out.iterdir()) == sorted(['run.json', 'checkpoint.safetensors', 'history.csv', 'generator.safetensors',
                                                           'generator.json', 'losses.png', 'valid_colorings.png'])
