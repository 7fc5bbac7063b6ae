"Data-parallel training with two CPU processes (gloo), launched by torchrun as a user would, on synthetic faces."
import csv, json, os, subprocess, sys
from pathlib import Path

EXE = Path(sys.executable).parent/'anime-colorize'

def test_two_processes_train_the_same_nets(tmp_path):
    out = tmp_path/'run'
    cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', str(EXE), 'train',
           '--data', 'synthetic:256', '--size', '32', '--bs', '16', '--epochs', '2', '--pretrain-epochs', '1',
           '--device', 'cpu', '--out', str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'}, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert r.stdout.count('all 2 processes hold identical generator weights') == 1, "checked on every rank, said once by rank 0"
    assert r.stdout.count('finished 3 epochs') == 1, "only rank 0 reports and writes"
    run = json.loads((out/'run.json').read_text())
    assert run['processes'] == 2 and run['status'] == 'finished'
    with open(out/'history.csv', newline='') as f: assert [int(row[0]) for row in list(csv.reader(f))[1:]] == [0, 1, 2]
    assert sorted(p.name for p in out.iterdir()) == sorted(['run.json', 'checkpoint.safetensors', 'history.csv', 'generator.safetensors',
                                                           'generator.json', 'losses.png', 'valid_colorings.png'])
