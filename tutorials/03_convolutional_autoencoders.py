# %% [markdown]
# # 03 · Convolutional autoencoders
#
# The models of tutorials 01 and 02 flatten an image into a vector and forget
# which pixels are neighbours. A convolutional autoencoder keeps the grid. In
# this tutorial you will:
#
# - see what a strided convolution computes and why it needs so few weights;
# - **compress** MNIST digits 49-fold with `keras_ae.build("conv")`;
# - **fill in missing parts**: train the same model to redraw images with a
#   masked patch (inpainting);
# - **compare** it with dense autoencoders at the same code size;
# - collect the **limitations** of autoencoders that the source documents list.
#
# **Source documents covered:** 002 (the convolutional autoencoder: compression
# of images, reconstruction of missing parts, its advantages and
# disadvantages), 003 (convolutional instead of fully connected layers, the
# limitations of autoencoders) and 000 (dimensionality reduction as an
# application).
#
# The full run trains on MNIST, read from the Keras cache (see
# `data/README.md`). The quick run (`KERAS_AE_SMOKE=1`, set by the test suite)
# needs no download: it uses scikit-learn's 8×8 digits resized to 16×16, since
# 8×8 leaves too little room for two strided convolutions. The figures quoted
# in the text are those of the full run.

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import time

import keras
import matplotlib.pyplot as plt
import numpy as np

import keras_ae
from keras_ae import data
from keras_ae.metrics import reconstruction_error

SMOKE = os.environ.get("KERAS_AE_SMOKE") == "1"
keras.utils.set_random_seed(0)

# %% [markdown]
# ## The data
#
# Images keep their shape, $(28, 28, 1)$ for MNIST, values in $[0, 1]$. The
# full run trains on 10 000 MNIST images and tests on 2 000. The quick run
# trains on the 1 437 training digits and tests on the 360 test digits, each
# resized to $(16, 16, 1)$ with bilinear interpolation.

# %%
if SMOKE:
    (x_train, y_train), (x_test, y_test) = data.load("digits")
    # Bilinear resize of the 8x8 digits to 16x16 (clipped: rounding may leave
    # a value a hair outside [0, 1]).
    x_train, x_test = (
        np.clip(keras.ops.convert_to_numpy(keras.ops.image.resize(x, (16, 16))), 0.0, 1.0)
        for x in (x_train, x_test)
    )
    EPOCHS = 30
else:
    (x_train, y_train), (x_test, y_test) = data.load("mnist", limit=10_000)
    x_test, y_test = x_test[:2000], y_test[:2000]
    EPOCHS = 8
H, W, C = x_train.shape[1:]
D = H * W * C
print(f"train {x_train.shape}, test {x_test.shape}")


def show_rows(rows, labels, n=10):
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 0.8, len(rows) * 0.9))
    for r, (images, label) in enumerate(zip(rows, labels)):
        for i in range(n):
            axes[r, i].imshow(np.clip(images[i, ..., 0], 0, 1), cmap="gray", vmin=0, vmax=1)
            axes[r, i].set_xticks([])
            axes[r, i].set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    plt.show()


def timed_fit(model, x, y):
    start = time.perf_counter()
    model.fit(x, y, epochs=EPOCHS, batch_size=64, verbose=0)
    return (time.perf_counter() - start) / EPOCHS


# %% [markdown]
# ## 1 · Compressing images
#
# A convolution slides one small kernel over the whole image. With a 3×3
# kernel $K$, stride 2 and $C_\text{in}$ input channels, output channel $o$ at
# position $(r, c)$ is
#
# $$h_{r,c,o} = s\Big(b_o + \sum_{i=0}^{2}\sum_{j=0}^{2}\sum_{q=1}^{C_\text{in}}
#   K_{i,j,q,o}\; x_{2r+i,\,2c+j,\,q}\Big),$$
#
# so each output looks only at a 3×3 neighbourhood, the same weights are used
# at every position, and the stride halves the image side. A layer has
# $3\cdot 3\cdot C_\text{in}\cdot C_\text{out} + C_\text{out}$ weights whatever
# the size of the image, where a Dense layer from $D_\text{in}$ to
# $D_\text{out}$ units has $D_\text{in} D_\text{out} + D_\text{out}$.
#
# `keras_ae.build("conv", filters=(16, 32))` stacks two such layers
# (28×28 → 14×14×16 → 7×7×32), maps the feature map to a code of
# `latent_dim` numbers with a Dense layer, and mirrors all of it with
# transposed convolutions in the decoder. A code of 16 numbers for a 784-pixel
# image is a 49-fold compression (for the 256 pixels of the quick run's 16×16
# images, 16-fold).

# %%
CODE = 16
conv = keras_ae.build("conv", input_shape=(H, W, C), latent_dim=CODE, filters=(16, 32))
conv.get_layer("encoder").summary()

first = conv.get_layer("encoder").get_layer("encoder_conv_1")
second = conv.get_layer("encoder").get_layer("encoder_conv_2")
assert first.count_params() == 3 * 3 * C * 16 + 16
assert second.count_params() == 3 * 3 * 16 * 32 + 32

# %%
conv_seconds = timed_fit(conv, x_train, x_train)
x_hat = conv.predict(x_test, verbose=0)
conv_error = reconstruction_error(x_test, x_hat).mean()
print(f"compression {D} -> {CODE} numbers ({D / CODE:.0f}x); "
      f"mean squared error per test image {conv_error:.2f}")
show_rows([x_test, x_hat], ["input", f"{CODE} numbers"])

# %% [markdown]
# The reconstructions are blurry but recognisable: the code keeps the shape of
# each digit and drops the details. Compression with an autoencoder is
# **lossy**, and learned for one kind of image: the same model would do badly
# on photographs.
#
# ## 2 · Filling in missing parts
#
# The course notes (002) credit convolutional autoencoders with reconstructing
# missing parts of an image. That is denoising (tutorial 02) with a
# particular corruption: blank out a square patch $M$ of every training
# image and train the model to redraw the whole image,
#
# $$\min_{A,B}\ \mathbb{E}\big[\Delta\big(x,\ B\circ A(m \odot x)\big)\big],$$
#
# where $m$ is 0 on the patch and 1 elsewhere. We measure the error **inside
# the patch only**, $\sum_{p \in M} (\hat x_p - x_p)^2$, and compare three
# answers: the masked input itself (the patch stays black), the model of
# section 1 trained on complete images, and the inpainting model.

# %%
PATCH = 6 if SMOKE else 10  # about 13% of the image


def mask_patches(images, seed):
    """Zeroes one random PATCH x PATCH square per image; returns (masked, mask)."""
    rng = np.random.default_rng(seed)
    mask = np.zeros(images.shape, dtype=bool)
    for i in range(len(images)):
        r, c = rng.integers(0, H - PATCH + 1), rng.integers(0, W - PATCH + 1)
        mask[i, r:r + PATCH, c:c + PATCH] = True
    return np.where(mask, 0.0, images).astype("float32"), mask


def patch_error(x_pred, mask):
    return (((x_pred - x_test) ** 2) * mask).reshape(len(x_test), -1).sum(axis=1).mean()


x_train_masked, _ = mask_patches(x_train, seed=1)
x_test_masked, test_mask = mask_patches(x_test, seed=2)

keras.utils.set_random_seed(0)
inpainter = keras_ae.build("conv", input_shape=(H, W, C), latent_dim=CODE, filters=(16, 32))
timed_fit(inpainter, x_train_masked, x_train)

inpainted = inpainter.predict(x_test_masked, verbose=0)
plain_on_masked = conv.predict(x_test_masked, verbose=0)
hole = {
    "masked input": patch_error(x_test_masked, test_mask),
    "plain conv AE": patch_error(plain_on_masked, test_mask),
    "inpainting AE": patch_error(inpainted, test_mask),
}
for name, value in hole.items():
    print(f"{name:14s} squared error inside the patch {value:6.2f}")
show_rows([x_test, x_test_masked, plain_on_masked, inpainted],
          ["original", "masked", "plain AE", "inpainting"])

# %%
assert hole["inpainting AE"] < 0.8 * hole["plain conv AE"]
assert hole["inpainting AE"] < 0.6 * hole["masked input"]

# %% [markdown]
# The plain model has never seen a hole and partly redraws it as a hole; the
# inpainting model has learned that strokes continue, and guesses the missing
# piece from the rest of the digit. When the patch covers the part that
# tells a 4 from a 9, its guess can be the wrong digit, drawn cleanly.
#
# ## 3 · Convolutional vs dense at the same code size
#
# How much do the convolutions buy? We train two dense autoencoders with the
# same 16-number code: one with about as many weights as the convolutional
# model (a single hidden layer, its width chosen to match), and the deep
# 784-256-128-16 model of tutorial 01, which has several times more.

# %%
params_conv = conv.count_params()
# A dense model with one hidden layer of width w has 2 * (D * w + w * CODE) + 2 * w + CODE + D weights.
width = int(round((params_conv - CODE - D) / (2 * (D + CODE) + 2)))
results = {"conv (16, 32)": (params_conv, conv_error, conv_seconds)}
for name, hidden in ((f"dense ({width},)", (width,)), ("dense (256, 128)", (256, 128))):
    keras.utils.set_random_seed(0)
    dense = keras_ae.build("dense", input_shape=(H, W, C), latent_dim=CODE, hidden=hidden)
    seconds = timed_fit(dense, x_train, x_train)
    error = reconstruction_error(x_test, dense.predict(x_test, verbose=0)).mean()
    results[name] = (dense.count_params(), error, seconds)
print(f"{'model':18s}{'weights':>9s}{'test error':>12s}{'s / epoch':>11s}")
for name, (params, error, seconds) in results.items():
    print(f"{name:18s}{params:9d}{error:12.2f}{seconds:11.2f}")

# %%
matched, big = results[f"dense ({width},)"], results["dense (256, 128)"]
assert abs(matched[0] - params_conv) < 0.05 * params_conv  # a fair match
assert conv_error < 0.85 * matched[1]  # better at the same number of weights
assert params_conv < big[0] / 4  # with a fraction of the big model's weights

# %% [markdown]
# At the same number of weights the convolutional model reconstructs much
# better: sharing one small kernel across the image is the right assumption
# for pictures (a stroke looks the same wherever it is), and it leaves weights
# for more feature maps. Against the deep dense model it holds its own with a
# fraction of the weights (in the full run it wins). The price is compute:
# every weight is used at every position, so an epoch takes longer.
#
# The course notes list the other side as well: convolutional autoencoders
# can overfit like any large network (regularize them as in tutorial 02, for
# example `keras_ae.build("denoising", base="conv")`), and their compression
# is lossy. The Sys-AI slides (003) add transfer learning: a trained
# convolutional encoder is a ready-made feature extractor to start a
# classifier from.
#
# ## Limitations
#
# The Sys-AI slides end with four limitations of autoencoders. In terms of
# what you have now seen:
#
# - **Features are not always interpretable.** The 16 numbers of the code
#   above have no meaning of their own; sparse codes (tutorial 02) help a
#   little.
# - **They can be slow.** PCA on these images takes a fraction of a second;
#   each model here trains for tens of seconds on a CPU (the table above
#   gives the seconds per epoch), and the cost grows with the image size.
# - **Design is difficult.** Code size, widths, filters, penalties, noise and
#   learning rate all interact, and the reconstruction error alone does not
#   tell a good code from a copy (tutorial 01, section 2).
# - **Theory is thin.** Beyond the linear case (tutorial 01, section 3), there
#   are few guarantees about what a deep autoencoder learns. The variational
#   autoencoder of tutorial 04 is one answer: it makes the model a
#   probabilistic one with a clear objective.
#
# ## Exercises
#
# 1. Try `filters=(32, 64)` and `filters=(16, 32, 64)` (28 is not divisible by
#    8: what does `keras_ae.build` tell you?). Plot error against weights.
# 2. Train the inpainter with a fresh mask every epoch (loop over epochs and
#    call `mask_patches` with a new seed). Does the patch error drop?
# 3. Train `keras_ae.build("denoising", base="conv", noise="dropout")` and
#    compare it with the inpainter on scattered missing pixels and on missing
#    patches.
# 4. Use the conv encoder's codes as features: fit a logistic regression on
#    them and on PCA-16 features. Which classifies digits better?
# 5. Shift every test image by two pixels (`np.roll`) and measure both the
#    conv and the dense model again. Which one suffers more?
