# %% [markdown]
# # 07 · Adversarial autoencoders
#
# A VAE (tutorial 04) keeps its codes usable for sampling with a KL term, and draws its images with a
# pixel-by-pixel likelihood. Both choices can be replaced by a second network that learns to tell two
# distributions apart, a *discriminator*. This tutorial starts from the game that defines such
# networks and then puts the discriminator in three different places. You will:
#
# - set up the **GAN** game (generator against discriminator), check the optimal discriminator
#   $D^* = p_\text{data} / (p_\text{data} + p_g)$ numerically, see why the code trains the generator
#   on the *non-saturating* loss, and **count** the modes a GAN covers on a ring of eight Gaussians
#   while it trains;
# - see why VAE images are **blurry**: the pixel-wise likelihood, not the network;
# - train **adversarial autoencoders** (AAE) whose codes match a prior of our choice, a ring of ten
#   Gaussians, with and without labels, and measure how close codes and prior are (MMD);
# - train **ALI**, whose discriminator looks at (image, code) pairs, and measure how faithful its
#   reconstructions $G(E(x))$ are;
# - write down the **Wasserstein** (optimal transport) distance and the **WAE** objective built on
#   it, and train WAE-MMD and WAE-GAN;
# - compare the **sample quality** of every model with a Fréchet distance and precision/recall on the
#   features of a small in-project classifier (no Inception network).
#
# **Source documents.** 000 ("Advanced autoencoder techniques": blurry reconstructions from the loss,
# GANs, mode collapse, adversarially learned inference), 001 §6.1–6.3 (GANs and the AAE, ALI, the
# WAE with the Wasserstein distance), 002 (the GAN paragraph of its unsupervised networks) and 004
# ("Adversarial Autoencoders (AAE)", which explains the GAN half only). Where they are vague or wrong
# the text says so and gives the correct version; the main corrections:
#
# - 001 says the AAE "replaces the KL-divergence in the VAE loss with a discriminator". It replaces a
#   *different* quantity: the VAE's KL acts on each example's posterior, the AAE's discriminator on
#   the distribution of all codes together (section 3). And its adversary never sees an image: the
#   decoder keeps the pixel-wise likelihood, and its samples stay greyer than real digits (sections 2
#   and 6).
# - 001 credits the WAE with the "smoother gradient" and "more stable training" of the Wasserstein
#   distance. Those are arguments for the Wasserstein GAN (Arjovsky et al., 2017). The WAE never
#   computes a Wasserstein distance: it minimizes a relaxation of the optimal-transport cost, whose
#   penalty in code space is an MMD or a GAN (section 5). 001's dual formula also leaves out the one
#   condition that makes it true, that the functions $f$ be 1-Lipschitz.
# - 000 files GANs under "adversarially learned inference". ALI is one particular model (Dumoulin et
#   al., 2017) that adds an encoder to a GAN (section 4); mode collapse is a property of the
#   generator's output distribution, which covers only part of the data, not of a latent space.
# - 002 says the generator aims to make samples "identical" to real data. The aim is samples
#   *indistinguishable* from real data as a distribution; a generator that copies training images
#   has memorized, not learned.
#
# **Quick mode.** With `KERAS_AE_SMOKE=1` (set by the test suite) the image models train on the 8x8
# scikit-learn digits, which need no download, and the feature network is trained in the notebook on
# the same digits. The full run (this page) uses a 10 000-image slice of MNIST and the MNIST feature
# network cached by `tools/train_feature_network.py` (trained here and cached if missing).

# %%
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from scipy import stats
from scipy.optimize import linear_sum_assignment

import keras_ae
from keras_ae import data, losses, metrics
from keras_ae import sample_quality as sq

tf.get_logger().setLevel("ERROR")  # no retracing warnings from the many small predict() calls

SMOKE = os.environ.get("KERAS_AE_SMOKE") == "1"
keras.utils.set_random_seed(0)
START = time.perf_counter()

# %% [markdown]
# **The result first.** Here is what the tutorial builds up to, before any theory. The first cell
# loads the images of the whole page (a 10 000-image slice of MNIST in the full run, the 8x8 digits
# in the quick run, flattened to vectors with pixels in $[0, 1]$) and defines the one training helper
# every image model uses. The second trains an **adversarial autoencoder** with a 2-D code and labels
# (section 3): a discriminator forces the codes of digit $k$ into the $k$-th of ten Gaussians on a
# ring. Decoding random points of component $k$ then draws a digit $k$ on request: one row per
# component below. Within a row only the point inside the component changes, and with it the way the
# digit is written. Section 3 measures how often the digit drawn is the one asked for.

# %%
LIMIT = 10_000


def load_images():
    """Flattened images: a slice of MNIST in the full run if it is cached, else the 8x8 digits."""
    if not SMOKE:
        try:
            return "MNIST", data.load("mnist", flatten=True, limit=LIMIT)
        except (FileNotFoundError, OSError) as error:
            print(f"MNIST unavailable ({type(error).__name__}), falling back to the digits.")
    return "digits", data.load("digits", flatten=True)


DATASET, ((x_train, y_train), (x_test, y_test)) = load_images()
MNIST = DATASET == "MNIST"
D = x_train.shape[1]
SIDE = int(round(np.sqrt(D)))
N_EVAL = min(2000, len(x_test))  # test images used by every measurement
x_eval, y_eval = x_test[:N_EVAL], y_test[:N_EVAL]
HIDDEN = (256, 128) if MNIST else (128, 64)
LATENT = 8
EPOCHS = 20 if MNIST else 12
BATCH = 100 if MNIST else 32
print(f"{DATASET}: {len(x_train)} training and {len(x_test)} test images of {SIDE}x{SIDE}; "
      f"{EPOCHS} epochs of batches of {BATCH} for every model")


def show_images(rows, titles, size=0.9, suptitle=None):
    """Plots rows of flat images, one title per row (shown at the left)."""
    n_cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), n_cols, figsize=(n_cols * size, len(rows) * size), squeeze=False)
    for i, (row, title) in enumerate(zip(rows, titles)):
        for j in range(n_cols):
            ax = axes[i, j]
            ax.axis("off")
            if j < len(row):
                ax.imshow(np.clip(np.reshape(row[j], (SIDE, SIDE)), 0, 1), cmap="gray_r", vmin=0, vmax=1)
        axes[i, 0].set_title(title, fontsize=8, loc="left")
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    plt.tight_layout()
    plt.show()


def grey_fraction(images):
    """The fraction of pixels that are neither dark nor light (between 0.2 and 0.8)."""
    images = np.clip(images, 0, 1)
    return float(np.mean((images > 0.2) & (images < 0.8)))


seconds = {}


def train(name, labels=None, **options):
    """Builds a registered model from seed 0 and trains it on the training images."""
    keras.utils.set_random_seed(0)
    model = keras_ae.build(name, input_shape=(D,), hidden=HIDDEN, **options)
    start = time.perf_counter()
    history = model.fit(x_train, labels, epochs=EPOCHS, batch_size=BATCH, verbose=0).history
    return model, {k: v[-1] for k, v in history.items()}, time.perf_counter() - start


# %%
ADV_WEIGHT = 10.0 if MNIST else 1.0  # the weight of the adversarial term (section 3, "A note on lambda")
ADV_LR = 1e-3 if MNIST else 2e-3  # Adam's learning rate of the code-space adversarial models
MIXTURE = {"prior": "mixture", "prior_components": 10, "prior_radius": 4.0, "prior_scale": 0.5}
caae, caae_final, seconds["AAE, labels (2-D)"] = train(
    "aae", labels=y_train, latent_dim=2, conditional=True, adversarial_weight=ADV_WEIGHT, learning_rate=ADV_LR,
    seed=0, **MIXTURE)
per_component = 12
wanted = np.repeat(np.arange(10), per_component)
caae_samples = caae.get_layer("decoder").predict(caae.sample_prior(len(wanted), labels=wanted, seed=7), verbose=0)
show_images([caae_samples[wanted == k][:per_component] for k in range(10)],
            [f"component {k}" for k in range(10)], size=0.7,
            suptitle="Digits on request: decoded prior samples of each component of a labelled AAE")

# %% [markdown]
# ## 1 · GANs: a generator, a discriminator and a game
#
# A generative adversarial network (Goodfellow et al., 2014) has two networks. The **generator** $G$
# turns noise $z \sim p(z)$ (here $\mathcal{N}(0, I)$) into a sample $G(z)$; the distribution of
# its samples is called $p_g$. The **discriminator** $D$ maps a sample to the probability $D(x)$
# that it came from the data and not from $G$. They play a two-player game over the value
#
# $$V(D, G) = \mathbb{E}_{x \sim p_\text{data}}\left[\log D(x)\right]
# + \mathbb{E}_{z \sim p(z)}\left[\log\big(1 - D(G(z))\big)\right],
# \qquad \min_G \max_D V(D, G).$$
#
# $D$ raises $V$ by calling real samples real and generated ones fake; $G$ lowers it by making the
# second term hard to win. Holding $G$ fixed, the value is an integral over $x$ of
# $p_\text{data}(x) \log D(x) + p_g(x) \log(1 - D(x))$, and the function $a \log t + b \log(1 - t)$
# is largest at $t = a / (a + b)$. So the best discriminator is
#
# $$D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)},$$
#
# and putting it back into $V$ gives
# $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data} \,\|\, p_g)$, with the Jensen–Shannon
# divergence $\mathrm{JSD}(p\,\|\,q) = \tfrac12 \mathrm{KL}(p\,\|\,m) + \tfrac12 \mathrm{KL}(q\,\|\,m)$,
# $m = \tfrac12 (p + q)$. Against a perfect discriminator the generator minimizes a divergence between
# its distribution and the data's, which is 0 only when $p_g = p_\text{data}$.
#
# Both formulas can be checked on a one-dimensional example where every density is known: the data
# are a mixture of two Gaussians at $\pm 1.5$, the "generator" is a fixed broad Gaussian. We train a
# small discriminator on 5 000 samples of each, with the discriminator's GAN loss (binary
# cross-entropy on real = 1, generated = 0), and compare it with $D^*$.

# %%
def p_data(t):
    """The data density: two Gaussians of standard deviation 0.4 at -1.5 and 1.5."""
    return 0.5 * stats.norm.pdf(t, -1.5, 0.4) + 0.5 * stats.norm.pdf(t, 1.5, 0.4)


def p_gen(t):
    """The generator's density: one broad Gaussian."""
    return stats.norm.pdf(t, 0.0, 1.5)


rng = np.random.default_rng(0)
n_1d = 5000
real_1d = rng.choice([-1.5, 1.5], size=n_1d) + 0.4 * rng.standard_normal(n_1d)
fake_1d = 1.5 * rng.standard_normal(n_1d)
inputs_1d = np.concatenate([real_1d, fake_1d])[:, None].astype("float32")
targets_1d = np.r_[np.ones(n_1d), np.zeros(n_1d)].astype("float32")

keras.utils.set_random_seed(0)
critic_1d = keras.Sequential([
    keras.Input((1,)),
    keras.layers.Dense(32, activation="tanh", name="hidden_1"),
    keras.layers.Dense(32, activation="tanh", name="hidden_2"),
    keras.layers.Dense(1, activation="sigmoid", name="probability"),
], name="discriminator_1d")
critic_1d.compile(keras.optimizers.Adam(2e-2), "binary_crossentropy")
# Full-batch steps: the whole sample, 300 times.
critic_1d.fit(tf.data.Dataset.from_tensors((inputs_1d, targets_1d)).repeat(), steps_per_epoch=300, epochs=1,
              shuffle=False, verbose=0)

grid_1d = np.linspace(-3, 3, 601)
d_star = p_data(grid_1d) / (p_data(grid_1d) + p_gen(grid_1d))
d_learned = critic_1d.predict(grid_1d[:, None], verbose=0)[:, 0]
max_gap = np.abs(d_learned - d_star).max()

# V(D*, G) by numerical integration, and -log 4 + 2 JSD from its definition.
wide = np.linspace(-12, 12, 24001)
step = wide[1] - wide[0]
pd_w, pg_w = p_data(wide), p_gen(wide)
value_at_optimum = np.sum(pd_w * np.log(pd_w / (pd_w + pg_w)) + pg_w * np.log(pg_w / (pd_w + pg_w))) * step
mix = 0.5 * (pd_w + pg_w)
jsd = 0.5 * np.sum(pd_w * np.log(pd_w / mix)) * step + 0.5 * np.sum(pg_w * np.log(pg_w / mix)) * step
print(f"largest |D - D*| on [-3, 3]: {max_gap:.3f}")
print(f"V(D*, G) = {value_at_optimum:.4f};  -log 4 + 2 JSD = {-np.log(4) + 2 * jsd:.4f}  (JSD = {jsd:.4f} nats)")

fig, ax = plt.subplots(figsize=(7, 3))
ax.plot(grid_1d, p_data(grid_1d), label="$p_{data}$")
ax.plot(grid_1d, p_gen(grid_1d), label="$p_g$")
ax.plot(grid_1d, d_star, "k", label="$D^*$")
ax.plot(grid_1d, d_learned, "r--", label="trained D")
ax.axhline(0.5, color="gray", linestyle=":")
ax.set(xlabel="x", title="The optimal discriminator and a trained one")
ax.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# The trained discriminator lies on top of $D^*$ (the largest gap on the grid is 0.063): above
# 1/2 where the data are denser than the generator's samples, below it in the middle and the tails.
# The integral of the value at $D^*$ equals $-\log 4 + 2\,\mathrm{JSD}$ to the last printed digit.

# %%
assert max_gap < 0.1, max_gap
assert abs(value_at_optimum - (-np.log(4) + 2 * jsd)) < 1e-6
assert 0 < jsd < np.log(2)  # the JSD is bounded by log 2 nats

# %% [markdown]
# **The non-saturating loss.** Early in training, generated samples are easy to spot and
# $D(G(z)) \approx 0$. Write $D = \sigma(\ell)$ with the discriminator's logit $\ell$. The
# generator's term of the game, $\log(1 - \sigma(\ell))$, has derivative $-\sigma(\ell)$ with respect
# to $\ell$, which vanishes exactly when the generator is losing badly. Goodfellow et al. therefore
# train the generator to *maximize* $\log D(G(z))$ instead, that is to minimize
# $-\log \sigma(\ell) = \operatorname{softplus}(-\ell)$, whose derivative $-(1 - \sigma(\ell))$ is
# close to $-1$ in the same situation. It has the same fixed points, and it is the loss every
# adversarial model of `keras_ae` uses: `softplus(-logit)` for the side that wants to be called real,
# `softplus(logit)` for the side that should be called fake (see `keras_ae.models.adversarial`).

# %%
logit = tf.Variable(-6.0)  # the discriminator is sure the sample is fake: D = sigmoid(-6) = 0.0025
with tf.GradientTape(persistent=True) as tape:
    minimax = tf.math.log(1.0 - tf.sigmoid(logit))  # the generator minimizes this in the game
    non_saturating = tf.nn.softplus(-logit)  # = -log D: what the generator minimizes in practice
grad_minimax, grad_ns = tape.gradient(minimax, logit), tape.gradient(non_saturating, logit)
del tape
print(f"D = {float(tf.sigmoid(logit)):.4f}: d/dlogit of log(1 - D) = {float(grad_minimax):.4f}, "
      f"of -log D = {float(grad_ns):.4f}")

# %%
assert abs(float(grad_minimax)) < 0.01 and abs(float(grad_ns)) > 0.99

# %% [markdown]
# ### Mode collapse, counted
#
# A GAN's generator is only rewarded for samples the discriminator believes, not for covering the
# data. When it finds a region the discriminator accepts, it can pile its samples there and leave
# other parts of the data, *modes*, unproduced; the discriminator then learns to reject that region,
# and the generator moves on. Mode collapse and this hopping from mode to mode are the standard
# failures of GAN training (000 and 002 mention the first).
#
# The standard test is the ring of Metz et al. (2017): eight Gaussians of standard deviation 0.02 on
# a circle of radius 2. `sample_quality.ring_modes` assigns each of 2 500 samples to its nearest
# centre, calls it *high quality* if it lies within three standard deviations of it, and counts a
# mode as covered when it received at least a fifth of its fair share of high-quality samples
# (63 of 2 500 / 8). We train `keras_ae.models.gan` (two ReLU MLPs of 128×128 units, 2-D noise,
# batch 512, Adam with learning rate $10^{-3}$) and evaluate the same fixed noise every 250 steps.
# The full run repeats this with five seeds for 4 000 steps; the quick run trains seed 1 for 2 000.

# %%
RING_SEEDS = [1] if SMOKE else [0, 1, 2, 3, 4]
RING_STEPS = 2000 if SMOKE else 4000
EVERY = 250
SNAPSHOTS = [1000, 1250, 1500, 1750, 2000] if SMOKE else [1000, 1250, 1500, 1750, 2000, 4000]
RING_SAMPLES = 2500


class ModeCounter(keras.callbacks.Callback):
    """Every `every` steps, counts the ring modes of the GAN's samples of one fixed noise."""

    def __init__(self, every, keep=()):
        super().__init__()
        self.every, self.keep = every, set(keep)
        self.step, self.rows, self.snapshots = 0, [], {}

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every == 0:
            samples = self.model.sample(RING_SAMPLES, seed=1)  # the same noise every time
            self.rows.append((self.step, sq.ring_modes(samples)))
            if self.step in self.keep:
                self.snapshots[self.step] = samples


ring_runs = {}
start = time.perf_counter()
for seed in RING_SEEDS:
    keras.utils.set_random_seed(seed)
    ring_points = sq.ring_data(512 * 100, seed=seed)  # 100 batches of 512 per epoch
    ring_gan = keras_ae.models.gan(data_shape=(2,), latent_dim=2, hidden=(128, 128),
                                   discriminator_hidden=(128, 128), learning_rate=1e-3, seed=seed)
    counter = ModeCounter(EVERY, keep=SNAPSHOTS if seed == 1 else ())
    ring_gan.fit(ring_points, epochs=RING_STEPS // 100, batch_size=512, verbose=0, callbacks=[counter])
    ring_runs[seed] = counter
ring_seconds = time.perf_counter() - start


def covered_set(result):
    """The modes with at least a fifth of their fair share of high-quality samples."""
    return {i for i, count in enumerate(result["per_mode"]) if count >= np.ceil(0.2 * RING_SAMPLES / 8)}


print(f"{len(RING_SEEDS)} run(s) of {RING_STEPS} steps in {ring_seconds:.0f} s")
print("modes covered (of 8) after each step count, one column per seed")
print(" steps " + "".join(f"  seed {s}" for s in RING_SEEDS))
for i, (steps, _) in enumerate(ring_runs[RING_SEEDS[0]].rows):
    print(f"{steps:6d} " + "".join(f"{ring_runs[s].rows[i][1]['modes_covered']:8d}" for s in RING_SEEDS))
print("final fraction of high-quality samples: "
      + ", ".join(f"seed {s}: {ring_runs[s].rows[-1][1]['high_quality']:.2f}" for s in RING_SEEDS))

# %%
centres = 2.0 * np.stack([np.cos(np.arange(8) * np.pi / 4), np.sin(np.arange(8) * np.pi / 4)], axis=1)
shown = ring_runs[1].snapshots
fig, axes = plt.subplots(1, len(shown) + 1, figsize=(2.3 * (len(shown) + 1), 2.5), sharex=True, sharey=True)
truth = sq.ring_data(RING_SAMPLES, seed=99)
axes[0].scatter(truth[:, 0], truth[:, 1], s=2, alpha=0.3)
axes[0].set_title("data", fontsize=9)
for ax, (steps, samples) in zip(axes[1:], sorted(shown.items())):
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.3, color="C1")
    ax.set_title(f"step {steps}: {len(covered_set(sq.ring_modes(samples)))} modes", fontsize=9)
for ax in axes:
    ax.scatter(centres[:, 0], centres[:, 1], marker="x", color="k", s=20)
    ax.set(xlim=(-3, 3), ylim=(-3, 3), aspect="equal", xticks=[], yticks=[])
fig.suptitle("2 500 samples of one GAN (seed 1) during training, the same noise each time", fontsize=10)
plt.tight_layout()
plt.show()


# %% [markdown]
# Read the table down a column. The count does not climb steadily, the way a training loss falls:
# seed 1, the run of the snapshots above and the one run of the quick mode, covers five modes after
# 1 250 steps and none at all 250 steps later. The snapshots show what such a fall is: the generator
# has moved its samples, and the modes it covered a little earlier are empty again. Losing modes it
# already had is what separates collapse from slow learning. The cell below counts, for each seed,
# the most modes lost from one checkpoint to the next (the covered *sets*, so that a mode swapped for
# another counts) and the largest fall of the count, and names the runs that fell back to zero modes
# after covering three or more. Every run loses modes it had, and some lose several at once.
#
# In the full run, the last lines compare each seed's last checkpoint with its best one and list the
# modes a run never covered. At least two of the five runs end without all eight modes; some run's
# last checkpoint is worse than an earlier one, and some run never covers two of the modes at any
# checkpoint. When to stop a GAN is itself a problem, which is why GAN papers often report the best
# of several checkpoints or seeds.

# %%
def dropped_modes(rows):
    """The largest number of covered modes lost from one checkpoint to the next."""
    sets = [covered_set(result) for _, result in rows]
    return max(len(a - b) for a, b in zip(sets, sets[1:]))


drops = {s: dropped_modes(ring_runs[s].rows) for s in RING_SEEDS}
falls = {s: max(a[1]["modes_covered"] - b[1]["modes_covered"]
                for a, b in zip(ring_runs[s].rows, ring_runs[s].rows[1:])) for s in RING_SEEDS}
counts = {s: [r["modes_covered"] for _, r in ring_runs[s].rows] for s in RING_SEEDS}
back_to_zero = [s for s, c in counts.items() if any(0 in c[i + 1:] for i in range(len(c)) if c[i] >= 3)]
print("most modes lost between two checkpoints:", drops, " largest fall of the count:", falls)
print("runs that fell back to zero modes after covering three or more:", back_to_zero)
assert all(d >= 1 for d in drops.values()), drops  # every run loses modes it had covered
assert max(falls.values()) >= 3, falls  # sometimes several at once
assert back_to_zero, counts  # some run loses every mode after having covered three or more
assert any(a >= 5 and b == 0 for a, b in zip(counts[1], counts[1][1:])), counts[1]  # seed 1: five, then none
if not SMOKE:
    final = {s: ring_runs[s].rows[-1][1]["modes_covered"] for s in RING_SEEDS}
    best = {s: max(r["modes_covered"] for _, r in ring_runs[s].rows) for s in RING_SEEDS}
    ever = {s: set().union(*(covered_set(r) for _, r in ring_runs[s].rows)) for s in RING_SEEDS}
    print("modes covered at the last checkpoint:", final, " at the best one:", best)
    print("modes never covered at any checkpoint:", {s: sorted(set(range(8)) - m) for s, m in ever.items()})
    assert sum(final[s] < 8 for s in RING_SEEDS) >= 2, final  # some runs end without every mode
    assert any(best[s] > final[s] for s in RING_SEEDS), (best, final)  # the last checkpoint is not the best
    assert any(len(modes) <= 6 for modes in ever.values()), ever  # a run that never found two modes

# %% [markdown]
# ## 2 · Why VAE samples are blurry
#
# 000 blames blurry autoencoder outputs on a loss that "does not account for realism". The precise
# reason is a short calculation. A VAE's decoder gives each pixel its own distribution given the code
# $z$, independent of the other pixels: a Bernoulli with mean $\pi_i(z)$, or a Gaussian with mean
# $\mu_i(z)$, whose negative log-likelihood is the squared error up to constants. Suppose a code is
# shared by several plausible images, because the code cannot tell them apart: a digit and the same
# digit moved by one pixel. Whatever the decoder outputs for $z$ is scored against each of them. For
# the squared error and two equally likely images $a$ and $b$, the expected loss of an output $c$ is
# $\tfrac12 \lVert a - c\rVert^2 + \tfrac12 \lVert b - c\rVert^2$: it is
# $\tfrac12 \lVert a - b\rVert^2$ for $c = a$ or $c = b$, and half that, $\tfrac14 \lVert a -
# b\rVert^2$, for their average. The cross-entropy gives the same verdict: pixel by pixel, the
# expected loss $-m \log c - (1 - m) \log(1 - c)$ is smallest at $c = m$, the average. A loss that
# looks at pixels one by one is minimized by the **average of the plausible images**, which is grey
# wherever they disagree. No network, however deep, can escape this: it is the optimum of the loss.

# %%
a = x_train[np.flatnonzero(y_train == 3)[0]].reshape(SIDE, SIDE)
b = np.roll(a, 1, axis=1)  # the same three, one pixel to the right
average = 0.5 * (a + b)
eps = 1e-3  # keeps log(0) out of the cross-entropy of the sharp guesses


def expected_losses(c):
    """Expected squared error and cross-entropy of output c when the target is a or b (1/2 each)."""
    c_safe = np.clip(c, eps, 1 - eps)
    sq_err = 0.5 * np.sum((a - c) ** 2) + 0.5 * np.sum((b - c) ** 2)
    bce = -sum(0.5 * np.sum(t * np.log(c_safe) + (1 - t) * np.log(1 - c_safe)) for t in (a, b))
    return sq_err, bce


blur_table = {name: expected_losses(c) for name, c in [("output a", a), ("output b", b), ("their average", average)]}
print(f"{'':15s} {'squared error':>14s} {'cross-entropy (nats)':>21s}")
for name, (se, ce) in blur_table.items():
    print(f"{name:15s} {se:14.2f} {ce:21.2f}")
show_images([[a, b, average]], ["a, b (a moved one pixel) and their average"], size=1.4)

# %% [markdown]
# Guessing one of the two sharp images costs exactly twice the squared error of the grey average, and
# more cross-entropy too (the table: two sharp rows, one blurred): every confident pixel that turns
# out wrong is expensive, about $-\log 10^{-3} \approx 7$ nats here. A model trained on such a loss
# is paid to hedge.

# %%
se_a, ce_a = blur_table["output a"]
se_avg, ce_avg = blur_table["their average"]
assert np.isclose(se_avg, 0.5 * se_a), (se_avg, se_a)  # exactly half
assert ce_avg < ce_a and blur_table["output b"][1] > ce_avg

# %% [markdown]
# A trained VAE shows the consequence. We train one (tutorial 04's model, Bernoulli likelihood, an
# 8-dimensional code) and decode prior samples. The decoder returns the Bernoulli means $\pi(z)$,
# which is what VAE papers usually display; an honest sample would draw every pixel from its
# Bernoulli, independently. The grey fraction below counts the pixels between 0.2 and 0.8.

# %%
vae, vae_final, seconds["VAE"] = train("vae", latent_dim=LATENT, seed=0)
z_prior = keras.random.normal((N_EVAL, LATENT), seed=3)
vae_means = vae.get_layer("decoder").predict(z_prior, verbose=0)
vae_draws = (np.random.default_rng(0).random(vae_means.shape) < vae_means).astype("float32")
grey = {"real test images": grey_fraction(x_eval), "VAE: decoded means": grey_fraction(vae_means),
        "VAE: Bernoulli draws": grey_fraction(vae_draws)}
for name, value in grey.items():
    print(f"grey fraction, {name:22s}: {value:.3f}")
show_images([x_eval[:10], vae_means[:10], vae_draws[:10]],
            ["real test images", "VAE: decoded means of prior samples", "VAE: the same, one Bernoulli draw"])

# %% [markdown]
# The three lines above compare the share of grey pixels: the decoded means have more than twice as
# many as real digits on MNIST, and more than one and a half times as many on the 8x8 digits of the
# quick run. The strokes are smeared where the model is unsure where exactly they go. Drawing the pixels independently does not fix it; it trades
# grey for salt-and-pepper noise, because the independence of the pixels is the problem: a real stroke
# is a whole object, its pixels move together. The cures attack the
# likelihood, not the network: a loss on features instead of pixels (DFC-VAE, 001 §6.4), an
# autoregressive decoder that draws pixels one after the other (PixelCNN, 001 §6.5), or a
# discriminator that judges whole images (GANs and ALI, sections 1 and 4). An AAE's discriminator
# judges *codes*; its decoder keeps the pixel-wise likelihood, and its samples are grey too
# (section 6).

# %%
assert grey["VAE: decoded means"] > 1.5 * grey["real test images"], grey
if MNIST:
    assert grey["VAE: decoded means"] > 2 * grey["real test images"], grey
assert grey["VAE: Bernoulli draws"] == 0.0  # binary pixels: no grey, only noise

# %% [markdown]
# ## 3 · Adversarial autoencoders: any prior for the codes
#
# The VAE's KL term pulls the posterior $q(z \mid x)$ of *every* example towards the prior. What
# sampling actually needs is weaker: that the codes of all the data, the **aggregate posterior**
#
# $$q(z) = \mathbb{E}_{x \sim p_\text{data}}\left[q(z \mid x)\right],$$
#
# fill the prior, so that a prior sample lands where the decoder was trained. The average KL term of
# the VAE in fact splits into two parts (Hoffman & Johnson, 2016):
# $\mathbb{E}_x \mathrm{KL}(q(z \mid x)\,\|\,p(z)) = I_q(x; z) + \mathrm{KL}(q(z)\,\|\,p(z))$, the
# information the code carries about the input, and the mismatch of the aggregate posterior. The VAE
# pays for both; the adversarial autoencoder of Makhzani et al. (2016) pays only for the second,
# measured by a discriminator. Its encoder $E$ may even be deterministic, $z = E(x)$:
#
# - the **discriminator** $D$ sees codes of real images and samples of the prior $p(z)$, and
#   minimizes $-\log D(\tilde z) - \log(1 - D(E(x)))$ for $\tilde z \sim p(z)$;
# - the **autoencoder** minimizes the reconstruction loss plus $\lambda$ times the non-saturating
#   term of section 1, $-\log p(x \mid E(x)) + \lambda\, (-\log D(E(x)))$.
#
# The prior can be anything we can sample, which is the AAE's real novelty: no density, no KL
# formula needed. `keras_ae.build("aae", prior="mixture")` uses ten Gaussians of standard deviation
# 0.5 on a circle of radius 4 in a 2-D code, the prior of Makhzani et al.'s Figure 4.
#
# **A note on $\lambda$.** The reconstruction term is a sum over pixels (about 100 nats per image on
# MNIST, 20 on the digits), while the adversarial term is of the order of $\log 2$. Makhzani et al.
# update the two in separate phases, so their sizes never compete; `keras_ae` updates both in one step
# of one optimizer, so their ratio matters. We scale $\lambda$ with the number of pixels: 1 on the
# 8x8 digits, 10 on MNIST (784 pixels, twelve times as many). Exercise 1 explores other values.
#
# We train a plain autoencoder with a 2-D code (`dense`, no prior at all) and an AAE with the mixture
# prior, and compare their codes of the test images with prior samples.

# %%
MIX_VARIANCE = 0.5**2 + 4.0**2 / 2  # the variance per coordinate of the ring prior (the MMD's scale)
plain_ae, _, seconds["AE (2-D)"] = train("dense", latent_dim=2)
aae_mix, aae_mix_final, seconds["AAE, mixture (2-D)"] = train(
    "aae", latent_dim=2, adversarial_weight=ADV_WEIGHT, learning_rate=ADV_LR, seed=0, **MIXTURE)

prior_codes = aae_mix.sample_prior(N_EVAL, seed=5).numpy()
codes = {"AE (2-D)": plain_ae.get_layer("encoder").predict(x_eval, verbose=0),
         "AAE, mixture (2-D)": aae_mix.get_layer("encoder").predict(x_eval, verbose=0)}
other_prior = aae_mix.sample_prior(N_EVAL, seed=6).numpy()
mmd_codes = {name: float(losses.mmd(c, prior_codes, prior_variance=MIX_VARIANCE)) for name, c in codes.items()}
mmd_codes["a second prior sample"] = float(losses.mmd(other_prior, prior_codes, prior_variance=MIX_VARIANCE))

means_2d = 4.0 * np.stack([np.cos(2 * np.pi * np.arange(10) / 10), np.sin(2 * np.pi * np.arange(10) / 10)], 1)


def nearest_component(z):
    """The mixture component whose mean is nearest to each code."""
    return np.argmin(((z[:, None, :2] - means_2d[None]) ** 2).sum(-1), axis=1)


occupancy = np.bincount(nearest_component(codes["AAE, mixture (2-D)"]), minlength=10) / N_EVAL
print(f"MMD^2 to the ring prior ({N_EVAL} codes of test images against {N_EVAL} prior samples):")
for name, value in mmd_codes.items():
    print(f"  {name:22s} {value:8.4f}")
print("share of AAE codes nearest each component:", np.round(occupancy, 3))

fig, axes = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained")
for ax, (name, z) in zip(axes, codes.items()):
    ax.scatter(prior_codes[:, 0], prior_codes[:, 1], s=3, color="lightgray", label="prior samples")
    points = ax.scatter(z[:, 0], z[:, 1], c=y_eval, cmap="tab10", s=4)
    ax.set(title=f"{name}: MMD$^2$ {mmd_codes[name]:.3f}", aspect="equal")
    ax.legend(loc="upper right", fontsize=8)
fig.colorbar(points, ax=axes, label="digit (not used in training)")
fig.suptitle("Codes of test images, coloured by digit, over prior samples")
plt.show()

# %% [markdown]
# The MMD (maximum mean discrepancy, defined in section 5; 0 means that the kernel cannot tell the two
# samples apart) makes the picture a number. The plain autoencoder's codes lie wherever the encoder
# put them, at a scale and in a shape nobody chose: their MMD to the ring (first row of the table) is
# more than ten times the AAE's (second row). The AAE's codes sit on the ring and spread over all ten
# components: every component receives some of them, none more than a quarter (the shares printed
# under the table). The match is not perfect: the row "a second prior sample", the MMD between two
# independent prior samples of this size, is what a perfect match would score, and the AAE's is
# above it. Nothing in the unsupervised AAE's objective asks for one
# digit per component; labels can.

# %%
assert mmd_codes["AAE, mixture (2-D)"] < mmd_codes["AE (2-D)"] / 10, mmd_codes
assert mmd_codes["a second prior sample"] < mmd_codes["AAE, mixture (2-D)"], mmd_codes  # not perfect either
assert occupancy.min() > 0 and occupancy.max() < 0.25, occupancy  # all ten used, none dominant

# %% [markdown]
# **Labels pick the component.** With `conditional=True`, `fit(x, labels)` draws the prior sample
# of an image of digit $k$ from component $k$ and shows the discriminator the label too (one-hot, with
# an extra slot for "unlabelled", label $-1$, which the semi-supervised variant of Makhzani et al. uses
# for the examples without labels). To fool it, the encoder must put every image of digit $k$ into
# component $k$. The encoder never sees a label, so once trained it *is* a classifier: the nearest
# component of a test image's code is its predicted digit. And decoding samples of component $k$
# should give images of digit $k$, which we check with the feature network of section 6 used as a
# digit classifier.

# %%
if MNIST:
    try:
        feature_net = sq.load_feature_network("mnist")
    except FileNotFoundError:
        print("No cached MNIST feature network: training it (about 40 s) and caching it.")
        feature_net = sq.load_feature_network("mnist", train=True)
else:
    feature_net = sq.train_feature_network(data=data.load("digits"), epochs=20, seed=0).network


def classify(images):
    """The digit the feature network sees in each flat image (clipped to [0, 1])."""
    images = np.clip(images, 0, 1).reshape(-1, SIDE, SIDE, 1)
    return feature_net.predict(images, verbose=0, batch_size=512).argmax(axis=1)


classifier_accuracy = float(np.mean(classify(x_eval) == y_eval))
# caae, the labelled AAE, was trained at the top of the page; caae_samples are its decoded samples.
caae_codes = caae.get_layer("encoder").predict(x_eval, verbose=0)
component_accuracy = float(np.mean(nearest_component(caae_codes) == y_eval))
sample_agreement = float(np.mean(classify(caae_samples) == wanted))
print(f"feature network's accuracy on the test images: {classifier_accuracy:.3f}")
print(f"test images whose code is nearest the component of their digit: {component_accuracy:.3f} (chance 0.1)")
print(f"samples of component k that the classifier reads as digit k: {sample_agreement:.3f}")

fig, ax = plt.subplots(figsize=(5.4, 4.6), layout="constrained")
points = ax.scatter(caae_codes[:, 0], caae_codes[:, 1], c=y_eval, cmap="tab10", s=4)
for k, (mx, my) in enumerate(means_2d):
    ax.annotate(str(k), (mx * 1.3, my * 1.3), ha="center", va="center", fontsize=11, weight="bold")
ax.set(title="Labelled AAE: codes of test images", aspect="equal", xlim=(-6.5, 6.5), ylim=(-6.5, 6.5))
fig.colorbar(points, ax=ax, label="digit")
plt.show()

# %% [markdown]
# The labelled AAE sorts the test images into the components of their digits (bold numbers, outside
# the ring): for most test images (the second printed line; chance would be 0.1) the nearest
# component is the right digit, and the classifier reads most samples of component $k$, those of the
# figure at the top of the page, as the digit $k$ (third line). It generates on request. Within a
# row of that figure only the position inside the component changes, and the encoder uses that
# position for whatever the label does not say: the way the digit is written. The code has been split into a
# part the labels control and a part learned without them.

# %%
assert component_accuracy > 0.5, component_accuracy  # most; a classifier that never saw a label at test time
assert sample_agreement > 0.5, sample_agreement  # most

# %% [markdown]
# The last AAE of the tutorial is the usual one: an 8-dimensional code with the Gaussian prior
# $\mathcal{N}(0, I)$, the same likelihood and code size as the VAE of section 2, so that the two
# can be compared directly in sections 4 to 6.

# %%
aae, aae_final, seconds["AAE (8-D)"] = train(
    "aae", latent_dim=LATENT, adversarial_weight=ADV_WEIGHT, learning_rate=ADV_LR, seed=0)
print({k: round(float(v), 3) for k, v in aae_final.items()})

# %% [markdown]
# ## 4 · ALI: a discriminator on (image, code) pairs
#
# Adversarially learned inference (Dumoulin et al., 2017; BiGAN, Donahue et al., 2017, is the same
# idea with a deterministic encoder) gives a GAN an encoder without any reconstruction loss. The
# encoder $E$ and the generator $G$ define two joint distributions of images and codes:
#
# $$q(x, z) = p_\text{data}(x)\, q(z \mid x) \quad\text{(encode a real image)}, \qquad
# p(x, z) = p(z)\, p(x \mid z) \quad\text{(decode a prior sample)}.$$
#
# A single discriminator $D(x, z)$ sees pairs $(x, E(x))$ and $(G(\tilde z), \tilde z)$ and tries to
# tell which is which; encoder and generator together try to fool it. At the optimum of this game
# the two joints are equal. For deterministic networks (BiGAN) that forces the encoder to invert the
# generator, $G(E(x)) = x$ for almost every $x$ (Donahue et al.); for ALI's stochastic ones, the
# encoder's $q(z \mid x)$ becomes the generator's true posterior, so a reconstruction is a draw of the
# model given the input's code, consistent with $x$ but not a copy of it. Reaching the optimum is
# another matter. In the literature, ALI's reconstructions keep the class and rough shape of the
# input but not its details; they are "semantically" similar.
#
# We train `ali` (Gaussian encoder, 8-D code, the same MLP sizes as the VAE) for the same number of
# steps as every other model. Its defaults carry the two usual stabilizers of GANs in pixel space, a
# batch-normalized generator and dropout (rate 0.2, Dumoulin et al.'s) in the discriminator; the
# builder's documentation reports that without them the generator collapses to a single image on
# MNIST. We measure its reconstructions $G(E(x))$ (`model.predict`) two ways:
# the squared error per image, and the share of test images whose reconstruction the classifier
# reads as the same digit as the image (0.1 is chance).
# `ali(reconstruction_weight=1)` adds the reconstruction loss to ALI's adversarial one, the remedy
# of ALICE (Li et al., 2017); we train it as well.

# %%
ali, ali_final, seconds["ALI"] = train("ali", latent_dim=LATENT, seed=0)
alice, alice_final, seconds["ALI + reconstruction"] = train(
    "ali", latent_dim=LATENT, reconstruction_weight=1.0, seed=0)


def reconstruction_report(model):
    """Squared error and the classifier's agreement of G(E(x)) with x, over the test images."""
    recon = np.clip(model.predict(x_eval, verbose=0), 0, 1)
    return {"error": float(metrics.reconstruction_error(x_eval, recon).mean()),
            "same digit": float(np.mean(classify(recon) == classify(x_eval))), "images": recon}


recon = {"AAE (8-D)": reconstruction_report(aae), "ALI": reconstruction_report(ali),
         "ALI + reconstruction": reconstruction_report(alice)}
final_d = {"AAE (8-D)": aae_final["discriminator"], "ALI": ali_final["discriminator"],
           "ALI + reconstruction": alice_final["discriminator"]}
print(f"{'':22s} {'squared error':>13s} {'same digit':>10s} {'final discriminator loss':>25s}")
for name, r in recon.items():
    print(f"{name:22s} {r['error']:13.2f} {r['same digit']:10.3f} {final_d[name]:25.3f}")
print(f"(a discriminator that cannot tell the two sides apart has a loss of 2 log 2 = {2 * np.log(2):.3f})")
ali_samples = ali.get_layer("decoder").predict(ali.sample_prior(N_EVAL, seed=3), verbose=0)
ali_spread, real_spread = float(ali_samples.std(axis=0).mean()), float(x_eval.std(axis=0).mean())
print(f"standard deviation of a pixel across ALI's samples: {ali_spread:.3f}, across test images: "
      f"{real_spread:.3f}")
show_images([x_eval[:12]] + [r["images"][:12] for r in recon.values()],
            ["test images"] + [f"{name}: G(E(x))" for name in recon])

# %% [markdown]
# In our budget pure ALI got nowhere near its optimum. Its discriminator is far ahead in the game
# (the last column of the table: its loss ends well below $2 \log 2 \approx 1.39$, the value of a
# balanced game, and under 0.5 on MNIST; the AAE's discriminator stays above 1), its samples vary much less from one to the next than real digits do
# (the line above the images: the standard deviation of each pixel across samples), and its
# reconstructions are several times further from the inputs than the AAE's and show the input's digit
# far less often. This is the fragility of GANs in pixel space: the discriminator sees hundreds of
# pixels, learns faster than the generator can follow, and the generator collapses towards a few
# images, even with batch normalization and dropout. Published ALI results use convolutional networks
# and far more updates (the project's generative benchmark, `benchmarks/README.md`, trains longer on
# all of MNIST). The AAE's discriminator has an easier job, two to eight code coordinates, and stays
# in a balanced game.
#
# Adding the reconstruction loss (ALICE) repairs most of it: the reconstructions keep the digit most
# of the time, and their error is less than 0.6 times pure ALI's (within 30 % of the AAE's on
# MNIST). Its discriminator is still far ahead; the reconstruction loss is what trains the pair.

# %%
assert final_d["ALI"] < final_d["AAE (8-D)"], final_d  # ALI's discriminator is further ahead
balanced = 2 * np.log(2)
assert max(final_d["ALI"], final_d["ALI + reconstruction"]) < 0.7 * balanced < 1.0 < final_d["AAE (8-D)"], final_d
if MNIST:
    assert final_d["ALI"] < 0.5 and final_d["ALI + reconstruction"] < 0.5 < 1.0 < final_d["AAE (8-D)"], final_d
    assert recon["ALI + reconstruction"]["error"] < 1.3 * recon["AAE (8-D)"]["error"], recon  # close
assert ali_spread < 0.75 * real_spread, (ali_spread, real_spread)  # less varied than the data
assert recon["ALI"]["error"] > 2 * recon["AAE (8-D)"]["error"], recon
assert recon["ALI"]["same digit"] < 0.5 * recon["AAE (8-D)"]["same digit"], recon
assert recon["ALI + reconstruction"]["same digit"] > 0.5, recon["ALI + reconstruction"]["same digit"]
assert recon["ALI + reconstruction"]["error"] < 0.6 * recon["ALI"]["error"], recon

# %% [markdown]
# ## 5 · Wasserstein autoencoders: optimal transport
#
# **The Wasserstein distance.** How far is one distribution $P_X$ from another, $P_G$? Optimal
# transport answers with the cheapest way of moving the mass of one onto the other. A *coupling*
# $\Gamma$ is a joint distribution of pairs $(X, Y)$ whose marginals are $P_X$ and $P_G$: a plan
# saying how much mass goes from each $x$ to each $y$. With a cost $c(x, y)$ of moving a unit of mass,
#
# $$W_c(P_X, P_G) = \inf_{\Gamma \in \Pi(P_X, P_G)} \mathbb{E}_{(X, Y) \sim \Gamma}\left[c(X, Y)\right],$$
#
# the formula 001 §6.3 gives, with $\Pi(P_X, P_G)$ the set of couplings. For $c(x, y) = \lVert x -
# y\rVert$ it is the 1-Wasserstein or earth mover's distance, which the Kantorovich–Rubinstein
# duality also writes as $\sup_{f} \mathbb{E}_{P_X}[f(X)] - \mathbb{E}_{P_G}[f(Y)]$, the supremum
# taken over the **1-Lipschitz** functions $f$ ($|f(x) - f(y)| \le \lVert x - y \rVert$). 001 writes
# the supremum over an unspecified class $\mathcal{F}$; without the Lipschitz bound the supremum is
# infinite for any two different distributions. That dual is what the Wasserstein GAN approximates
# with a constrained critic. For $c(x, y) = \lVert x - y\rVert^2$, $W_c$ is the squared
# 2-Wasserstein distance $W_2^2$; between two Gaussians it has a closed form, the Fréchet distance
# that FID uses (section 6).
#
# Between two samples of $n$ points each, with mass $1/n$ on every point, the optimal coupling is a
# one-to-one matching (a permutation): the primal formula becomes an assignment problem. In one
# dimension the optimal matching pairs the sorted samples, and between $\mathcal{N}(0, 1)$ and
# $\mathcal{N}(2, 0.5^2)$ the exact value is $W_2^2 = (0 - 2)^2 + (1 - 0.5)^2 = 4.25$. Let us check
# all three.

# %%
rng = np.random.default_rng(0)
u, w = rng.normal(0, 1, 400), rng.normal(2, 0.5, 400)
rows_, cols_ = linear_sum_assignment((u[:, None] - w[None, :]) ** 2)  # the optimal permutation
w2_assignment = np.mean((u[rows_] - w[cols_]) ** 2)
w2_sorted = np.mean((np.sort(u) - np.sort(w)) ** 2)
w2_gaussian = sq.frechet_distance_from_moments(np.array([0.0]), np.array([[1.0]]), np.array([2.0]),
                                               np.array([[0.25]]))
print(f"W2^2 by assignment: {w2_assignment:.4f}; by sorting: {w2_sorted:.4f}; "
      f"closed form (Fréchet) of the Gaussians: {w2_gaussian:.4f}")

# %%
assert np.isclose(w2_assignment, w2_sorted)  # in 1-D the optimal plan pairs sorted samples
assert np.isclose(w2_gaussian, 4.25)
assert abs(w2_sorted - w2_gaussian) < 0.4  # the samples' distance estimates the distributions'

# %% [markdown]
# **From the distance to an autoencoder.** Tolstikhin et al. (2018) take a generative model with a
# deterministic decoder $G$, images $G(Z)$ of codes $Z \sim p_Z$, and show that the transport cost
# from the data to the model can be written with an encoder instead of a coupling:
#
# $$W_c(P_X, P_G) = \inf_{Q(Z \mid X):\ Q_Z = P_Z} \mathbb{E}_{x \sim P_X}\, \mathbb{E}_{z \sim Q(Z \mid
# x)}\left[c\big(x, G(z)\big)\right],$$
#
# where $Q_Z$ is the aggregate posterior of section 3. The constraint $Q_Z = P_Z$ is hard to impose,
# so the WAE relaxes it into a penalty and minimizes
#
# $$\mathbb{E}_{x}\, \mathbb{E}_{z \sim Q(Z \mid x)}\left[c\big(x, G(z)\big)\right] + \lambda\,
# \mathcal{D}_Z(Q_Z, P_Z),$$
#
# a reconstruction cost plus a distance between the aggregate posterior and the prior. That is an
# AAE's objective with the cost $c$ in place of the log-likelihood. Two choices of $\mathcal{D}_Z$:
#
# - **WAE-GAN**: a discriminator on codes, the AAE's (`wae_gan` is `aae` with the paper's defaults:
#   the squared error as the cost, $\lambda = 1$);
# - **WAE-MMD**: the maximum mean discrepancy, no second network. With a kernel $k$,
#   $\mathrm{MMD}^2(P, Q) = \mathbb{E}\,k(z, z') + \mathbb{E}\,k(\tilde z, \tilde z') - 2\,\mathbb{E}\,
#   k(z, \tilde z)$ for independent $z, z' \sim P$ and $\tilde z, \tilde z' \sim Q$; it is 0 when
#   $P = Q$ for kernels such as the inverse multiquadratic $k(z, \tilde z) = C / (C + \lVert z -
#   \tilde z\rVert^2)$ of the paper. `keras_ae.losses.mmd` computes the unbiased estimate on two
#   batches (it can dip slightly below 0), with a sum of such kernels at several scales $C$;
#   `wae_mmd` adds 10 times it to the squared error.
#
# Neither penalty is a Wasserstein distance; the "Wasserstein" is the transport cost the whole
# objective bounds. We train both, with the squared error summed over pixels as the cost, and
# compare their codes with those of the VAE and the 8-D AAE: the MMD of the test codes to
# $\mathcal{N}(0, I)$ (for the VAE, one draw of $q(z \mid x)$ per image, the codes its decoder
# learned from), and the squared reconstruction error.

# %%
wae_mmd, wae_mmd_final, seconds["WAE-MMD"] = train("wae_mmd", latent_dim=LATENT, seed=0)
wae_gan, wae_gan_final, seconds["WAE-GAN"] = train("wae_gan", latent_dim=LATENT, learning_rate=ADV_LR, seed=0)

gaussian_prior = keras.random.normal((N_EVAL, LATENT), seed=4)
latent_models = {"VAE": vae, "AAE (8-D)": aae, "WAE-MMD": wae_mmd, "WAE-GAN": wae_gan}
wae_table = {}
for name, model in latent_models.items():
    # training=True makes the VAE's encoder sample z ~ q(z|x); the other encoders are deterministic.
    z = model.get_layer("encoder")(x_eval, training=name == "VAE")
    recon_images = np.clip(model.predict(x_eval, verbose=0), 0, 1)
    wae_table[name] = {"mmd": float(losses.mmd(z, gaussian_prior)),
                       "error": float(metrics.reconstruction_error(x_eval, recon_images).mean())}
noise_floor = float(losses.mmd(keras.random.normal((N_EVAL, LATENT), seed=8), gaussian_prior))
print(f"the VAE's KL term at the end of training: {vae_final['kl']:.1f} nats per image")
print(f"{'':10s} {'MMD^2 to N(0, I)':>17s} {'squared error':>14s}")
for name, row in wae_table.items():
    print(f"{name:10s} {row['mmd']:17.4f} {row['error']:14.2f}")
print(f"{'noise floor':10s} {noise_floor:17.4f}   (a second sample of N(0, I))")

# %% [markdown]
# The noise floor row is the MMD between two independent samples of $\mathcal{N}(0, I)$ of this size:
# what "indistinguishable" looks like. Which codes come closest to the prior depends on how much
# information the VAE's code carries. On MNIST its KL term is more than 10 nats per image (printed
# above the table), each posterior $q(z \mid x)$ is narrow, and the VAE's codes are further from the prior
# than those of the three models that match the aggregate posterior directly (the AAE and WAE-GAN with
# a discriminator, WAE-MMD with the MMD). On the 8x8 digits of the quick run the KL term is a few
# nats: the posteriors are wide, their noise alone fills the prior, and the VAE comes closest. That is
# the decomposition of section 3 at work: the VAE matches the prior by making codes noisy, and pays in
# information. The price shows in the second column on the digits, where the VAE reconstructs worst
# (its decoder learned from noisy codes); on MNIST the four errors are within 10 % of each other,
# although the objectives differ (cross-entropy for the VAE and the AAE, squared error for the WAEs).

# %%
assert noise_floor < min(row["mmd"] for row in wae_table.values()), (noise_floor, wae_table)
errors = {name: row["error"] for name, row in wae_table.items()}
if vae_final["kl"] > 10:  # MNIST: an informative code with narrow posteriors
    for name in ("AAE (8-D)", "WAE-MMD", "WAE-GAN"):
        assert wae_table[name]["mmd"] < wae_table["VAE"]["mmd"], wae_table
    assert max(errors.values()) < 1.1 * min(errors.values()), errors
else:  # digits: a few nats, wide posteriors
    assert wae_table["VAE"]["mmd"] == min(row["mmd"] for row in wae_table.values()), wae_table
    assert errors["VAE"] == max(errors.values()), errors
assert MNIST == (vae_final["kl"] > 10), vae_final  # the two regimes are the two data sets

# %% [markdown]
# ## 6 · Sample quality without Inception
#
# How good are the samples? The usual score, FID (Fréchet Inception distance, Heusel et al., 2017),
# fits a Gaussian to the features of real images and another to those of generated images, taken from
# the Inception network trained on ImageNet, and reports the Fréchet distance between them, the
# $W_2^2$ of section 5 in closed form:
# $\lVert \mu_r - \mu_g\rVert^2 + \mathrm{Tr}\big(\Sigma_r + \Sigma_g - 2 (\Sigma_r \Sigma_g)^{1/2}\big)$.
# Inception's weights are a download and made for colour photographs, so `keras_ae` uses a small
# convolutional digit classifier trained in the project (`sq.build_feature_network`; its 128-unit
# `features` layer). The result is an **"FID on MNIST features"**: it ranks models trained on the
# same data, evaluated with the same network and the same number of samples (the estimate is biased
# upwards for small sets), and it is **never comparable** with a published Inception FID, nor with
# one computed with another feature network.
#
# One number cannot say *how* samples are bad. Improved precision and recall (Kynkäänniemi et al.,
# 2019) estimate the region of feature space covered by each set as a union of balls (each point's
# ball reaches its third-nearest neighbour): **precision** is the share of generated samples inside
# the real region (do the samples look real?), **recall** the share of real images inside the
# generated region (does the model produce the variety of the data? mode collapse ruins it).
#
# Every model decodes as many samples of its prior as there are test images used here, and the first
# row compares training images with test images, the best a model could hope for.

# %%
real_features = sq.features(feature_net, x_eval)
reference = sq.features(feature_net, x_train[:N_EVAL])
samplers = {
    "VAE": vae_means,
    "AAE (8-D)": aae.get_layer("decoder").predict(aae.sample_prior(N_EVAL, seed=3), verbose=0),
    "AAE, mixture (2-D)": aae_mix.get_layer("decoder").predict(aae_mix.sample_prior(N_EVAL, seed=3), verbose=0),
    "AAE, labels (2-D)": caae.get_layer("decoder").predict(caae.sample_prior(N_EVAL, seed=3), verbose=0),
    "WAE-MMD": wae_mmd.get_layer("decoder").predict(wae_mmd.sample_prior(N_EVAL, seed=3), verbose=0),
    "WAE-GAN": wae_gan.get_layer("decoder").predict(wae_gan.sample_prior(N_EVAL, seed=3), verbose=0),
    "ALI": ali_samples,
    "ALI + reconstruction": alice.get_layer("decoder").predict(alice.sample_prior(N_EVAL, seed=3), verbose=0),
}
quality = {"training images": {"fid": sq.frechet_distance(real_features, reference),
                               **sq.precision_recall(real_features, reference), "grey": grey_fraction(x_train[:N_EVAL])}}
for name, images in samplers.items():
    f = sq.features(feature_net, np.clip(images, 0, 1))
    quality[name] = {"fid": sq.frechet_distance(real_features, f), **sq.precision_recall(real_features, f),
                     "grey": grey_fraction(images)}
print(f"FID on {DATASET} features, {N_EVAL} samples against {N_EVAL} test images "
      f"(feature network's test accuracy {classifier_accuracy:.3f})")
print(f"{'':22s} {'FID':>7s} {'precision':>9s} {'recall':>6s} {'grey':>5s} {'train s':>7s}")
for name, row in quality.items():
    timing = f"{seconds[name]:7.1f}" if name in seconds else f"{'-':>7s}"
    print(f"{name:22s} {row['fid']:7.1f} {row['precision']:9.3f} {row['recall']:6.3f} {row['grey']:5.3f} {timing}")
show_images([images[:12] for images in samplers.values()], list(samplers), size=0.75,
            suptitle="Samples: decoded prior draws of every model")

# %% [markdown]
# How to read the table ("grey" is the grey fraction of section 2, and the last column the training
# time in seconds on the machine that ran the page; every statement below holds on MNIST and on the
# 8x8 digits unless it says otherwise, and the cell after this one checks it):
#
# - **Training images** set the floor: even two sets of real digits are at a nonzero distance,
#   because they are finite samples. Every model's FID is above theirs and its recall below.
# - **VAE against AAE**, with the same likelihood, code size and networks: the AAE's samples score a
#   much lower FID (less than three quarters of the VAE's). Its decoder is as pixel-wise as the VAE's
#   and its samples are greyer than real digits as well (more than 1.2 times their grey fraction);
#   what the AAE buys is codes that fill the prior (section 5), so that prior samples decode into
#   digits more often.
# - **WAE-GAN** also beats the VAE, though not the AAE. **WAE-MMD** ties with the VAE on MNIST
#   (within 3 FID points) and beats it on the digits of the quick run. WAE-GAN is the AAE's training
#   step with the squared error as the cost and $\lambda = 1$; the AAE's cross-entropy and larger
#   $\lambda$ do better here. Tolstikhin et al. report sharper WAE samples than VAE samples with
#   convolutional networks. With these MLPs, a lower FID is reproduced for WAE-GAN in both runs; as
#   for sharpness, the grey column says it depends on the data: the WAEs' samples are greyer than the
#   VAE's on MNIST and less grey on the 8x8 digits.
# - **The 2-D AAEs** are the puzzle of the table: their samples look like digits (precision above
#   0.9) and yet their recall is about 0 (below 0.05). Two numbers cannot hold a digit's style, so
#   their samples lie on a two-dimensional sheet inside the 128-dimensional feature space; the balls
#   around them, sized by the distances between neighbouring samples on that sheet, are tiny, and
#   almost no real image falls into one. Recall measures variety in *all* directions of the feature
#   space. Their FID is above the 8-D AAE's.
# - **ALI** has a recall of about zero and an FID more than twice the 8-D AAE's. Its precision,
#   though, is about as high as the 8-D models' (no more than 0.05 below the lowest of them): in the
#   features of a digit classifier, its few, poorly varied images fall inside the region of the real
#   digits. **Precision alone is not a quality score**; read it with recall and FID, and look at the
#   samples. ALI with the reconstruction loss does better on both FID and recall.

# %%
fid = {name: row["fid"] for name, row in quality.items()}
assert fid["training images"] == min(fid.values()), fid
assert all(row["recall"] < quality["training images"]["recall"] for name, row in quality.items()
           if name != "training images"), quality
assert fid["AAE (8-D)"] < fid["WAE-GAN"] < fid["VAE"], fid
assert fid["AAE (8-D)"] < 0.75 * fid["VAE"], fid  # much lower
grey_q = {name: row["grey"] for name, row in quality.items()}
if MNIST:
    assert min(grey_q["WAE-MMD"], grey_q["WAE-GAN"]) > grey_q["VAE"], grey_q  # the WAEs are greyer on MNIST
else:
    assert max(grey_q["WAE-MMD"], grey_q["WAE-GAN"]) < grey_q["VAE"], grey_q  # and less grey on the digits
assert quality["AAE (8-D)"]["grey"] > 1.2 * quality["training images"]["grey"], quality  # still grey
if MNIST:
    assert abs(fid["WAE-MMD"] - fid["VAE"]) < 3, fid  # a tie
else:
    assert fid["WAE-MMD"] < fid["VAE"], fid
for name in ("AAE, mixture (2-D)", "AAE, labels (2-D)"):
    assert quality[name]["precision"] > 0.9 and quality[name]["recall"] < 0.05, quality[name]
    assert fid[name] > fid["AAE (8-D)"], fid
assert quality["ALI"]["recall"] < 0.05 and fid["ALI"] > 2 * fid["AAE (8-D)"], quality["ALI"]
assert quality["ALI"]["precision"] > quality["ALI"]["recall"] + 0.2, quality["ALI"]
assert fid["ALI + reconstruction"] < fid["ALI"], fid
assert quality["ALI + reconstruction"]["recall"] > quality["ALI"]["recall"], quality
eight_d = ("VAE", "AAE (8-D)", "WAE-MMD", "WAE-GAN")
assert quality["ALI"]["precision"] > min(quality[name]["precision"] for name in eight_d) - 0.05, quality
print(f"whole notebook: {time.perf_counter() - START:.0f} s")

# %% [markdown]
# ## Summary
#
# | model | discriminator sees | what it buys | what it costs |
# |---|---|---|---|
# | GAN | images | no pixel-wise likelihood to average over | no encoder; unstable; drops modes |
# | VAE | (none: KL per example) | a likelihood bound, a stable objective | blurry means; codes need not fill the prior |
# | AAE | codes | any prior you can sample; labels can steer it | images as blurry as the likelihood makes them |
# | WAE-GAN / WAE-MMD | codes / (none: MMD) | an optimal-transport view of the same recipe | a kernel or a discriminator to tune |
# | ALI | (image, code) pairs | an encoder for a GAN, no reconstruction loss | the GAN's fragility, in pixel space |
#
# ## Exercises
#
# 1. **λ of the AAE.** Train the 2-D mixture AAE with $\lambda \in \{0.1, 1, 10, 100\}$ and plot the
#    MMD to the prior against the reconstruction error. Where does the encoder give up reconstruction
#    for the prior?
#
# <details><summary>Solution</summary>
#
# ```python
# points = []
# for weight in (0.1, 1, 10, 100):
#     model, _, _ = train("aae", latent_dim=2, adversarial_weight=weight, learning_rate=ADV_LR, seed=0, **MIXTURE)
#     z = model.get_layer("encoder").predict(x_eval, verbose=0)
#     mmd = float(losses.mmd(z, model.sample_prior(N_EVAL, seed=5), prior_variance=MIX_VARIANCE))
#     error = float(metrics.reconstruction_error(x_eval, np.clip(model.predict(x_eval, verbose=0), 0, 1)).mean())
#     points.append((error, mmd))
# plt.plot(*zip(*points), "o-"); plt.xlabel("squared error"); plt.ylabel("MMD$^2$ to the prior"); plt.show()
# ```
#
# What to look for: a small $\lambda$ leaves the codes far from the ring (a large MMD) with the best
# reconstructions; raising it pulls the codes onto the ring at some cost in reconstruction. The trade
# is not smooth all the way. Measured on the 8x8 digits (the quick-mode setup, $\lambda = 1$ being
# the page's choice there): MMD$^2$ 0.269, 0.057, 2.883, 2.362 and squared error 2.62, 2.81, 4.80,
# 4.76 for $\lambda$ = 0.1, 1, 10, 100. Past $\lambda = 1$ the adversarial term swamps a
# reconstruction term of about 20 nats: the encoder gives up reconstruction, and yet its codes end
# *further* from the prior; most likely the encoder, paid almost only to fool the discriminator,
# chases it from one region to the next instead of settling (the same hopping as in section 1). Scale $\lambda$ with the size of the reconstruction term, as the page does
# (10 on MNIST).
#
# </details>
#
# 2. **Semi-supervised AAE.** Keep the labels of only 100 training images (set the others to $-1$)
#    and measure the nearest-component accuracy of the labelled AAE on the test set.
#
# <details><summary>Solution</summary>
#
# ```python
# few = np.full_like(y_train, -1)
# keep = np.random.default_rng(0).choice(len(y_train), 100, replace=False)
# few[keep] = y_train[keep]
# semi, _, _ = train("aae", labels=few, latent_dim=2, conditional=True, adversarial_weight=ADV_WEIGHT,
#                    learning_rate=ADV_LR, seed=0, **MIXTURE)
# codes_semi = semi.get_layer("encoder").predict(x_eval, verbose=0)
# print(np.mean(nearest_component(codes_semi) == y_eval), "against", component_accuracy, "with every label")
# ```
#
# Measured on the 8x8 digits (12 epochs): 0.294 of the test images sit nearest the component of
# their digit with 100 labels, against 0.747 with every label; chance is 0.1. A hundred labels steer
# the codes, but in this short training the unlabelled images, which may go to any component, pull
# many digits into the wrong one. Makhzani et al. train far longer, with separate phases for the
# reconstruction, the adversarial and the supervised updates.
#
# </details>
#
# 3. **Collapse and batch size.** Repeat the ring experiment with batches of 64 and 2 048, and with
#    a generator learning rate ten times smaller than the discriminator's
#    (`compile(optimizer=..., discriminator_optimizer=...)`). Which runs keep all eight modes?
#
# <details><summary>Solution</summary>
#
# ```python
# for batch, generator_lr in ((64, 1e-3), (2048, 1e-3), (512, 1e-4)):
#     keras.utils.set_random_seed(1)
#     gan = keras_ae.models.gan(data_shape=(2,), latent_dim=2, seed=1)
#     gan.compile(optimizer=keras.optimizers.Adam(generator_lr, beta_1=0.5),
#                 discriminator_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
#     points = sq.ring_data(batch * 250, seed=1)
#     counts = []
#     for _ in range(8):  # 8 checkpoints, 250 steps apart
#         gan.fit(points, epochs=1, batch_size=batch, verbose=0)
#         counts.append(sq.ring_modes(gan.sample(RING_SAMPLES, seed=1))["modes_covered"])
#     print(batch, generator_lr, counts)
# ```
#
# Measured on seed 1 for 2 000 steps, the covered modes at each checkpoint: batches of 64: 0, 0,
# 0, 0, 1, 4, 3, 3; batches of 2 048: 0, 0, 0, 0, 3, 8, 3, 3; batches of 512 with the generator at
# $10^{-4}$ and the discriminator at $10^{-3}$: 0, 0, 0, 0, 5, 3, 6, 7. No run keeps all eight to
# the end in this budget. Large batches reach all eight once and lose five of them 250 steps later;
# small batches, with noisier gradients, never cover more than four. The slower generator climbs
# most steadily and ends highest: a discriminator that learns faster than the generator moves keeps
# telling it where the data are, instead of chasing it round the ring. Repeat with other seeds
# before you believe any of these orderings (section 1 shows how much one seed varies).
#
# </details>
#
# 4. **A better ALI.** Build ALI with `encoder="deterministic"` (BiGAN), without its stabilizers
#    (`decoder_batchnorm=False`, `discriminator_dropout=0`), with a discriminator learning rate ten
#    times smaller, and train each longer. When does the discriminator stop winning?
#
# <details><summary>Solution</summary>
#
# ```python
# variants = {"ALI": {}, "BiGAN": {"encoder": "deterministic"},
#             "no stabilizers": {"decoder_batchnorm": False, "discriminator_dropout": 0.0}, "slow D": {}}
# for name, options in variants.items():
#     keras.utils.set_random_seed(0)
#     model = keras_ae.build("ali", input_shape=(D,), hidden=HIDDEN, latent_dim=LATENT, seed=0, **options)
#     if name == "slow D":
#         model.compile(optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
#                       discriminator_optimizer=keras.optimizers.Adam(2e-5, beta_1=0.5))
#     for epochs in (EPOCHS, 3 * EPOCHS):  # then three times as long again
#         history = model.fit(x_train, epochs=epochs, batch_size=BATCH, verbose=0).history
#         print(name, history["discriminator"][-1], reconstruction_report(model)["error"])
# ```
#
# Measured on the 8x8 digits (final discriminator loss, then squared reconstruction error, after 12
# and after 48 epochs): ALI 0.88 and 5.66, then 1.22 and 4.52; BiGAN 0.69 and 7.49, then 1.13 and
# 5.07; without the stabilizers 0.36 and 7.00, then 0.21 and 8.08; with the discriminator ten times
# slower 1.45 and 6.68, then 1.36 and 7.53. Training longer lets ALI and BiGAN catch up with their
# discriminators (the loss climbs towards $2 \log 2 \approx 1.39$) and their reconstructions
# improve. Without batch normalization and dropout the discriminator wins more and more, and the
# reconstructions get worse. A slow discriminator stops winning at once, but that does not make the
# pair learn: a discriminator that cannot tell the sides apart gives no useful gradient either, and
# the reconstructions are the worst but one.
#
# </details>
#
# 5. **MMD scales.** `losses.mmd` sums kernels at several scales. Compute the MMD between the VAE's
#    codes and the prior with one scale at a time: which scales tell them apart?
#
# <details><summary>Solution</summary>
#
# ```python
# z = vae.get_layer("encoder")(x_eval, training=True)
# other = keras.random.normal((N_EVAL, LATENT), seed=8)  # the noise floor, scale by scale
# for scale in losses.IMQ_SCALES:
#     print(scale, float(losses.mmd(z, gaussian_prior, scales=(scale,))),
#           float(losses.mmd(other, gaussian_prior, scales=(scale,))))
# ```
#
# Measured on the 8x8 digits (12 epochs, 360 test codes, `losses.IMQ_SCALES`): the MMD$^2$ of the
# VAE's codes is 0.00088, 0.00115, 0.00120, 0.00097, 0.00063, 0.00028 and 0.00014 at the scales 0.1,
# 0.2, 0.5, 1, 2, 5 and 10, while two prior samples give between -0.00053 and -0.00011. The small
# and middle scales, whose kernels compare codes with their near neighbours, tell them apart; at the
# largest scales every pair of codes looks alike to the kernel and the MMD shrinks towards the
# noise floor. That is why the WAE sums several scales: one scale alone can be blind to a mismatch.
#
# </details>
#
# 6. **FID's bias.** Compute the FID of training images against test images for 100, 500 and 2 000
#    images. How many do you need before the floor stops moving?
#
# <details><summary>Solution</summary>
#
# ```python
# for n in (100, 500, 2000):
#     n = min(n, len(x_test))
#     print(n, sq.frechet_distance(sq.features(feature_net, x_test[:n]), sq.features(feature_net, x_train[:n])))
# ```
#
# The floor falls as the sets grow, because the covariance of a small sample is a poor estimate of
# the covariance of 128 features. Measured with the digits' feature network (the quick run; the 8x8
# digits have only 360 test images): 19.3 for 50 images, 7.8 for 100, 5.3 for 200 and 1.9 for 360. It
# has not stopped moving at 360, which is why FIDs are only compared at one fixed number of samples,
# and published FIDs use 10 000 or 50 000.
#
# </details>
