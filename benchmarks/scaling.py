"""Training throughput for 1 and 2 replicas, and the cost of multi-worker training.

Measures ``model.fit`` throughput (examples per second, at a fixed *global*
batch) of a ``keras_ae`` model:

- ``1 replica``: the default strategy on one device;
- ``2 replicas``: ``MirroredStrategy`` over two GPUs when this machine has
  them, otherwise over two *logical* CPU devices carved out of the same CPU;
- ``2 workers``: ``MultiWorkerMirroredStrategy`` with two processes on
  127.0.0.1 (one replica each), against the single process.

Each configuration runs in its own process (logical devices and the
multi-worker runtime must be set up before TensorFlow starts), trains one
warm-up epoch (tracing) and then times ``--epochs`` epochs; the median epoch
gives the throughput.

On a CPU-only machine the logical devices share the same cores and the same
thread pools, so two replicas do the same arithmetic as one, split in two
halves, plus an all-reduce of the gradients each step: expect no speed-up,
rather a small slowdown. The multi-worker runs add a gRPC all-reduce between
processes that also share the cores. The point of the CPU numbers is the
*overhead* of distribution, not its speed-up; on real GPUs the 2-replica
line is the one to read.

Usage::

    python benchmarks/scaling.py                 # default: dense, batch 256
    python benchmarks/scaling.py --model vae --batch-size 512 --json out.json

The table is printed and written as Markdown to ``--out``
(``benchmarks/results/scaling.md`` by default).
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

FEATURES = 784  # an MNIST-sized dense model
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "scaling.md"
LABELS = {
    "default": "1 replica (default strategy)",
    "mirrored": "2 replicas (MirroredStrategy)",
    "multi_worker": "2 workers on 127.0.0.1 (MultiWorkerMirroredStrategy)",
}


def _measure(kind, args):
    """Runs in a child process: trains and returns throughput numbers."""
    import tensorflow as tf

    from keras_ae import distribute

    if kind == "mirrored":
        gpus = tf.config.list_physical_devices("GPU")
        devices = [f"/gpu:{i}" for i in range(2)] if len(gpus) >= 2 else distribute.configure_logical_cpus(2)
        strategy = distribute.get_strategy("mirrored", devices=devices)
    elif kind == "multi_worker":
        strategy = distribute.get_strategy("multi_worker")
    else:
        one = "/gpu:0" if tf.config.list_physical_devices("GPU") else "/cpu:0"
        strategy = distribute.get_strategy("default", devices=one)
    import keras
    import numpy as np

    import keras_ae

    class Timer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    rng = np.random.default_rng(0)
    n = args.steps * args.batch_size
    x = rng.random((n, FEATURES), dtype="float32")
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = keras_ae.build(args.model, input_shape=(FEATURES,), latent_dim=32)
    timer = Timer()
    model.fit(x, x, batch_size=args.batch_size, epochs=args.epochs + 1, shuffle=False, verbose=0,
              callbacks=[timer])
    epoch = statistics.median(timer.times[1:])  # the first epoch traces the step
    return {
        "kind": kind,
        "replicas": strategy.num_replicas_in_sync,
        "devices": list(strategy.extended.worker_devices),
        "samples_per_second": n / epoch,
        "seconds_per_step": epoch / args.steps,
        "warmup_seconds": timer.times[0],
    }


def _child_command(kind, args):
    return [sys.executable, __file__, "--child", kind, "--model", args.model, "--batch-size", str(args.batch_size),
            "--steps", str(args.steps), "--epochs", str(args.epochs)]


def _result(stdout):
    return json.loads([line for line in stdout.splitlines() if line.startswith("{")][-1])


def _run_single(kind, args):
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    proc = subprocess.run(_child_command(kind, args), env=env, capture_output=True, text=True, timeout=args.timeout)
    if proc.returncode:
        raise RuntimeError(f"{kind} run failed:\n{proc.stderr[-3000:]}")
    return _result(proc.stdout)


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _run_multi_worker(args):
    from keras_ae.distribute import tf_config

    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    procs = []
    try:
        for index in range(2):
            env = dict(os.environ, TF_CONFIG=tf_config(workers, index), CUDA_VISIBLE_DEVICES="")
            procs.append(subprocess.Popen(_child_command("multi_worker", args), env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
        outputs = [p.communicate(timeout=args.timeout) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for p, (_, err) in zip(procs, outputs):
        if p.returncode:
            raise RuntimeError(f"multi-worker run failed:\n{err[-3000:]}")
    return _result(outputs[0][0])  # the chief's view; both workers run in lock step


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dense", help="registered model (dense-based families)")
    parser.add_argument("--batch-size", type=int, default=256, help="global batch size")
    parser.add_argument("--steps", type=int, default=40, help="steps per epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after one warm-up epoch)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per child process")
    parser.add_argument("--skip-multi-worker", action="store_true")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown file to write")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.child, args)))
        return

    results = [_run_single("default", args), _run_single("mirrored", args)]
    if not args.skip_multi_worker:
        results.append(_run_multi_worker(args))
    from _common import machine_line, markdown_table, write_results  # imports TensorFlow: after the children

    base = results[0]["samples_per_second"]
    rows = [
        [LABELS[r["kind"]], r["replicas"], ", ".join(r["devices"]), f"{r['samples_per_second']:.0f}",
         f"{1000 * r['seconds_per_step']:.1f}", f"{r['samples_per_second'] / base:.2f}"]
        for r in results
    ]
    table = markdown_table(
        rows, ["Configuration", "Replicas", "Devices", "Samples/s", "ms/step", "vs 1 replica"]
    )
    load = os.getloadavg()[0]
    print(table)
    notes = [
        machine_line(),
        f"- Model: `keras_ae.build(\"{args.model}\", input_shape=({FEATURES},), ...)` on random "
        f"data, global batch size {args.batch_size}, {args.steps} steps per epoch; one warm-up "
        f"epoch, then the median of {args.epochs} timed epoch(s), each configuration in its own "
        f"process. Load average (1 min) at the end: {load:.1f}.",
        "- Logical CPU devices and workers on one machine share the same cores: these numbers "
        "show the overhead of distribution, not a speed-up (see the script's docstring).",
    ]
    write_results(args.out, "Scaling with replicas", table, "\n".join(notes))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"args": {**vars(args), "out": str(args.out)}, "load": load, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
