"""Benchmark: `anime-colorize train` in one process and in two data-parallel processes (torchrun, gloo on the CPU),
measured in the same run on the same synthetic faces and settings.

    python benchmarks/bench_distributed.py

On a 2-core machine two processes share the same two cores (torchrun sets one thread each), so this measures the cost
of the averaging, not a speed-up: the point here is that it works; on several GPUs each process has its own device.
"""
import os, subprocess, sys, tempfile, time
from pathlib import Path

EXE = Path(sys.executable).parent/'anime-colorize'
N, SIZE, BS, EPOCHS = 1024, 32, 32, 2

def timed(nproc:int)->float:
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', str(nproc), str(EXE), 'train',
               '--data', f'synthetic:{N}', '--size', str(SIZE), '--bs', str(BS), '--epochs', str(EPOCHS), '--pretrain-epochs', '0',
               '--device', 'cpu', '--out', str(Path(d)/'run')]
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, 'MPLBACKEND': 'Agg'})
        if r.returncode: sys.exit(r.stderr[-3000:])
        return time.perf_counter() - t

if __name__ == '__main__':
    import torch
    print(f"torch {torch.__version__}, CPUs {os.cpu_count()}; {N} synthetic faces at {SIZE} px, batch {BS} per process, {EPOCHS} DCGAN epochs")
    images = EPOCHS*int(N*0.9)
    for nproc in (1, 2):
        t = timed(nproc)
        print(f"{nproc} process{'es' if nproc > 1 else ''}: {t:6.2f} s wall (start-up included), {images/t:6.1f} training images/s")
