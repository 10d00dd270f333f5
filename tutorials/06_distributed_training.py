# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
# ---

# %% [markdown]
# # 06 · Distributed training
#
# The models of the earlier tutorials fit on one device in minutes. Real data sets and larger
# models call for several GPUs, or several machines. With `tf.distribute` this is a change of
# one line, *if* the model computes its loss the way the strategy expects. This tutorial shows
# the line, then checks with numbers that the result is the same as on one device.
#
# You will learn:
#
# - how **data parallelism** works (one model copy per device, the batch split between them,
#   gradients summed) and why each replica must divide its loss by the number of replicas;
# - to train any `keras_ae` model under `MirroredStrategy`, here on **two logical CPU devices**,
#   and to check that it follows the single-device trajectory exactly;
# - why a custom `train_step` (the contractive autoencoder's) must scale its penalty itself, and
#   what the two exceptions are (the VAE's sampling noise, the KL sparsity penalty);
# - to train on **several machines** with `TF_CONFIG` and `MultiWorkerMirroredStrategy`,
#   shown with two processes on this machine, and why only the chief saves;
# - to survive a crash with **`BackupAndRestore`**;
# - what to know about **mixed precision**, **XLA** and **batch-size scaling**.
#
# None of the course's source documents covers distributed training; this chapter is about the
# engineering of training the same models at scale. Set `KERAS_AE_SMOKE=1` for a quick run;
# both runs use the 8×8 scikit-learn digits, the full run trains longer.

# %%
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")  # this chapter runs on the CPU

from keras_ae import distribute

# Logical devices must exist before TensorFlow starts its runtime: first thing.
DEVICES = distribute.configure_logical_cpus(2)

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import keras_ae
from keras_ae import data

tf.get_logger().setLevel("ERROR")  # no INFO lines from tf.distribute
SMOKE = os.environ.get("KERAS_AE_SMOKE") == "1"
EPOCHS = 2 if SMOKE else 15
BATCH = 64
print("logical devices:", [d.name for d in tf.config.list_logical_devices("CPU")])

# %% [markdown]
# ## Data parallelism in one equation
#
# A synchronous data-parallel strategy keeps one copy of the model, a **replica**, on each of
# $R$ devices. Each step takes a global batch of $B$ examples and gives each replica $B/R$ of
# them. Every replica computes the gradient of its own loss, the gradients are **summed** across
# replicas (an *all-reduce*), and every replica applies the same update, so the copies never
# drift apart.
#
# On one device the loss is the mean over the batch, $L = \frac1B \sum_{i=1}^B \ell_i$. Split
# into shares $S_1, \dots, S_R$ of size $B/R$:
#
# $$
# L \;=\; \frac1B\sum_{i=1}^{B}\ell_i \;=\; \sum_{r=1}^{R}\frac{1}{R}\,
# \underbrace{\frac{R}{B}\sum_{i\in S_r}\ell_i}_{\text{replica } r\text{'s mean loss}} .
# $$
#
# So the sum of the replicas' gradients is the single-device gradient if and only if **each
# replica divides its mean loss by $R$**. Keras does it for the loss given to `compile` and for
# the terms added with `add_loss` (the VAE's KL term, activity regularizers). Anything else a
# custom `train_step` adds must be divided by $R$ by the step itself.
#
# Here $R = 2$: `MirroredStrategy` over the two logical CPU devices made above. They share the
# machine's cores, so this shows that distributed training is *correct*; whether it is *faster*
# is a question for real GPUs (see the end).

# %%
(x_train, _), (x_test, _) = data.load("digits", flatten=True)
n = (len(x_train) // BATCH) * BATCH  # whole batches: every replica gets exactly B/R examples
x_train = x_train[:n]

strategy = distribute.get_strategy("mirrored", devices=DEVICES)
print("replicas in sync:", strategy.num_replicas_in_sync, "| examples:", n, "| global batch:", BATCH)


# %% [markdown]
# ## The same model on one device and on two
#
# `keras_ae.build` inside `strategy.scope()` creates mirrored variables; nothing else changes.
# To compare the two trainings we start them from the same weights, feed the data in the same
# order (`shuffle=False`) with the same **global** batch, and measure how far the weights end up.

# %%
def build(name, **options):
    return keras_ae.build(name, input_shape=(64,), latent_dim=8, **options)


def train_both(name, epochs=EPOCHS, **options):
    """Trains `name` on one device and under `strategy` from the same initial weights."""
    keras.utils.set_random_seed(0)
    single = build(name, **options)
    with strategy.scope():
        mirrored = build(name, **options)
    mirrored.set_weights(single.get_weights())
    histories = []
    for model in (single, mirrored):
        history = model.fit(x_train, x_train, batch_size=BATCH, epochs=epochs, shuffle=False, verbose=0)
        histories.append(history.history)
    return single, mirrored, histories


def weight_gap(a, b):
    return max(float(np.max(np.abs(p - q))) for p, q in zip(a.get_weights(), b.get_weights()))


single, mirrored, (h_single, h_mirrored) = train_both("dense", hidden=(32,))
print(f"final loss: one device {h_single['loss'][-1]:.5f} | 2 replicas {h_mirrored['loss'][-1]:.5f}")
print(f"largest weight difference after {EPOCHS} epochs: {weight_gap(single, mirrored):.1e}")
loss_gap = max(abs(a - b) / a for a, b in zip(h_single["loss"], h_mirrored["loss"]))
print(f"largest relative difference of the per-epoch losses: {loss_gap:.1e}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3))
epochs_axis = np.arange(1, len(h_single["loss"]) + 1)
ax1.plot(epochs_axis, h_single["loss"], "o-", label="one device")
ax1.plot(epochs_axis, h_mirrored["loss"], "x--", label="2 replicas (MirroredStrategy)")
ax1.set(xlabel="epoch", ylabel="training loss (nats per image)", title="The same trajectory")
ax1.legend(fontsize=8)
x_shown = x_test[:8]
rows = [x_shown, single.predict(x_shown, verbose=0), mirrored.predict(x_shown, verbose=0)]
ax2.imshow(np.vstack([np.hstack([image.reshape(8, 8) for image in row]) for row in rows]), cmap="gray_r")
ax2.set(xticks=[], yticks=[4, 12, 20], yticklabels=["test digits", "one device", "2 replicas"],
        title="Reconstructions of both models")
plt.tight_layout()
plt.show()

# %% [markdown]
# This is the result of the chapter in one picture: the two loss curves lie on top of each other,
# and the printed numbers say how closely. The weights of the two runs differ by less than
# $10^{-5}$, and the per-epoch losses by less than $10^{-5}$ relative, in float32, whose relative
# precision is about $10^{-7}$: the only difference is the order in which the all-reduce adds the
# two half-batch gradients.

# %%
assert weight_gap(single, mirrored) < 1e-5
assert loss_gap < 1e-5, loss_gap

# %% [markdown]
# ## A custom `train_step` must scale itself
#
# The contractive autoencoder adds $\lambda\,\lVert J_f(x)\rVert_F^2$ in its own `train_step`
# (tutorial 02, §3). Its step computes the compiled loss with `compute_loss` (already divided by
# $R$) and adds `penalty / R`, with $R$ read from the current strategy;
# `keras_ae.distribute.scale_loss_for_replicas` does the same for your own steps. What would a
# forgotten $1/R$ do? Each replica's penalty gradient would count $R$ times, exactly as if
# $\lambda$ were multiplied by $R$. We compare the mirrored run with that mistake, simulated on
# one device with $2\lambda$.

# %%
c_single, c_mirrored, (hc_single, hc_mirrored) = train_both("contractive", contraction_weight=1.0)
keras.utils.set_random_seed(0)  # same seed, same initial weights as the two runs above
c_doubled = build("contractive", contraction_weight=2.0)
c_doubled.fit(x_train, x_train, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
print(f"mirrored vs one device:           {weight_gap(c_single, c_mirrored):.1e}")
print(f"forgotten 1/R (lambda doubled):   {weight_gap(c_single, c_doubled):.1e}")
print("contraction per epoch, one device:", np.round(hc_single["contraction"], 4))
print("contraction per epoch, mirrored:  ", np.round(hc_mirrored["contraction"], 4))

# %% [markdown]
# The first two lines compare final weights: the mirrored run with its $1/R$ ends within $10^{-4}$
# of the single-device run, while the forgotten $1/R$ moves the weights more than a hundred times
# further. The per-epoch Jacobian penalty (the `contraction` the model reports) is the
# same on one device and on two replicas, to the four printed decimals.

# %%
assert weight_gap(c_single, c_mirrored) < 1e-4
assert weight_gap(c_single, c_doubled) > 100 * weight_gap(c_single, c_mirrored)
assert np.allclose(hc_single["contraction"], hc_mirrored["contraction"], rtol=0, atol=5e-5)

# %% [markdown]
# ## Two exceptions: sampling noise and batch statistics
#
# **The VAE samples** $z = \mu + \sigma\odot\varepsilon$ with $\varepsilon$ drawn inside each
# replica. A Keras seed generator is mirrored like a weight, so with it both replicas would draw
# the *same* numbers for their halves of the batch; keras_ae's layers add the replica id to the
# seed (`keras_ae.layers.ReplicaSeedGenerator`), so each replica draws its own. Either way the
# draws differ from what one device draws for the whole batch. Both give unbiased estimates of
# the same gradient, so we can only expect the trajectories to stay close, not equal. We compare
# them with what changing the seed does on one device.

# %%
v_single, v_mirrored, (hv_single, hv_mirrored) = train_both("vae", hidden=(64,), seed=1)
keras.utils.set_random_seed(0)  # same initial weights, another noise seed
v_other = build("vae", hidden=(64,), seed=2)
h_other = v_other.fit(x_train, x_train, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0).history

final = {k: h["loss"][-1] for k, h in
         {"one device, seed 1": hv_single, "one device, seed 2": h_other, "2 replicas, seed 1": hv_mirrored}.items()}
for k, value in final.items():
    print(f"{k:<20} final negative ELBO {value:.3f} nats")
gap_mirrored = abs(final["2 replicas, seed 1"] - final["one device, seed 1"]) / final["one device, seed 1"]
gap_seed = abs(final["one device, seed 2"] - final["one device, seed 1"]) / final["one device, seed 1"]
print(f"relative gap: replicas {gap_mirrored:.2%} | seeds {gap_seed:.2%}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(hv_single["loss"], label="one device, seed 1")
ax.plot(h_other["loss"], label="one device, seed 2")
ax.plot(hv_mirrored["loss"], "--", label="2 replicas, seed 1")
ax.set_xlabel("epoch")
ax.set_ylabel("negative ELBO (nats)")
ax.legend()
plt.show()

# %% [markdown]
# The three curves are indistinguishable at this scale, and the printed relative gaps say by how
# much they end apart: the two replicas' run ends less than 1 % from the single-device run, and so
# does the single-device run with another noise seed. Distributing the VAE changes its trajectory
# the way another draw of the noise does, by a fraction of a percent of the loss.

# %%
assert gap_mirrored < 0.01 and gap_seed < 0.01, (gap_mirrored, gap_seed)

# %% [markdown]
# **The KL sparsity penalty** of `sparse(sparsity="kl")` compares the target $\rho$ with the mean
# activation $\hat\rho_j$ *of the batch*. Each replica only sees its half, so under $R$ replicas
# the penalty becomes $\frac1R\sum_r \mathrm{KL}(\rho\,\|\,\hat\rho^{(r)}_j)$ rather than
# $\mathrm{KL}(\rho\,\|\,\hat\rho_j)$: a slightly different objective (the tests measure a
# relative difference of about $2\times10^{-5}$ in the loss after a few steps). The L1 penalty is
# per example and matches exactly.

# %% [markdown]
# ## Several machines: `TF_CONFIG` and `MultiWorkerMirroredStrategy`
#
# On several machines each one runs the *same* program as one **worker**, with a `TF_CONFIG`
# environment variable describing the cluster (identical everywhere) and its own task:
#
# ```json
# {"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
#  "task": {"type": "worker", "index": 0}}
# ```
#
# `get_strategy("auto")` sees the cluster and returns a `MultiWorkerMirroredStrategy`. It also
# applies a small patch to Keras: with Keras 3.15 `fit` fails under this strategy (Keras issue
# 20585, see `docs/distributed.md`). Worker 0 is the **chief**: only it should write files.
# Every worker calls `distribute.save_model`, which writes the real file on the chief and a
# throw-away copy elsewhere.
#
# We play both machines with two processes on 127.0.0.1, each with its own `TF_CONFIG` and a
# free port, running the script below.

# %%
WORKER_SCRIPT = '''
import json, os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
from keras_ae import distribute
strategy = distribute.get_strategy("auto")        # MultiWorkerMirroredStrategy, from TF_CONFIG
import numpy as np, keras_ae
work, epochs, batch = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = np.load(os.path.join(work, "x.npy"))
with strategy.scope():
    model = keras_ae.build("dense", input_shape=(64,), latent_dim=8, hidden=(32,))
with np.load(os.path.join(work, "initial.npz")) as f:
    model.set_weights([f[k] for k in sorted(f.files, key=lambda k: int(k[4:]))])
history = model.fit(x, x, batch_size=batch, epochs=epochs, shuffle=False, verbose=0)
saved = distribute.save_model(model, os.path.join(work, "dense.keras"))
print(json.dumps({"chief": distribute.is_chief(), "replicas": strategy.num_replicas_in_sync,
                  "loss": history.history["loss"], "saved": saved}))
'''

work = Path(tempfile.mkdtemp(prefix="keras_ae_06_"))
(work / "worker.py").write_text(WORKER_SCRIPT)
np.save(work / "x.npy", x_train)
keras.utils.set_random_seed(0)
reference = build("dense", hidden=(32,))
INITIAL = reference.get_weights()
np.savez(work / "initial.npz", *INITIAL)


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


workers = [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]
print("TF_CONFIG of worker 1:", distribute.tf_config(workers, 1))
start = time.perf_counter()
procs = [
    subprocess.Popen(
        [sys.executable, str(work / "worker.py"), str(work), str(EPOCHS), str(BATCH)],
        env={**os.environ, "TF_CONFIG": distribute.tf_config(workers, i)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for i in range(2)
]
try:
    outputs = [p.communicate(timeout=900) for p in procs]
finally:
    for p in procs:  # never leave a worker behind
        if p.poll() is None:
            p.kill()
assert all(p.returncode == 0 for p in procs), [err[-2000:] for _, err in outputs]
results = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
for i, r in enumerate(results):
    print(f"worker {i}: chief={r['chief']} replicas={r['replicas']} saved={r['saved']} "
          f"final loss={r['loss'][-1]:.5f}")
print(f"cluster run: {time.perf_counter() - start:.0f} s (two processes starting TensorFlow)")

# %% [markdown]
# Both workers report the same losses (the logs are averaged across the cluster), only the chief
# saved, and the saved model matches the same training on one process:

# %%
h_reference = reference.fit(x_train, x_train, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0).history
restored = keras.saving.load_model(work / "dense.keras")
print(f"largest weight difference, 2 workers vs one process: {weight_gap(restored, reference):.1e}")

# %%
assert results[0]["loss"] == results[1]["loss"]
assert [r["chief"] for r in results] == [True, False] and results[1]["saved"] is None
assert np.allclose(results[0]["loss"], h_reference["loss"], rtol=1e-5)
assert weight_gap(restored, reference) < 1e-4

# %% [markdown]
# ## Surviving a crash: `BackupAndRestore`
#
# A long run on many machines will see a machine fail. `distribute.backup_and_restore(dir)`
# returns Keras' `BackupAndRestore` callback, adapted so that only the chief writes: at the end
# of each epoch it saves the weights, the optimizer state and the epoch number; a new `fit` with
# the same callback restores them and continues. (`keras-ae train --backup-dir DIR` adds it.)
#
# We simulate a crash during the fourth epoch and restart from a *freshly built* model, as a new
# process would. The test suite does the same with two worker processes and a real `SIGKILL`.

# %%
class Crash(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 3:
            raise RuntimeError("the machine died")


backup_dir = work / "backup"
run = build("dense", hidden=(32,))
run.set_weights(INITIAL)
try:
    run.fit(x_train, x_train, batch_size=BATCH, epochs=EPOCHS + 3, shuffle=False, verbose=0,
            callbacks=[distribute.backup_and_restore(backup_dir), Crash()])
except RuntimeError as error:
    print("crash:", error, "| backup:", json.loads((backup_dir / "training_metadata.json").read_text()))

keras.utils.set_random_seed(123)  # a new process: other initial weights, soon overwritten
resumed = build("dense", hidden=(32,))
history = resumed.fit(x_train, x_train, batch_size=BATCH, epochs=EPOCHS + 3, shuffle=False, verbose=0,
                      callbacks=[distribute.backup_and_restore(backup_dir)])
print("epochs run after the restart:", len(history.history["loss"]))

uninterrupted = build("dense", hidden=(32,))
uninterrupted.set_weights(INITIAL)
uninterrupted.fit(x_train, x_train, batch_size=BATCH, epochs=EPOCHS + 3, shuffle=False, verbose=0)
print(f"largest weight difference, resumed vs uninterrupted: {weight_gap(resumed, uninterrupted):.1e}")

# %%
assert len(history.history["loss"]) == EPOCHS  # epochs 3 .. EPOCHS + 2
assert weight_gap(resumed, uninterrupted) < 1e-6
assert not backup_dir.exists()  # removed once training completes

# %% [markdown]
# Here the data order is fixed (`shuffle=False`), so the resumed run can, and does, reproduce the
# uninterrupted one exactly. With shuffling, the order of each epoch comes from the random state,
# and whether a resumed run repeats it depends on that state after the restart: exercise 5 checks.
#
# ## Mixed precision, XLA and the batch size
#
# **Mixed precision** (GPUs): `keras.mixed_precision.set_global_policy("mixed_float16")` before
# building makes layers compute in float16 with float32 weights, and `compile` adds loss scaling.
# The VAE needs two layers in float32: the posterior, whose KL term contains $\log\sigma_j$ with
# $\sigma_j \ge 10^{-4}$, close to float16's smallest normal number, and the output sigmoid, whose
# logits give the Bernoulli likelihood ($\sigma(12)$ rounds to 1 in float16: a saturated pixel's
# loss is lost). `docs/distributed.md` gives the numbers.
#
# **XLA**: `jit_compile=True` compiles the training step with XLA. On one device it follows the
# same trajectory (up to float32 rounding of fused operations). With Keras 3.15 it does *not* work
# under `MirroredStrategy` over several devices: Keras compiles the whole step, including the
# replicas' `strategy.run`, as one XLA computation, which cannot use variables placed on other
# devices. We try both.

# %%
keras.utils.set_random_seed(0)
xla = build("dense", hidden=(32,))
xla.compile(optimizer=keras.optimizers.Adam(1e-3), loss=xla.loss, jit_compile=True)
xla.set_weights(INITIAL)
xla.fit(x_train, x_train, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
print(f"XLA vs no XLA, one device: {weight_gap(xla, single):.1e}")

with strategy.scope():
    xla_mirrored = build("dense", hidden=(32,))
    xla_mirrored.compile(optimizer=keras.optimizers.Adam(1e-3), loss=xla_mirrored.loss, jit_compile=True)
try:
    xla_mirrored.fit(x_train[:BATCH], x_train[:BATCH], batch_size=BATCH, epochs=1, verbose=0)
    xla_mirrored_fails = False
    print("XLA under MirroredStrategy: works with this Keras version")
except tf.errors.InvalidArgumentError as error:
    xla_mirrored_fails = True
    lines = str(error).strip().splitlines()
    reason = next((line for line in lines if "Trying to access" in line), lines[0])
    print(f"XLA under MirroredStrategy fails with Keras {keras.version()}:\n  {reason[:150]} ...")

# %% [markdown]
# On one device the XLA run ends within $10^{-3}$ of the run without XLA (first line); under
# `MirroredStrategy` the compiled step fails, and the error names a variable of the second replica
# (`replica_1`) that the computation cannot reach.

# %%
assert weight_gap(xla, single) < 1e-3
assert xla_mirrored_fails or not keras.version().startswith("3.15."), keras.version()  # the claim is for 3.15

# %% [markdown]
# **Batch size.** `fit`'s `batch_size` is the *global* batch. To keep each of $R$ devices as busy
# as one, use `batch_size = per_device_batch * R`; fewer, larger steps then usually want a larger
# learning rate: linear in $R$ for SGD with a warm-up (Goyal et al., 2017), about $\sqrt{R}$ for
# Adam as a starting point. Keep both fixed, as above, and the trajectory is the single-device
# one.
#
# **Speed.** `benchmarks/scaling.py` measures examples per second for 1 and 2 replicas and 2
# workers. On this CPU the two logical devices share the same cores, so the second replica brings
# the all-reduce and no extra arithmetic power: in its last run (`benchmarks/results/scaling.md`,
# 2 CPU cores) two replicas processed 0.49 times as many examples per second as one, two workers
# 0.45 times. On two GPUs each replica brings its own arithmetic, and the throughput can approach
# twice that of one device once the model is large enough to hide the all-reduce; this course has
# no GPU to measure it on.
#
# ## Exercises
#
# 1. Train `sparse(sparsity="kl")` with `train_both` and measure the weight gap; then use global
#    batches of 32 and 256. How does the gap change, and why (think of $\hat\rho^{(r)}_j$)?
#
# <details><summary>Solution</summary>
#
# ```python
# def gap_for(name, batch, **options):
#     keras.utils.set_random_seed(0)
#     one = build(name, **options)
#     with strategy.scope():
#         two = build(name, **options)
#     two.set_weights(one.get_weights())
#     m = (len(x_train) // batch) * batch  # whole batches
#     for model in (one, two):
#         model.fit(x_train[:m], x_train[:m], batch_size=batch, epochs=EPOCHS, shuffle=False, verbose=0)
#     return weight_gap(one, two)
#
# for batch in (32, 64, 256):
#     print(batch, gap_for("sparse", batch, sparsity="kl", hidden=(32,)), gap_for("dense", batch, hidden=(32,)))
# ```
#
# The KL penalty of each replica compares $\rho$ with the mean activation $\hat\rho^{(r)}_j$ of its
# own half of the batch, a noisier estimate than the mean over the whole batch; because the KL is
# not linear in $\hat\rho_j$, the average of the replicas' penalties is not the penalty of the
# average, and the objective differs a little. The smaller the batch, the noisier the halves and the
# larger the difference. Measured on the digits (2 epochs, the quick-mode setup): weight gaps of
# $1.2\times10^{-2}$, $4.1\times10^{-3}$ and $5.6\times10^{-4}$ for global batches of 32, 64 and 256,
# against at most $6\times10^{-8}$ for the dense model at every batch size.
#
# </details>
#
# 2. Write a tiny `keras.Model` subclass whose `train_step` adds an L2 penalty on the code *without*
#    `distribute.scale_loss_for_replicas`. Show that it fails the comparison of this tutorial and
#    passes with it.
#
# <details><summary>Solution</summary>
#
# ```python
# class CodePenalty(keras.Model):
#     def __init__(self, scale, **kwargs):
#         super().__init__(**kwargs)
#         self.scale = scale
#         self.encoder = keras.layers.Dense(8, activation="relu")
#         self.decoder = keras.layers.Dense(64, activation="sigmoid")
#
#     def call(self, x):
#         return self.decoder(self.encoder(x))
#
#     def train_step(self, data):
#         x, y = data
#         with tf.GradientTape() as tape:
#             code = self.encoder(x)
#             loss = self.compute_loss(x=x, y=y, y_pred=self.decoder(code))  # already divided by R
#             penalty = 0.1 * tf.reduce_mean(tf.reduce_sum(tf.square(code), axis=1))
#             loss += distribute.scale_loss_for_replicas(penalty) if self.scale else penalty
#         grads = tape.gradient(loss, self.trainable_variables)
#         self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
#         return {"loss": loss}
#
# for scale in (False, True):
#     keras.utils.set_random_seed(0)
#     one = CodePenalty(scale)
#     one.compile("adam", "binary_crossentropy")
#     one(x_train[:1])  # build the weights
#     with strategy.scope():
#         two = CodePenalty(scale)
#         two.compile("adam", "binary_crossentropy")
#         two(x_train[:1])
#     two.set_weights(one.get_weights())
#     for model in (one, two):
#         model.fit(x_train, x_train, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
#     print("scaled" if scale else "not scaled", weight_gap(one, two))
# ```
#
# Measured on the digits (2 epochs): a weight gap of $2.4\times10^{-2}$ without the scaling, the
# size of the contractive model's forgotten $1/R$ above, and $3\times10^{-8}$ with it.
#
# </details>
#
# 3. Split the CPU into 4 logical devices (restart the kernel first: why?) and repeat the dense
#    comparison with a global batch of 64. What does each replica see?
#
# <details><summary>Solution</summary>
#
# TensorFlow fixes its list of devices when its runtime starts, the first time an operation runs;
# `configure_logical_cpus` can only split the CPU before that, which is why the first cell of this
# page calls it before anything else. In a running kernel the runtime is already up, so restart it
# and change the first cell to `distribute.configure_logical_cpus(4)`; `get_strategy("mirrored",
# devices=DEVICES)` then has four replicas. The global batch of 64 is split into four shares of 16
# examples: each replica's mean loss is divided by $R = 4$, and the sum of the four gradients is
# again the gradient of the mean over the 64 examples, so the weight gap should again be float32
# rounding (this page does not run it: it needs a fresh kernel).
# The number of examples, `n`, must stay a multiple of 64 (it is), so that every replica gets 16 in
# every step.
#
# </details>
#
# 4. In the multi-worker demo, give worker 1 a `TF_CONFIG` whose cluster lists the workers in
#    another order. What happens, and what does it tell you about `TF_CONFIG`?
#
# <details><summary>Solution</summary>
#
# ```python
# configs = [distribute.tf_config(workers, 0), distribute.tf_config(workers[::-1], 1)]
# procs = [subprocess.Popen([sys.executable, str(work / "worker.py"), str(work), str(EPOCHS), str(BATCH)],
#                           env={**os.environ, "TF_CONFIG": config}, stdout=subprocess.PIPE,
#                           stderr=subprocess.PIPE, text=True) for config in configs]
# ```
#
# Worker 1 finds its own address at index 1 of *its* list, which is worker 0's address. Measured:
# worker 0 stopped with `UnknownError: Could not start gRPC server` (the port was taken by worker 1),
# and worker 1 was still waiting for its peer after 60 s, when we killed it. `TF_CONFIG` must hold
# the *same* cluster, in the same order, on every machine: the index of a task is its position in
# that list, and the chief is worker 0 of it. Only the `task` part differs between machines.
#
# </details>
#
# 5. Crash the `BackupAndRestore` run with `shuffle=True`. Does the resumed run match the
#    uninterrupted one? Is it worse?
#
# <details><summary>Solution</summary>
#
# Run the crash cell and the two trainings after it with `shuffle=True` in every `fit`, and compare
# the weights and the test loss (`model.evaluate(x_test, x_test, verbose=0)`) of the resumed and the
# uninterrupted model.
#
# Measured on the digits with 2 + 3 epochs, the crash before the fourth epoch and no new seed
# between the runs: the resumed model matched the uninterrupted one exactly (weight gap 0, test loss
# 26.008 for both), so in this setting Keras 3.15 drew the same order for the epochs after the
# restart. A new process that seeds differently (the page's `set_random_seed(123)`) is not measured
# here; there, expect other orders, hence other weights, and check the test loss rather than the
# weights.
#
# </details>

# %%
import shutil

shutil.rmtree(work, ignore_errors=True)
