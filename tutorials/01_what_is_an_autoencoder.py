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
# sub-models, so you can use them alone.

# %%
CODE = 8 if SMOKE else 30
model = keras_ae.build("dense", input_shape=(D,), latent_dim=CODE, hidden=(256, 128))
encoder = model.get_layer("encoder")
decoder = model.get_layer("decoder")
encoder.summary()
decoder.summary()

# %% [markdown]
# With the default `likelihood="bernoulli"` each pixel is treated as the
# probability of a Bernoulli variable, and $\Delta$ is the cross-entropy summed
# over the $D$ pixels. For binary pixels it is the negative log-likelihood of $x$
# under the decoder; MNIST's grey levels are not binary, so here it is a loss, not a
# log-likelihood in nats (tutorial 04 binarizes the images to get one):
#
# $$\Delta(x, \hat x) = -\sum_{i=1}^{D}\big[x_i \log \hat x_i + (1 - x_i)\log(1 - \hat x_i)\big].$$
#
# (`likelihood="gaussian"` uses the summed squared error
# $\lVert x - \hat x\rVert^2$ instead.) Training is `fit(x, x)`: the input is its
# own target.

# %%
history = model.fit(x_train, x_train, epochs=EPOCHS, batch_size=64, verbose=0,
                    validation_data=(x_test, x_test))
x_hat = model.predict(x_test, verbose=0)

p = np.clip(x_hat.astype("float64"), 1e-7, 1 - 1e-7)
delta_by_hand = -np.sum(x_test * np.log(p) + (1 - x_test) * np.log(1 - p), axis=1).mean()
delta_keras = model.evaluate(x_test, verbose=0, return_dict=True)["loss"]
print(f"loss from Keras: {delta_keras:.3f}   the formula by hand: {delta_by_hand:.3f}")

# %%
# The loss Keras reports is the objective written above, per test example.
assert abs(delta_keras - delta_by_hand) < 0.01 * delta_by_hand

# %%
fig, ax = plt.subplots(figsize=(4, 2.6))
ax.plot(history.history["loss"], label="train")
ax.plot(history.history["val_loss"], label="test")
ax.set_xlabel("epoch")
ax.set_ylabel(r"$\Delta$ per example")
ax.legend()
plt.show()
show_rows([x_test, x_hat], ["input", f"{CODE}-D code"])

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
# The overcomplete model's matrix is nearly the identity (a strong diagonal):
# it copies pixels. Its test error is tiny, yet it has learned nothing about
# what a digit looks like, and it shows: fed noisy digits, it passes the
# noise through. The undercomplete model can only keep a $k$-dimensional
# summary, so it drops most of the noise. A low reconstruction error alone
# therefore says little about the code.

# %%
under, over = trap["undercomplete"], trap["overcomplete"]
assert over["distance_to_identity"] < 0.7 * under["distance_to_identity"]
assert over["test_error"] < under["test_error"]
assert under["noisy_error"] < over["noisy_error"] < noise_energy * 1.05

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
# Two practical details make gradient descent land there quickly. PCA centres
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
print(f"noisy input itself: {reconstruction_error(x_test, x_noisy_01).mean():.2f}")

# %%
fig, ax = plt.subplots(figsize=(4.5, 2.6))
for name, (_, recon, _) in rows.items():
    ax.hist(reconstruction_error(x_test, recon), bins=40, alpha=0.6, label=name)
ax.set_xlabel("squared error per test image")
ax.legend()
plt.show()

# %% [markdown]
# The per-instance errors are worth plotting, not only averaging: a long
# right tail means a few images the model cannot draw, which is the basis of
# anomaly detection with autoencoders (an application in 000 and 001).

# %% [markdown]
# ## Exercises
#
# 1. Replace `likelihood="bernoulli"` by `"gaussian"` in section 1 and redo the
#    check by hand with $\Delta = \lVert x - \hat x\rVert^2$. Which loss gives
#    sharper reconstructions?
# 2. In section 2, train the overcomplete model for more epochs and watch
#    $\lVert M - I\rVert$ fall. What happens to the noisy→clean error?
# 3. In section 3, pick $k$ where $\lambda_k \approx \lambda_{k+1}$. Which
#    principal angle stays large, and why does the reconstruction error barely
#    care?
# 4. Sweep the code size $k \in \{2, 4, 8, 16, 32\}$ for PCA and the deep
#    autoencoder and plot both errors against $k$. Where does the gap close?
# 5. Rank the test images by their squared error under the deep autoencoder and
#    show the ten worst. Would you call them anomalies?
