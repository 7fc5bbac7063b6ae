"`anime-colorize train` as users run it: a real process, killed with SIGKILL and resumed; bad use; NaN; the files it leaves."
import csv, json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest
from safetensors import safe_open

EXE = Path(sys.executable).parent/'anime-colorize'
QUICK = ['--data', 'synthetic:384', '--size', '32', '--bs', '32', '--pretrain-epochs', '1']

def run(*args, **kw):
    return subprocess.run([str(EXE), 'train', *map(str, args)], capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'}, **kw)

def epochs_in(history:Path)->list:
    with open(history, newline='') as f: return [int(r[0]) for r in list(csv.reader(f))[1:]]

def test_kill_9_then_resume(tmp_path):
    out = tmp_path/'run'
    args = [*QUICK, '--epochs', '5', '--out', out]
    proc = subprocess.Popen([str(EXE), 'train', *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, 'MPLBACKEND': 'Agg'})
    deadline = time.time() + 240
    while time.time() < deadline:
        if (out/'history.csv').exists() and len(epochs_in(out/'history.csv')) >= 2: break
        if proc.poll() is not None: pytest.fail(f"training ended before it could be killed: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    else: pytest.fail("no epoch finished in time")
    time.sleep(0.3)  # somewhere inside the next epoch (or its checkpoint write)
    proc.send_signal(signal.SIGKILL); proc.wait()
    with safe_open(str(out/'checkpoint.safetensors'), framework='pt') as f:   # the checkpoint is whole
        done = json.loads(f.metadata()['anime_colorization'])['epoch']
    assert done >= 2 and not (out/'generator.safetensors').exists()
    r = run(*args, '--resume')
    assert r.returncode == 0, r.stderr[-3000:]
    assert epochs_in(out/'history.csv') == list(range(6)), "one row per epoch, none lost, none twice"
    meta = json.loads((out/'run.json').read_text())
    assert meta['status'] == 'finished' and meta['resumed_from_epoch'] == done
    assert {'generator.safetensors', 'generator.json', 'losses.png', 'valid_colorings.png'} <= {p.name for p in out.iterdir()}
    assert [p.name for p in out.iterdir() if p.name.startswith('.')] == [], "no temporary files left"

def test_bad_use_is_one_clear_line(tmp_path):
    def fails(*args, msg):
        r = run(*args)
        assert r.returncode != 0 and msg in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
    fails('--out', tmp_path/'a', msg='--data is required')
    fails('--data', tmp_path/'missing', '--out', tmp_path/'a', msg='no such file or folder')
    (tmp_path/'empty').mkdir()
    fails('--data', tmp_path/'empty', '--out', tmp_path/'a', msg='no usable image')
    fails('--data', 'synthetic', '--gan', 'biggan', '--out', tmp_path/'a', msg="invalid choice: 'biggan'")
    fails('--data', 'synthetic', '--size', '40', '--out', tmp_path/'a', msg='not divisible by 16')
    fails('--data', 'synthetic', '--preset', 'seed', '--size', '48', '--out', tmp_path/'a', msg='not divisible by 32')
    fails('--data', 'synthetic', '--resume', '--out', tmp_path/'a', msg='no checkpoint to resume from')
    (tmp_path/'mine').mkdir(); (tmp_path/'mine'/'notes.txt').write_text('precious')
    fails('--data', 'synthetic', '--out', tmp_path/'mine', msg='is not a training run')
    assert (tmp_path/'mine'/'notes.txt').read_text() == 'precious'

def test_a_run_folder_is_protected_and_resumed_only_as_itself(tmp_path):
    out = tmp_path/'run'
    r = run(*QUICK, '--epochs', '1', '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    r = run(*QUICK, '--epochs', '1', '--out', out)
    assert r.returncode == 1 and 'holds another run' in r.stderr
    r = run(*QUICK, '--epochs', '2', '--gan', 'wgan-gp', '--resume', '--out', out)
    assert r.returncode == 1 and "'gan'" in r.stderr and 'differ' in r.stderr
    r = run(*QUICK, '--epochs', '1', '--overwrite', '--gan', 'wgan-gp', '--out', out)
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
    r = run(*QUICK, '--epochs', '1', '--upsample', 'transpose', '--hindsight', '1', '--no-anchor', '--out', out)
    assert r.returncode == 0, r.stderr[-2000:]
    assert json.loads((out/'generator.json').read_text())['config']['upsample'] == 'transpose'
    settings = json.loads((out/'run.json').read_text())['settings']
    assert (settings['upsample'], settings['hindsight'], settings['no_anchor']) == ('transpose', 1, True)
    r = run(*QUICK, '--epochs', '1', '--out', out, '--resume')   # other recipe settings than the run's: refused
    assert r.returncode != 0 and 'differ' in r.stderr and 'upsample' in r.stderr
    for args, msg in [(['--hindsight', '0'], '--hindsight 0: at least 1'),
                      (['--preset', 'seed', '--upsample', 'nearest'], "cannot change the seed preset's generator")]:
        r = run('--data', 'synthetic', *args, '--out', tmp_path/'x')
        assert r.returncode != 0 and msg in r.stderr and 'Traceback' not in r.stderr, r.stderr[-2000:]
