"`anime-colorize train` as users run it: a real process, killed with SIGKILL and resumed; bad use; NaN; the files it leaves."
from cli_in_process import call_main
import csv, json, os, pty, shutil, signal, subprocess, sys, time
from pathlib import Path
import pytest
from safetensors import safe_open
from safetensors.torch import load_file, save_file

EXE = Path(sys.executable).parent/'anime-colorize'
QUICK = ['--data', 'synthetic:64', '--size', '32', '--bs', '16', '--pretrain-epochs', '1']
STRAIGHT = ['train', *QUICK, '--epochs', '2', '--out', 'run']  # typed in a folder of its own, so the command is the same anywhere
RUN_FILES = {'run.json', 'checkpoint.safetensors', 'history.csv', 'generator.safetensors', 'generator.json', 'losses.png', 'valid_colorings.png'}
ENV = {**os.environ, 'MPLBACKEND': 'Agg', 'CUDA_VISIBLE_DEVICES': ''}  # the CPU, where runs are deterministic

def run(*args, **kw):
    return subprocess.run([str(EXE), 'train', *map(str, args)], capture_output=True, text=True, env=ENV, **kw)

def call(*args): return call_main('train', *args)  # in this process: quicker, for refusals that stop before training

def one_line_error(r, *words):
    "The command failed with exactly one line on stderr, holding every one of `words`"
    err = r.stderr.strip()
    assert r.returncode == 1 and err.startswith('anime-colorize train: error: ') and '\n' not in err, r.stderr[-3000:]
    for w in words: assert w in err, (w, err)
    return err

def epochs_in(history:Path)->list:
    with open(history, newline='') as f: return [int(r[0]) for r in list(csv.reader(f))[1:]]

def tensors(path:Path)->dict: return load_file(str(path))

def same_tensors(a:dict, b:dict)->bool:
    return a.keys() == b.keys() and all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and (a[k] == b[k]).all() for k in a)

@pytest.fixture(scope='module')
def straight(tmp_path_factory):
    "The reference: `STRAIGHT` run without interruption; its folder and what it printed"
    cwd = tmp_path_factory.mktemp('straight')
    r = subprocess.run([str(EXE), *STRAIGHT], capture_output=True, text=True, env=ENV, cwd=cwd)
    assert r.returncode == 0, r.stderr[-3000:]
    return cwd/'run', r

def test_kill_9_then_resume_is_exact(tmp_path, straight):
    "kill -9 right after the first checkpoint appears, then `--resume`: the same weights, bit for bit, as the run never stopped"
    ref, _ = straight
    out = tmp_path/'run'
    proc = subprocess.Popen([str(EXE), *STRAIGHT], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV, cwd=tmp_path)
    deadline = time.time() + 600
    while not (out/'checkpoint.safetensors').exists():
        if proc.poll() is not None: pytest.fail(f"training ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
        if time.time() > deadline: proc.kill(); pytest.fail("no checkpoint appeared")
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL); proc.wait()
    with safe_open(str(out/'checkpoint.safetensors'), framework='pt') as f:   # the checkpoint is whole
        done = json.loads(f.metadata()['anime_colorization'])['epoch']
    assert done == 1 and not (out/'generator.safetensors').exists(), "killed after the first epoch's checkpoint, before the end"
    # what a kill while writing leaves: the history's and the checkpoint's temporary files
    (out/'history.tmp').write_text('epoch\n0\n'); (out/'.checkpoint.safetensors.12345.tmp').write_bytes(b'half')
    r = run(*STRAIGHT[1:], '--resume', cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert same_tensors(tensors(out/'generator.safetensors'), tensors(ref/'generator.safetensors')), "resumed weights differ from the straight run's"
    assert same_tensors(tensors(out/'checkpoint.safetensors'), tensors(ref/'checkpoint.safetensors')), "so do the optimiser or random states"
    assert epochs_in(out/'history.csv') == [0, 1, 2], "one row per epoch, none lost, none twice"
    meta = json.loads((out/'run.json').read_text())
    assert meta['status'] == 'finished' and meta['resumed_from_epoch'] == done
    assert {p.name for p in out.iterdir()} == RUN_FILES, "no temporary file is left (history.tmp, .checkpoint...tmp)"

def test_run_json_records_the_command_and_it_repeats_the_run(tmp_path, straight):
    ref, _ = straight
    command = json.loads((ref/'run.json').read_text())['command']
    assert command == ['anime-colorize', *STRAIGHT], command
    r = subprocess.run([str(EXE), *command[1:]], capture_output=True, text=True, env=ENV, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    assert same_tensors(tensors(tmp_path/'run'/'generator.safetensors'), tensors(ref/'generator.safetensors'))
    assert json.loads((tmp_path/'run'/'run.json').read_text())['command'] == command

def test_a_log_gets_a_line_per_epoch_and_a_terminal_gets_bars(tmp_path, straight):
    _, r = straight  # its stdout was a pipe
    assert '\r' not in r.stdout and '\r' not in r.stderr, "no progress-bar frames in a log"
    lines = [l for l in r.stdout.splitlines() if l.startswith('epoch ')]
    assert [l.split(':')[0] for l in lines] == ['epoch 1/3 (L1 only)', 'epoch 2/3', 'epoch 3/3'] and 'g_l1' in lines[-1], r.stdout
    # the control: the same kind of run on a terminal draws fastprogress's bars and no epoch lines of ours
    leader, follower = pty.openpty()
    proc = subprocess.Popen([str(EXE), 'train', *QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', tmp_path/'tty'],
                            stdout=follower, stderr=follower, env=ENV)
    os.close(follower)
    chunks = []
    while True:
        try: data = os.read(leader, 65536)
        except OSError: break  # the terminal closed: the process has ended
        if not data: break
        chunks.append(data)
    proc.wait(); os.close(leader)
    text = b''.join(chunks).decode(errors='replace')
    assert proc.returncode == 0, text[-3000:]
    assert '\r' in text and 'epoch 1/1:' not in text, text[-2000:]

def test_bad_use_is_one_clear_line(tmp_path):
    one_line_error(call('--out', tmp_path/'a'), '--data is required')
    one_line_error(call('--data', tmp_path/'missing', '--out', tmp_path/'a'), 'no such file or folder')
    (tmp_path/'empty').mkdir()
    one_line_error(call('--data', tmp_path/'empty', '--out', tmp_path/'a'), 'no usable image')
    r = run('--data', 'synthetic', '--gan', 'biggan', '--out', tmp_path/'a')
    assert r.returncode != 0 and "invalid choice: 'biggan'" in r.stderr and 'Traceback' not in r.stderr
    one_line_error(call('--data', 'synthetic', '--size', '40', '--out', tmp_path/'a'), 'not divisible by 16')
    one_line_error(call('--data', 'synthetic', '--preset', 'seed', '--size', '48', '--out', tmp_path/'a'), 'not divisible by 32')
    one_line_error(call('--data', 'synthetic', '--resume', '--out', tmp_path/'a'), 'no checkpoint to resume from')
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'notes.txt').write_text('precious')
    one_line_error(call('--data', 'synthetic', '--out', tmp_path/'mine'), 'is not a training run')
    assert (tmp_path/'mine'/'notes.txt').read_text() == 'precious'
    assert not (tmp_path/'a').exists()

def test_out_that_is_a_file_is_refused(tmp_path):
    (tmp_path/'notes.txt').write_text('precious')
    one_line_error(call(*QUICK, '--epochs', '1', '--out', tmp_path/'notes.txt'), f"{tmp_path/'notes.txt'}: is a file")
    one_line_error(call(*QUICK, '--epochs', '1', '--out', tmp_path/'notes.txt', '--overwrite'), 'is a file')
    assert (tmp_path/'notes.txt').read_text() == 'precious'

BAD_OPTIONS = [(['--pretrain-epochs', '-20'], '--pretrain-epochs -20: must be at least 0'),
               (['--epochs', '0'], '--epochs 0: must be at least 1'), (['--bs', '0'], '--bs 0: must be at least 1'),
               (['--checkpoint-every', '-1'], '--checkpoint-every -1'), (['--hindsight', '0'], '--hindsight 0: must be at least 1'),
               (['--lr-g', '0'], '--lr-g 0.0: must be above 0'), (['--lr-d', '-0.0001'], '--lr-d -0.0001: must be above 0'), (['--l1', '-1'], '--l1 -1.0'),
               (['--anchor', '-1'], '--anchor -1.0'), (['--mode-seeking', 'nan'], '--mode-seeking nan'),
               (['--valid-pct', '0'], '--valid-pct 0.0: must be above 0'), (['--valid-pct', '1'], '--valid-pct 1.0'),
               (['--preset', 'seed', '--noise', 'decoder'], "cannot change the seed preset's generator"),
               (['--size', '8'], '--size 8: too small'), (['--device', 'tpu'], "--device tpu: use 'cpu' or 'cuda'")]

@pytest.mark.parametrize('bad,msg', BAD_OPTIONS, ids=[' '.join(b) for b, _ in BAD_OPTIONS])
def test_every_option_is_checked_before_data_is_read_or_a_folder_made(tmp_path, bad, msg):
    missing = tmp_path/'no-such-data'
    # the control: without the bad option, the command goes on to read --data (and stops there)
    one_line_error(call('--data', missing, '--epochs', '1', '--out', tmp_path/'run'), f"{missing}: no such file or folder")
    err = one_line_error(call('--data', missing, '--epochs', '1', *bad, '--out', tmp_path/'run'), msg)
    assert 'no-such-data' not in err and not (tmp_path/'run').exists()

def test_a_valid_share_that_rounds_to_nothing_is_refused_before_training(tmp_path):
    one_line_error(call('--data', 'synthetic:8', '--size', '32', '--bs', '2', '--valid-pct', '0.01', '--epochs', '1', '--out', tmp_path/'run'),
                   'leaves none for validation')
    assert not (tmp_path/'run'/'run.json').exists()

def _copy_run(ref:Path, to:Path)->Path:
    shutil.copytree(ref, to)
    for name in ('generator.safetensors', 'generator.json', 'losses.png', 'valid_colorings.png'): (to/name).unlink()
    return to

def test_resume_refuses_a_bad_checkpoint_or_run_json_in_one_line(tmp_path, straight):
    ref, _ = straight
    good = (ref/'checkpoint.safetensors').read_bytes()
    def refused(out, *words):
        ckpt = (out/'checkpoint.safetensors').read_bytes() if (out/'checkpoint.safetensors').exists() else None
        meta = (out/'run.json').read_bytes() if (out/'run.json').exists() else None
        one_line_error(call(*STRAIGHT[1:-2], '--out', out, '--resume'), *words)
        assert ckpt == ((out/'checkpoint.safetensors').read_bytes() if ckpt is not None else None), "the checkpoint is left as it was"
        assert meta == ((out/'run.json').read_bytes() if meta is not None else None), "run.json is left as it was"
    out = _copy_run(ref, tmp_path/'truncated'); (out/'checkpoint.safetensors').write_bytes(good[:len(good)//2])
    refused(out, 'checkpoint.safetensors', 'not a readable safetensors file')
    out = _copy_run(ref, tmp_path/'damaged'); (out/'checkpoint.safetensors').write_bytes(b'\xff'*16 + good[16:])
    refused(out, 'checkpoint.safetensors', 'not a readable safetensors file')
    out = _copy_run(ref, tmp_path/'mismatched')
    with safe_open(str(ref/'checkpoint.safetensors'), framework='pt') as f:
        meta, t = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}
    key = next(k for k in t if k.startswith('model.generator.') and t[k].ndim == 4)
    t[key] = t[key][:, :1].contiguous()   # a net of another shape
    save_file(t, str(out/'checkpoint.safetensors'), metadata=meta)
    refused(out, 'checkpoint.safetensors', 'does not match this model')
    out = _copy_run(ref, tmp_path/'no-run-json'); (out/'run.json').unlink()
    refused(out, 'has a checkpoint but no run.json')
    out = _copy_run(ref, tmp_path/'bad-run-json'); (out/'run.json').write_text('{"settings": ')
    refused(out, 'run.json: damaged')
    # the control: the intact copy resumes (nothing left to train: all epochs are done)
    out = _copy_run(ref, tmp_path/'intact')
    r = call(*STRAIGHT[1:-2], '--out', out, '--resume')
    assert r.returncode == 0 and 'all 3 epochs are already done' in r.stdout, r.stderr[-3000:]

def test_l1_0_leaves_no_l1_term():
    "`--l1 0`: the generator's loss no longer depends on the real colours; `--l1 0 --anchor 1` (the control) does"
    import torch
    from anime_colorization.data import SyntheticFaces
    from anime_colorization.datablock import colorization_dls
    from anime_colorization.cli import _learner
    dls = colorization_dls(SyntheticFaces(40, size=32), size=32, bs=8, device='cpu', progress=False)
    _, real = dls.one_batch()
    real = real.as_subclass(torch.Tensor)
    other = real.clone(); other[:, 1:] = -other[:, 1:]   # other colours, the same lightness
    def loss(learn, target):
        torch.manual_seed(0)
        if learn.model.generator.z_rng is not None: learn.model.generator.manual_seed(0)
        learn.model.gen_mode = True
        fake = learn.model(real[:, :1])
        return learn.loss_func.generator_loss(fake, target).item()
    torch.manual_seed(0); no_l1 = _learner(dls, 'dcgan', None, 32, l1=0.)
    assert (no_l1.loss_func.l1, no_l1.loss_func.anchor) == (0., 0.)
    assert loss(no_l1, real) == loss(no_l1, other)
    torch.manual_seed(0); anchored = _learner(dls, 'dcgan', None, 32, l1=0., anchor=1.)
    assert anchored.loss_func.anchor == 1. and loss(anchored, real) != loss(anchored, other)
    default = _learner(dls, 'dcgan', None, 32)
    assert (default.loss_func.l1, default.loss_func.anchor) == (100., 100.), "today's default is kept"
    assert _learner(dls, 'dcgan', None, 32, l1=5.).loss_func.anchor == 5., "the anchor follows --l1 unless --anchor is given"
    assert _learner(dls, 'dcgan', None, 32, anchor=0.).loss_func.anchor == 0.

def test_data_errors_are_one_line(tmp_path):
    src = tmp_path/'faces'; src.mkdir()
    (src/'a.png').write_bytes(b'not a picture'); (src/'b.png').write_bytes(b'')
    err = one_line_error(call('--data', src, '--out', tmp_path/'run'), f"{src}: no usable image was found")
    assert '1 excluded as not an image' in err and '1 excluded as zero bytes' in err, err

def test_the_process_group_is_ended_on_an_error(tmp_path):
    "Two processes under torchrun, both refused after the group started: each leaves it ended (today's code left it open)"
    (tmp_path/'empty').mkdir()
    script = tmp_path/'two.py'
    # each line in one write: torchrun's two processes share the pipe unbuffered, and print's pieces interleave
    script.write_text(f"""import sys
import torch.distributed as dist
from fastcore.script import CliError
from anime_colorization.cli import train
try: train(data={str(tmp_path/'empty')!r}, out={str(tmp_path/'run')!r}, device='cpu', size=32, epochs=1)
except CliError as e: sys.stdout.write(f'refused: {{e}}\\n')
sys.stdout.write(f'group still open: {{dist.is_initialized()}}\\n')
""")
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(script)],
                       capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert r.stdout.count('refused:') == 2 and 'no usable image' in r.stdout, r.stdout
    assert r.stdout.count('group still open: False') == 2, r.stdout

def test_a_run_folder_is_protected_and_resumed_only_as_itself(tmp_path):
    out = tmp_path/'run'
    r = run(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    one_line_error(call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', out), 'holds another run')
    err = one_line_error(call(*QUICK, '--pretrain-epochs', '0', '--epochs', '2', '--gan', 'wgan-gp', '--resume', '--out', out), 'differ')
    assert "'gan'" in err
    r = run(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--overwrite', '--gan', 'wgan-gp', '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((out/'run.json').read_text())['settings']['gan'] == 'wgan-gp'

def test_nan_stops_with_the_step_and_keeps_the_checkpoint(tmp_path):
    out = tmp_path/'run'
    r = run(*QUICK, '--epochs', '3', '--lr-d', '1e30', '--out', out)  # a sane L1 epoch, then a critic that explodes
    assert r.returncode == 1, r.stderr[-2000:]
    assert 'the loss became nan at epoch 1, step' in r.stderr and 'the last good checkpoint is kept' in r.stderr
    with safe_open(str(out/'checkpoint.safetensors'), framework='pt') as f:
        assert json.loads(f.metadata()['anime_colorization'])['epoch'] == 1
        assert all(f.get_tensor(k).isfinite().all() for k in f.keys() if k.startswith('model.'))
    assert json.loads((out/'run.json').read_text())['status'].startswith('stopped')
    assert not (out/'generator.safetensors').exists()

def test_the_recipe_can_be_changed_part_by_part(tmp_path):
    out = tmp_path/'before'
    r = run(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--upsample', 'transpose', '--hindsight', '1', '--anchor', '0', '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    config = json.loads((out/'generator.json').read_text())['config']
    assert config['upsample'] == 'transpose'
    assert config['noise'] == 'modulation', "--upsample alone keeps the recipe's noise, not UNetGenerator's own default"
    settings = json.loads((out/'run.json').read_text())['settings']
    assert (settings['upsample'], settings['hindsight'], settings['anchor']) == ('transpose', 1, 0.)
    assert 'g_anchor' not in (out/'history.csv').read_text().splitlines()[0], "no anchor term is recorded"
    err = one_line_error(call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', out, '--resume'), 'differ')  # other recipe settings
    assert 'upsample' in err

def test_a_resumed_run_keeps_the_noise_it_trained_with(tmp_path):
    "run.json records how z enters the generator; a run from before it was recorded trained with 'all_scales' and resumes with it"
    out = tmp_path/'concat'
    r = run(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--noise', 'all_scales', '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((out/'run.json').read_text())['recipe']['noise'] == 'all_scales'
    r = call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', out, '--resume')  # no --noise: the run's own
    assert r.returncode == 0 and 'all 1 epochs are already done' in r.stdout, r.stderr[-3000:]
    one_line_error(call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--noise', 'modulation', '--out', out, '--resume'),
                   "'noise': ('all_scales', 'modulation')", '--noise all_scales')
    meta = json.loads((out/'run.json').read_text())  # as the version before the record wrote it: neither settings nor recipe say
    del meta['recipe']['noise']; meta['settings']['noise'] = None
    (out/'run.json').write_text(json.dumps(meta))
    r = call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', out, '--resume')
    assert r.returncode == 0 and 'all 1 epochs are already done' in r.stdout, r.stderr[-3000:]
    r = call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', tmp_path/'new')  # the control: a new run takes today's default
    assert r.returncode == 0 and json.loads((tmp_path/'new'/'run.json').read_text())['recipe']['noise'] == 'modulation', r.stderr[-3000:]

def test_resume_keeps_the_loss_a_run_trained_with_when_defaults_change(tmp_path, straight):
    "run.json records the loss as the recipe resolved it; a run from before `seek`, `tint` or `spread` existed resumes only as it trained"
    ref, _ = straight
    recipe = json.loads((ref/'run.json').read_text())['recipe']
    assert (recipe['seek'], recipe['tint'], recipe['hindsight'], recipe['anchor']) == ('tint_free', 50., 4, 100.)  # today's defaults
    out = _copy_run(ref, tmp_path/'older')  # its run.json as the version before them wrote it
    meta = json.loads((out/'run.json').read_text())
    del meta['recipe'], meta['settings']['seek'], meta['settings']['tint']
    meta['settings']['noise'] = 'modulation'  # then a run's noise was only in its settings: this one trained with today's, as if given
    (out/'run.json').write_text(json.dumps(meta))
    one_line_error(call(*STRAIGHT[1:-2], '--out', out, '--resume'), 'other recipe settings', '--seek all --tint 0.0')
    r = call(*STRAIGHT[1:-2], '--seek', 'all', '--tint', '0', '--out', out, '--resume')  # as it trained: accepted
    assert r.returncode == 0 and 'all 3 epochs are already done' in r.stdout, r.stderr[-3000:]
    one_line_error(call(*STRAIGHT[1:-2], '--tint', '10', '--out', _copy_run(ref, tmp_path/'today'), '--resume'), "'tint': (50.0, 10.0)")
    out = _copy_run(ref, tmp_path/'before_spread')  # recorded before the spread term existed: it trained without it
    meta = json.loads((out/'run.json').read_text())
    del meta['recipe']['spread'], meta['settings']['spread']
    (out/'run.json').write_text(json.dumps(meta))
    one_line_error(call(*STRAIGHT[1:-2], '--spread', '5', '--out', out, '--resume'), "'spread': (0.0, 5.0)")

def test_a_resumed_run_keeps_the_widths_it_trained_with(tmp_path, monkeypatch):
    "run.json records the networks' widths; `--resume` takes them from there, refuses others, and a run from before they were recorded resumes with the widths of then"
    import anime_colorization.dcgan as dcgan
    from anime_colorization.cli import OLD_WIDTHS
    narrow = ['--pretrain-epochs', '0', '--epochs', '1', '--width', '8', '--critic-width', '16']  # widths no default has
    r = run(*QUICK, *narrow, '--out', tmp_path/'narrow')
    assert r.returncode == 0, r.stderr[-2000:]
    out = tmp_path/'narrow'
    assert json.loads((out/'generator.json').read_text())['config']['width'] == 8
    recipe = json.loads((out/'run.json').read_text())['recipe']
    assert (recipe['width'], recipe['critic_width']) == (8, 16)
    r = call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', out, '--resume')  # no --width: the run's own
    assert r.returncode == 0 and 'all 1 epochs are already done' in r.stdout, r.stderr[-3000:]
    one_line_error(call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--width', '12', '--out', out, '--resume'), "'width': (8, 12)", '--width 8')
    one_line_error(call(*QUICK, '--preset', 'seed', '--width', '16', '--out', tmp_path/'seed'), '--width and --critic-width cannot change')
    one_line_error(call(*QUICK, '--width', '0', '--out', tmp_path/'zero'), '--width 0', 'at least 1')
    # a run whose run.json predates the widths trained with OLD_WIDTHS; it resumes with them even when the defaults differ
    old = tmp_path/'old'
    r = run(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--width', OLD_WIDTHS['width'], '--critic-width', OLD_WIDTHS['critic_width'], '--out', old)
    assert r.returncode == 0, r.stderr[-2000:]
    meta = json.loads((old/'run.json').read_text())
    for k in ('width', 'critic_width'): del meta['recipe'][k], meta['settings'][k]
    (old/'run.json').write_text(json.dumps(meta))
    monkeypatch.setattr(dcgan, 'DCGAN_WIDTHS', (8, 16))  # other defaults than the run's (`call` runs in this process)
    r = call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', old, '--resume')
    assert r.returncode == 0 and 'all 1 epochs are already done' in r.stdout, r.stderr[-3000:]
    r = call(*QUICK, '--pretrain-epochs', '0', '--epochs', '1', '--out', tmp_path/'new')  # the control: a new run takes the defaults
    assert r.returncode == 0 and json.loads((tmp_path/'new'/'run.json').read_text())['recipe']['width'] == 8, r.stderr[-3000:]
