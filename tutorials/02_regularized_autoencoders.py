# %% [markdown]
# # 02 · Regularized autoencoders
#
# Tutorial 01 stopped the identity trap with a narrow code. This one leaves
# the code wide and adds a preference to the loss instead. You will:
#
# - see a code **twice as wide as the input** copy noise and a denoising one
#   not (the first figure), then find out which penalties stop the copy
#   (section 6);
# - make codes **sparse**, with an L1 penalty on the activations (and fix the
#   Keras snippet of the course notes on the way) and with a KL divergence to
#   a target activation $\rho = 0.05$, and measure what sparsity changes in
#   the filters;
# - train **denoising** autoencoders with Gaussian and with masking (dropout)
#   noise, both as `fit(x_noisy, x)` and with a corruption layer, and watch
#   them pull corrupted points back toward the data;
# - train a **contractive** autoencoder and measure how much less its code
#   moves when the input moves;
# - compare **weight decay** (a penalty on the weights) with **activity
#   regularization** (a penalty on the code), and derive that for a linear
#   encoder the contractive penalty *is* weight decay;
# - trace the **bias–variance trade-off** as the penalty grows.
#
# **Source documents covered:** 000 (regularized, sparse, denoising and
# contractive autoencoders; the bias–variance trade-off), 001 §2 (the sparse KL
# and contractive objectives), 002 (constraining the network, denoising and
# sparse autoencoders with their pros and cons, L1/L2 regularization,
# `fit(x_noisy, x)`, the sparse Keras snippet), 003 (loss terms for desirable
# properties, the corrupt-encode-penalise training pipeline) and 004 (DAE,
# sparse AE with $\rho = 0.05$, the manifold view of the DAE, the contractive
# AE and the weight-decay view).

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
# width of the one-layer codes of sections 1, 3 and 4: twice the input for the
# digits (overcomplete). On MNIST it is 256 units for 784 pixels, a shortcut
# that keeps the full run short: there those sections show what each penalty
# does to a code, not that it stops a copy. The denoisers of section 2 use the
# library's default deep network with a 32-unit code. The copy itself is shown
# on the 8×8 digits in both runs, with 128 code units for 64 pixels: in the
# first figure and in section 6.

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


def show_rows(rows, labels, side, n=10):
    """Draws n images of each array in rows, one row per array, labelled on the left."""
    fig, axes = plt.subplots(len(rows), n, figsize=(0.8 * n, 0.85 * len(rows)))
    for r, (images, label) in enumerate(zip(rows, labels)):
        for i in range(n):
            axes[r, i].imshow(np.clip(images[i], 0, 1).reshape(side, side), cmap="gray", vmin=0, vmax=1)
            axes[r, i].set_xticks([])
            axes[r, i].set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    plt.show()


# %% [markdown]
# ## A first result: a wide code copies, a denoising one does not
#
# The problem and one cure, before any theory. A one-layer autoencoder gets
# a code of 128 ReLU units for the 64 pixels of the 8×8 digits, twice the
# input, and learns with the squared error (a linear output can return any
# pixel value, so copying is easy). One copy of it learns from clean images,
# `fit(x, x)`; the other from images with Gaussian noise of standard deviation
# 0.3, `fit(x_noisy, x)` (section 2). Both then get noisy test digits. We
# score each output by its squared error against the *clean* digit, and
# compare it with the error of the noisy input itself, which is what a
# perfect copy would score.

# %%
(d_train, _), (d_test, _) = data.load("digits", flatten=True)
D_SMALL = d_train.shape[1]
WIDE_SMALL = 2 * D_SMALL  # twice the input
d_train_noisy = keras_ae.corrupt(d_train, "gaussian", 0.3, seed=1)
d_test_noisy = keras_ae.corrupt(d_test, "gaussian", 0.3, seed=3)
noise_error = reconstruction_error(d_test, d_test_noisy).mean()


KEPT_BY_COPY = 0.65  # a model "copies" when it keeps more than this share of the noise's error


def wide_model(kind="relu", weight=0.0):
    """One-layer autoencoder, 64 -> 128 -> 64, squared error; kind picks the code and its penalty."""
    keras.utils.set_random_seed(0)
    common = dict(input_shape=(D_SMALL,), latent_dim=WIDE_SMALL, likelihood="gaussian", learning_rate=1e-2)
    if kind == "contractive":
        return keras_ae.build("contractive", contraction_weight=weight, **common)
    sparsity = "l1" if kind == "relu" else "kl"  # ReLU code (L1 penalty) or sigmoid code (KL penalty)
    return keras_ae.build("sparse", sparsity=sparsity, sparsity_weight=weight, **common)


def fit_wide(model, x_in=None):
    model.fit(d_train if x_in is None else x_in, d_train, epochs=30, batch_size=64, verbose=0)
    return model


def copy_scores(model):
    """Error on clean digits, share of the noise's error that survives (1 = a perfect copy), code sparsity."""
    clean = reconstruction_error(d_test, model.predict(d_test, verbose=0)).mean()
    noisy = reconstruction_error(d_test, model.predict(d_test_noisy, verbose=0)).mean()
    near_zero = float(np.mean(model.get_layer("encoder").predict(d_test, verbose=0) < 0.1))
    return {"clean": clean, "noisy": noisy, "kept": noisy / noise_error, "near_zero": near_zero}


copier = fit_wide(wide_model())
denoiser = fit_wide(wide_model(), d_train_noisy)
first = {"no penalty": copy_scores(copier), "denoising": copy_scores(denoiser)}
print(f"noisy input itself: error {noise_error:.2f} against the clean digit")
for name, sc in first.items():
    print(f"{name:11s} clean in {sc['clean']:5.2f}   noisy in {sc['noisy']:5.2f} "
          f"({sc['kept']:.0%} of the noisy input's error)")
show_rows([d_test, d_test_noisy, copier.predict(d_test_noisy, verbose=0), denoiser.predict(d_test_noisy, verbose=0)],
          ["clean", "noisy", "no penalty", "denoising"], side=8)

# %% [markdown]
# The model without a penalty redraws clean digits almost perfectly (its
# clean error is the smallest of the two) and, fed a noisy digit, returns
# most of the noise: it has learned something close to the identity. The
# denoising model, same network and same training, removes most of the noise.
# Sections 1 to 3 explain three penalties; section 6 puts all of them on
# this wide network.

# %%
assert first["no penalty"]["clean"] < first["denoising"]["clean"]
assert first["no penalty"]["kept"] > KEPT_BY_COPY
assert first["denoising"]["kept"] < 0.5 * first["no penalty"]["kept"]


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
keras.utils.set_random_seed(0)  # sections 1 to 5 start from the seed of the top of the page
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

# %% [markdown]
# The penalty leaves far fewer code values above zero, and the test error
# rises: each image is now described with fewer units, which costs some
# detail.

# %%
assert active["L1"] < 0.7 * active["no penalty"]
assert test_error(relu_l1) > test_error(relu_plain)

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
# The mean activation lands close to the target (within half of $\rho$,
# checked above), while the model without the penalty fires far more often
# (a mean above 0.2, also checked). Near $\rho$ the penalty is quadratic, so it pushes only gently there,
# while the reconstruction term pulls the other way: expect the mean near
# $\rho$, not exactly on it. Compare the two test errors as
# well: what a sparse code costs in reconstruction depends on its width, the
# target and the training (here the sparse model also had a larger learning
# rate and more epochs, so the comparison is not a controlled one; exercise 2
# makes it one).

# %% [markdown]
# ### Are sparse filters easier to read?
#
# Sparse codes are often said to have more interpretable units. "Interpretable"
# is a judgment, so we look and then measure two things. Each unit's
# **filter** is its column of encoder weights, drawn as an image: the input
# pattern that excites it most. Below are the filters of the 12 units whose
# activation varies most over the test images, for the sigmoid model without
# penalty (top) and the KL-sparse one (bottom). Pixels that never vary in the
# training set are left blank: a pixel that is always 0 sends no gradient to
# its weights, which keep their random initial values and would only draw
# noise around the digit.
#
# The two numbers: the share of code values near zero ($h_j < 0.1$, how
# sparse the code is) and, for the filters, the share of each filter's squared
# weight held by its 10 % largest pixels (among the varying ones), averaged
# over units. A filter spread evenly over the image scores low; one that
# looks at a small stroke scores high.

# %%
varying = x_train.std(axis=0) > 0.1  # pixels that vary across the training set


def encoder_kernel(model):
    return model.get_layer("encoder").get_layer("encoder_code").kernel.numpy()


def concentration(kernel, top=0.1):
    """Mean share of a filter's squared weight (varying pixels only) held by its top 10 % of pixels."""
    w2 = np.sort(kernel[varying] ** 2, axis=0)[::-1]
    k = max(1, int(round(top * len(w2))))
    return float((w2[:k].sum(axis=0) / w2.sum(axis=0)).mean())


readable = {}
fig, axes = plt.subplots(2, 12, figsize=(9.6, 2.0))
for row, (name, m) in zip(axes, (("no penalty", sigmoid_plain), ("KL-sparse", kl_model))):
    h = codes_of(m, x_test)
    kernel = encoder_kernel(m)
    readable[name] = {"near_zero": float(np.mean(h < 0.1)), "concentration": concentration(kernel)}
    for ax, j in zip(row, np.argsort(-h.std(axis=0))[:12]):
        image = np.where(varying, kernel[:, j], np.nan).reshape(SIDE, SIDE)
        limit = np.nanmax(np.abs(image))
        ax.imshow(image, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_xticks([])
        ax.set_yticks([])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
plt.show()
print(f"{varying.sum()} of {D} pixels vary")
print(f"{'':11s}{'code values < 0.1':>19s}{'top-10% share of filter energy':>32s}")
for name, r in readable.items():
    print(f"{name:11s}{r['near_zero']:19.2f}{r['concentration']:32.2f}")

# %% [markdown]
# Look at the two rows first, then at the table. The KL-sparse code is
# sparse (most of its values are near zero, few of the other model's are).
# Its filters put a larger share of their weight on a few pixels on MNIST,
# where the difference is clear: they look at smaller parts of the image. On
# the 8×8 digits of the quick run, with only the few dozen varying pixels
# counted above, the difference is small. So "more interpretable" means
# here, measurably, "sparser codes and more local filters"; whether a local
# filter is easier for you to read is for your eyes to judge.

# %%
assert readable["KL-sparse"]["near_zero"] > readable["no penalty"]["near_zero"] + 0.3
gain = readable["KL-sparse"]["concentration"] - readable["no penalty"]["concentration"]
if SMOKE:
    assert abs(gain) < 0.05  # 8x8 digits: a small difference
else:
    assert gain > 0.05  # MNIST: clearly more local filters

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
# The table reads by columns. On clean inputs the plain autoencoder is the
# best of the three; on Gaussian noise the Gaussian denoiser is, and on
# masked inputs the masking one: each denoiser wins on the noise it was
# trained with and pays for it on clean inputs. That is the trade-off the
# course notes describe: the noise type and level must suit the data, and a
# denoiser may discard detail that looked like noise. This is also the
# training pipeline of the Sys-AI slides (003): corrupt, encode, add any
# penalty on the code (section 1) to the squared error, and step the
# optimizer.

# %%
for noise, best in (("gaussian", "DAE gaussian"), ("masked", "DAE masking")):
    assert min(denoise, key=lambda name: denoise[name][noise]) == best
assert min(denoise, key=lambda name: denoise[name]["clean"]) == "plain"

# %% [markdown]
# ### Back toward the data: the manifold view
#
# 004 offers two ways to read a denoising autoencoder. One is perception: we
# recognise a digit through smudges, so a good code should too. The other is
# geometric. Images of digits fill a thin region of $[0,1]^D$, a manifold of
# much lower dimension than $D$; noise pushes a point off it, in directions
# along which no digit varies. To undo the noise, the network must learn to map
# every point near the manifold back onto it: the corrupted point is pulled
# back toward the data.
#
# We can measure that pull without knowing the manifold. Take the distance
# from a point to the nearest clean *training* image as its distance to the
# data. Compare it before (the corrupted test image) and after (the network's
# output), for the plain autoencoder and for the denoiser trained on the same
# noise.

# %%
from sklearn.neighbors import NearestNeighbors

nearest = NearestNeighbors(n_neighbors=1).fit(x_train)


def distance_to_data(x):
    """Euclidean distance from each row of x to its nearest clean training image."""
    return nearest.kneighbors(x)[0][:, 0]


pull = {}
for noise, x_in, dae in (("gaussian", x_test_gauss, dae_gauss), ("masked", x_test_mask, dae_mask)):
    pull[noise] = {
        "corrupted input": np.median(distance_to_data(x_in)),
        "plain AE output": np.median(distance_to_data(plain.predict(x_in, verbose=0))),
        "DAE output": np.median(distance_to_data(dae.predict(x_in, verbose=0))),
    }
clean_distance = np.median(distance_to_data(x_test))
print(f"median distance to the nearest training image (clean test images: {clean_distance:.2f})")
print(f"{'':10s}" + "".join(f"{name:>18s}" for name in pull["gaussian"]))
for noise, row in pull.items():
    print(f"{noise:10s}" + "".join(f"{d:18.2f}" for d in row.values()))

# %% [markdown]
# Read each row from left to right. Corruption moves a test image away from
# the training data (compare with the clean test images' own distance, in
# the header line). Both networks bring it back closer, since their outputs are
# made of what they learned from digits, but the denoiser brings it closer
# than the plain autoencoder does, for both kinds of noise.

# %%
for noise, row in pull.items():
    assert row["corrupted input"] > clean_distance
    assert row["plain AE output"] < row["corrupted input"]
    assert row["DAE output"] < row["corrupted input"]
    assert row["DAE output"] < row["plain AE output"]

# %% [markdown]
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
# The contractive model's Jacobian is smaller, and its code moves less when
# the same small noise is added to the test images: the penalty did what it
# says. It pays in reconstruction: its test error is higher than that of the
# same network without the penalty.

# %%
assert contraction["contractive"]["error"] > contraction["no penalty"]["error"]

# %% [markdown]
# How far does the code move as the perturbation grows? For small noise the
# change is about $\lVert J_f(x)\,\varepsilon\rVert$, so we expect the
# contractive model's curve below the other one; the assert after the plot
# checks it at every noise level drawn:

# %%
sigmas = [0.01, 0.02, 0.05, 0.1, 0.2]
moves = {}
fig, ax = plt.subplots(figsize=(4.5, 2.8))
for name, m in (("no penalty", sigmoid_plain), ("contractive", cae)):
    moves[name] = []
    for s in sigmas:
        noise = rng.normal(0.0, s, x_test.shape).astype("float32")
        moves[name].append(np.linalg.norm(codes_of(m, x_test + noise) - codes_of(m, x_test), axis=1).mean())
    ax.plot(sigmas, moves[name], marker="o", label=name)
ax.set_xlabel(r"noise level $\sigma$")
ax.set_ylabel(r"mean $\Vert f(x+\varepsilon) - f(x)\Vert$")
ax.legend()
plt.show()

# %%
assert all(c < p for c, p in zip(moves["contractive"], moves["no penalty"]))

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
# The table compares three versions of the same ReLU network. Weight decay
# makes the encoder's weights smaller but leaves about as many code values
# active as without a penalty; the L1 activity penalty switches a large share
# of them off for any given image. They express different preferences: "a
# simple function" vs "a short description of each input".

# %%
assert abs(compare["weight decay"]["active"] - compare["no penalty"]["active"]) < 0.1

# %% [markdown]
# ### For a linear encoder the contractive penalty is weight decay
#
# Why does 004 put weight decay next to the contractive penalty? Write the
# encoder as $h = s(W^\top x + b)$ with $W$ of shape $D \times k$ (Keras
# stores `kernel` that way) and an elementwise activation $s$. By the chain
# rule, $\partial h_j / \partial x_i = s'(a_j)\, W_{ij}$ with
# $a = W^\top x + b$, that is
#
# $$J_f(x) = \mathrm{diag}\big(s'(a)\big)\, W^\top .$$
#
# - **Linear encoder**, $s(a) = a$: $s' = 1$, so $J_f(x) = W^\top$ for every
#   $x$ and $\lVert J_f(x)\rVert_F^2 = \sum_{i,j} W_{ij}^2 = w^\top w$ (with $w$
#   the encoder's weights as one vector). The contractive penalty
#   $\lambda \lVert J_f\rVert_F^2$ is then exactly weight decay
#   $\frac{\lambda'}{2} w^\top w$ on the encoder, with $\lambda' = 2\lambda$:
#   it does not depend on the input at all.
# - **Sigmoid encoder**: $s' = h(1-h)$, so
#   $\lVert J_f(x)\rVert_F^2 = \sum_j \big(h_j(1-h_j)\big)^2 \sum_i W_{ij}^2$:
#   weight decay on each unit's weights, scaled by how sensitive that unit is
#   *at this input*. A unit saturated near 0 or 1 escapes the penalty, which is
#   how a contractive code can stay flat around the data and still change
#   between digits.
#
# Both formulas against automatic differentiation: the library's
# `jacobian_norm` on a linear encoder built with `jacobian="exact"` (the
# Jacobian from `tf.GradientTape.batch_jacobian`, no formula involved), and
# the whole matrix $\mathrm{diag}(h(1-h))W^\top$ of the trained contractive
# model of section 3 against the tape's.

# %%
import tensorflow as tf

linear_cae = keras_ae.build("contractive", input_shape=(D,), latent_dim=WIDE, activation="linear",
                            jacobian="exact")
linear_cae.fit(x_train[:256], x_train[:256], epochs=1, batch_size=64, verbose=0)  # weights away from init
_, linear_norms = linear_cae.jacobian_norm(x_test[:64])
w_linear = encoder_kernel(linear_cae).astype("float64")
print(f"linear encoder: ||J_f(x)||_F^2 from the tape, first 3 examples {np.asarray(linear_norms)[:3]}, "
      f"sum of W^2 {np.sum(w_linear ** 2):.4f}")
assert np.allclose(np.asarray(linear_norms), np.sum(w_linear**2), rtol=1e-4)

x_few = tf.constant(x_test[:16])
with tf.GradientTape() as tape:
    tape.watch(x_few)
    h_few = cae.get_layer("encoder")(x_few)
jacobian_tape = tape.batch_jacobian(h_few, x_few).numpy()  # (examples, k, D)
h_np = h_few.numpy().astype("float64")
jacobian_formula = (h_np * (1 - h_np))[:, :, None] * encoder_kernel(cae).T.astype("float64")[None]
print(f"sigmoid encoder: largest |J_tape - diag(h(1-h)) W^T| = {np.abs(jacobian_tape - jacobian_formula).max():.2e}"
      f" (largest entry {np.abs(jacobian_tape).max():.2e})")
assert np.allclose(jacobian_tape, jacobian_formula, atol=1e-5 * np.abs(jacobian_tape).max())

# %% [markdown]
# The two agree to float32 round-off: for a linear encoder the squared
# Jacobian norm is the same number, $\sum W^2$, for every input, and for a
# sigmoid one the tape's Jacobian is the formula's entry by entry. A deeper
# encoder has no such closed form, which is why the library also offers
# `jacobian="exact"` and `"hutchinson"`.
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

# %% [markdown]
# The table has one row per $\lambda$. From $\lambda = 0$ to the strongest
# decay, the training error rises (more bias) and the gap between test and
# training error shrinks (less variance). For the strongest decay the first effect is the larger one: its
# training error grows by more than its gap shrinks, so its test error is the
# worst of the three. The same trade-off hides in every knob of this
# tutorial: the code width, the L1 or KL weight, the noise level, the
# contraction weight. The course notes add the other cure, more data
# (exercise 6).

# %%
assert curve["train"][-1] > curve["train"][0]  # more bias
assert gaps[-1] < gaps[0]  # less variance
assert curve["train"][-1] - curve["train"][0] > gaps[0] - gaps[-1]  # the strongest decay: mostly bias
assert curve["test"][-1] == max(curve["test"])

# %% [markdown]
# ## 6 · A code wider than the input: which penalties stop the copy?
#
# Back to the first figure: 128 code units for the 64 pixels of the 8×8
# digits, the squared error, the same training for every model, and only the
# penalty changes. Two networks without a penalty, one with ReLU and one with
# sigmoid code units, are the baselines of the L1 and of the KL and
# contractive penalties. A model that copies its input keeps all of the
# noise, 100 % in the column "noise kept"; a model that has learned what
# digits look like keeps less. The penalty weights are set for this loss (a summed squared
# error, smaller than the cross-entropy of the sections above).

# %%
copy_table = {
    "no penalty, ReLU": first["no penalty"],
    "L1 sparse": copy_scores(fit_wide(wide_model("relu", 0.03))),
    "denoising": first["denoising"],
    "no penalty, sigmoid": copy_scores(fit_wide(wide_model("sigmoid"))),
    "KL sparse": copy_scores(fit_wide(wide_model("sigmoid", 1.0))),  # target rho = 0.05
    "contractive": copy_scores(fit_wide(wide_model("contractive", 0.3))),
}
print(f"noisy input itself: {noise_error:.2f}")
print(f"{'':20s}{'clean in':>9s}{'noisy in':>10s}{'noise kept':>12s}{'code values < 0.1':>19s}")
for name, sc in copy_table.items():
    print(f"{name:20s}{sc['clean']:9.2f}{sc['noisy']:10.2f}{sc['kept']:12.0%}{sc['near_zero']:19.2f}")

# %% [markdown]
# Read the table in its two groups, each under its baseline. Both networks
# without a penalty redraw clean digits almost perfectly and keep most of the
# noise: they have learned something close to the identity. The denoising and
# the contractive penalties cut the noise kept to less than half of that, and
# pay with a larger error on clean digits. The two sparsity penalties do make
# the code sparser (last column), yet they do **not** stop the copy: they keep
# at least as much noise as the copying baselines. A sparsity penalty limits
# how many units fire for an image, not how the active ones respond to a
# change of the input in a direction where digits do not vary; with 128 units
# for 64 pixels, the few units that fire can still pass the noise through. So
# on a code wider than the input, penalise the response to perturbations
# (contractive) or train on them (denoising); a sparse code still needs a
# narrower layer, or one of those two, to stop copying. (The models of
# section 1 differ in more than the penalty: a cross-entropy loss with a
# sigmoid output, which needs very large weights to return pixels of exactly
# 0 and 1, and fewer steps. This table holds everything but the penalty fixed.)

# %%
copiers = ("no penalty, ReLU", "no penalty, sigmoid")
for name in copiers:
    assert copy_table[name]["kept"] > KEPT_BY_COPY
    assert copy_table[name]["clean"] < 0.2 * min(copy_table[other]["clean"] for other in ("denoising", "contractive"))
for name in ("denoising", "contractive"):
    assert copy_table[name]["kept"] < 0.5 * min(copy_table[c]["kept"] for c in copiers)
for name, baseline in (("L1 sparse", "no penalty, ReLU"), ("KL sparse", "no penalty, sigmoid")):
    assert copy_table[name]["near_zero"] > copy_table[baseline]["near_zero"] + 0.1  # sparser code
    assert copy_table[name]["kept"] > KEPT_BY_COPY  # and still a copier

# %% [markdown]
# ## Summary
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
#
# <details><summary>Solution</summary>
#
# ```python
# def l1_snippet(lam, loss):
#     keras.utils.set_random_seed(0)
#     inputs = keras.Input(shape=(D,))
#     hidden = layers.Dense(32, activation="relu", activity_regularizer=keras.regularizers.L1(lam))(inputs)
#     model = keras.Model(inputs, layers.Dense(D, activation="sigmoid")(hidden))
#     model.compile(loss=loss, optimizer="adam")
#     fit(model, x_train)
#     return float(np.mean(keras.Model(inputs, hidden).predict(x_test, verbose=0) > 0))
#
# summed = NegativeLogLikelihood("bernoulli")
# for lam in (1e-5, 1e-4, 1e-3, 1e-2, 1e-1):
#     print(lam, l1_snippet(lam, "binary_crossentropy"), l1_snippet(lam, summed))
# ```
#
# `binary_crossentropy` averages over the $D$ pixels, the library's loss sums
# over them, so the reconstruction term of the second is $D$ times larger.
# The weight that switches off half of the units therefore moves up by roughly
# a factor $D$ (64 or 784) with the summed loss: a penalty's weight only has a
# meaning relative to the loss it is added to.
#
# </details>
#
# 2. Train the model without penalty with the same learning rate and epochs
#    as the KL-sparse one, then sweep the KL target
#    $\rho \in \{0.01, 0.05, 0.2\}$ and plot the test error against $\rho$.
#    What happens to the filters?
#
# <details><summary>Solution</summary>
#
# ```python
# def kl_run(rho, weight):
#     keras.utils.set_random_seed(0)
#     m = keras_ae.build("sparse", input_shape=(D,), latent_dim=WIDE, sparsity="kl",
#                        target=rho, sparsity_weight=weight, learning_rate=1e-2)
#     m.fit(x_train, x_train, epochs=2 * EPOCHS, batch_size=64, verbose=0)
#     return m
#
# baseline = test_error(kl_run(0.05, 0.0))          # the controlled comparison
# rhos = [0.01, 0.05, 0.2]
# runs = [kl_run(rho, 10.0) for rho in rhos]
# plt.plot(rhos, [test_error(m) for m in runs], marker="o")
# plt.axhline(baseline, ls="--")
# plt.xscale("log"); plt.xlabel("target rho"); plt.ylabel("test error"); plt.show()
# print([concentration(encoder_kernel(m)) for m in runs])
# ```
#
# The dashed line is the price-free reference: same optimiser, same epochs,
# no penalty. A smaller $\rho$ lets each image use fewer units, so expect
# the test error to rise as $\rho$ falls; draw the filters of each run (the
# plotting loop of "Are sparse filters easier to read?") and compare their
# concentration numbers to see whether fewer active units also means more
# local filters on your data.
#
# </details>
#
# 3. Train `build("denoising", noise="salt_and_pepper")` and test all three
#    denoisers on all three kinds of noise. Is any of them a good all-rounder?
#
# <details><summary>Solution</summary>
#
# ```python
# dae_sp = fit(keras_ae.build("denoising", input_shape=(D,), latent_dim=32,
#                             noise="salt_and_pepper", noise_level=0.2, seed=6))
# tests = {"gaussian": x_test_gauss, "masked": x_test_mask,
#          "salt and pepper": keras_ae.corrupt(x_test, "salt_and_pepper", 0.2, seed=7)}
# for name, m in (("DAE gaussian", dae_gauss), ("DAE masking", dae_mask), ("DAE s&p", dae_sp)):
#     print(name, {noise: round(test_error(m, x), 2) for noise, x in tests.items()})
# ```
#
# Read the table by columns, as in section 2: the diagonal (each model on
# its own noise) should hold the best value of each column. An all-rounder
# would be close to the best in every column; if none is, train one model on
# a mixture (draw the noise kind at random per batch) and add it as a fourth
# row.
#
# </details>
#
# 4. Use `build("contractive", hidden=(256,), jacobian="hutchinson", probes=4)`
#    for a deep encoder. How does the measured $\lVert J_f\rVert_F$ compare with
#    `jacobian="exact"`, and how long does an epoch take?
#
# <details><summary>Solution</summary>
#
# ```python
# import time
#
# for jac in ("exact", "hutchinson"):
#     keras.utils.set_random_seed(0)
#     m = keras_ae.build("contractive", input_shape=(D,), latent_dim=WIDE, hidden=(256,),
#                        jacobian=jac, probes=4, contraction_weight=0.3)
#     start = time.perf_counter()
#     m.fit(x_train, x_train, epochs=1, batch_size=64, verbose=0)
#     seconds = time.perf_counter() - start
#     m.jacobian = "exact"                      # measure both with the exact norm
#     _, norms = m.jacobian_norm(x_test[:256])
#     print(jac, f"{seconds:.1f} s/epoch", float(np.sqrt(np.asarray(norms)).mean()))
# ```
#
# Hutchinson's estimate is unbiased, so a model trained with it is pushed
# toward the same small norms as one trained with the exact Jacobian, with
# noisier steps (more so with fewer probes). The exact path builds the whole
# $k \times D$ Jacobian per example, the estimate only `probes`
# vector-Jacobian products, so the gap in seconds grows with the width of the
# code. The Benchmarks page has the measured costs.
#
# </details>
#
# 5. In section 5, add $\lambda = 0.005$ and $\lambda = 0.05$ and increase the
#    epochs. Can you find a $\lambda$ whose test error beats $\lambda = 0$?
#
# <details><summary>Solution</summary>
#
# ```python
# for lam in (0.0, 0.005, 0.02, 0.05):
#     keras.utils.set_random_seed(0)
#     m = weight_decay_autoencoder(WIDE, lam)
#     m.fit(x_small, x_small, epochs=200, batch_size=32, verbose=0)
#     train = reconstruction_error(x_small, m.predict(x_small, verbose=0)).mean()
#     print(f"lambda {lam}: train {train:.2f} test {test_error(m):.2f}")
# ```
#
# With more epochs the model without a penalty fits the small training set
# more closely and its gap grows, so the room for a penalty to help grows too.
# Whether a small $\lambda$ wins depends on the data size and the epochs: if
# none does, the variance you removed was smaller than the bias you added.
# Decide on a validation split, never on the test set.
#
# </details>
#
# 6. The other cure for variance is more data. In section 5, set `n_small`
#    ten times larger, keep $\lambda = 0$, and compare the gap with the one
#    printed above.
#
# <details><summary>Solution</summary>
#
# ```python
# for n in (n_small, 10 * n_small):
#     keras.utils.set_random_seed(0)
#     m = weight_decay_autoencoder(WIDE, 0.0)
#     xs = x_train[:n]
#     m.fit(xs, xs, epochs=60 if SMOKE else 30, batch_size=32, verbose=0)
#     train = reconstruction_error(xs, m.predict(xs, verbose=0)).mean()
#     print(f"n = {n}: train {train:.2f} test {test_error(m):.2f} gap {test_error(m) - train:.2f}")
# ```
#
# The digits have only 1437 training images, so in the quick run the larger
# set is capped there. With more examples per parameter the network can no
# longer fit the training images much better than new ones, and the gap
# measures that. Note that the larger run also takes ten times more steps per
# epoch.
#
# </details>
