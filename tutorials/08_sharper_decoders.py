# %% [markdown]
# # 08 · Sharper decoders
#
# Tutorial 07 (§2) showed why a VAE's images are grey: its decoder scores each pixel on its own, and
# the loss of independent pixels is lowest for the *average* of all the images a code could stand
# for. No network fixes that; the loss has to change. This tutorial tries three changes, each a
# registered `keras_ae` model:
#
# - **a loss on features instead of pixels** (`dfc_vae`, Hou et al., "Deep Feature Consistent
#   Variational Autoencoder", WACV 2017): compare the activations of a fixed classifier for the
#   image and its reconstruction;
# - **an autoregressive decoder** (`pixelcnn_vae`, the PixelVAE of Gulrajani et al., ICLR 2017, built
#   on the gated PixelCNN of van den Oord et al., NeurIPS 2016): pixels are drawn one after the other,
#   each given the ones before it, so the decoder can model how pixels move together, and its
#   likelihood $\log p(x \mid z)$ is exact, in nats;
# - **discrete codes** (`vq_vae`, van den Oord et al., "Neural Discrete Representation Learning",
#   NeurIPS 2017): each position of a small grid gets one of $K$ codebook vectors, and a PixelCNN
#   *prior* over the grid replaces the Gaussian prior for sampling.
#
# **Source documents.** 000 ("Advanced autoencoder techniques": the DFC-VAE and PixelCNN decoders as
# cures for blur) and 001 §6.4–6.5 (the same two, in a paragraph each). Neither source gives the
# objectives; they are written out below. 001 says a PixelCNN decoder "captures details"; what it
# captures is the *dependence between pixels*, which a factorized decoder cannot represent, and the
# price is a decoder that can explain the image without the code (section 2 measures it).
#
# **Quick mode.** With `KERAS_AE_SMOKE=1` (set by the test suite) every model trains on the 8x8
# scikit-learn digits (no download) for a few epochs, and the classifier behind the perceptual loss is
# trained in the notebook on the same digits. The full run (this page) uses a 10 000-image slice of
# MNIST and the MNIST classifier cached by `tools/train_feature_network.py` (trained here if missing).

# %%
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

import keras_ae
from keras_ae import data, metrics
from keras_ae import sample_quality as sq

tf.get_logger().setLevel("ERROR")

SMOKE = os.environ.get("KERAS_AE_SMOKE") == "1"
keras.utils.set_random_seed(0)
START = time.perf_counter()


def load_images():
    """MNIST (a 10 000-image slice) in the full run when it is cached, else the 8x8 digits."""
    if not SMOKE:
        try:
            return "MNIST", data.load("mnist", limit=10_000)
        except (FileNotFoundError, OSError):
            print("MNIST is not in the Keras cache: using the 8x8 digits (see keras_ae.data.load).")
    return "digits", data.load("digits")


DATASET, ((x_train, y_train), (x_test, y_test)) = load_images()
MNIST = DATASET == "MNIST"
if x_train.ndim == 3:
    x_train, x_test = x_train[..., None], x_test[..., None]
SHAPE = x_train.shape[1:]
EPOCHS = 10
LEARNING_RATE = 1e-3 if MNIST else 3e-3  # the 8x8 digits give 23 steps per epoch: larger steps
BATCH = 128 if MNIST else 64
LATENT = 16 if MNIST else 8
N_EVAL = 500 if MNIST else 200
FILTERS = (32, 64) if MNIST else (32,)
x_eval, y_eval = x_test[:N_EVAL], y_test[:N_EVAL]
# Binary images for the models whose likelihood is exact: a fixed draw of each pixel from its grey level.
rng = np.random.default_rng(0)
b_train = (rng.random(x_train.shape) < x_train).astype("float32")
b_eval = (rng.random(x_eval.shape) < x_eval).astype("float32")
print(f"{DATASET}: {len(x_train)} training images of shape {SHAPE}, {N_EVAL} for evaluation")


def show_images(rows, titles, size=0.9):
    """One row of images per entry of ``rows``, titled."""
    n = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), n, figsize=(size * n, size * 1.25 * len(rows)), squeeze=False)
    for i, (row, title) in enumerate(zip(rows, titles)):
        for j in range(n):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(row):
                ax.imshow(np.asarray(row[j]).reshape(SHAPE[:2]), cmap="gray", vmin=0, vmax=1)
        axes[i, 0].set_title(title, loc="left", fontsize=9)
    plt.tight_layout()
    plt.show()


def grey_fraction(images):
    """Share of pixels strictly between 0.2 and 0.8: what blur looks like in numbers."""
    images = np.asarray(images)
    return float(np.mean((images > 0.2) & (images < 0.8)))


def isolated_fraction(images):
    """Share of 'on' pixels (>= 0.5) none of whose 4 neighbours is on: salt-and-pepper noise."""
    on = np.asarray(images)[..., 0] >= 0.5
    padded = np.pad(on, ((0, 0), (1, 1), (1, 1)))
    neighbours = padded[:, :-2, 1:-1] | padded[:, 2:, 1:-1] | padded[:, 1:-1, :-2] | padded[:, 1:-1, 2:]
    return float(np.sum(on & ~neighbours) / max(1, np.sum(on)))


def train(name, x, **options):
    """Builds ``name`` on the page's shape, trains it ``EPOCHS`` epochs on ``x``; returns it and its seconds."""
    keras.utils.set_random_seed(0)
    model = keras_ae.build(name, input_shape=SHAPE, latent_dim=LATENT, seed=0, learning_rate=LEARNING_RATE,
                           **options)
    start = time.perf_counter()
    model.fit(x, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    return model, time.perf_counter() - start


# %% [markdown]
# **The classifier behind the perceptual loss**, and the judge of the samples at the end: the small
# convolutional classifier of `keras_ae.sample_quality` (two strided convolutions named `conv1` and
# `conv2`, a 128-unit `features` layer, ten logits). ImageNet networks cannot be downloaded here, so
# this is the project's stand-in for the paper's VGG-19.

# %%
if MNIST:
    try:
        classifier = sq.load_feature_network("mnist")
    except FileNotFoundError:
        classifier = sq.load_feature_network("mnist", train=True)
else:
    classifier = sq.train_feature_network(data=((x_train, y_train), (x_test, y_test)), epochs=15, seed=0).network
classifier_accuracy = float(np.mean(np.argmax(classifier.predict(x_test, verbose=0), axis=-1) == y_test))
print(f"classifier test accuracy: {classifier_accuracy:.3f}")
assert classifier_accuracy > 0.9, classifier_accuracy

# %% [markdown]
# ## The result first
#
# A VAE and a DFC-VAE with the same encoder and decoder (tutorial 04's convolutional VAE), trained for
# the same epochs on the same images. They differ only by the reconstruction term: the VAE's is the
# pixel-wise cross-entropy, the DFC-VAE's is the squared distance between the classifier's `conv1` and
# `conv2` activations for the image and for its reconstruction. Top row: test images; then the two
# reconstructions.

# %%
vae, vae_seconds = train("conv_vae", x_train, filters=FILTERS)
dfc, dfc_seconds = train("dfc_vae", x_train, filters=FILTERS, feature_network=classifier)
rec_vae = vae.predict(x_eval, verbose=0)
rec_dfc = dfc.predict(x_eval, verbose=0)
show_images([x_eval[:12], rec_vae[:12], rec_dfc[:12]],
            ["test images", "VAE (pixel-wise cross-entropy)", "DFC-VAE (feature loss)"])

# %% [markdown]
# ## 1 · A loss on features: DFC-VAE
#
# Write $\phi_l(x)$ for the activations of layer $l$ of a fixed network. The DFC-VAE replaces
# $-\log p(x \mid z)$ by a weighted sum of squared feature distances,
#
# $$\mathcal{L}_\text{rec}(x, \hat x) = \sum_{l \in L} \frac{w_l}{C_l H_l W_l}
# \lVert \phi_l(x) - \phi_l(\hat x) \rVert^2, \qquad \hat x = \text{decoder}(z),\ z \sim q(z \mid x),$$
#
# and keeps the KL term of the VAE. Hou et al. use VGG-19's `relu1_1`, `relu2_1` and `relu3_1`; here
# $L$ = {`conv1`, `conv2`} of the digit classifier. Two facts follow from the formula. The
# objective is no longer a likelihood, so the DFC-VAE has no ELBO and no NLL in nats to compare. And
# two images that the classifier's early layers see alike cost nothing to confuse, whatever their
# pixels: the network decides which differences matter. We measure three things on the test images:
# the pixel error (what the VAE optimizes), the feature distance (what the DFC-VAE optimizes), the grey
# fraction (blur) and whether the classifier still recognizes the digit in the reconstruction.

# %%
def recon_report(rec):
    """Pixel MSE, grey fraction, and the classifier's accuracy on reconstructions of ``x_eval``."""
    accuracy = float(np.mean(np.argmax(classifier.predict(rec, verbose=0), axis=-1) == y_eval))
    return {"pixel MSE": float(np.mean((rec - x_eval) ** 2)), "grey fraction": grey_fraction(rec),
            "classifier accuracy": accuracy}


feature_distance = {name: float(np.mean(keras.ops.convert_to_numpy(dfc.perceptual_loss(x_eval, rec))))
                    for name, rec in [("VAE", rec_vae), ("DFC-VAE", rec_dfc)]}
table1 = {"test images": {"pixel MSE": 0.0, "grey fraction": grey_fraction(x_eval),
                          "classifier accuracy": float(np.mean(np.argmax(classifier.predict(x_eval, verbose=0),
                                                                          axis=-1) == y_eval))},
          "VAE": recon_report(rec_vae), "DFC-VAE": recon_report(rec_dfc)}
print(f"{'':12s} {'pixel MSE':>10s} {'feature distance':>17s} {'grey fraction':>14s} {'classifier acc.':>16s}")
for name, row in table1.items():
    fd = feature_distance.get(name, 0.0)
    print(f"{name:12s} {row['pixel MSE']:10.4f} {fd:17.2f} {row['grey fraction']:14.3f} "
          f"{row['classifier accuracy']:16.3f}")
print(f"training seconds: VAE {vae_seconds:.1f}, DFC-VAE {dfc_seconds:.1f}")

# %% [markdown]
# The DFC-VAE has the lower feature distance, the quantity it optimizes, and the lower grey fraction:
# it hedges less between pixel positions that the classifier's early layers treat alike (second and
# third columns). The pixel error column answers whether that costs pixel accuracy; it need not,
# because `conv1` is a strided 3x3 convolution of the pixels and stays close to a pixel distance.
# The last column says how often the classifier recognizes the digit in each reconstruction. Note
# the circularity of that column: the judge is the network whose features trained the DFC-VAE, so a
# high score there is partly self-grading. The feature loss also costs a pass of the classifier per
# image and reconstruction in every step (the last line).

# %%
assert feature_distance["DFC-VAE"] < feature_distance["VAE"], feature_distance
assert table1["DFC-VAE"]["grey fraction"] < table1["VAE"]["grey fraction"], table1

# %% [markdown]
# ## 2 · An autoregressive decoder: PixelCNN
#
# A PixelCNN writes the likelihood of a binary image with the chain rule, in raster order,
#
# $$\log p(x \mid z) = \sum_{i=1}^{HW} \log p(x_i \mid x_{<i}, z),$$
#
# and computes all $HW$ conditionals in **one** pass of convolutions whose kernels are masked so that
# pixel $i$ sees only the pixels before it (mask A in the first layer, which also hides pixel $i$
# itself; mask B after it). The gated PixelCNN runs a vertical stack (rows above) and a horizontal
# stack (pixels to the left) so that no earlier pixel falls in a blind spot, with gates
# $\tanh(W_f * x + V_f h) \odot \sigma(W_g * x + V_g h)$ where $h$ carries the code $z$. Training is
# as fast as any convolution ("teacher forcing": the true pixels are the inputs); sampling is not:
# one pass per pixel.
#
# Because each factor is a proper Bernoulli, $\log p(x \mid z)$ is an exact log-probability in nats,
# and `keras_ae.metrics.iwae_log_likelihood` turns it into an estimate of $\log p(x)$ with $k$
# importance samples of $z$ (tutorial 04, IWAE). We train a conv VAE and a PixelCNN-VAE with the same
# encoder on the same binarized images and compare their test NLL, and their KL terms.

# %%
# A PixelCNN step costs far more than a VAE step on 28x28 images: on MNIST both models see 4 000 of the
# binarized images, and the PixelCNN has 3 gated layers of 16 channels (a receptive field of 7 rows).
b_fit = b_train[:4000]
vae_b, vae_b_seconds = train("conv_vae", b_fit, filters=FILTERS)
pix, pix_seconds = train("pixelcnn_vae", b_fit, filters=FILTERS,
                         pixelcnn_layers=3 if MNIST else 2, pixelcnn_filters=16)
K_IS = 50
nll_rows = {}
for name, model, seconds in [("conv VAE", vae_b, vae_b_seconds), ("PixelCNN-VAE", pix, pix_seconds)]:
    nll = -float(np.mean(metrics.iwae_log_likelihood(model, b_eval, k=K_IS, seed=0)))
    neg_elbo = -float(np.mean(metrics.elbo(model, b_eval, seed=0)))
    loc, raw_scale = model.posterior_params(b_eval)
    kl = float(np.mean(np.sum(keras.ops.convert_to_numpy(
        keras_ae.layers.GaussianPosterior.kl_per_dimension(loc, raw_scale)), axis=-1)))
    nll_rows[name] = {"NLL": nll, "-ELBO": neg_elbo, "KL": kl, "seconds": seconds}
print(f"{'':14s} {'NLL (IWAE k=' + str(K_IS) + ')':>18s} {'-ELBO':>8s} {'KL (nats)':>10s} {'train s':>8s}")
for name, row in nll_rows.items():
    print(f"{name:14s} {row['NLL']:18.2f} {row['-ELBO']:8.2f} {row['KL']:10.2f} {row['seconds']:8.1f}")

# %% [markdown]
# Read the table by columns. The PixelCNN-VAE has the lower NLL: modelling how neighbouring pixels
# depend on each other explains the images with fewer nats than independent Bernoullis given $z$.
# The KL column is how many nats each model takes from $z$. A decoder that sees the pixels before
# the current one *can* do with less information from $z$, and a strong enough one ignores the code
# entirely (*posterior collapse*, Chen et al., "Variational Lossy Autoencoder", ICLR 2017). On
# MNIST (this page) the PixelCNN-VAE takes well under half of the VAE's nats from $z$: collapse has
# begun. On the 8x8 digits of the quick run both models take only a nat or two and the two KLs are
# close: the data leave little for $z$ to carry. Both NLLs sit below their $-$ELBO, as importance sampling with $k > 1$ tightens the
# bound; and the autoregressive decoder is slower to train (last column).

# %%
assert nll_rows["PixelCNN-VAE"]["NLL"] < nll_rows["conv VAE"]["NLL"], nll_rows
if MNIST:
    assert nll_rows["PixelCNN-VAE"]["KL"] < 0.5 * nll_rows["conv VAE"]["KL"], nll_rows
for row in nll_rows.values():
    assert row["NLL"] <= row["-ELBO"] + 0.5, nll_rows  # k samples never loosen the bound (0.5: estimator noise)

# %% [markdown]
# **Samples.** The VAE's decoder gives Bernoulli means; drawing its pixels independently turns grey
# into salt-and-pepper noise (tutorial 07 §2). The PixelCNN draws each pixel given the ones already
# drawn, so a stroke that has started continues. We count isolated "on" pixels (no lit neighbour
# among the four) in each set of samples.

# %%
N_SAMPLES = 24 if MNIST else 64
z = keras.random.normal((N_SAMPLES, LATENT), seed=1)
vae_means = vae_b.get_layer("decoder").predict(z, verbose=0)
vae_draws = (np.random.default_rng(1).random(vae_means.shape) < vae_means).astype("float32")
start = time.perf_counter()
pix_samples = pix.sample(N_SAMPLES, seed=1)
sample_seconds = time.perf_counter() - start
isolated = {"binarized test images": isolated_fraction(b_eval), "VAE: Bernoulli draws": isolated_fraction(vae_draws),
            "PixelCNN-VAE samples": isolated_fraction(pix_samples)}
for name, value in isolated.items():
    print(f"isolated 'on' pixels, {name:22s}: {value:.3f}")
print(f"PixelCNN sampling: {sample_seconds:.1f} s for {N_SAMPLES} images ({SHAPE[0] * SHAPE[1]} passes)")
show_images([b_eval[:12], vae_means[:12], vae_draws[:12], pix_samples[:12]],
            ["binarized test images", "VAE: decoded means", "VAE: independent draws", "PixelCNN-VAE: samples"])

# %%
assert isolated["PixelCNN-VAE samples"] < isolated["VAE: Bernoulli draws"], isolated

# %% [markdown]
# The PixelCNN's samples have fewer isolated pixels than the VAE's independent draws (the lines above).
# They are not necessarily better digits: in a short run, strokes connect but the shape can wander,
# because each pixel only sees a window of the pixels before it and $z$ carries little.

# %% [markdown]
# ## 3 · Discrete codes: VQ-VAE and a PixelCNN prior
#
# The encoder of a VQ-VAE maps an image to a grid of vectors $z_e \in \mathbb{R}^{h \times w \times
# D}$; each vector is replaced by its nearest codebook entry $e_k$, $k = \arg\min_j \lVert z_e -
# e_j\rVert$, and the decoder sees only the chosen entries $z_q$. The arg min has no gradient, so the
# decoder's gradient is copied to $z_e$ unchanged ("straight-through"). The loss is
#
# $$-\log p(x \mid z_q) + \beta \lVert z_e - \operatorname{sg}(z_q) \rVert^2,$$
#
# where $\operatorname{sg}$ stops gradients and the second term (commitment, $\beta = 0.25$) keeps the
# encoder close to its codes. The codebook itself is not trained by gradient: each entry moves to an
# exponential moving average of the encoder outputs assigned to it (decay 0.99). The code of an image
# is $h \cdot w$ integers in $[0, K)$: at most $h w \log_2 K$ bits. Sampling needs a prior over such
# grids; a PixelCNN over the code grid learns it after the autoencoder has trained (two stages).

# %%
vq, vq_seconds = train("vq_vae", x_train, filters=FILTERS, num_embeddings=32 if MNIST else 16)
rec_vq = vq.predict(x_eval, verbose=0)
usage = vq.codebook_usage(x_train)
grid = vq.code_shape[:2]  # (h, w); the third entry is D, the size of a code vector
bits = grid[0] * grid[1] * np.log2(vq.num_embeddings)
print(f"code grid {grid}, K = {vq.num_embeddings}: {bits:.0f} bits per image; "
      f"{usage['used']} codes used, perplexity {usage['perplexity']:.1f}")
print(f"pixel MSE of reconstructions: VQ-VAE {np.mean((rec_vq - x_eval) ** 2):.4f}, "
      f"VAE {table1['VAE']['pixel MSE']:.4f}")
show_images([x_eval[:12], rec_vq[:12]], ["test images", "VQ-VAE reconstructions"])

# %% [markdown]
# The perplexity, $\exp$ of the entropy of the code frequencies, is the number of codebook entries
# that are effectively in use; an EMA codebook keeps most entries alive, where a gradient-trained one
# often lets many die.

# %%
assert usage["used"] >= vq.num_embeddings // 2 and usage["perplexity"] > 2, usage

# %% [markdown]
# **The prior.** We fit the PixelCNN prior on the code grids of the training images and measure its
# negative log-likelihood of the test grids in nats per grid, against the uniform prior over codes
# ($h w \log K$ nats), which is what sampling each position independently and uniformly would assume.
# Then we decode grids drawn from the prior and grids drawn uniformly, and ask the classifier how sure
# it is of each image (mean of its highest class probability).

# %%
vq.fit_prior(x_train, epochs=EPOCHS, batch_size=BATCH)
test_grids = vq.encode_indices(x_eval)
prior_nll = float(np.mean(vq.prior_nll(test_grids)))
uniform_nll = grid[0] * grid[1] * np.log(vq.num_embeddings)
from_prior = vq.sample(N_SAMPLES, seed=2)
uniform_grids = np.random.default_rng(2).integers(0, vq.num_embeddings, size=(N_SAMPLES, *grid))
from_uniform = vq.decode_indices(uniform_grids)


def confidence(images):
    """Mean highest class probability the classifier gives ``images``."""
    return float(np.mean(np.max(classifier.predict(images, verbose=0), axis=-1)))  # it outputs probabilities


sure = {"test images": confidence(x_eval), "prior samples": confidence(from_prior),
        "uniform codes": confidence(from_uniform)}
print(f"test grids: prior NLL {prior_nll:.1f} nats, uniform {uniform_nll:.1f} nats")
for name, value in sure.items():
    print(f"classifier confidence, {name:14s}: {value:.3f}")
show_images([from_prior[:12], from_uniform[:12]], ["decoded grids from the PixelCNN prior", "decoded uniform grids"])

# %% [markdown]
# The prior spends fewer nats on the test grids than the uniform prior (first line): neighbouring codes
# are far from independent. Decoded prior samples look like digits to the classifier more often than
# decoded uniform grids (the confidences), which is why a VQ-VAE needs its second stage.
# Whether they look as much like digits as the test images is shown by the first confidence line.

# %%
assert prior_nll < uniform_nll, (prior_nll, uniform_nll)
assert sure["prior samples"] > sure["uniform codes"], sure
print(f"run time: {time.perf_counter() - START:.0f} s")

# %% [markdown]
# ## Summary
#
# - A pixel-wise likelihood is minimized by the average of the plausible images (07 §2); the cures
#   change the loss or the decoder, not the network's size.
# - A **feature loss** (DFC-VAE) trades pixel error for feature error and less grey, at the cost of a
#   classifier pass per step, no likelihood, and self-graded results when the same network judges.
# - An **autoregressive decoder** (PixelCNN) has an exact $\log p(x \mid z)$ and a lower NLL than the
#   factorized VAE, uses less of $z$, and samples one pixel at a time.
# - **Discrete codes** (VQ-VAE) need a learned prior to sample; the PixelCNN prior is much better
#   than independent codes.
#
# `benchmarks/vae_nll.py` measures the NLL of the VAE and the IWAE on dynamically binarized MNIST
# with $k = 5000$ importance samples, and of the PixelCNN-VAE with $k = 100$ (see the Benchmarks page).
#
# ## Exercises
#
# 1. Train the DFC-VAE with `feature_layers=("conv1",)` only, then with `("conv2",)` only. Which
#    layer removes more grey?
#
# <details><summary>Solution</summary>
#
# ```python
# for layers in [("conv1",), ("conv2",)]:
#     model, _ = train("dfc_vae", x_train, filters=FILTERS, feature_network=classifier,
#                      feature_layers=layers, feature_weights=(3000.0,))
#     print(layers, recon_report(model.predict(x_eval, verbose=0)))
# ```
#
# `conv1` is close to the pixels (a strided 3x3 convolution of them), so its loss behaves more like
# the pixel loss; `conv2` is coarser and tolerates small shifts, so it removes more of the hedging
# between positions (and lets more pixel error through). Compare the grey fractions printed.
# </details>
#
# 2. Give the PixelCNN-VAE fewer gated layers (`pixelcnn_layers=1`). What happens to its KL and NLL?
#
# <details><summary>Solution</summary>
#
# ```python
# weak, _ = train("pixelcnn_vae", b_fit, filters=FILTERS, pixelcnn_layers=1, pixelcnn_filters=16)
# loc, raw = weak.posterior_params(b_eval)
# print(np.mean(np.sum(keras_ae.layers.GaussianPosterior.kl_per_dimension(loc, raw), axis=-1)))
# print(-np.mean(metrics.iwae_log_likelihood(weak, b_eval, k=K_IS)))
# ```
#
# With one layer each pixel sees only its immediate neighbours above and to the left, so the decoder
# must take more from $z$: the KL rises towards the VAE's. The NLL lands between the two models
# above, since local dependence is still modelled.
# </details>
