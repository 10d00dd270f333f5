# %% [markdown]
# # 01 · What is an autoencoder
#
# An autoencoder learns a code for its input by trying to reproduce the input
# from that code. In this tutorial you will:
#
# - take a model apart into its **encoder**, **bottleneck** and **decoder**, and
#   check that the loss Keras minimises is exactly the objective on paper;
# - see why a code that is as wide as the input can learn nothing (the
#   **identity-function trap**), and what an undercomplete code buys;
# - verify that a **linear** autoencoder finds the subspace of **PCA**;
# - show that a **deep** autoencoder beats PCA at the same code size, and compare
#   their **2-D codes** of handwritten digits, as in Hinton & Salakhutdinov
#   (*Science*, 2006);
# - measure an autoencoder the ways the Sys-AI slides list: per-example squared
#   error, code dimensions, sparsity and noise tolerance.
#
# **Source documents covered:** 000 (autoencoders as a non-linear
# generalisation of PCA; the reduction and reconstruction networks), 001 §1
# (the objective $\arg\min_{A,B} \mathbb{E}[\Delta(x, B\circ A(x))]$), 002
# (the architecture: encoder, bottleneck, decoder, loss), 003 (the
# feature-construction problem, the metrics, the generic autoencoder) and 004
# (autoencoders vs PCA, Figs. 2 and 3 of Hinton & Salakhutdinov).
#
# Everything is built with `keras_ae`. Set `KERAS_AE_SMOKE=1` for a quick run
# on the 8×8 scikit-learn digits; the full run (what this page shows) uses a
# 10 000-image slice of MNIST.

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import subspace_angles
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier

import keras_ae
from keras_ae import data
from keras_ae.metrics import reconstruction_error

SMOKE = os.environ.get("KERAS_AE_SMOKE") == "1"
keras.utils.set_random_seed(0)

# %% [markdown]
# ## The data
#
# Images are flattened to vectors $x \in [0, 1]^D$. The quick run uses the
# 1 437 training digits of scikit-learn ($D = 64$); the full run 10 000 MNIST
# training images and 2 000 test images ($D = 784$).

# %%
if SMOKE:
    (x_train, y_train), (x_test, y_test) = data.load("digits", flatten=True)
    EPOCHS = 20
else:
    (x_train, y_train), (x_test, y_test) = data.load("mnist", flatten=True, limit=10_000)
    x_test, y_test = x_test[:2000], y_test[:2000]
    EPOCHS = 15
D = x_train.shape[1]
SIDE = int(round(np.sqrt(D)))
print(f"train {x_train.shape}, test {x_test.shape}, D = {D}")


def show_rows(rows, labels, n=10):
    """Plots the first n images of each row of flat images."""
    fig, axes = plt.subplots(len(rows), n, figsize=(n * 0.8, len(rows) * 0.9))
    for r, (images, label) in enumerate(zip(rows, labels)):
        for i in range(n):
            ax = axes[r, i]
            ax.imshow(np.asarray(images[i]).reshape(SIDE, SIDE), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    plt.tight_layout()
    plt.show()


# %% [markdown]
# ## The result first
#
# Before any theory, the result we are after. One call builds a deep autoencoder, one call trains it
# to reproduce its input, and then every test image (never seen in training) is squeezed into a code
# of `CODE` numbers (8 in quick mode, 30 in the full run, out of $D$ = 64 or 784 pixels) and drawn
# again from that code alone. Top row: the test images; bottom row: what the model redraws from their
# codes. The rest of the tutorial takes this model apart and measures it.

# %%
CODE = 8 if SMOKE else 30
model = keras_ae.build("dense", input_shape=(D,), latent_dim=CODE, hidden=(256, 128))
history = model.fit(x_train, x_train, epochs=EPOCHS, batch_size=64, verbose=0,
                    validation_data=(x_test, x_test))
x_hat = model.predict(x_test, verbose=0)
show_rows([x_test, x_hat], ["test image", f"from {CODE} numbers"])
first_look = {"error": reconstruction_error(x_test, x_hat).mean(), "energy": np.sum(x_test**2, axis=1).mean()}
print(f"squared error per test image {first_look['error']:.2f}, "
      f"against {first_look['energy']:.2f} for the squared norm of the image itself")

# %%
assert first_look["error"] < 0.25 * first_look["energy"]  # most of each image survives the code

# %% [markdown]
# The redrawn digits are blurred but recognisable: the squared error per image is under a quarter of
# the image's own squared norm (asserted; predicting an all-black image would make them equal). So
# `CODE` numbers keep most of what is in each image.
#
# ## 1 · Encoder, bottleneck, decoder
#
# An autoencoder is two functions trained together. The **encoder** $A$ maps
# an input to a code $h$; the **decoder** $B$ maps the code back to input space:
#
# $$h = A(x) \in \mathbb{R}^k, \qquad \hat x = B(h) = B\circ A(x) \in \mathbb{R}^D.$$
#
# When $k < D$ the code layer is a **bottleneck**: the network has to decide
# which $k$ numbers describe an image well enough to redraw it. Training picks
# $A$ and $B$ that minimise the expected reconstruction loss (001 §1):
#
# $$A^*, B^* = \arg\min_{A,B}\; \mathbb{E}_x\big[\Delta\big(x, B\circ A(x)\big)\big].$$
#
# `keras_ae.build("dense", ...)` gives a deep undercomplete autoencoder: Dense
# layers narrow down to a linear code of `latent_dim` units, and a mirrored
# decoder ends in a sigmoid, so $\hat x \in [0,1]^D$. The two halves are named
# sub-models, so you can use them alone. Here are the two halves of the model trained above.

# %%
encoder = model.get_layer("encoder")  # the model trained above
decoder = model.get_layer("decoder")
encoder.summary()
decoder.summary()

# %% [markdown]
# With the default `likelihood="bernoulli"` each pixel is treated as the
# probability of a Bernoulli variable, and $\Delta$ is the cross-entropy summed
# over the $D$ pixels. For binary pixels it is the negative log-likelihood of $x$
# under the decoder; the grey levels of MNIST (and of the 8x8 digits) are not binary, so
# here it is a loss, not a log-likelihood in nats (tutorial 04 binarizes the images to
# get one):
#
# $$\Delta(x, \hat x) = -\sum_{i=1}^{D}\big[x_i \log \hat x_i + (1 - x_i)\log(1 - \hat x_i)\big].$$
#
# (`likelihood="gaussian"` uses the summed squared error
# $\lVert x - \hat x\rVert^2$ instead.) Training is `fit(x, x)`: the input is its
# own target, as in the first cell. We recompute the loss by hand on the test images:

# %%
p = np.clip(x_hat.astype("float64"), 1e-7, 1 - 1e-7)
delta_by_hand = -np.sum(x_test * np.log(p) + (1 - x_test) * np.log(1 - p), axis=1).mean()
delta_keras = model.evaluate(x_test, verbose=0, return_dict=True)["loss"]
print(f"loss from Keras: {delta_keras:.3f}   the formula by hand: {delta_by_hand:.3f}")

# %%
# The loss Keras reports is the objective written above, per test example.
assert abs(delta_keras - delta_by_hand) < 0.01 * delta_by_hand

# %% [markdown]
# The two numbers agree to within 1 % (asserted; the small difference comes from clipping
# $\hat x$ away from 0 and 1 and from float32 arithmetic). The learning curves of the training
# above, per epoch:

# %%
fig, ax = plt.subplots(figsize=(4, 2.6))
ax.plot(history.history["loss"], label="train")
ax.plot(history.history["val_loss"], label="test")
ax.set_xlabel("epoch")
ax.set_ylabel(r"$\Delta$ per example")
ax.legend()
plt.show()

# %%
final_train, final_test = history.history["loss"][-1], history.history["val_loss"][-1]
first_test = history.history["val_loss"][0]
print(f"test loss after the first epoch {first_test:.2f}; "
      f"last epoch: training loss {final_train:.2f}, test loss {final_test:.2f}")
assert final_test < 0.95 * first_test  # training kept helping on unseen images
assert final_test < 1.1 * final_train  # no overfitting at this budget

# %% [markdown]
# Both curves fall, steeply at first, then flatten: the test loss at the last epoch is at least 5 %
# below its value after the first (asserted). Neither reaches 0: with grey-level targets the
# cross-entropy has a floor (the entropy of the grey levels) even for a perfect reconstruction. The test curve stays close to the training curve (the last test
# loss is within 10 % of the training loss, asserted): with this budget the model has not begun to
# memorise its training images, so its reconstructions of new images are as good as of old ones.

# %% [markdown]
# ## 2 · Undercomplete, overcomplete and the identity trap
#
# Why squeeze the code at all? Give the code as many units as the input
# (or more, an **overcomplete** code) and nothing forces the network to look
# for structure: $B\circ A = \mathrm{id}$ reconstructs every input perfectly
# and has learned nothing about digits. A bottleneck ($k < D$, an
# **undercomplete** code) rules that solution out. Tutorial 02 shows the other
# way out: keep a wide code but add a penalty.
#
# To see the trap, train two *linear* autoencoders with the squared error,
# one with $k = D/8$ and one with $k = 2D$. For linear maps
# $A(x) = W_e^\top x + b_e$ and $B(h) = W_d^\top h + b_d$, the whole autoencoder
# is $x \mapsto M^\top x + c$ with $M = W_e W_d$, a $D\times D$ matrix we can
# look at. We compare it to the identity on the pixels that actually vary
# (MNIST's border pixels are always 0, so nothing can be learned there).

# %%
def end_to_end_matrix(linear_model):
    w_enc = linear_model.get_layer("encoder").get_layer("encoder_code").kernel.numpy()
    w_dec = linear_model.get_layer("decoder").get_layer("decoder_logits").kernel.numpy()
    return w_enc @ w_dec


active = x_train.std(axis=0) > 0.1  # pixels that vary across the training set
x_noisy = keras_ae.corrupt(x_test, "gaussian", 0.3, seed=1)
trap = {}
for name, k in (("undercomplete", D // 8), ("overcomplete", 2 * D)):
    keras.utils.set_random_seed(0)
    linear = keras_ae.build("dense", input_shape=(D,), latent_dim=k, hidden=(),
                            activation="linear", likelihood="gaussian")
    linear.fit(x_train, x_train, epochs=30 if SMOKE else 3, batch_size=64, verbose=0)
    m = end_to_end_matrix(linear)[np.ix_(active, active)]
    trap[name] = {
        "k": k,
        "matrix": m,
        # ||M - I||_F / sqrt(#pixels): 0 for the identity, about 1 for a small projection.
        "distance_to_identity": np.linalg.norm(m - np.eye(len(m))) / np.sqrt(len(m)),
        "test_error": reconstruction_error(x_test, linear.predict(x_test, verbose=0)).mean(),
        # Noisy input, clean target: does the model keep the noise?
        "noisy_error": reconstruction_error(x_test, linear.predict(x_noisy, verbose=0)).mean(),
    }
noise_energy = reconstruction_error(x_test, x_noisy).mean()
for name, t in trap.items():
    print(f"{name:14s} k={t['k']:4d}  ||M - I|| = {t['distance_to_identity']:.2f}  "
          f"test error {t['test_error']:.2f}  noisy->clean error {t['noisy_error']:.2f}")
print(f"error of the noisy input itself: {noise_energy:.2f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
for ax, (name, t) in zip(axes, trap.items()):
    corner = t["matrix"][:40, :40]  # a corner, so that single entries are visible
    ax.imshow(corner, cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_title(f"{name} (k = {t['k']})\n$M = W_e W_d$, first {len(corner)} varying pixels", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %% [markdown]
# The overcomplete model's matrix has a strong diagonal and is much closer to
# the identity than the undercomplete one's (less than 0.7 times the distance,
# asserted): it is on its way to copying pixels. Its test error is far lower
# (less than half, asserted), yet it has learned little about what a digit
# looks like, and it shows: fed noisy digits, it passes most of the noise
# through. Count the noise that reaches the output as the noisy-to-clean error
# minus the model's error on clean images: for the overcomplete model it is
# more than half the noise's own energy (asserted), for the undercomplete model
# less than a third (asserted), because a $k$-dimensional summary has no room
# for it. A low reconstruction error alone therefore says little about the
# code.

# %%
under, over = trap["undercomplete"], trap["overcomplete"]
assert over["distance_to_identity"] < 0.7 * under["distance_to_identity"]
assert over["test_error"] < 0.5 * under["test_error"]
assert under["noisy_error"] < over["noisy_error"] < noise_energy * 1.05
assert over["noisy_error"] - over["test_error"] > 0.5 * noise_energy  # the copier passes noise on
assert under["noisy_error"] - under["test_error"] < 0.35 * noise_energy  # the bottleneck filters it

# %% [markdown]
# ## 3 · A linear autoencoder finds the PCA subspace
#
# The 000 slides call an autoencoder a generalisation of PCA. The precise
# statement (Baldi & Hornik, 1989): with linear $A$, $B$ and the squared error,
#
# $$\min_{W_e, W_d, b}\; \mathbb{E}\,\lVert x - W_d^\top(W_e^\top x + b_e) - b_d \rVert^2$$
#
# is minimised when $B\circ A$ is the orthogonal projection onto the span of
# the top $k$ principal components $U_k$ of the centred data. The weights
# themselves are not unique (any invertible $G$ gives
# $W_e G, G^{-1} W_d$), but the subspace is: the rows of $W_d$ must span the
# same space as $U_k$. We measure that with the **principal angles** between
# the two subspaces (`scipy.linalg.subspace_angles`): all of them are 0 when the
# subspaces coincide.
#
# Two practical details help gradient descent land there within a few epochs. PCA centres
# the data; we do the same rather than let the biases learn the mean. And the
# subspace is only well defined when there is a gap between the $k$-th and
# $(k{+}1)$-th eigenvalues $\lambda_k > \lambda_{k+1}$; the larger the gap, the
# faster the slowest direction converges. We pick $k$ in 3…8 with the largest
# ratio $\lambda_k / \lambda_{k+1}$, and decay the learning rate so that the
# noise of mini-batches settles.

# %%
mean = x_train.mean(axis=0)
xc_train, xc_test = x_train - mean, x_test - mean
eigenvalues = PCA(10).fit(xc_train).explained_variance_
K = int(np.argmax(eigenvalues[2:9] / eigenvalues[3:10])) + 3
pca_k = PCA(K).fit(xc_train)
print(f"top eigenvalues {np.round(eigenvalues, 3)} -> k = {K}")

keras.utils.set_random_seed(0)
linear = keras_ae.build("dense", input_shape=(D,), latent_dim=K, hidden=(),
                        activation="linear", likelihood="gaussian", learning_rate=1e-2)
schedule = keras.callbacks.LearningRateScheduler(lambda epoch: 1e-2 * 0.9**epoch)
linear.fit(xc_train, xc_train, epochs=30 if SMOKE else 15, batch_size=64, verbose=0,
           callbacks=[schedule])

w_dec = linear.get_layer("decoder").get_layer("decoder_logits").kernel.numpy()  # (K, D)
angles = np.degrees(subspace_angles(w_dec.T, pca_k.components_.T))
linear_error = reconstruction_error(xc_test, linear.predict(xc_test, verbose=0)).mean()
pca_error_k = reconstruction_error(xc_test, pca_k.inverse_transform(pca_k.transform(xc_test))).mean()
print(f"principal angles (degrees): {np.round(angles, 2)}")
print(f"test squared error: linear AE {linear_error:.3f}, PCA {pca_error_k:.3f}")

# %%
assert angles.max() < 5.0  # the decoder spans the PCA subspace
assert linear_error < 1.03 * pca_error_k  # and reconstructs as well as PCA

# %% [markdown]
# Every principal angle is below 5 degrees (asserted), so the decoder's rows
# span, up to a few degrees, the same $k$-dimensional subspace as the top $k$
# principal components, and the linear autoencoder's test error is within 3 %
# of PCA's (asserted). The angles are not exactly 0 because training stops
# after a finite number of noisy steps. The pictures below show it: each PCA
# direction (top) and its projection onto the autoencoder's subspace (bottom)
# look alike.

# %%
fig, axes = plt.subplots(2, K, figsize=(K * 1.1, 2.4))
basis = np.linalg.qr(w_dec.T)[0].T  # an orthonormal basis of the decoder's row space
for j in range(K):
    axes[0, j].imshow(pca_k.components_[j].reshape(SIDE, SIDE), cmap="RdBu_r")
    # Project PCA's j-th direction onto the AE subspace: the same image if they agree.
    axes[1, j].imshow((basis.T @ (basis @ pca_k.components_[j])).reshape(SIDE, SIDE), cmap="RdBu_r")
    for ax in axes[:, j]:
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].set_ylabel("PCA", rotation=0, ha="right", fontsize=8)
axes[1, 0].set_ylabel("in AE\nsubspace", rotation=0, ha="right", fontsize=8)
plt.show()

# %% [markdown]
# ## 4 · A deep autoencoder beats PCA at the same code size
#
# PCA is the best *linear* code of size $k$. A deep autoencoder has non-linear
# $A$ and $B$ and can bend its code along the curved set where digits live.
# Hinton & Salakhutdinov (2006), quoted in 004, report an average squared
# error per MNIST test image of **3.00** for a 30-D deep autoencoder against
# **13.87** for 30-component PCA (and 8.01 for logistic PCA). Their
# 784-1000-500-250-30 network was pretrained with RBMs and trained on all
# 60 000 images; ours is smaller and trained end to end for a few epochs on
# a slice, so expect a smaller gap, in the same direction.
#
# The metric is `keras_ae.metrics.reconstruction_error`, the squared error per
# example summed over pixels, $\lVert x - \hat x\rVert^2$; its mean over the test
# set is the number in the paper. PCA is fitted on the same training images.

# %%
pca = PCA(CODE).fit(x_train)
x_hat_pca = pca.inverse_transform(pca.transform(x_test))
ae_error = reconstruction_error(x_test, x_hat).mean()
pca_error = reconstruction_error(x_test, x_hat_pca).mean()
print(f"{CODE}-D codes, mean squared error per test image: "
      f"deep autoencoder {ae_error:.2f}, PCA {pca_error:.2f}")
show_rows([x_test, x_hat, x_hat_pca], ["input", "deep AE", "PCA"])

# %%
assert ae_error < 0.8 * pca_error
assert ae_error / pca_error > 3.00 / 13.87  # a smaller gap than the paper's

# %% [markdown]
# At the same code size the deep autoencoder's error is more than 20 % below
# PCA's (asserted), and its reconstructions are visibly sharper. The gap is
# smaller than the paper's 3.00 against 13.87 (asserted), as expected from our
# smaller network, data and budget.

# %% [markdown]
# ## 5 · Two-dimensional codes: deep autoencoder vs PCA
#
# With $k = 2$ the code is a point in the plane, so we can look at it. Fig. 3
# of Hinton & Salakhutdinov (004, "Autoencoders vs PCA (2)") plots the 2-D
# codes of MNIST digits: PCA's classes pile on top of each other, the deep
# autoencoder's form separate arms. We reproduce the picture and put a number
# on it: the accuracy of a 5-nearest-neighbour classifier that sees only the
# 2-D codes (labels are never used in training).

# %%
keras.utils.set_random_seed(0)
ae2 = keras_ae.build("dense", input_shape=(D,), latent_dim=2, hidden=(256, 128))
ae2.fit(x_train, x_train, epochs=EPOCHS * 2, batch_size=64, verbose=0)
pca2 = PCA(2).fit(x_train)
codes = {
    "PCA": (pca2.transform(x_train), pca2.transform(x_test)),
    "deep autoencoder": (ae2.get_layer("encoder").predict(x_train, verbose=0),
                         ae2.get_layer("encoder").predict(x_test, verbose=0)),
}
knn_accuracy = {
    name: KNeighborsClassifier(5).fit(train_codes, y_train).score(test_codes, y_test)
    for name, (train_codes, test_codes) in codes.items()
}
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, (name, (_, test_codes)) in zip(axes, codes.items()):
    points = ax.scatter(test_codes[:, 0], test_codes[:, 1], c=y_test, cmap="tab10", s=4)
    ax.set_title(f"{name}: 5-NN accuracy {knn_accuracy[name]:.2f}", fontsize=10)
fig.colorbar(points, ax=axes, ticks=range(10), label="digit")
plt.show()
print({name: round(acc, 3) for name, acc in knn_accuracy.items()})

# %%
assert knn_accuracy["deep autoencoder"] > knn_accuracy["PCA"] + 0.05

# %% [markdown]
# The printed accuracies say what the pictures show: from two numbers per
# image, the deep autoencoder's codes let a 5-nearest-neighbour classifier name
# the digit at least 5 points more often than PCA's (asserted). PCA keeps the
# two directions of largest variance, which mix several classes; the
# autoencoder is free to bend its map so that each class gets its own region.

# %% [markdown]
# ## 6 · Measuring an autoencoder
#
# The Sys-AI slides (003) list what to measure. The first is the quality of
# reconstruction, the **sum of per-instance squared errors** (we report its
# mean per image, which is the sum divided by $n$):
#
# $$\mathrm{SE}(x^{(i)}) = \sum_{j=1}^{D} \big(x^{(i)}_j - \hat x^{(i)}_j\big)^2, \qquad
#   \frac1n \sum_{i=1}^{n} \mathrm{SE}(x^{(i)}).$$
#
# The others depend on the purpose: the number of **dimensions** $k$ (the
# compression ratio $D/k$), the **sparsity** of the code (here the fraction
# of code values close to 0, $|h_j| < 0.1 \cdot \max|h|$; tutorial 02 trains
# codes to be sparse) and **noise tolerance**: the error against the clean
# image when the input is corrupted, $\lVert x - B(A(\tilde x))\rVert^2$. The
# similarity and novelty of generated samples belong to tutorial 04.

# %%
def sparsity(codes):
    codes = np.abs(codes)
    return float(np.mean(codes < 0.1 * codes.max()))


x_noisy_01 = keras_ae.corrupt(x_test, "gaussian", 0.1, seed=2)
rows = {
    f"PCA-{CODE}": (pca.transform(x_test), x_hat_pca, pca.inverse_transform(pca.transform(x_noisy_01))),
    f"deep AE-{CODE}": (encoder.predict(x_test, verbose=0), x_hat, model.predict(x_noisy_01, verbose=0)),
}
print(f"{'model':12s} {'mean SE':>8s} {'dims':>5s} {'D/k':>5s} {'sparsity':>9s} {'noisy SE':>9s}")
table = {}
for name, (h, recon, recon_noisy) in rows.items():
    se = reconstruction_error(x_test, recon)
    table[name] = (se.mean(), sparsity(h), reconstruction_error(x_test, recon_noisy).mean())
    print(f"{name:12s} {se.mean():8.2f} {h.shape[1]:5d} {D / h.shape[1]:5.1f} "
          f"{table[name][1]:9.2f} {table[name][2]:9.2f}")
noisy_input_error = reconstruction_error(x_test, x_noisy_01).mean()
print(f"noisy input itself: {noisy_input_error:.2f}")

# %%
pca_row, ae_row = table[f"PCA-{CODE}"], table[f"deep AE-{CODE}"]
assert ae_row[0] < pca_row[0] and ae_row[2] < pca_row[2]  # lower error, clean and noisy
assert pca_row[1] > ae_row[1]  # more near-zero code values in PCA's code
for clean, _, noisy in (pca_row, ae_row):
    assert noisy - clean < noisy_input_error / 3  # most of the noise is filtered out...
    assert noisy > noisy_input_error  # ...but the reconstruction is still further from x than x~ is

# %% [markdown]
# Reading the table row by row:
#
# - **Mean SE**: the deep autoencoder's error is the lower one, on clean and on
#   noisy inputs (asserted), as in section 4.
# - **dims** and **D/k** are the same for both by construction: the comparison
#   is at equal compression.
# - **sparsity**: neither code was trained to be sparse. PCA's has more values
#   near 0 (asserted): its later components have small variances, so most of
#   their coefficients are tiny next to the largest value of the first one. The
#   autoencoder spreads the information more evenly over its units.
# - **noisy SE**: Gaussian noise of standard deviation 0.1 adds less than a third
#   of its own energy to either model's error (asserted), so both codes filter
#   most of it out: noise is spread over all $D$ directions and a $k$-dimensional
#   code keeps only a few of them. But neither model is a denoiser here: its
#   error against the clean image stays above that of the noisy input itself
#   (asserted), because the reconstruction error of clean images is larger than
#   this light noise. Tutorial 02 trains denoising autoencoders for this job.

# %%
fig, ax = plt.subplots(figsize=(4.5, 2.6))
for name, (_, recon, _) in rows.items():
    ax.hist(reconstruction_error(x_test, recon), bins=40, alpha=0.6, label=name)
ax.set_xlabel("squared error per test image")
ax.legend()
plt.show()
ae_se = reconstruction_error(x_test, x_hat)
tail_ratio = np.percentile(ae_se, 99) / np.median(ae_se)
print(f"deep AE: median error {np.median(ae_se):.2f}, 99th percentile {np.percentile(ae_se, 99):.2f}")

# %%
assert tail_ratio > 2.0  # a right tail: the worst 1 % are more than twice as bad as the typical image

# %% [markdown]
# The per-instance errors are worth plotting, not only averaging. They have a
# right tail: the 99th percentile of the deep autoencoder's errors is more than
# twice the median (asserted), so a few images are much harder for the model to
# draw than the typical one. Flagging those is the basis of anomaly detection
# with autoencoders (an application in 000 and 001; tutorial 09).

# %% [markdown]
# ## Exercises
#
# Each exercise has a worked solution; click to open it after trying.
#
# 1. Replace `likelihood="bernoulli"` by `"gaussian"` in section 1 and redo the
#    check by hand with $\Delta = \lVert x - \hat x\rVert^2$. Which loss gives
#    sharper reconstructions?
#
# <details><summary>Solution</summary>
#
# ```python
# keras.utils.set_random_seed(0)
# gauss = keras_ae.build("dense", input_shape=(D,), latent_dim=CODE, hidden=(256, 128), likelihood="gaussian")
# gauss.fit(x_train, x_train, epochs=EPOCHS, batch_size=64, verbose=0)
# x_hat_g = gauss.predict(x_test, verbose=0)
# by_hand = np.sum((x_test - x_hat_g) ** 2, axis=1).mean()
# print(gauss.evaluate(x_test, verbose=0, return_dict=True)["loss"], by_hand)  # equal up to float32
# show_rows([x_test, x_hat, x_hat_g], ["input", "bernoulli", "gaussian"])
# ```
#
# The Keras loss and the sum of squares agree. The cross-entropy usually gives
# the crisper strokes: its gradient with respect to the logit is $\hat x - x$,
# which does not vanish when the sigmoid saturates, so pixels are pushed all the
# way to 0 or 1, while the squared error's gradient is multiplied by
# $\hat x(1 - \hat x)$ and fades near the extremes. Look at the two rows and
# compare the stroke edges.
#
# </details>
#
# 2. In section 2, train the overcomplete model for more epochs and watch
#    $\lVert M - I\rVert$ fall. What happens to the noisy→clean error?
#
# <details><summary>Solution</summary>
#
# ```python
# keras.utils.set_random_seed(0)
# wide = keras_ae.build("dense", input_shape=(D,), latent_dim=2 * D, hidden=(), activation="linear",
#                       likelihood="gaussian")
# for block in range(5):
#     wide.fit(x_train, x_train, epochs=10, batch_size=64, verbose=0)
#     m = end_to_end_matrix(wide)[np.ix_(active, active)]
#     distance = np.linalg.norm(m - np.eye(len(m))) / np.sqrt(len(m))
#     noisy = reconstruction_error(x_test, wide.predict(x_noisy, verbose=0)).mean()
#     print(f"epoch {10 * (block + 1)}: ||M - I|| = {distance:.2f}, noisy->clean {noisy:.2f}")
# ```
#
# $\lVert M - I\rVert$ keeps shrinking as the model converges to copying, and
# the noisy→clean error climbs towards the error of the noisy input itself
# (`noise_energy`): a perfect copier returns the noise untouched.
#
# </details>
#
# 3. In section 3, pick $k$ where $\lambda_k \approx \lambda_{k+1}$. Which
#    principal angle stays large, and why does the reconstruction error barely
#    care?
#
# <details><summary>Solution</summary>
#
# ```python
# k_tied = int(np.argmin(eigenvalues[2:9] / eigenvalues[3:10])) + 3  # the smallest gap
# keras.utils.set_random_seed(0)
# tied = keras_ae.build("dense", input_shape=(D,), latent_dim=k_tied, hidden=(), activation="linear",
#                       likelihood="gaussian", learning_rate=1e-2)
# tied.fit(xc_train, xc_train, epochs=30 if SMOKE else 15, batch_size=64, verbose=0, callbacks=[schedule])
# w = tied.get_layer("decoder").get_layer("decoder_logits").kernel.numpy()
# pca_tied = PCA(k_tied).fit(xc_train)
# print(np.degrees(subspace_angles(w.T, pca_tied.components_.T)))
# print(reconstruction_error(xc_test, tied.predict(xc_test, verbose=0)).mean(),
#       reconstruction_error(xc_test, pca_tied.inverse_transform(pca_tied.transform(xc_test))).mean())
# ```
#
# The largest angle stays large: the $k$-th and $(k{+}1)$-th principal
# directions explain almost the same variance, so any mix of the two is nearly
# as good and gradient descent has no reason to pick PCA's. For the same reason
# the error barely moves: swapping direction $k$ for direction $k{+}1$ changes
# the error by $\lambda_k - \lambda_{k+1} \approx 0$ per image.
#
# </details>
#
# 4. Sweep the code size $k \in \{2, 4, 8, 16, 32\}$ for PCA and the deep
#    autoencoder and plot both errors against $k$. Where does the gap close?
#
# <details><summary>Solution</summary>
#
# ```python
# sizes, ae_errors, pca_errors = [2, 4, 8, 16, 32], [], []
# for k in sizes:
#     keras.utils.set_random_seed(0)
#     net = keras_ae.build("dense", input_shape=(D,), latent_dim=k, hidden=(256, 128))
#     net.fit(x_train, x_train, epochs=EPOCHS, batch_size=64, verbose=0)
#     ae_errors.append(reconstruction_error(x_test, net.predict(x_test, verbose=0)).mean())
#     pca_k_sweep = PCA(k).fit(x_train)
#     pca_errors.append(reconstruction_error(x_test, pca_k_sweep.inverse_transform(pca_k_sweep.transform(x_test))).mean())
# plt.plot(sizes, ae_errors, "o-", label="deep AE")
# plt.plot(sizes, pca_errors, "o-", label="PCA")
# plt.xscale("log", base=2); plt.xlabel("code size k"); plt.ylabel("test error"); plt.legend(); plt.show()
# ```
#
# The autoencoder's advantage is largest for small codes, where a curved
# summary of the data pays most. As $k$ grows PCA keeps improving steadily,
# while a briefly trained autoencoder improves more slowly; on the 64-pixel
# digits PCA with 32 components keeps almost all the variance and can overtake
# it. Where exactly the curves meet depends on the budget: rerun with more
# epochs and watch the meeting point move right.
#
# </details>
#
# 5. Rank the test images by their squared error under the deep autoencoder and
#    show the ten worst. Would you call them anomalies?
#
# <details><summary>Solution</summary>
#
# ```python
# worst = np.argsort(ae_se)[::-1][:10]
# show_rows([x_test[worst], x_hat[worst]], ["worst inputs", "reconstructions"])
# print(y_test[worst], np.round(ae_se[worst], 2))
# ```
#
# The worst images are mostly unusual ways of writing a digit: thick or
# slanted strokes, unusual shapes, digits that are off centre. Some are
# ambiguous even to a person. They are unusual for the model, which is what
# an autoencoder anomaly score measures, but whether they are *anomalies*
# depends on the application: here they are still valid digits. Tutorial 09
# turns this score into a detector.
#
# </details>
