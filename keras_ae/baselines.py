"""Classical baselines that scikit-learn does not provide.

scikit-learn has PCA, kernel PCA and the RBM that the course compares with
autoencoders; it has no **logistic PCA**, the baseline of the Hinton &
Salakhutdinov (2006) table for data in [0, 1]. No well-kept Python
implementation exists (the R package ``logisticPCA`` is the maintained one),
so this module documents and tests its own, with scikit-learn's
``fit`` / ``transform`` / ``inverse_transform`` conventions.
"""

import numpy as np
from scipy.optimize import minimize

from keras_ae import _validation as v

__all__ = ["LogisticPCA"]


def _sigmoid(theta):
    return 0.5 * (1.0 + np.tanh(0.5 * theta))  # no overflow warnings for large |theta|


def _bernoulli_nll_and_residual(theta, x):
    """``sum(softplus(theta) - x * theta)`` (float64) and ``sigmoid(theta) - x``, reusing ``theta``'s memory."""
    nll = np.sum(np.logaddexp(0.0, theta), dtype=np.float64) - np.sum(x * theta, dtype=np.float64)
    np.multiply(theta, 0.5, out=theta)
    np.tanh(theta, out=theta)
    theta += 1.0
    theta *= 0.5
    theta -= x
    return nll, theta


class LogisticPCA:
    """Logistic PCA: a rank-``k`` model of the logits of Bernoulli data.

    Each example ``x`` in ``[0, 1]^d`` is modelled as independent Bernoulli
    pixels whose logits lie in a ``k``-dimensional affine subspace,
    ``logit p(x) = mean_ + codes @ components_``. The codes, the components
    and the offset minimise the summed cross-entropy

    ``sum_ij softplus(theta_ij) - x_ij * theta_ij  +  alpha / 2 * (||A||^2 + ||B||^2)``

    over the training set (nats), where ``theta = 1 mean_^T + A B`` and the
    small ridge ``alpha`` keeps the logits of pixels that are always 0 or 1
    finite. This is the "logistic SVD" of Collins, Dasgupta & Schapire ("A
    Generalization of Principal Component Analysis to the Exponential
    Family", NeurIPS 2001) and Schein, Saul & Ungar ("A Generalized Linear
    Model for Principal Component Analysis of Binary Data", AISTATS 2003),
    the logistic PCA row of Hinton & Salakhutdinov (Science 2006). Grey
    levels in [0, 1] are allowed, as in that paper: the loss is then the
    cross-entropy with soft targets.

    The fit is joint L-BFGS (``scipy.optimize.minimize``) from a PCA start;
    :meth:`transform` finds the codes of new data with the components fixed
    (a convex problem per example), so ``inverse_transform(transform(x))``
    is the reconstruction of unseen images.

    Args:
        n_components: Positive integer ``k``, the rank.
        alpha: Non-negative ridge weight on codes and components.
        max_iter: Most L-BFGS iterations of :meth:`fit` (and of each
            :meth:`transform`).
        tol: L-BFGS's relative tolerance on the loss (``ftol``).
        random_state: Seed of the small random part of the start.

    Attributes:
        components_: ``(k, d)`` array, the directions in logit space.
        mean_: ``(d,)`` array, the offset of the logits.
        n_iter_: L-BFGS iterations of the fit.
        loss_: Final training cross-entropy per example (nats).

    Raises:
        ValueError: For a bad option, or data that are not finite values
            in [0, 1], or of another width than the fitted data.

    Example:

    ```python
    lpca = LogisticPCA(30).fit(x_train)          # x in [0, 1], shape (n, 784)
    x_hat = lpca.inverse_transform(lpca.transform(x_test))
    error = ((x_test - x_hat) ** 2).sum(axis=1).mean()   # per image, as in the paper
    ```
    """

    def __init__(self, n_components, *, alpha=1e-3, max_iter=300, tol=1e-7, random_state=0):
        self.n_components = v.check_int("n_components", n_components)
        self.alpha = v.check_float("alpha", alpha, low=0.0)
        self.max_iter = v.check_int("max_iter", max_iter)
        self.tol = v.check_float("tol", tol, low=0.0, low_open=True)
        self.random_state = v.check_int("random_state", random_state, minimum=0)

    def _data(self, x, name="x"):
        v.check_array(name, x, unit_interval=True)
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or not len(x):
            raise v.invalid(name, "a non-empty 2-D array (examples, features)",
                            v.Shown(f"<array of shape {x.shape}>"))
        return x

    def fit(self, x, y=None):
        """Fits offset, components and training codes to ``x`` ``(n, d)`` in [0, 1]."""
        x = self._data(x)
        n, d = x.shape
        k = self.n_components
        if k > min(n, d):
            raise v.invalid("n_components", f"at most min(n_examples, n_features) = {min(n, d)}", k)
        rng = np.random.default_rng(self.random_state)
        # Start: the offset at the logits of the pixel means, codes and
        # components from the PCA of the data, scaled to logit units.
        mean = np.clip(x.mean(axis=0), 1e-3, 1 - 1e-3)
        mu0 = np.log(mean / (1 - mean))
        centred = x - x.mean(axis=0)
        _, s, vt = np.linalg.svd(centred[rng.choice(n, min(n, 5000), replace=False)], full_matrices=False)
        b0 = 2.0 * vt[:k] + 0.01 * rng.standard_normal((k, d))
        a0 = centred @ vt[:k].T * 2.0
        shapes = [(n, k), (k, d), (d,)]
        sizes = [n * k, k * d, d]

        def unpack(w):
            a, b, mu = np.split(w, np.cumsum(sizes)[:-1])
            return a.reshape(shapes[0]), b.reshape(shapes[1]), mu

        x32 = x.astype(np.float32)

        def loss_and_grad(w):
            a, b, mu = (p.astype(np.float32) for p in unpack(w))
            nll, g = _bernoulli_nll_and_residual(a @ b + mu, x32)
            loss = nll + 0.5 * self.alpha * (np.sum(a * a, dtype=np.float64) + np.sum(b * b, dtype=np.float64))
            grad = np.concatenate([(g @ b.T + self.alpha * a).ravel(), (a.T @ g + self.alpha * b).ravel(),
                                   g.sum(axis=0)]).astype(np.float64)
            return loss / n, grad / n

        w0 = np.concatenate([a0.ravel(), b0.ravel(), mu0])
        result = minimize(loss_and_grad, w0, jac=True, method="L-BFGS-B",
                          options={"maxiter": self.max_iter, "ftol": self.tol, "maxcor": 20})
        a, b, mu = unpack(result.x)
        self.components_, self.mean_, self.train_codes_ = b, mu, a
        self.n_iter_ = int(result.nit)
        self.loss_ = float(_bernoulli_nll_and_residual((a @ b + mu).astype(np.float32), x32)[0] / n)
        return self

    def _check_fitted(self):
        if not hasattr(self, "components_"):
            raise RuntimeError("This LogisticPCA is not fitted yet: call fit(x) first.")

    def transform(self, x):
        """Codes ``(n, k)`` of ``x`` ``(n, d)``: the best logits in the fitted subspace."""
        self._check_fitted()
        x = self._data(x)
        if x.shape[1] != self.mean_.shape[0]:
            raise v.invalid("x", f"{self.mean_.shape[0]} features, as the fitted data",
                            v.Shown(f"<array of shape {x.shape}>"))
        b, mu = self.components_, self.mean_
        n, k = len(x), self.n_components
        # Least-squares codes of the centred logits of x as the start.
        target = np.log(np.clip(x, 0.05, 0.95) / (1 - np.clip(x, 0.05, 0.95))) - mu
        a0 = np.linalg.lstsq(b.T, target.T, rcond=None)[0].T

        x32, b32, mu32 = x.astype(np.float32), b.astype(np.float32), mu.astype(np.float32)

        def loss_and_grad(w):
            a = w.reshape(n, k).astype(np.float32)
            nll, g = _bernoulli_nll_and_residual(a @ b32 + mu32, x32)
            loss = nll + 0.5 * self.alpha * np.sum(a * a, dtype=np.float64)
            grad = (g @ b32.T + self.alpha * a).astype(np.float64)
            return loss / n, grad.ravel() / n

        result = minimize(loss_and_grad, a0.ravel(), jac=True, method="L-BFGS-B",
                          options={"maxiter": self.max_iter, "ftol": self.tol, "maxcor": 20})
        return result.x.reshape(n, k)

    def inverse_transform(self, codes):
        """Bernoulli means ``sigmoid(mean_ + codes @ components_)``, shape ``(n, d)``."""
        self._check_fitted()
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != self.n_components:
            raise v.invalid("codes", f"a 2-D array of {self.n_components} columns",
                            v.Shown(f"<array of shape {codes.shape}>"))
        return _sigmoid(codes @ self.components_ + self.mean_)

    def fit_transform(self, x, y=None):
        """:meth:`fit`, then the training codes."""
        return self.fit(x).train_codes_
