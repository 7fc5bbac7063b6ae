"""The original Keras generator, rebuilt layer for layer, to time its batched predict in the same run as ours.

    python benchmarks/keras_original.py [--size 128] [--n 25] [--reps 7]    # prints its parameters and the timing
    python benchmarks/keras_original.py --serve                             # for bench_colorize: one timing per line read

Needs TensorFlow (not a dependency of the project; the original ran on Keras 2.15 / TensorFlow 2.15 CPU), e.g. in a
separate environment: `python -m venv tf && tf/bin/pip install tensorflow-cpu==2.15.1`. `bench_colorize.py
--keras-python tf/bin/python` starts this file with `--serve` and, each time it writes a line, this process runs one
`model.predict` of `--n` colourings and answers with its milliseconds, so the two are timed alternately and a change
in the machine's speed affects both alike.

The architecture is the one `seed_generator` (02_unet) reproduces in PyTorch: z (100) -> Dense -> one image-sized map
beside L; five 3x3 stride-2 convolutions of 64..1024 filters; a 1x1 convolution 1024 -> 128; 3x3 stride-2 transposed
convolutions of 128, 64, 32 and 16 filters, each followed by the encoder's skip at its size; a last transposed
convolution to AB and tanh. LeakyReLU(0.2) and BatchNorm after every convolution but the last. The weights are
random: a predict's time does not depend on them.
"""
from __future__ import annotations
import argparse, os, statistics, sys, time

def original_generator(size:int=128, # picture side
                       latent:int=100, # noise size
                      ):
    "The original's generator in Keras: (L, z) -> AB"
    from tensorflow import keras
    from tensorflow.keras import layers
    l_in, z_in = keras.Input((size, size, 1)), keras.Input((latent,))
    noise = layers.Reshape((size, size, 1))(layers.Dense(size*size)(z_in))
    h = layers.Concatenate()([l_in, noise])
    block = lambda h, layer: layers.LeakyReLU(0.2)(layers.BatchNormalization()(layer(h)))
    skips = []
    for f in (64, 128, 256, 512, 1024):
        h = block(h, layers.Conv2D(f, 3, strides=2, padding='same'))
        skips.append(h)
    h = block(h, layers.Conv2D(128, 1))
    for f, skip in zip((128, 64, 32, 16), reversed(skips[:-1])):
        h = layers.Concatenate()([block(h, layers.Conv2DTranspose(f, 3, strides=2, padding='same')), skip])
    ab = layers.Conv2DTranspose(2, 3, strides=2, padding='same', activation='tanh')(h)
    return keras.Model([l_in, z_in], ab)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--size', type=int, default=128)
    p.add_argument('--n', type=int, default=25, help='colourings in one predict')
    p.add_argument('--reps', type=int, default=7)
    p.add_argument('--threads', type=int, default=int(os.environ.get('OMP_NUM_THREADS', 0)) or os.cpu_count())
    p.add_argument('--serve', action='store_true', help='time one predict per line read on stdin, answer in ms')
    args = p.parse_args()
    import numpy as np, tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    model = original_generator(args.size)
    rng = np.random.default_rng(0)
    l = rng.uniform(-1, 1, (args.n, args.size, args.size, 1)).astype('float32')
    z = rng.uniform(-1, 1, (args.n, 100)).astype('float32')
    predict = lambda: model.predict([l, z], batch_size=args.n, verbose=0)
    predict(); predict()  # warm-up: graph tracing
    if args.serve:
        print(f"ready {model.count_params()} {tf.__version__}", flush=True)
        for _ in sys.stdin:
            t = time.perf_counter(); predict()
            print(f"{(time.perf_counter() - t)*1e3:.3f}", flush=True)
        return
    ts = []
    for _ in range(args.reps):
        t = time.perf_counter(); predict(); ts.append(time.perf_counter() - t)
    print(f"Keras {tf.keras.__version__ if hasattr(tf.keras, '__version__') else ''} / TensorFlow {tf.__version__}, "
          f"{args.threads} threads: the original's generator at {args.size} px, {model.count_params():,} parameters; "
          f"one batched predict of {args.n}: {statistics.median(ts)*1e3:.0f} ms (median of {args.reps})")

if __name__ == '__main__': main()
