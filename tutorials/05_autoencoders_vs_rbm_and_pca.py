# %% [markdown]
# # 05 · Autoencoders vs RBM and PCA
#
# Autoencoders were not the first unsupervised feature learners, and they are best understood next
# to their neighbours. This tutorial puts them side by side with two of them and then steps back to a
# theory that covers all three:
#
# - **AE vs RBM.** The restricted Boltzmann machine (RBM) computes its features with the very same
#   formula as a one-layer sigmoid encoder, but it is an energy-based probabilistic model trained by
#   contrastive divergence instead of backpropagation on a reconstruction loss. We train both (the
#   RBM with scikit-learn's `BernoulliRBM`) and use their features, PCA and raw pixels as inputs to
#   the same linear classifier.
# - **Hinton 2006 table.** Hinton & Salakhutdinov (Science, 2006) showed that a deep autoencoder
#   reconstructs MNIST far better than PCA with the same code size. We reproduce the comparison at a
#   small scale, with `keras_ae.metrics.reconstruction_error`.
# - **Information bottleneck.** What should a code keep? The information bottleneck answers with a
#   trade-off between compression and prediction; we connect it to the rate term of the β-VAE and run
#   one small experiment with a variational bottleneck.
#
# **Source documents.** 004 (AE vs RBM; the AE-vs-PCA figures of Hinton & Salakhutdinov 2006; the
# information bottleneck and its deterministic variant), 002 (RBMs with scikit-learn's
# `BernoulliRBM`, their energy function, RBM features for a linear classifier), 000 (the autoencoder
# as a non-linear generalization of PCA), 003 (constructing features automatically; reconstruction
# error as the metric). **A correction:** 004 titles one slide "Contrastive Autoencoder", but the
# penalty it shows, $\lambda \lVert \partial f(x) / \partial x \rVert_F^2$, defines the
# *contractive* autoencoder (Rifai et al., 2011). *Contrastive* belongs to contrastive divergence,
# the RBM's training rule in the same deck, which is probably where the slip comes from.
#
# **Quick mode.** With `KERAS_AE_SMOKE=1` everything runs on the 8x8 digits with few epochs. The
# full run uses the digits for the feature comparison and the bottleneck, and a 20 000-image slice
# of MNIST for the Hinton table when it is in the Keras cache (else the digits again).

# %%
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import BernoulliRBM
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import keras_ae
from keras_ae import data, metrics
from keras_ae._tfp import tfd
from keras_ae.layers import GaussianPosterior

tf.get_logger().setLevel("ERROR")  # no retracing warnings from the many small predict() calls

SMOKE = os.environ.get("KERAS_AE_SMOKE") == "1"
keras.utils.set_random_seed(0)

# %% [markdown]
# ## AE vs RBM
#
# | | autoencoder | restricted Boltzmann machine |
# |---|---|---|
# | kind of model | deterministic map $x \mapsto h \mapsto \hat x$ | probability distribution $p(v, h)$ over visible and hidden units |
# | features | $h = s(Wx + b)$ | $p(h_j = 1 \mid v) = \sigma(b_j + v^\top W_{:,j})$ |
# | objective | reconstruction loss $L(x, g(f(x)))$ | log-likelihood $\log p(v)$ |
# | training | exact gradients by backpropagation | approximate gradients by contrastive divergence |
#
# An RBM with binary visible units $v$ and hidden units $h$ assigns every joint state an energy and
# turns energies into probabilities:
#
# $$E(v, h) = -a^\top v - b^\top h - v^\top W h, \qquad p(v, h) = \frac{e^{-E(v, h)}}{Z},
# \qquad Z = \sum_{v, h} e^{-E(v, h)} .$$
#
# There are no connections inside a layer, so given $v$ the hidden units are independent, with
# $p(h_j = 1 \mid v) = \sigma(b_j + \sum_i v_i W_{ij})$, and symmetrically for $v$ given $h$. That
# conditional is the RBM's feature vector, and it has exactly the form of a one-layer encoder with
# sigmoid units: the two models differ not in how features are *computed* but in how $W$ is *learned*.
#
# The log-likelihood gradient is a difference of two correlations,
#
# $$\frac{\partial \log p(v)}{\partial W_{ij}} = \langle v_i h_j \rangle_{\text{data}} -
# \langle v_i h_j \rangle_{\text{model}},$$
#
# and the second one, an average over the model's own distribution, needs the intractable $Z$.
# Contrastive divergence (CD-$k$) replaces it with the statistics after $k$ steps of Gibbs sampling
# started at the data; scikit-learn's `BernoulliRBM` uses the persistent variant (PCD, also called
# stochastic maximum likelihood), whose Gibbs chains carry over from one update to the next. The
# RBM treats inputs in $[0, 1]$ as probabilities of binary units, so the grey-level digits suit it.
#
# The experiment: $k$ features from each learner, then the *same* linear classifier on each
# (standardized features, `LogisticRegression`). The learners:
#
# - **RBM**: `BernoulliRBM(n_components=k)`, features `rbm.transform(x)` $= p(h = 1 \mid v)$;
# - **one-layer AE**: the same $k$ sigmoid units trained by backpropagation,
#   `keras_ae.build("contractive", ...)` (its default encoder is exactly one sigmoid layer; its
#   contraction penalty, the one 004 calls "contrastive", is kept small);
# - **deep AE**: `keras_ae.build("dense", hidden=(128,))`, a non-linear encoder with a $k$-unit code;
# - **PCA** with $k$ components, and the **raw pixels** (all 64) as the baseline.

# %%
(x_train, y_train), (x_test, y_test) = data.load("digits", flatten=True)
D = x_train.shape[1]
K = 32  # features per learner
EPOCHS = 10 if SMOKE else 40
print(f"digits: {x_train.shape[0]} training and {x_test.shape[0]} test images, {D} pixels in [0, 1]")


def linear_probe(f_train, f_test):
    """Test accuracy of a logistic regression trained on standardized features."""
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=3000))
    return clf.fit(f_train, y_train).score(f_test, y_test)


rbm = BernoulliRBM(n_components=K, learning_rate=0.05, batch_size=10, n_iter=EPOCHS, random_state=0)
rbm.fit(x_train)

keras.utils.set_random_seed(0)
shallow_ae = keras_ae.build("contractive", input_shape=(D,), latent_dim=K, contraction_weight=0.01,
                            jacobian="closed_form")
shallow_ae.fit(x_train, x_train, epochs=EPOCHS, batch_size=32, verbose=0)

keras.utils.set_random_seed(0)
deep_ae = keras_ae.build("dense", input_shape=(D,), latent_dim=K, hidden=(128,))
deep_ae.fit(x_train, x_train, epochs=EPOCHS, batch_size=32, verbose=0)

pca = PCA(n_components=K, random_state=0).fit(x_train)


def encode(model, x):
    return model.get_layer("encoder").predict(x, verbose=0)


features = {
    "raw pixels": (x_train, x_test),
    f"PCA ({K} components)": (pca.transform(x_train), pca.transform(x_test)),
    f"RBM ({K} hidden units, PCD)": (rbm.transform(x_train), rbm.transform(x_test)),
    f"one-layer AE ({K} sigmoid units)": (encode(shallow_ae, x_train), encode(shallow_ae, x_test)),
    f"deep AE (64-128-{K})": (encode(deep_ae, x_train), encode(deep_ae, x_test)),
}
accuracy = {name: linear_probe(*pair) for name, pair in features.items()}
print(f"{'features':34s} {'dims':>5s}  test accuracy")
for name, acc in accuracy.items():
    print(f"{name:34s} {features[name][0].shape[1]:5d}  {acc:.3f}")

# %% [markdown]
# Both one-layer models learn a weight vector per unit, which can be shown as an 8x8 image. RBM
# units (`rbm.components_`) and the autoencoder's encoder weights (layer `encoder_code`) side by
# side:

# %%
ae_filters = shallow_ae.get_layer("encoder").get_layer("encoder_code").get_weights()[0].T
fig, axes = plt.subplots(2, 12, figsize=(10, 2))
for j in range(12):
    for row, (filters, label) in enumerate([(rbm.components_, "RBM"), (ae_filters, "AE")]):
        axes[row, j].imshow(filters[j].reshape(8, 8), cmap="RdBu_r")
        axes[row, j].axis("off")
    axes[0, j].set_title(f"unit {j}", fontsize=7)
plt.tight_layout()
fig.subplots_adjust(left=0.05)
fig.text(0.005, 0.66, "RBM", fontsize=9)
fig.text(0.005, 0.22, "AE", fontsize=9)
plt.show()

# %%
acc = list(accuracy.values())
assert min(acc) > 0.8, accuracy  # every representation is far above the 10 % of guessing
assert accuracy[f"deep AE (64-128-{K})"] > accuracy["raw pixels"] - 0.05, accuracy
rbm_acc, shallow_acc = accuracy[f"RBM ({K} hidden units, PCD)"], accuracy[f"one-layer AE ({K} sigmoid units)"]
assert shallow_acc > rbm_acc - 0.02, accuracy  # same encoder formula: backprop at least as useful here

# %% [markdown]
# What the numbers say, and what they do not:
#
# - The 8x8 digits are nearly linearly separable already, so a logistic regression on raw pixels is
#   a strong baseline. Learned features with half as many dimensions come close to it: the
#   information the classifier needs survives compression.
# - With the same encoder formula and the same number of units, the backpropagation-trained
#   autoencoder gives features at least as useful to a linear classifier as the RBM's here. A
#   plausible reason: the RBM's objective asks it to model the whole distribution of the pixels,
#   and it follows that objective with approximate, noisy gradients, so it learns more slowly per
#   epoch; the autoencoder only has to keep what it needs to redraw each image.
# - This is one small dataset and default settings for each learner; the RBM's learning rate and
#   number of iterations matter (see the exercises). In 2006 the two were allies, not rivals: stacks
#   of RBMs were used to *initialize* deep autoencoders, which is the next section.
#
# ## Hinton 2006 table
#
# Figure 2B of Hinton & Salakhutdinov (on 004's slide "Autoencoders vs PCA (1)") compares three
# 30-dimensional codes of MNIST by the average squared error per test image,
# $\frac1n \sum_n \lVert x_n - \hat x_n \rVert^2$ with pixels in $[0, 1]$, the mean of
# `keras_ae.metrics.reconstruction_error`:
#
# | code (30-D) | decoder output | published error |
# |---|---|---|
# | deep autoencoder 784-1000-500-250-30, RBM-pretrained | non-linear | 3.00 |
# | logistic PCA | $\sigma(W z + b)$, linear code through a sigmoid | 8.01 |
# | PCA | $W z + b$ | 13.87 |
#
# Tutorial 01 already showed the first and last rows apart (and that a linear autoencoder finds
# PCA's subspace). Here we rebuild the whole table, with all three models from `keras_ae`:
#
# - **deep autoencoder**: `build("dense", hidden=...)`, trained with the cross-entropy loss;
# - **logistic PCA, autoencoder form**: `build("dense", hidden=(), activation="linear")`, a linear
#   encoder $z = A x + c$ and a decoder $\sigma(W z + b)$ trained with cross-entropy. Logistic PCA
#   proper (Schein, Saul & Ungar, 2003) optimizes each code directly instead of computing it with an
#   encoder, so this is a close relative with the same decoder, not the identical method;
# - **PCA**: scikit-learn.
#
# The setting is deliberately **small-scale, not the paper's**: a 20 000-image slice of MNIST (the
# 8x8 digits with an 8-D code in quick mode), a narrower deep network trained end to end with Adam
# for a few epochs, without RBM pretraining. The published column is there for orientation only.

# %%
def load_hinton_data():
    """MNIST slice in the full run if it is cached (else digits), intensities in [0, 1]."""
    if not SMOKE:
        try:
            return "MNIST (20 000-image slice)", data.load("mnist", flatten=True, limit=20_000)
        except (FileNotFoundError, OSError) as error:
            print(f"MNIST unavailable ({type(error).__name__}), falling back to digits.")
    return "digits", data.load("digits", flatten=True)


HINTON_DATA, ((h_train, _), (h_test, h_test_labels)) = load_hinton_data()
H_D = h_train.shape[1]
if H_D == 784:
    code, hidden, epochs, batch = 30, (512, 256), 20, 128
else:  # 64 pixels: scale the code and the network down with the input
    code, hidden, epochs, batch = 8, (128, 64), (20 if SMOKE else 150), 32

keras.utils.set_random_seed(0)
deep = keras_ae.build("dense", input_shape=(H_D,), latent_dim=code, hidden=hidden)
deep.fit(h_train, h_train, epochs=epochs, batch_size=batch, verbose=0)

keras.utils.set_random_seed(0)
logistic = keras_ae.build("dense", input_shape=(H_D,), latent_dim=code, hidden=(), activation="linear",
                          learning_rate=3e-3)
logistic.fit(h_train, h_train, epochs=epochs, batch_size=batch, verbose=0)

pca_h = PCA(n_components=code, random_state=0).fit(h_train)

reconstructions = {
    "deep autoencoder": lambda x: deep.predict(x, verbose=0),
    "logistic PCA (AE form)": lambda x: logistic.predict(x, verbose=0),
    "PCA": lambda x: pca_h.inverse_transform(pca_h.transform(x)),
}
published = {"deep autoencoder": 3.00, "logistic PCA (AE form)": 8.01, "PCA": 13.87}
errors = {name: metrics.reconstruction_error(h_test, rec(h_test)).mean()
          for name, rec in reconstructions.items()}

shape = "-".join(map(str, (H_D, *hidden, code)))
print(f"{HINTON_DATA}: {code}-D codes, deep network {shape}, {epochs} epochs")
print(f"{'model':24s} {'test error (ours)':>18s}   {'published (MNIST, full scale)':>30s}")
for name, err in errors.items():
    print(f"{name:24s} {err:18.2f}   {published[name]:30.2f}")

# %% [markdown]
# The figure's layout: one test image per class, then its three reconstructions.

# %%
side = int(round(np.sqrt(H_D)))
picks = [int(np.flatnonzero(h_test_labels == c)[0]) for c in range(10)]
rows = [("test image", h_test[picks])] + [(name, rec(h_test[picks])) for name, rec in reconstructions.items()]
fig, axes = plt.subplots(len(rows), 10, figsize=(8, 0.9 * len(rows)))
for r, (label, images) in enumerate(rows):
    for c in range(10):
        axes[r, c].imshow(images[c].reshape(side, side), cmap="gray", vmin=0, vmax=1)
        axes[r, c].set_xticks([])
        axes[r, c].set_yticks([])
    axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
plt.tight_layout()
plt.show()

# %%
# The paper's main claim: the deep code beats both linear codes.
assert errors["deep autoencoder"] < min(errors["logistic PCA (AE form)"], errors["PCA"]), errors
if H_D == 784:  # MNIST: pixels sit near 0 or 1, where a sigmoid output pays off
    assert errors["logistic PCA (AE form)"] < errors["PCA"], errors

# %% [markdown]
# The main result survives the change of scale: the non-linear deep encoder and decoder beat both
# linear codes by a wide margin. The middle row depends on the data: MNIST pixels sit mostly near 0
# or 1, which a sigmoid output reaches easily and a linear map does not, so on MNIST logistic PCA
# lands between the two as in the paper; on the grey-level 8x8 digits of quick mode the two linear
# codes come out nearly even, and we only check the ordering on MNIST. Our PCA number is close to the
# paper's because PCA has no training choices; the autoencoders' numbers are not, since the network,
# the data and the training budget are all smaller. The training story changed too: in 2006,
# pretraining with stacked RBMs was what made a deep autoencoder trainable at all, whereas today's
# initializations, ReLU units and Adam train it end to end.
#
# ## Information bottleneck
#
# An autoencoder keeps whatever it needs to rebuild the input. The information bottleneck (IB;
# Tishby, Pereira & Bialek, 1999) asks a sharper question: given an input $X$ and a target $Y$ we
# care about, find a stochastic code $T$ of $X$ that is as *short* as possible while staying
# *predictive* of $Y$:
#
# $$\min_{q(t \mid x)} \; I(X; T) - \beta\, I(T; Y).$$
#
# $I(X; T)$ measures how much of the input the code retains (compression), $I(T; Y)$ how much it
# says about the target (prediction), and $\beta$ sets the exchange rate. 004's examples read
# naturally this way: $X$ a user's past behaviour, $T$ a cluster, $Y$ their future clicks. The
# deterministic IB that 004 also shows, $L_\alpha = H(T) - \alpha H(T \mid X) - \beta I(T; Y)$
# (Strouse & Schwab, 2017), contains the original as $\alpha = 1$, because
# $I(X; T) = H(T) - H(T \mid X)$, and with $\alpha = 0$ favours hard clusterings.
#
# **Relation to the β-VAE.** Mutual informations are rarely computable, but they have variational
# bounds (Alemi et al., 2017 and 2018). For an encoder $q(t \mid x)$ and any fixed distribution
# $r(t)$,
#
# $$I(X; T) \le \mathbb{E}_x\, \mathrm{KL}\big(q(t \mid x)\,\|\,r(t)\big) = R \quad \text{(the rate)},
# \qquad I(T; Y) \ge H(Y) - \mathbb{E}\left[-\log p(y \mid t)\right] = H(Y) - \text{CE},$$
#
# for any decoder $p(y \mid t)$. Replacing both terms by their bounds turns the IB into a loss one
# can train: $\text{CE} + \beta' R$ with $\beta' = 1/\beta$. Now take $Y = X$ (predict the input
# itself) and $r = \mathcal{N}(0, I)$: the cross-entropy becomes the distortion
# $-\mathbb{E}\log p(x \mid t)$ and the loss is exactly the **β-VAE** of tutorial 04, whose KL term
# is the rate. The β sweep there (rate falling as β rises) is an unsupervised IB curve, and this
# family of rate-penalized autoencoders is one concrete answer to 004's closing question, whether
# the IB can help design better autoencoders.
#
# Two honest caveats. For a *deterministic* encoder of continuous data, $I(X; T)$ is infinite or
# undefined, so the "compression" of a plain autoencoder is not an information quantity; the noise
# of the Gaussian code is what makes the rate finite and meaningful. And the broader claim that deep
# networks compress their representations during training (Shwartz-Ziv & Tishby, 2017) depends on
# how mutual information is estimated and on the activation function (Saxe et al., 2018); we do not
# test it here.
#
# **A small experiment: the variational IB.** A classifier with a Gaussian bottleneck, made of plain
# Keras layers plus `keras_ae.layers.GaussianPosterior`, which samples $t$ by reparameterization and
# adds $\beta' \cdot \mathrm{KL}(q(t \mid x) \,\|\, \mathcal{N}(0, I))$ to the loss: the rate term.
# The cross-entropy of a softmax head is the prediction term. We sweep $\beta'$ and report on the
# test set the rate $R$ in nats, the bound $H(Y) - \text{CE}$ on $I(T; Y)$ (with $H(Y) \approx \log 10$
# nats) and the accuracy. Both the cross-entropy and the accuracy are measured on codes *sampled*
# from $q(t \mid x)$ (ten per test image), because the bounds are about the noisy code: predicting
# from the posterior mean alone would use information the rate does not pay for.

# %%
BOTTLENECK = 8
BETAS_IB = [1e-3, 1e-2, 1e-1, 1.0]
IB_EPOCHS = 15 if SMOKE else 40


def bottleneck_classifier(beta):
    """x -> Dense(128) -> Gaussian code t (rate beta * KL) -> softmax over 10 classes."""
    inputs = keras.Input(shape=(D,), name="input")
    h = keras.layers.Dense(128, activation="relu", name="encoder_dense_1")(inputs)
    loc = keras.layers.Dense(BOTTLENECK, name="encoder_loc")(h)
    raw_scale = keras.layers.Dense(BOTTLENECK, name="encoder_scale")(h)
    t = GaussianPosterior(beta=beta, seed=0, name="posterior")([loc, raw_scale])
    outputs = keras.layers.Dense(10, activation="softmax", name="classifier")(t)
    model = keras.Model(inputs, outputs, name=f"vib_beta_{beta:g}")
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    return model, keras.Model(inputs, [loc, raw_scale], name="heads")


class_freq = np.bincount(y_train) / len(y_train)
h_y = -np.sum(class_freq * np.log(class_freq))  # H(Y) in nats, about log(10)
ib = {}
for beta in BETAS_IB:
    keras.utils.set_random_seed(0)
    model, heads = bottleneck_classifier(beta)
    model.fit(x_train, y_train, epochs=IB_EPOCHS, batch_size=32, verbose=0)
    loc, raw_scale = heads.predict(x_test, verbose=0)
    q = model.get_layer("posterior").distribution(loc, raw_scale)
    rate = tfd.kl_divergence(q, GaussianPosterior.prior(BOTTLENECK)).numpy()  # per test image
    t = q.sample(10, seed=tf.constant([0, 1]))  # (10, n, BOTTLENECK) codes
    probs = model.get_layer("classifier")(t).numpy()  # p(y | t), (10, n, 10)
    p_true = np.take_along_axis(probs, np.broadcast_to(y_test[None, :, None], (10, len(y_test), 1)), -1)
    ce = -np.log(np.clip(p_true, 1e-12, None)).mean()
    ib[beta] = {"rate": rate.mean(), "I(T;Y) >=": h_y - ce, "accuracy": np.mean(probs.argmax(-1) == y_test)}

print(f"H(Y) = {h_y:.3f} nats")
print(" beta'   rate I(X;T) <=   I(T;Y) >=   test accuracy")
for beta, row in ib.items():
    print(f"{beta:6g}   {row['rate']:13.2f}   {row['I(T;Y) >=']:9.2f}   {row['accuracy']:13.3f}")

fig, ax = plt.subplots(figsize=(5, 3.4))
ax.plot([ib[b]["rate"] for b in BETAS_IB], [ib[b]["accuracy"] for b in BETAS_IB], "o-")
for beta in BETAS_IB:
    ax.annotate(f"β'={beta:g}", (ib[beta]["rate"], ib[beta]["accuracy"]), textcoords="offset points",
                xytext=(-12, 8), fontsize=8)
ax.axvline(h_y, color="gray", linestyle="--", linewidth=1)
ax.text(h_y * 1.1, 0.45, "rate = H(Y)", color="gray", fontsize=8)
ax.axhline(0.1, color="gray", linestyle=":", linewidth=1)
ax.set(xlabel="rate (nats, log scale)", ylabel="test accuracy", xscale="log", ylim=(0, 1.08),
       title="Variational information bottleneck")
plt.tight_layout()
plt.show()

# %%
rates = [ib[b]["rate"] for b in BETAS_IB]
acc_ib = [ib[b]["accuracy"] for b in BETAS_IB]
assert all(r1 > r2 for r1, r2 in zip(rates, rates[1:])), rates  # a higher price per nat, a shorter code
# Data processing: H(Y) - CE <= I(T;Y) <= I(X;T) <= rate (up to sampling noise).
assert all(row["I(T;Y) >="] <= row["rate"] + 0.1 for row in ib.values()), ib
# Most of the rate is irrelevant to the label: halving it (at least) costs almost no accuracy...
assert rates[1] < 0.5 * rates[0] and acc_ib[1] > acc_ib[0] - 0.03, ib
# ...but a code of a fraction of a nat cannot carry the label.
assert rates[-1] < 1.0 and acc_ib[-1] < acc_ib[0] - 0.2, ib

# %% [markdown]
# Reading the table as an IB curve: at the smallest $\beta'$ the code keeps tens of nats about the
# image, far more than the $\log 10 \approx 2.3$ nats a digit label can ever use; a tenfold higher
# price removes most of them while the accuracy barely moves, because most of what the pixels say is
# irrelevant to the label. Only when the rate falls to a few nats, the order of the label's own
# entropy, does prediction suffer, and a code of a fraction of a nat carries almost nothing. The
# chain $H(Y) - \text{CE} \le I(T; Y) \le I(X; T) \le R$ (data processing, then the two bounds)
# holds in every row. An autoencoder, whose target is the input itself, has no irrelevant part to
# discard, which is why the β-VAE's distortion in tutorial 04 rises as soon as its rate falls.
#
# ## Exercises
#
# 1. **Tune the RBM.** Vary `learning_rate`, `n_iter` and `n_components` of `BernoulliRBM` and
#    report the linear-probe accuracy. Does any setting overtake the one-layer autoencoder? Plot
#    `rbm.score_samples(x_test).mean()` (a pseudo-likelihood) against accuracy.
# 2. **Pretraining.** Reproduce the 2006 recipe in miniature: initialize the first layer of a deep
#    autoencoder with the weights of an RBM (`rbm.components_.T`, `rbm.intercept_hidden_`) and
#    compare the reconstruction error after a few epochs with a random initialization.
# 3. **Logistic PCA proper.** Fit logistic PCA without an encoder: make the codes of the training
#    images trainable variables, optimize them with the decoder by gradient descent, and compare the
#    error with the autoencoder form of the table. How do you encode a test image then?
# 4. **The RBM as a generator.** Run Gibbs sampling (`rbm.gibbs`) for a few hundred steps from
#    random binary images and show the results next to the VAE samples of tutorial 04.
# 5. **Information plane.** For the bottleneck classifier, record the rate and $H(Y) - \text{CE}$ at
#    the end of every epoch (a Keras callback) and draw the trajectory for two values of $\beta'$.
# 6. **Unsupervised IB.** Train the β-VAE of tutorial 04 for several β and plot distortion against
#    rate together with the line $D + R = $ constant. Which point maximises the ELBO?
