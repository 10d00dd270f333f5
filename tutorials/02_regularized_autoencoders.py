# %% [markdown]
# # 02 · Regularized autoencoders
#
# Tutorial 01 stopped the identity trap with a narrow code. This one keeps
# the code wide and adds a preference to the loss instead. You will:
#
# - make codes **sparse**, with an L1 penalty on the activations (and fix the
#   Keras snippet of the course notes on the way) and with a KL divergence to
#   a target activation $\rho = 0.05$;
# - train **denoising** autoencoders with Gaussian and with masking (dropout)
#   noise, both as `fit(x_noisy, x)` and with a corruption layer;
# - train a **contractive** autoencoder and measure how much less its code
#   moves when the input moves;
# - compare **weight decay** (a penalty on the weights) with **activity
#   regularization** (a penalty on the code);
# - trace the **bias–variance trade-off** as the penalty grows.
#
# **Source documents covered:** 000 (regularized, sparse, denoising and
# contractive autoencoders; the bias–variance trade-off), 001 §2 (the sparse KL
# and contractive objectives), 002 (constraining the network, denoising and
# sparse autoencoders with their pros and cons, L1/L2 regularization,
# `fit(x_noisy, x)`, the sparse Keras snippet), 003 (loss terms for desirable
# properties, the corrupt-encode-penalise training pipeline) and 004 (DAE,
# sparse AE with $\rho = 0.05$, the contractive AE and the weight-decay view).

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import matplotlib.pyplot as plt
import numpy as np
from keras import layers

import keras_ae
from keras_ae import data
from keras_ae.layers import KLSparsity
from keras_ae.losses import NegativeLogLikelihood
from keras_ae.metrics import reconstruction_error

SMOKE = os.environ.get("KERAS_AE_SMOKE") == "1"
keras.utils.set_random_seed(0)

# %% [markdown]
# ## The data
#
# As in tutorial 01: flattened images in $[0, 1]^D$, the 8×8 digits in the
# quick run and a 10 000-image slice of MNIST in the full run. `WIDE` is the
# width of the one-layer codes below: twice the input for the digits
# (overcomplete), 256 for MNIST (to keep the run short; the penalties act the
# same way at any width).

# %%
if SMOKE:
    (x_train, y_train), (x_test, y_test) = data.load("digits", flatten=True)
    EPOCHS, WIDE = 15, 128
else:
    (x_train, y_train), (x_test, y_test) = data.load("mnist", flatten=True, limit=10_000)
    x_test, y_test = x_test[:2000], y_test[:2000]
    EPOCHS, WIDE = 10, 256
D = x_train.shape[1]
SIDE = int(round(np.sqrt(D)))
print(f"train {x_train.shape}, test {x_test.shape}, code width {WIDE}")


def fit(model, x=None, y=None):
    """Trains quietly on x_train (or x -> y) with the settings shared by this tutorial."""
    x = x_train if x is None else x
    model.fit(x, x if y is None else y, epochs=EPOCHS, batch_size=64, verbose=0)
    return model


def codes_of(model, x):
    return model.get_layer("encoder").predict(x, verbose=0)


def test_error(model, x_in=None):
    """Mean squared error per test image against the *clean* test images."""
    x_in = x_test if x_in is None else x_in
    return reconstruction_error(x_test, model.predict(x_in, verbose=0)).mean()


# %% [markdown]
# ## 1 · Sparse autoencoders
#
# A sparse autoencoder may have many code units but wants only a few of them
# active for any one input. The penalty $\Omega(h)$ is added to the
# reconstruction loss and acts on the **activations** $h = A(x)$, not on the
# weights:
#
# $$\mathcal{L} = \Delta\big(x, B(h)\big) + \Omega(h).$$
#
# ### The course notes' snippet, in Keras 3
#
# Source 002 gives a Keras snippet with an L1 activity regularizer. As printed
# it does not run: it uses Keras 1 keywords (`Model(input=..., output=...)`),
# names its input `ll` but passes `l1`, and calls `regularizers.ll`, a typo for
# `l1`. Here it is in Keras 3, with $D$ inputs instead of 256. Note also that
# `10e-6` is $10^{-5}$, not $10^{-6}$.

# %%
input_size, hidden_size, output_size = D, 32, D
inputs = keras.Input(shape=(input_size,))
# Encoder: the L1 penalty lambda * sum_j |h_j| acts on the activations.
hidden = layers.Dense(hidden_size, activation="relu",
                      activity_regularizer=keras.regularizers.L1(1e-5))(inputs)
# Decoder
outputs = layers.Dense(output_size, activation="sigmoid")(hidden)
snippet = keras.Model(inputs=inputs, outputs=outputs)
snippet.compile(loss="mse", optimizer="adam")
fit(snippet, x_train)

h = keras.Model(inputs, hidden).predict(x_test, verbose=0)
mse = np.mean((snippet.predict(x_test, verbose=0) - x_test) ** 2)
penalty = 1e-5 * np.abs(h).sum(axis=1).mean()
print(f"mse {mse:.4f}, L1 penalty per example {penalty:.5f} "
      f"({penalty / (mse + penalty):.1%} of the loss)")

# %% [markdown]
# Keras 3 divides an activity regularizer by the batch size, so the penalty
# per example is $\lambda \sum_j |h_j|$. Next to a *mean* squared error (an
# average over pixels, so a small number), $\lambda = 10^{-5}$ is a small
# share of the loss, a few percent: the weight of a penalty only means
# something relative to the scale of the loss, and the same $\lambda$ would
# be negligible next to a loss summed over pixels.

# %%
assert penalty / (mse + penalty) < 0.1

# %% [markdown]
# ### L1 sparsity with `keras_ae`
#
# `keras_ae.build("sparse", sparsity="l1")` builds the same thing on the
# library's loss (the cross-entropy *summed* over pixels, as in tutorial 01),
# with ReLU code units and the penalty $\lambda \sum_j |h_j|$ per example:
#
# $$\mathcal{L}_{L1} = \Delta(x, \hat x) + \lambda \sum_{j} |h_j|.$$
#
# We compare $\lambda = 0.1$ with $\lambda = 0$ (the same network without a
# penalty) by the fraction of code values that are exactly zero.

# %%
relu_plain = fit(keras_ae.build("sparse", input_shape=(D,), latent_dim=WIDE,
                                sparsity="l1", sparsity_weight=0.0))
relu_l1 = fit(keras_ae.build("sparse", input_shape=(D,), latent_dim=WIDE,
                             sparsity="l1", sparsity_weight=0.1))
active = {name: float(np.mean(codes_of(m, x_test) > 0))
          for name, m in (("no penalty", relu_plain), ("L1", relu_l1))}
print({name: round(a, 3) for name, a in active.items()},
      f"test error: {test_error(relu_plain):.2f} -> {test_error(relu_l1):.2f}")

# %%
assert active["L1"] < 0.7 * active["no penalty"]

# %% [markdown]
# ### KL divergence to a target activation
#
# The second recipe (001 §2.1, 004) uses sigmoid code units, so an activation
# is a number in $(0, 1)$ that can be read as a firing rate. Let
# $\hat\rho_j = \frac1m \sum_{i=1}^m h_j(x^{(i)})$ be the mean activation of
# unit $j$ over a batch of $m$ examples. The penalty pulls every $\hat\rho_j$
# toward a small target $\rho$ with the KL divergence between two Bernoulli
# distributions:
#
# $$\Omega(h) = \beta \sum_{j} \mathrm{KL}(\rho \,\Vert\, \hat\rho_j)
#   = \beta \sum_j \Big[\rho \log\frac{\rho}{\hat\rho_j} + (1-\rho)\log\frac{1-\rho}{1-\hat\rho_j}\Big].$$
#
# `keras_ae.build("sparse", sparsity="kl", target=0.05, sparsity_weight=β)`
# adds exactly this, through the `KLSparsity` activity regularizer. First, the
# formula by hand against the library's, on the codes of an untrained model:

# %%
rho = 0.05
kl_model = keras_ae.build("sparse", input_shape=(D,), latent_dim=WIDE, sparsity="kl",
                          target=rho, sparsity_weight=10.0, learning_rate=1e-2)
h = codes_of(kl_model, x_test).astype("float64")
rho_hat = h.mean(axis=0)
kl_by_hand = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
kl_library = float(KLSparsity(target=rho).divergence(h))
print(f"sum_j KL(rho || rho_hat_j): by hand {kl_by_hand:.4f}, KLSparsity {kl_library:.4f}")
assert np.isclose(kl_by_hand, kl_library, rtol=1e-4)

# %% [markdown]
# Now train it, and the same network without the penalty
# (`sparsity_weight=0`), and look at the mean activations $\hat\rho_j$ on the
# test set. The sparse model gets a larger learning rate and twice the epochs:
# to fire 5 % of the time, a sigmoid unit's bias has to travel to about
# $\log\frac{0.05}{0.95} \approx -2.9$, and Adam moves a parameter by at most
# about one learning rate per step.

# %%
kl_model.fit(x_train, x_train, epochs=2 * EPOCHS, batch_size=64, verbose=0)
sigmoid_plain = fit(keras_ae.build("sparse", input_shape=(D,), latent_dim=WIDE,
                                   sparsity="kl", sparsity_weight=0.0))
rho_hat_kl = codes_of(kl_model, x_test).mean(axis=0)
rho_hat_plain = codes_of(sigmoid_plain, x_test).mean(axis=0)
print(f"mean activation: KL-sparse {rho_hat_kl.mean():.3f} (target {rho}), "
      f"no penalty {rho_hat_plain.mean():.3f}")
print(f"test error: no penalty {test_error(sigmoid_plain):.2f}, KL-sparse {test_error(kl_model):.2f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 2.8))
bins = np.linspace(0, 1, 41)
axes[0].hist(rho_hat_plain, bins=bins, alpha=0.7, label="no penalty")
axes[0].hist(rho_hat_kl, bins=bins, alpha=0.7, label="KL to ρ = 0.05")
axes[0].axvline(rho, color="k", lw=1)
axes[0].set_xlabel(r"mean activation $\hat\rho_j$ of each unit")
axes[0].legend()
one = codes_of(kl_model, x_test[:1])[0]
axes[1].bar(range(WIDE), one, width=1.0)
axes[1].set_xlabel("code unit")
axes[1].set_ylabel("activation")
axes[1].set_title("the code of one test image", fontsize=9)
plt.tight_layout()
plt.show()

# %%
assert abs(rho_hat_kl.mean() - rho) < 0.5 * rho
assert rho_hat_plain.mean() > 0.2

# %% [markdown]
# The mean activation lands close to the target, a little above it: the
# penalty is quadratic near $\rho$ (so it pushes gently there) while the
# reconstruction term pulls the other way. A larger weight or longer training
# narrows the gap. Compare the two test errors as well: what a sparse code
# costs in reconstruction depends on its width, the target and the training
# (here the sparse model also had a larger learning rate and more epochs, so
# the comparison is not a controlled one; exercise 2 makes it one). The units
# of a sparse code tend to be more interpretable; here are the encoder weights
# of the first units, each drawn as an image (what makes the unit fire):

# %%
kernel = kl_model.get_layer("encoder").get_layer("encoder_code").kernel.numpy()
fig, axes = plt.subplots(2, 12, figsize=(9.6, 1.8))
for j, ax in enumerate(axes.flat):
    ax.imshow(kernel[:, j].reshape(SIDE, SIDE), cmap="RdBu_r")
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %% [markdown]
# The course notes list the trade-offs: sparse codes filter out irrelevant
# features and tend to learn meaningful ones, but the result depends on the
# penalty's weight and target, two more hyperparameters to tune.
#
# ## 2 · Denoising autoencoders
#
# A denoising autoencoder sees a corrupted input $\tilde x \sim q(\tilde x\mid x)$
# and is trained to output the clean one (004's notation, with $f$ the encoder
# and $g$ the decoder):
#
# $$\text{plain: } L\big(x, g(f(x))\big), \qquad \text{denoising: } L\big(x, g(f(\tilde x))\big).$$
#
# Copying the input no longer solves the task, so even a wide code has to
# learn what clean digits look like. Two kinds of noise (000):
#
# - additive Gaussian noise, $\tilde x = x + \sigma\varepsilon$, $\varepsilon \sim \mathcal N(0, I)$;
# - masking ("dropout") noise: each pixel is set to 0 with probability $p$.
#
# The course notes (002) point out that only the training call changes:
# `fit(x_noisy, x)` instead of `fit(x, x)`. `keras_ae.corrupt` makes the noisy
# copy once. The alternative, `keras_ae.build("denoising", ...)`, puts a
# `Corruption` layer in front of the encoder that draws fresh noise at every
# training step and is inactive at inference; you then call `fit(x, x)`.

# %%
x_train_gauss = keras_ae.corrupt(x_train, "gaussian", 0.3, seed=1)
plain = fit(keras_ae.build("dense", input_shape=(D,), latent_dim=32))
dae_gauss = fit(keras_ae.build("dense", input_shape=(D,), latent_dim=32), x_train_gauss, x_train)
dae_mask = fit(keras_ae.build("denoising", input_shape=(D,), latent_dim=32,
                              noise="dropout", noise_level=0.3, seed=2))

x_test_gauss = keras_ae.corrupt(x_test, "gaussian", 0.3, seed=3)
x_test_mask = keras_ae.corrupt(x_test, "dropout", 0.3, seed=4)
denoise = {
    name: {"clean": test_error(m), "gaussian": test_error(m, x_test_gauss), "masked": test_error(m, x_test_mask)}
    for name, m in (("plain", plain), ("DAE gaussian", dae_gauss), ("DAE masking", dae_mask))
}
print(f"{'':14s}{'clean in':>10s}{'gaussian in':>13s}{'masked in':>11s}   (error against the clean image)")
for name, e in denoise.items():
    print(f"{name:14s}{e['clean']:10.2f}{e['gaussian']:13.2f}{e['masked']:11.2f}")
print(f"{'noisy input':14s}{'':10s}{reconstruction_error(x_test, x_test_gauss).mean():13.2f}"
      f"{reconstruction_error(x_test, x_test_mask).mean():11.2f}")

# %%
assert denoise["DAE gaussian"]["gaussian"] < 0.9 * denoise["plain"]["gaussian"]
assert denoise["DAE masking"]["masked"] < 0.9 * denoise["plain"]["masked"]

# %%
rows = [x_test, x_test_gauss, plain.predict(x_test_gauss, verbose=0), dae_gauss.predict(x_test_gauss, verbose=0),
        x_test_mask, plain.predict(x_test_mask, verbose=0), dae_mask.predict(x_test_mask, verbose=0)]
labels = ["clean", "gaussian", "plain AE", "DAE", "masked", "plain AE", "DAE (masking)"]
fig, axes = plt.subplots(len(rows), 10, figsize=(8, len(rows) * 0.85))
for r, (images, label) in enumerate(zip(rows, labels)):
    for i in range(10):
        axes[r, i].imshow(np.clip(images[i], 0, 1).reshape(SIDE, SIDE), cmap="gray", vmin=0, vmax=1)
        axes[r, i].set_xticks([])
        axes[r, i].set_yticks([])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
plt.show()

# %% [markdown]
# Each denoiser wins on the noise it was trained with and pays for it on
# clean inputs. That is the trade-off the course notes describe: the noise
# type and level must suit the data, and a denoiser may discard detail that
# looked like noise. This is also the training pipeline of the Sys-AI slides
# (003): corrupt, encode, add any penalty on the code (section 1) to the
# squared error, and step the optimizer.
#
# ## 3 · Contractive autoencoders
#
# A word on names first: 004 titles this slide "Contrastive Autoencoder", but
# the method is the **contractive** autoencoder (Rifai et al., ICML 2011).
# "Contrastive" belongs to other ideas, such as the contrastive divergence
# used to train RBMs (tutorial 05) and contrastive representation learning.
#
# A contractive autoencoder penalises the encoder's sensitivity to its input,
# the squared Frobenius norm of the Jacobian $J_f(x) = \partial f(x) / \partial x$
# (001 §2.3):
#
# $$\mathcal L = \Delta\big(x, g(f(x))\big) + \lambda\, \lVert J_f(x) \rVert_F^2,
#   \qquad \lVert J_f(x) \rVert_F^2 = \sum_{j,i} \Big(\frac{\partial h_j}{\partial x_i}\Big)^2.$$
#
# The reconstruction term wants the code to follow the input in the directions
# that matter for redrawing it; the penalty wants the code to ignore every
# other direction. For one sigmoid layer $h = \sigma(W^\top x + b)$ the norm has
# a closed form, $\lVert J\rVert_F^2 = \sum_j \big(h_j(1-h_j)\big)^2 \sum_i W_{ij}^2$,
# which `keras_ae.build("contractive")` uses for `hidden=()`. We compare the
# contractive model with the sigmoid model without penalty from section 1
# (same architecture), computing the norm with the formula:

# %%
def jacobian_frobenius(model, x):
    """||J_f(x)||_F per example for a one-layer sigmoid encoder, by the closed form."""
    code_layer = model.get_layer("encoder").get_layer("encoder_code")
    w = code_layer.kernel.numpy().astype("float64")
    h = codes_of(model, x).astype("float64")
    return np.sqrt(((h * (1 - h)) ** 2 * (w**2).sum(axis=0)).sum(axis=1))


cae = fit(keras_ae.build("contractive", input_shape=(D,), latent_dim=WIDE, contraction_weight=0.3))
_, squared_norms = cae.jacobian_norm(x_test)
assert np.allclose(jacobian_frobenius(cae, x_test) ** 2, np.asarray(squared_norms), rtol=1e-3)

rng = np.random.default_rng(5)
eps = rng.normal(0.0, 0.05, x_test.shape).astype("float32")
contraction = {}
for name, m in (("no penalty", sigmoid_plain), ("contractive", cae)):
    code_change = np.linalg.norm(codes_of(m, x_test + eps) - codes_of(m, x_test), axis=1).mean()
    contraction[name] = {"jacobian": jacobian_frobenius(m, x_test).mean(), "code_change": code_change,
                         "error": test_error(m)}
    print(f"{name:12s} mean ||J_f||_F {contraction[name]['jacobian']:.3f}   "
          f"code change for 0.05 noise {code_change:.3f}   test error {contraction[name]['error']:.2f}")

# %%
assert contraction["contractive"]["jacobian"] < 0.8 * contraction["no penalty"]["jacobian"]
assert contraction["contractive"]["code_change"] < 0.9 * contraction["no penalty"]["code_change"]

# %% [markdown]
# How far does the code move as the perturbation grows? For small noise the
# change is about $\lVert J_f(x)\,\varepsilon\rVert$, so the contractive model's
# curve stays below:

# %%
sigmas = [0.01, 0.02, 0.05, 0.1, 0.2]
fig, ax = plt.subplots(figsize=(4.5, 2.8))
for name, m in (("no penalty", sigmoid_plain), ("contractive", cae)):
    changes = []
    for s in sigmas:
        noise = rng.normal(0.0, s, x_test.shape).astype("float32")
        changes.append(np.linalg.norm(codes_of(m, x_test + noise) - codes_of(m, x_test), axis=1).mean())
    ax.plot(sigmas, changes, marker="o", label=name)
ax.set_xlabel(r"noise level $\sigma$")
ax.set_ylabel(r"mean $\Vert f(x+\varepsilon) - f(x)\Vert$")
ax.legend()
plt.show()

# %% [markdown]
# `contraction_weight` ($\lambda$) trades the two terms; `jacobian="exact"` or
# `"hutchinson"` (a random-projection estimate) handle deeper encoders, and
# the Benchmarks page compares their cost.
#
# ## 4 · Weight decay vs activity regularization
#
# 004 explains the contractive penalty next to the oldest regularizer of all,
# **weight decay**: $\tilde E(w) = E(w) + \frac{\lambda}{2} w^\top w$, the L2
# regularization of the course notes (002), which shrinks the weights toward
# zero. The penalties of sections 1 and 3 act on the activations or their
# derivatives instead (000: "applied on the activations instead of the
# weights"). Do they do the same thing?
#
# The `keras_ae` builders expose activity penalties, not weight penalties, so
# we build the same one-layer ReLU autoencoder by hand with a
# `kernel_regularizer`; `keras.regularizers.L2(c)` adds $c \sum w^2$, so
# $c = \lambda / 2$. (Another route is decoupled weight decay in the optimizer:
# `model = keras_ae.build(..., compile=False)` then
# `model.compile(optimizer=keras.optimizers.AdamW(weight_decay=...), loss=...)`.)

# %%
def weight_decay_autoencoder(width, lam):
    """One-layer ReLU autoencoder with the penalty (lam / 2) * sum(w ** 2) on both kernels."""
    reg = keras.regularizers.L2(lam / 2) if lam > 0 else None
    x_in = keras.Input(shape=(D,), name="encoder_input")
    h = layers.Dense(width, activation="relu", kernel_regularizer=reg, name="encoder_code")(x_in)
    encoder = keras.Model(x_in, h, name="encoder")
    code_in = keras.Input(shape=(width,), name="decoder_input")
    logits = layers.Dense(D, kernel_regularizer=reg, name="decoder_logits")(code_in)
    decoder = keras.Model(code_in, layers.Activation("sigmoid", name="decoder_output")(logits), name="decoder")
    inputs = keras.Input(shape=(D,), name="input")
    model = keras.Model(inputs, decoder(encoder(inputs)), name="weight_decay")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=NegativeLogLikelihood("bernoulli"))
    return model


relu_wd = fit(weight_decay_autoencoder(WIDE, lam=0.02))
compare = {}
for name, m in (("no penalty", relu_plain), ("weight decay", relu_wd), ("L1 on activity", relu_l1)):
    w = m.get_layer("encoder").get_layer("encoder_code").kernel.numpy()
    compare[name] = {"weight_norm": np.linalg.norm(w), "active": float(np.mean(codes_of(m, x_test) > 0)),
                     "error": test_error(m)}
    print(f"{name:15s} ||W_enc||_F {compare[name]['weight_norm']:6.2f}   "
          f"active code values {compare[name]['active']:.2f}   test error {compare[name]['error']:.2f}")

# %%
assert compare["weight decay"]["weight_norm"] < 0.9 * compare["no penalty"]["weight_norm"]
assert compare["L1 on activity"]["active"] < 0.8 * compare["weight decay"]["active"]

# %% [markdown]
# Weight decay makes the weights small but leaves about as many code units
# active as before; the L1 activity penalty switches more than half of them
# off for any given image. They express different preferences: "a simple function" vs "a
# short description of each input".
#
# ## 5 · The bias-variance trade-off
#
# The 000 slides frame regularization as a trade-off between a low
# reconstruction error on the training data and a code that generalises. A
# penalty adds **bias** (the model can fit the training set less well) and
# removes **variance** (the fit depends less on which examples it saw). We
# train the weight-decay autoencoder on a small training set, where variance
# matters, for growing $\lambda$, and compare training and test error; their
# difference, the generalisation gap, is our measure of variance.

# %%
n_small = 200 if SMOKE else 1000
x_small = x_train[:n_small]
lams = [0.0, 0.02, 0.2]
curve = {"train": [], "test": []}
for lam in lams:
    keras.utils.set_random_seed(0)
    m = weight_decay_autoencoder(WIDE, lam)
    m.fit(x_small, x_small, epochs=60 if SMOKE else 30, batch_size=32, verbose=0)
    curve["train"].append(reconstruction_error(x_small, m.predict(x_small, verbose=0)).mean())
    curve["test"].append(test_error(m))
gaps = [te - tr for tr, te in zip(curve["train"], curve["test"])]
for lam, tr, te, gap in zip(lams, curve["train"], curve["test"], gaps):
    print(f"lambda {lam:5.2f}: train {tr:6.2f}  test {te:6.2f}  gap {gap:5.2f}")

fig, ax = plt.subplots(figsize=(4.5, 2.8))
positions = range(len(lams))
ax.plot(positions, curve["train"], marker="o", label="train (bias)")
ax.plot(positions, curve["test"], marker="o", label="test")
ax.set_xticks(list(positions), [str(lam) for lam in lams])
ax.set_xlabel(r"weight decay $\lambda$")
ax.set_ylabel("squared error per image")
ax.legend()
plt.show()

# %%
assert curve["train"][-1] > curve["train"][0]  # more bias
assert gaps[-1] < gaps[0]  # less variance

# %% [markdown]
# On this data a little decay costs little and the strongest one mostly adds
# bias. The same trade-off hides in every knob of this tutorial:
# the code width, the L1 or KL weight, the noise level, the contraction weight.
# The course notes add the other cure: more data. Rerun with `n_small` ten
# times larger and watch the gap shrink without any penalty.
#
# | regularizer | penalises | `keras_ae` |
# |---|---|---|
# | bottleneck | the code's size | `build("dense", latent_dim=k)` |
# | L1 sparsity | $\sum_j \lvert h_j\rvert$ | `build("sparse", sparsity="l1")` |
# | KL sparsity | $\sum_j \mathrm{KL}(\rho \Vert \hat\rho_j)$ | `build("sparse", sparsity="kl", target=ρ)` |
# | denoising | sensitivity to corruption | `corrupt` + `fit(x_noisy, x)`, or `build("denoising")` |
# | contractive | $\lVert J_f(x)\rVert_F^2$ | `build("contractive", contraction_weight=λ)` |
# | weight decay | $\frac{\lambda}{2} w^\top w$ | `kernel_regularizer`, or `AdamW(weight_decay=...)` |
#
# ## Exercises
#
# 1. Train the corrected snippet of section 1 with `loss="binary_crossentropy"`
#    and then with `keras_ae`'s summed loss. How large must the L1 weight be in
#    each case to switch off half of the units?
# 2. Train the model without penalty with the same learning rate and epochs
#    as the KL-sparse one, then sweep the KL target
#    $\rho \in \{0.01, 0.05, 0.2\}$ and plot the test error against $\rho$.
#    What happens to the filters?
# 3. Train `build("denoising", noise="salt_and_pepper")` and test all three
#    denoisers on all three kinds of noise. Is any of them a good all-rounder?
# 4. Use `build("contractive", hidden=(256,), jacobian="hutchinson", probes=4)`
#    for a deep encoder. How does the measured $\lVert J_f\rVert_F$ compare with
#    `jacobian="exact"`, and how long does an epoch take?
# 5. In section 5, add $\lambda = 0.005$ and $\lambda = 0.05$ and increase the
#    epochs. Can you find a $\lambda$ whose test error beats $\lambda = 0$?
