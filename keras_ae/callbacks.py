"""Callbacks that change a model's hyperparameters during training.

Every keras_ae model keeps the weights of its loss terms (``beta`` of the
VAEs, ``sparsity_weight``, ``contraction_weight``, ``free_bits``...) in
non-trainable variables, ``model.hyperparameters``, read by the compiled
training step: a new value takes effect at the next step.

- :class:`HyperparameterSchedule`: any schedule ``f(epoch) -> value``,
  where ``epoch`` is fractional (``2.5`` is halfway through the third).
- :class:`KLWarmup`: ``beta`` from 0 to its target linearly over the first
  epochs (Bowman et al., "Generating Sentences from a Continuous Space",
  CoNLL 2016).
- :class:`CyclicalBeta`: ``beta`` rises linearly during the first part of
  each cycle, then stays at its maximum (Fu et al., "Cyclical Annealing
  Schedule: A Simple Approach to Mitigating KL Vanishing", NAACL 2019).

Free bits (Kingma et al. 2016) are an option of the VAE builders,
``free_bits=lambda``, itself a hyperparameter these callbacks can schedule.
"""

import math

import keras

from keras_ae import _validation as v

__all__ = ["CyclicalBeta", "HyperparameterSchedule", "KLWarmup"]


class HyperparameterSchedule(keras.callbacks.Callback):
    """Sets ``model.hyperparameters[name]`` to ``schedule(epoch)`` before every step.

    Args:
        name: A hyperparameter of the model (``"beta"``, ``"free_bits"``,
            ``"sparsity_weight"``, ``"contraction_weight"``...).
        schedule: A function of the fractional epoch (0 at the start of
            training, ``e + b / steps`` at step ``b`` of epoch ``e``)
            returning a non-negative number.
        per_step: Update before every step (default) or once per epoch.

    Raises:
        ValueError: At the start of training, if the model has no
            hyperparameter ``name``; at a step, if ``schedule`` returns a
            negative or non-finite value.

    Example:

    ```python
    halve = keras_ae.callbacks.HyperparameterSchedule("beta", lambda t: 1.0 if t < 5 else 0.5)
    model.fit(x, epochs=10, callbacks=[halve])
    ```
    """

    def __init__(self, name, schedule, per_step=True):
        super().__init__()
        if not isinstance(name, str):
            raise v.invalid("name", "the name of a hyperparameter, e.g. 'beta'", name)
        if not callable(schedule):
            raise v.invalid("schedule", "a function of the epoch returning a number", schedule)
        self.name = name
        self.schedule = schedule
        self.per_step = bool(per_step)
        self._epoch = 0
        self._steps = None

    def on_train_begin(self, logs=None):
        known = getattr(self.model, "hyperparameters", {})
        if self.name not in known:
            raise v.invalid("name", f"a hyperparameter of model '{self.model.name}' {sorted(known)}",
                            self.name, v.suggest(self.name, known))
        self._steps = self.params.get("steps") if self.params else None

    def _set(self, t):
        value = v.check_float(f"{type(self).__name__} value of '{self.name}'", self.schedule(t), low=0)
        self.model.hyperparameters[self.name].assign(value)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._set(float(epoch))

    def on_train_batch_begin(self, batch, logs=None):
        if self.per_step and self._steps:
            self._set(self._epoch + batch / self._steps)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs[self.name] = float(self.model.hyperparameters[self.name].numpy())


class KLWarmup(HyperparameterSchedule):
    """KL warm-up: ``beta`` grows linearly from 0 to ``target`` over ``epochs`` epochs.

    Args:
        epochs: Positive number of epochs of the ramp.
        target: The final ``beta``; ``None`` (default) is the value the
            model was built with (1 for ``vae``, 4 for ``beta_vae``).
        name: The hyperparameter to ramp.

    Reference: Bowman et al., "Generating Sentences from a Continuous
    Space", CoNLL 2016.

    Example:

    ```python
    model.fit(x, epochs=30, callbacks=[keras_ae.callbacks.KLWarmup(epochs=10)])
    ```
    """

    def __init__(self, epochs, target=None, name="beta"):
        self.epochs = v.check_float("epochs", epochs, low=0, low_open=True)
        self.target = None if target is None else v.check_float("target", target, low=0)
        super().__init__(name, lambda t: self.target * min(1.0, t / self.epochs))

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.target is None:  # the value the model was built with (4 for beta_vae)
            self.target = float(self.model.options.get(self.name, 1.0))


class CyclicalBeta(HyperparameterSchedule):
    """Cyclical annealing: in each cycle ``beta`` rises linearly, then stays at ``target``.

    Within a cycle of ``cycle_epochs`` epochs, ``beta`` goes from 0 to
    ``target`` over the first ``ratio`` of the cycle and stays at ``target``
    for the rest.

    Args:
        cycle_epochs: Positive length of a cycle, in epochs.
        ratio: Fraction of the cycle spent rising, in (0, 1].
        target: The maximum ``beta``; ``None`` (default) is the value the
            model was built with.
        name: The hyperparameter to anneal.

    Reference: Fu et al., "Cyclical Annealing Schedule: A Simple Approach to
    Mitigating KL Vanishing", NAACL 2019.

    Example:

    ```python
    model.fit(x, epochs=40, callbacks=[keras_ae.callbacks.CyclicalBeta(cycle_epochs=10)])
    ```
    """

    def __init__(self, cycle_epochs, ratio=0.5, target=None, name="beta"):
        self.cycle_epochs = v.check_float("cycle_epochs", cycle_epochs, low=0, low_open=True)
        self.ratio = v.check_float("ratio", ratio, low=0, high=1, low_open=True)
        self.target = None if target is None else v.check_float("target", target, low=0)
        super().__init__(name, self._value)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self.target is None:
            self.target = float(self.model.options.get(self.name, 1.0))

    def _value(self, t):
        phase = math.fmod(t, self.cycle_epochs) / self.cycle_epochs
        return self.target * min(1.0, phase / self.ratio)
