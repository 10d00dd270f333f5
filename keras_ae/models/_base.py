"""The base class of every keras_ae model: named loss terms inside Keras' own ``fit``.

A model family subclasses :class:`Autoencoder` and implements one method,
:meth:`Autoencoder.loss_terms`, returning a dict of named per-example loss
terms. The base class owns everything else, once:

- the objective: the sum of the terms, each times its weight (a
  hyperparameter held in a non-trainable variable, so a callback that changes
  it during training changes the objective of the next step);
- one ``keras.metrics.Mean`` tracker per term, in ``metrics``, so every term
  shows in the progress bar and in ``history``;
- sample weights (and so class weights) applied to every term, the Keras
  convention ``sum_i w_i l_i / batch``; validation data through ``test_step``;
- ``tf.distribute``: each replica's loss divided by the number of replicas
  (their gradients are summed);
- mixed precision: terms are computed in float32, the loss is scaled by the
  optimizer (``LossScaleOptimizer`` under ``mixed_float16``);
- named optimizer groups: ``compile(optimizer=..., discriminator_optimizer=...)``
  for a family that declares a ``"discriminator"`` group; every optimizer is
  saved in the ``.keras`` file and restored by ``keras.models.load_model``;
- ``fit(x)`` without targets trains on ``x -> x``; ``fit(x, labels)`` with
  one integer label per example keeps ``x`` as the target (the labels serve
  ``class_weight``, or a semi-supervised family);
- refusal of bad data: non-finite inputs, and targets outside [0, 1] for a
  Bernoulli likelihood, with the project's message.
"""

import math
import types

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_ae import _validation as v
from keras_ae.losses import log_likelihood

DEFAULT_GROUP = "optimizer"


def _check_weights(sample_weight, class_weight):
    if sample_weight is not None and isinstance(sample_weight, (np.ndarray, tf.Tensor, list)):
        v.check_array("sample_weight", np.asarray(sample_weight, dtype="float64"), finite=True)
        if np.min(sample_weight) < 0:
            raise v.invalid("sample_weight", "non-negative weights",
                            f"<array with minimum {float(np.min(sample_weight))}>")
    if class_weight is not None:
        bad = {k: w for k, w in dict(class_weight).items()
               if not (isinstance(w, (int, float, np.number)) and np.isfinite(w) and w >= 0)}
        if bad:
            raise v.invalid("class_weight", "finite non-negative weights", class_weight)


def _check_fit_counts(kwargs, args):
    """Refuses ``epochs`` and ``batch_size`` that Keras would take silently (``epochs=-1`` trains nothing)."""
    if args:
        return  # given by position: Keras' own order, left to Keras
    if "epochs" in kwargs:
        v.check_int("epochs", kwargs["epochs"])
    if kwargs.get("batch_size") is not None:
        v.check_int("batch_size", kwargs["batch_size"])
    if "initial_epoch" in kwargs:
        v.check_int("initial_epoch", kwargs["initial_epoch"], minimum=0)


class _graph_errors_as_value_errors:  # noqa: N801 - used as a context manager
    """Turns the in-graph data checks' ``InvalidArgumentError`` into the project's ``ValueError``."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, tf.errors.InvalidArgumentError):
            text = error.message.replace("\\'", "'")
            start = text.find("Invalid value for '")
            if start >= 0:
                parts = text[start:].split("\n")[0].rstrip().removesuffix("]").split("] [")  # Assert's lists
                raise ValueError(" ".join(" ".join(parts).split()) + ".") from None
        return False




class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops at the first non-finite loss, restores the epoch's starting weights, and raises.

    Raises:
        FloatingPointError: Naming the epoch and the batch.
    """

    def __init__(self):
        super().__init__()
        self._saved = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._saved = self.model.get_weights()

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            self.model.stop_training = True
            if self._saved is not None:
                self.model.set_weights(self._saved)
            raise FloatingPointError(
                f"The training loss became non-finite ({float(loss)}) at epoch {self._epoch + 1}, batch "
                f"{batch + 1}; training stopped and the weights of the start of epoch {self._epoch + 1} "
                "were restored. Try a smaller learning rate, or check the data."
            )


def _float32(x):
    return ops.cast(x, "float32")


@keras.saving.register_keras_serializable(package="keras_ae")
class Autoencoder(keras.Model):
    """A Functional autoencoder trained on a weighted sum of named loss terms.

    The plain autoencoder's objective is one term, ``"reconstruction"``: the
    negative log-likelihood of the target under the decoder, summed over
    features (nats for ``"bernoulli"``; the summed squared error for
    ``"gaussian"`` without ``decoder_scale``). Subclasses add terms by
    overriding :meth:`loss_terms` and declare, as class attributes:

    - ``HYPERPARAMETERS``: names of the term weights, each a non-trainable
      float32 variable in ``model.hyperparameters`` (set it with
      ``model.hyperparameters["beta"].assign(0.5)`` or a
      :mod:`keras_ae.callbacks` schedule);
    - ``TERM_WEIGHTS``: ``{term: hyperparameter}``; other terms weigh 1;
    - ``OPTIMIZER_GROUPS``: ``{group: (layer names,)}`` (attributes of the
      model, or layers of its graph), trained by the
      optimizer ``compile`` receives as ``{group}_optimizer``; the weights of
      no group are trained by ``optimizer``;
    - ``TERM_GROUPS``: ``{term: group}``; other terms belong to ``optimizer``;
      the reported ``loss`` is the objective of ``optimizer``'s group;
    - ``USES_LABELS``: ``True`` for a family whose :meth:`loss_terms` takes
      ``labels`` (one integer per example, from ``fit(x, labels)``);
    - ``USES_SAMPLE_WEIGHT``: ``True`` for a family whose :meth:`loss_terms`
      takes ``sample_weight`` (a term computed from the whole batch).

    Args:
        *args: ``inputs`` and ``outputs`` of the Functional model.
        likelihood: ``"bernoulli"`` or ``"gaussian"``: the decoder's p(x|z).
        decoder_scale: Standard deviation of the Gaussian likelihood, or
            ``None`` for the summed squared error.
        hyperparameters: Initial values ``{name: float}`` of the
            ``HYPERPARAMETERS``.
        options: The builder options the model was built with (recorded in
            its config; ``keras-ae evaluate`` and the metrics read them).
        **kwargs: Functional model arguments (``name``...).

    Example:

    ```python
    model = keras_ae.build("vae", input_shape=(64,), latent_dim=2)
    model.fit(x, epochs=10)              # x -> x
    model.hyperparameters["beta"]        # a variable, changeable mid-training
    model.options["likelihood"]          # "bernoulli"
    ```
    """

    HYPERPARAMETERS = ()
    TERM_WEIGHTS = {}
    OPTIMIZER_GROUPS = {}
    TERM_GROUPS = {}
    #: Names of the terms, in the order they are reported.
    TERMS = ("reconstruction",)
    #: Whether :meth:`loss_terms` takes ``labels``: the integer labels of
    #: ``fit(x, labels)`` (``None`` when the data has none).
    USES_LABELS = False
    #: Whether :meth:`loss_terms` takes ``sample_weight`` (``(batch,)`` or
    #: ``None``): for a term that is a statistic of the batch, so a weight of 0
    #: removes an example from it too (DEC's cluster frequencies).
    USES_SAMPLE_WEIGHT = False
    #: The likelihoods p(x|z) a family accepts (a family with its own, such as
    #: semantic hashing's multinomial, overrides :meth:`reconstruction_nll`).
    LIKELIHOODS = ("bernoulli", "gaussian")

    def __init__(self, *args, likelihood="bernoulli", decoder_scale=None, hyperparameters=None,
                 options=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.likelihood = v.check_choice("likelihood", likelihood, type(self).LIKELIHOODS)
        if decoder_scale is not None:
            decoder_scale = v.check_float("decoder_scale", decoder_scale, low=0, low_open=True)
        self.decoder_scale = decoder_scale
        self.options = dict(options or {})
        initial = dict(hyperparameters or {})
        missing = sorted(set(self.HYPERPARAMETERS) - set(initial))
        if missing:
            raise v.invalid(
                "hyperparameters", f"initial values of {list(self.HYPERPARAMETERS)}", initial,
                "keras.models.clone_model() rebuilds a Functional subclass without its options; "
                "copy a keras_ae model with type(model).from_config(model.get_config()) instead",
            )
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.term_trackers = {term: keras.metrics.Mean(name=term) for term in self.TERMS}
        self.group_optimizers = {}
        self._compiled_metrics = False
        # Views into the graph, shared layers only: kept out of Keras'
        # tracking so their weights are not saved twice.
        decoder = self.get_layer("decoder")
        self._views = types.SimpleNamespace(
            decoder_params=keras.Model(decoder.input, decoder.get_layer("decoder_output").input),
            # Not weights: `set_weights(other.get_weights())` must not copy
            # them; their current values are saved in the config instead.
            hyperparameters={
                name: keras.Variable(float(initial[name]), dtype="float32", trainable=False, name=name)
                for name in self.HYPERPARAMETERS
            },
        )

    @property
    def latent_dim(self):
        """The size of the codes: the width of the encoder's output."""
        return int(self.get_layer("encoder").output.shape[-1])

    @property
    def hyperparameters(self):
        """``{name: variable}``: the weights of the loss terms, e.g. ``{"beta": ...}``.

        Assign a new value (``model.hyperparameters["beta"].assign(0.0)``) or
        use a :mod:`keras_ae.callbacks` schedule; the next training step uses
        it. They are not among ``model.weights``; their current values are
        saved in the model's config.
        """
        return self._views.hyperparameters

    # ------------------------------------------------------------------
    # What a family implements

    def encode(self, x, training=False):
        """Returns the codes of ``x`` (through the corruption layer, if any, in training)."""
        try:
            corruption = self.get_layer("corruption")
        except ValueError:
            corruption = None
        if corruption is not None:
            x = corruption(x, training=training)
        return self.get_layer("encoder")(x, training=training)

    def predict_codes(self, x, batch_size=256):
        """The codes of ``x`` at inference (posterior means for a VAE): a NumPy array ``(n, latent_dim)``."""
        x = self._as_array(x)
        self._check_arrays(x)
        return self.get_layer("encoder").predict(x, batch_size=batch_size, verbose=0)

    def sample(self, n, seed=None):
        """Decodes ``n`` codes drawn from the prior p(z): the generative model's samples.

        Available on the models with a prior (``keras_ae.list_models()``
        entries whose spec has ``has_prior``: the VAEs, AAE, WAE, ALI/BiGAN;
        ``pixelcnn_vae`` and ``vq_vae`` draw pixels or codes
        autoregressively instead). Returns the decoder's output for the
        codes, i.e. the mean of p(x|z) (Bernoulli probabilities, Gaussian
        means), as VAE samples are usually shown, not a draw of x.

        Args:
            n: Positive number of samples.
            seed: Optional non-negative integer seed (the same samples on
                every call).

        Returns:
            NumPy array ``(n, *input_shape)``.

        Raises:
            ValueError: If ``n`` is not a positive integer or ``seed`` not a
                non-negative integer.
            TypeError: If the model has no prior p(z) of its own to draw
                from (a plain autoencoder; ``m2``, whose decoder also takes
                a label: use its ``generate``).

        Example:

        ```python
        model = keras_ae.build("vae", input_shape=(784,), latent_dim=2)
        model.fit(x_train, epochs=10)
        images = model.sample(16, seed=0)  # (16, 784), values in [0, 1]
        ```
        """
        if hasattr(self, "generate"):
            raise TypeError(f"{type(self).__name__}'s decoder takes a label as well as z: draw samples with "
                            "model.generate(labels, seed=...)")
        if not hasattr(self, "sample_prior"):
            raise TypeError(f"{type(self).__name__} has no prior p(z) to sample from: sample() needs a generative "
                            "model (keras_ae.get_spec(name).has_prior is True for those)")
        codes = self.sample_prior(n, seed=seed)  # checks n and seed
        return self.get_layer("decoder").predict(codes, batch_size=256, verbose=0)

    def decoder_params(self, codes, training=False):
        """Returns the decoder's logits (Bernoulli) or means (Gaussian), in float32."""
        return _float32(self._views.decoder_params(codes, training=training))

    def reconstruction_nll(self, y, params):
        """``-log p(y | params)`` per example, summed over features, in float32."""
        return -log_likelihood(_float32(y), params, self.likelihood, self.decoder_scale)

    def loss_terms(self, x, y, training=False):
        """Returns ``{term: tensor of shape (batch,)}``, the per-example loss terms.

        Args:
            x: A batch of inputs.
            y: The batch of targets (``x`` itself unless the data gave one).
            training: Whether this is a training step.
        """
        codes = self.encode(x, training=training)
        return {"reconstruction": self.reconstruction_nll(y, self.decoder_params(codes, training))}

    # ------------------------------------------------------------------
    # Compile and save

    def compile(self, optimizer="adam", *, loss=None, metrics=None, jit_compile=False, **kwargs):
        """Configures training; the loss is the model's own objective.

        Args:
            optimizer: The optimizer of the weights of no named group.
            loss: Must be ``None``: the objective is set by the builder's
                options (``likelihood``, ``beta``...).
            metrics: Extra Keras metrics of ``(target, reconstruction)``.
            jit_compile: XLA compilation (off by default, see benchmarks/).
            **kwargs: ``{group}_optimizer`` for each declared optimizer
                group, and other ``keras.Model.compile`` arguments.

        Raises:
            ValueError: If ``loss`` is given, or an optimizer names an
                unknown group.
        """
        if loss is not None:
            raise v.invalid(
                "loss", "None: a keras_ae model trains on its own objective (set 'likelihood', "
                "'beta'... when building it)", loss,
            )
        groups = {}
        for key in [k for k in kwargs if k.endswith("_optimizer")]:
            group = key[: -len("_optimizer")]
            if group not in self.OPTIMIZER_GROUPS:
                raise v.invalid(key, f"an optimizer of one of the groups {sorted(self.OPTIMIZER_GROUPS)} "
                                     "of this model", kwargs[key])
            groups[group] = kwargs.pop(key)
            if groups[group] is None:
                raise v.invalid(key, "an optimizer (a name such as 'adam', or a keras.optimizers.Optimizer)", None)
        if optimizer is None:
            raise v.invalid("optimizer", "an optimizer (a name such as 'adam', or a keras.optimizers.Optimizer)", None)
        distinct = [o for o in (optimizer, *groups.values()) if not isinstance(o, (str, dict))]
        if len({id(o) for o in distinct}) < len(distinct):
            raise v.invalid("optimizer", "a separate optimizer object for each group (one optimizer keeps the "
                            "state of the weights it was built for)", optimizer)
        missing = sorted(set(self.OPTIMIZER_GROUPS) - set(groups))
        if missing:
            raise v.invalid(f"{missing[0]}_optimizer", "an optimizer (this model has the optimizer "
                            f"groups {sorted(self.OPTIMIZER_GROUPS)})", None)
        if self._float16_layers():
            # Decided by the layers, not the global policy, so a model saved
            # under mixed_float16 and loaded under float32 keeps its loss scale
            # (and its optimizer state loads).
            optimizer = keras.optimizers.get(optimizer)
            if not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
                optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        super().compile(optimizer=optimizer, metrics=metrics, jit_compile=jit_compile, **kwargs)
        self._compiled_metrics = bool(metrics)
        self._group_configs = {g: keras.optimizers.serialize(keras.optimizers.get(o)) for g, o in groups.items()}
        self.group_optimizers = {}
        variables = self._group_variables() if groups else {}
        for group, opt in groups.items():
            opt = keras.optimizers.get(opt)
            if self._float16_layers() and not isinstance(opt, keras.optimizers.LossScaleOptimizer):
                opt = keras.optimizers.LossScaleOptimizer(opt)
            # Its slots are created now, in the scope of compile (a tf.distribute
            # strategy's): Keras builds only the main optimizer before training.
            opt.build(variables[group])
            self.group_optimizers[group] = opt
            setattr(self, f"{group}_optimizer", opt)

    def _float16_layers(self):
        stack, found = list(self.layers), False
        while stack and not found:
            layer = stack.pop()
            found = getattr(layer.dtype_policy, "name", None) == "mixed_float16"
            stack.extend(getattr(layer, "layers", []))
        return found

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None:
            config = {**config, **{f"{g}_optimizer": c for g, c in getattr(self, "_group_configs", {}).items()}}
        return config

    def compile_from_config(self, config):
        config = keras.saving.deserialize_keras_object(config)
        config.pop("loss", None)
        self.compile(**config)
        if self.built:
            # Create the optimizers' variables so the saved state loads into them.
            self.optimizer.build(self._group_variables()[DEFAULT_GROUP])

    def get_config(self):
        return {
            **super().get_config(),
            "likelihood": self.likelihood,
            "decoder_scale": self.decoder_scale,
            "hyperparameters": {k: float(ops.convert_to_numpy(x)) for k, x in self.hyperparameters.items()},
            "options": dict(self.options),
        }

    # ------------------------------------------------------------------
    # Training

    @property
    def metrics(self):
        own = [self.loss_tracker, *self.term_trackers.values()]
        return own + [m for m in super().metrics if m.name != "loss" and all(m is not o for o in own)]

    def _group_variables(self):
        groups = {DEFAULT_GROUP: []}
        owner = {}
        for group, names in self.OPTIMIZER_GROUPS.items():
            groups[group] = []
            for name in names:
                layer = getattr(self, name, None)
                if not isinstance(layer, keras.layers.Layer):
                    layer = self.get_layer(name)
                for variable in layer.trainable_variables:
                    owner[id(variable)] = group
        for variable in self.trainable_variables:
            groups[owner.get(id(variable), DEFAULT_GROUP)].append(variable)
        return groups

    def _unpack(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        labels = None
        if y is None or len(y.shape) == 1:  # no target, or one label per example
            labels, y = y, x
        checks = self._check_batch(x, y, sample_weight)
        if labels is not None and self.USES_LABELS:
            checks += self._check_labels(labels)
        # Nothing is computed (and no weight updated) before the checks pass.
        with tf.control_dependencies(checks):
            x, y = tf.identity(x), tf.identity(y)
            if sample_weight is not None:
                sample_weight = tf.identity(sample_weight)
            if labels is not None:
                labels = tf.identity(labels)
        return x, y, sample_weight, labels

    def _check_labels(self, labels):
        """In-graph guards of the labels of a family that uses them: a list of ``tf.debugging.Assert``."""
        return []

    def _terms(self, x, y, labels, training, sample_weight=None):
        extra = {}
        if self.USES_LABELS:
            extra["labels"] = labels
        if self.USES_SAMPLE_WEIGHT:
            extra["sample_weight"] = None if sample_weight is None else ops.reshape(_float32(sample_weight), (-1,))
        return self.loss_terms(x, y, training=training, **extra)

    def _check_batch(self, x, y, sample_weight):
        """In-graph guards for data that never went through :meth:`fit`'s array check."""
        checks = [
            tf.debugging.Assert(ops.all(ops.isfinite(_float32(x))), [
                "Invalid value for 'x': expected finite values. Received a batch with NaN or infinite values"
            ]),
            tf.debugging.Assert(ops.all(ops.isfinite(_float32(y))), [
                "Invalid value for 'y': expected finite values. Received a batch with NaN or infinite values"
            ]),
        ]
        if self.likelihood == "bernoulli":
            y = _float32(y)
            ok = ops.logical_and(ops.min(y) >= 0.0, ops.max(y) <= 1.0)
            checks.append(tf.debugging.Assert(ok, [
                "Invalid value for 'y': expected targets in [0, 1] for a Bernoulli likelihood "
                "(rescale, e.g. x / 255, or build the model with likelihood='gaussian'). Received "
                "a batch with values in", ops.min(y), ops.max(y),
            ]))
        if sample_weight is not None:
            w = _float32(sample_weight)
            checks.append(tf.debugging.Assert(ops.all(ops.logical_and(ops.isfinite(w), w >= 0.0)), [
                "Invalid value for 'sample_weight': expected finite non-negative weights. Received a batch "
                "with a negative, NaN or infinite weight"
            ]))
        return checks

    def _objectives(self, terms, sample_weight):
        """Returns ``({group: weighted mean loss}, {term: weighted mean})`` in float32."""
        if sample_weight is not None:
            sample_weight = ops.reshape(_float32(sample_weight), (-1,))
        means = {}
        for name, term in terms.items():
            term = _float32(term)
            if sample_weight is not None:
                term = term * sample_weight
            means[name] = ops.mean(term)
        losses = {DEFAULT_GROUP: 0.0, **{g: 0.0 for g in self.OPTIMIZER_GROUPS}}
        for name, mean in means.items():
            weight = self.TERM_WEIGHTS.get(name)
            weighted = mean if weight is None else self.hyperparameters[weight] * mean
            group = self.TERM_GROUPS.get(name, DEFAULT_GROUP)
            losses[group] = losses[group] + weighted
        return losses, means

    def _track(self, losses, means, x):
        batch = ops.shape(x)[0]
        self.loss_tracker.update_state(losses[DEFAULT_GROUP], sample_weight=batch)
        for name, mean in means.items():
            self.term_trackers[name].update_state(mean, sample_weight=batch)

    def _results(self, x, y, sample_weight):
        if self._compiled_metrics:
            return self.compute_metrics(x, y, self(x, training=False), sample_weight=sample_weight)
        return self.get_metrics_result()

    def train_step(self, data):
        x, y, sample_weight, labels = self._unpack(data)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        optimizers = {DEFAULT_GROUP: self.optimizer, **self.group_optimizers}
        groups = self._group_variables()
        with tf.GradientTape(persistent=len(optimizers) > 1) as tape:
            losses, means = self._objectives(self._terms(x, y, labels, True, sample_weight), sample_weight)
            scaled = {g: optimizers[g].scale_loss(loss / replicas) for g, loss in losses.items()}
        for group, optimizer in optimizers.items():
            variables = groups[group]
            gradients = tape.gradient(scaled[group], variables)
            optimizer.apply_gradients(zip(gradients, variables))
        del tape
        self._track(losses, means, x)
        return self._results(x, y, sample_weight)

    def test_step(self, data):
        x, y, sample_weight, labels = self._unpack(data)
        losses, means = self._objectives(self._terms(x, y, labels, False, sample_weight), sample_weight)
        self._track(losses, means, x)
        return self._results(x, y, sample_weight)

    # ------------------------------------------------------------------
    # Array checks before any work

    def _check_input_shape(self, x, where=""):
        """Refuses an array whose examples are not of the model's input shape (before Keras does, less clearly)."""
        try:
            expected = tuple(self.input_shape[1:])
        except (AttributeError, ValueError, TypeError):
            return
        if not all(d is None or isinstance(d, int) for d in expected):
            return  # several inputs: Keras checks them
        shape = tuple(np.shape(x))
        if shape and shape[0] == 0:
            raise v.invalid(f"x{where}", "at least one example", v.Shown(f"<empty array of shape {shape}>"))
        if len(shape) != len(expected) + 1 or any(d is not None and d != s for d, s in zip(expected, shape[1:])):
            dims = ", ".join("?" if d is None else str(d) for d in expected)
            hint = ""
            if shape[1:] and math.prod(shape[1:]) == math.prod(d or 1 for d in expected):
                hint = f"Reshape it with x.reshape(-1, {dims})"
            elif len(shape) == len(expected):
                hint = f"For one example, use x[None] (shape (1, {dims}))"
            raise v.invalid(f"x{where}", f"an array of shape (n, {dims}): examples of shape {expected}",
                            v.Shown(f"<array of shape {shape}>"), hint)

    def _as_array(self, x, name="x"):
        """A nested list or tuple of numbers given for a single-input model, as a float32 array."""
        if not isinstance(x, (list, tuple)) or len(self.inputs) != 1:
            return x
        try:
            return np.asarray(x, dtype="float32")
        except (ValueError, TypeError):
            raise v.invalid(name, "an array of numbers (a NumPy array, or a rectangular nested list of numbers)",
                            v.Shown(f"<{type(x).__name__} of {len(x)} items that do not form one>")) from None

    def _check_x(self, x, where=""):
        """Refuses an array of inputs with non-finite values, no example or examples of another shape."""
        if isinstance(x, (np.ndarray, tf.Tensor)):
            v.check_array(f"x{where}", x, finite=True)
            self._check_input_shape(x, where)

    def _check_arrays(self, x, y=None, where=""):
        """Refuses non-finite inputs, targets of another shape than the output and, for Bernoulli, outside [0, 1]."""
        self._check_x(x, where)
        if isinstance(x, (np.ndarray, tf.Tensor)) and (y is None or (hasattr(y, "shape") and len(y.shape) == 1)):
            y = x
        if isinstance(y, (np.ndarray, tf.Tensor)) and y is not x:
            expected = tuple(self.output_shape[1:])
            if tuple(y.shape[1:]) != expected:
                raise v.invalid(
                    f"y{where}", f"targets of the output's shape (n, {', '.join(map(str, expected))}), or one "
                    "integer label per example, shape (n,)", v.Shown(f"<array of shape {tuple(y.shape)}>"),
                    "Flatten a column of labels with y.ravel()" if y.shape[1:] == (1,) else "",
                )
        if isinstance(y, (np.ndarray, tf.Tensor)):
            v.check_array(f"y{where}" if y is not x else f"x{where}", y, finite=True,
                          unit_interval=self.likelihood == "bernoulli")

    def fit(self, x=None, y=None, *args, validation_data=None, callbacks=None, **kwargs):
        """``keras.Model.fit``, with ``y`` optional and data checked first.

        Besides Keras' behaviour: without ``y`` the target is ``x``; arrays
        with NaN or infinite values, Bernoulli targets outside [0, 1], and
        negative or non-finite sample or class weights are refused before
        training starts (batches of a ``tf.data.Dataset`` are checked in the
        graph, before any weight is updated); and at the first non-finite
        loss training stops, the weights of the start of that epoch are put
        back, and ``FloatingPointError`` is raised (unless the callbacks
        include a ``keras.callbacks.TerminateOnNaN``, which then decides).
        A ``tf.data.Dataset`` is taken in its own order (``shuffle`` defaults
        to ``False`` for it: Keras ignores the flag there, and warns). A
        nested list of numbers is taken as a float32 array; ``epochs`` and
        ``batch_size`` must be positive integers.

        Raises:
            ValueError: For bad data or weights.
            FloatingPointError: When the loss becomes non-finite.
        """
        x = self._as_array(x)
        _check_fit_counts(kwargs, args)
        self._check_arrays(x, y)
        _check_weights(kwargs.get("sample_weight"), kwargs.get("class_weight"))
        if y is None and kwargs.get("sample_weight") is not None and isinstance(x, (np.ndarray, tf.Tensor)):
            y = x  # Keras drops sample weights given without targets
        if isinstance(validation_data, (tuple, list)) and validation_data:
            self._check_arrays(validation_data[0], validation_data[1] if len(validation_data) > 1 else None,
                               where=" in validation_data")
        elif isinstance(validation_data, (np.ndarray, tf.Tensor)):
            self._check_arrays(validation_data, where=" in validation_data")
            validation_data = (validation_data, validation_data)
        if isinstance(x, tf.data.Dataset):
            kwargs.setdefault("shuffle", False)  # Keras cannot shuffle a Dataset; it would warn
        callbacks = list(callbacks or [])
        if not any(isinstance(c, keras.callbacks.TerminateOnNaN) for c in callbacks):
            callbacks.append(StopOnNonFiniteLoss())
        with _graph_errors_as_value_errors():
            return super().fit(x, y, *args, validation_data=validation_data, callbacks=callbacks, **kwargs)

    def predict(self, x, *args, **kwargs):
        """``keras.Model.predict``, with ``x`` checked first.

        Arrays with NaN or infinite values, no example, or examples of
        another shape than the model's input are refused with a
        ``ValueError`` that names the expected shape (Keras' own error for
        a wrong shape names a layer, and an empty array fails inside it).
        """
        x = self._as_array(x)
        self._check_x(x)
        return super().predict(x, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """``keras.Model.evaluate``, with ``y`` optional and data checked first."""
        x = self._as_array(x)
        self._check_arrays(x, y)
        _check_weights(kwargs.get("sample_weight"), None)
        if y is None and kwargs.get("sample_weight") is not None and isinstance(x, (np.ndarray, tf.Tensor)):
            y = x  # Keras drops sample weights given without targets
        with _graph_errors_as_value_errors():
            return super().evaluate(x, y, *args, **kwargs)
