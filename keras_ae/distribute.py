"""Training on one device, on several devices of one machine, or on several machines.

Distributed training in ``keras_ae`` is plain Keras on ``tf.distribute``: pick
a strategy with :func:`get_strategy`, build the model inside its scope, and
call ``fit`` with the *global* batch size. Nothing else changes::

    strategy = get_strategy("auto")
    with strategy.scope():
        model = keras_ae.build("vae", input_shape=(64,), latent_dim=8)
    model.fit(x, x, batch_size=64 * strategy.num_replicas_in_sync)

The module also provides what Keras 3.15 lacks for several machines:

- :func:`enable_multi_worker_fit`: a version-guarded fix of Keras issue 20585
  (``fit`` fails under ``MultiWorkerMirroredStrategy``), applied by
  ``get_strategy("multi_worker")``;
- :func:`is_chief` and :func:`save_model`: only the chief writes the saved
  model, the other workers write to a temporary directory they then delete;
- :func:`backup_and_restore`: a ``keras.callbacks.BackupAndRestore`` whose
  backups are written by the chief only and restored by every worker;
- :func:`configure_logical_cpus`: split the CPU into logical devices, to try
  ``MirroredStrategy`` on a machine without GPUs;
- :func:`scale_loss_for_replicas`: the scaling a custom ``train_step`` needs.

See ``docs/distributed.md`` for the whole story.
"""

import json
import os
import shutil
import tempfile
import warnings

import keras
import tensorflow as tf

from keras_ae import _compat
from keras_ae._validation import check_choice, check_int, invalid

__all__ = [
    "STRATEGY_KINDS",
    "backup_and_restore",
    "configure_logical_cpus",
    "disable_multi_worker_fit",
    "enable_multi_worker_fit",
    "get_strategy",
    "is_chief",
    "multi_worker_fit_enabled",
    "resolve_kind",
    "save_model",
    "scale_loss_for_replicas",
    "tf_config",
]

STRATEGY_KINDS = ("auto", "default", "mirrored", "multi_worker")


# --------------------------------------------------------------------------
# Choosing a strategy
# --------------------------------------------------------------------------


def _parse_devices(devices):
    if devices is None:
        return None
    if isinstance(devices, str):
        devices = [d.strip() for d in devices.split(",") if d.strip()]
    if (
        not isinstance(devices, (list, tuple))
        or not devices
        or not all(isinstance(d, str) and d for d in devices)
    ):
        raise invalid(
            "devices",
            "None, a non-empty list of device names such as ['/gpu:0', '/gpu:1'], "
            "or a comma-separated string of them",
            devices,
        )
    return list(devices)


def _tf_config():
    """Returns the parsed ``TF_CONFIG`` environment variable, or ``{}``."""
    raw = os.environ.get("TF_CONFIG", "")
    if not raw.strip():
        return {}
    try:
        config = json.loads(raw)
    except json.JSONDecodeError:
        config = None
    if not isinstance(config, dict):
        raise invalid(
            "TF_CONFIG",
            'a JSON object such as {"cluster": {"worker": ["host1:port", "host2:port"]}, '
            '"task": {"type": "worker", "index": 0}}',
            raw,
        )
    return config


def _cluster_size(config):
    cluster = config.get("cluster") or {}
    return sum(len(v) for k, v in cluster.items() if k in ("chief", "worker"))


def resolve_kind(kind="auto", devices=None):
    """Returns the strategy kind that :func:`get_strategy` would create.

    Validates the arguments and resolves ``"auto"`` without creating a
    strategy (creating ``MultiWorkerMirroredStrategy`` starts a server).

    Args:
        kind: As in :func:`get_strategy`.
        devices: As in :func:`get_strategy`.

    Returns:
        ``(kind, devices)``: one of ``"default"``, ``"mirrored"`` or
        ``"multi_worker"``, and the devices as a list (or ``None``).

    Example:

    ```python
    kind, _ = keras_ae.distribute.resolve_kind("auto")  # "default" on a laptop
    ```
    """
    kind = check_choice("kind", kind, STRATEGY_KINDS)
    devices = _parse_devices(devices)
    if kind == "auto":
        if _cluster_size(_tf_config()) > 0:
            kind = "multi_worker"
        elif devices is not None:
            kind = "mirrored" if len(devices) > 1 else "default"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            kind = "mirrored"
        else:
            kind = "default"
    if kind == "multi_worker" and devices is not None:
        raise invalid(
            "devices",
            "None with kind='multi_worker' (each worker uses its visible GPUs, "
            "or its CPU; choose them with CUDA_VISIBLE_DEVICES)",
            devices,
        )
    if kind == "default" and devices is not None and len(devices) > 1:
        raise invalid(
            "devices", "at most one device with kind='default' (use kind='mirrored' for several)", devices
        )
    return kind, devices


def get_strategy(kind="auto", devices=None):
    """Returns the ``tf.distribute.Strategy`` to build and train a model under.

    ``kind="auto"`` picks, in this order:

    1. ``MultiWorkerMirroredStrategy`` when the ``TF_CONFIG`` environment
       variable names a cluster (training on several machines);
    2. ``MirroredStrategy`` when ``devices`` lists several devices, or when
       more than one GPU is visible (several devices of one machine);
    3. otherwise the default strategy (one device; ``OneDeviceStrategy`` when
       ``devices`` names exactly one).

    ``"mirrored"``, ``"multi_worker"`` and ``"default"`` force a kind.
    ``"multi_worker"`` also applies :func:`enable_multi_worker_fit`, without
    which ``model.fit`` fails under Keras 3.15.

    Build (and compile) the model inside ``strategy.scope()``; ``fit`` then
    takes the *global* batch size, which each step splits evenly across the
    ``strategy.num_replicas_in_sync`` replicas.

    Create the strategy at the start of the program, before any other
    TensorFlow operation: ``MultiWorkerMirroredStrategy`` starts a server
    and fails once TensorFlow's runtime is initialized.

    Args:
        kind: ``"auto"``, ``"default"``, ``"mirrored"`` or ``"multi_worker"``.
        devices: ``None`` (all visible GPUs for ``"mirrored"``), or device
            names such as ``["/gpu:0", "/gpu:1"]`` or ``"/cpu:0,/cpu:1"``.
            Not accepted by ``"multi_worker"``, whose devices are the visible
            GPUs of each worker (set ``CUDA_VISIBLE_DEVICES`` per worker).

    Returns:
        A ``tf.distribute.Strategy``.

    Raises:
        ValueError: If ``kind`` or ``devices`` is invalid, or ``TF_CONFIG``
            is not valid JSON.

    Example:

    ```python
    strategy = keras_ae.distribute.get_strategy("mirrored", devices=["/gpu:0", "/gpu:1"])
    with strategy.scope():
        model = keras_ae.build("dense", input_shape=(784,), latent_dim=32)
    model.fit(x, x, batch_size=256, epochs=10)  # 128 examples per GPU and step
    ```
    """
    kind, devices = resolve_kind(kind, devices)
    if kind == "mirrored":
        return tf.distribute.MirroredStrategy(devices=devices)
    if kind == "multi_worker":
        enable_multi_worker_fit()
        return tf.distribute.MultiWorkerMirroredStrategy()
    if devices is not None:
        return tf.distribute.OneDeviceStrategy(devices[0])
    return tf.distribute.get_strategy()


def configure_logical_cpus(count=2):
    """Splits the first CPU into ``count`` logical devices.

    Lets ``MirroredStrategy`` run on a machine without GPUs, for tests and
    tutorials: the logical devices share the same cores, so this shows that
    distributed training is *correct*, not that it is faster. Must be called
    before TensorFlow initializes its devices (before any other TensorFlow
    operation); calling it again with the same count is harmless.

    Args:
        count: Positive integer, the number of logical CPU devices.

    Returns:
        The device names, e.g. ``["/cpu:0", "/cpu:1"]``.

    Raises:
        RuntimeError: If TensorFlow's devices are already initialized with
            another number of logical CPUs.

    Example:

    ```python
    devices = keras_ae.distribute.configure_logical_cpus(2)
    strategy = keras_ae.distribute.get_strategy("mirrored", devices=devices)
    ```
    """
    count = check_int("count", count)
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError as error:
        existing = tf.config.list_logical_devices("CPU")
        if len(existing) != count:
            raise RuntimeError(
                f"Cannot split the CPU into {count} logical devices: TensorFlow "
                f"is already initialized with {len(existing)}. Call "
                "configure_logical_cpus() at the start of the program, before "
                "any other TensorFlow operation (in tests: in a fresh process)."
            ) from error
    return [f"/cpu:{i}" for i in range(count)]


def scale_loss_for_replicas(value):
    """Divides a per-replica loss by the number of replicas in sync.

    Under ``tf.distribute`` the gradients of the replicas are *summed*, so a
    loss averaged over each replica's share of the batch must be divided by
    the number of replicas for the sum to equal the gradient of the loss
    averaged over the global batch. Keras does this for the compiled loss and
    for ``add_loss`` terms (``Model.compute_loss``); a custom ``train_step``
    must do it for every other term it adds. Outside a strategy (or with one
    replica) the value is returned unchanged.

    Args:
        value: A scalar tensor, the loss averaged over the replica's examples.

    Returns:
        ``value / num_replicas_in_sync``.

    Example:

    ```python
    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = self.compute_loss(x=x, y=x, y_pred=self(x, training=True))
            loss += scale_loss_for_replicas(penalty)  # compute_loss is scaled already
        ...
    ```
    """
    value = keras.ops.convert_to_tensor(value)
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if replicas == 1:
        return value
    return value * keras.ops.cast(1.0 / replicas, value.dtype)


def tf_config(workers, index, *, task_type="worker"):
    """Returns the ``TF_CONFIG`` JSON string of one task of a cluster.

    Args:
        workers: List of ``"host:port"`` addresses, one per worker, in the
            same order on every machine. The worker at index 0 is the chief.
        index: Index of this task in ``workers``.
        task_type: The task type, ``"worker"``.

    Returns:
        A JSON string, to set as ``os.environ["TF_CONFIG"]`` before
        :func:`get_strategy` is called.

    Example:

    ```python
    os.environ["TF_CONFIG"] = tf_config(["10.0.0.1:12345", "10.0.0.2:12345"], index=1)
    ```
    """
    if not isinstance(workers, (list, tuple)) or not workers or not all(
        isinstance(w, str) and ":" in w for w in workers
    ):
        raise invalid("workers", "a non-empty list of 'host:port' strings", workers)
    index = check_int("index", index, minimum=0)
    if index >= len(workers):
        raise invalid("index", f"an integer in [0, {len(workers) - 1}]", index)
    return json.dumps({"cluster": {task_type: list(workers)}, "task": {"type": task_type, "index": index}})


# --------------------------------------------------------------------------
# Keras issue 20585: `fit` under MultiWorkerMirroredStrategy
# --------------------------------------------------------------------------

# Keras versions whose internals the shim was written against and tested
# with: [low, high). Outside it, the shim refuses to patch and warns, and
# tests/test_compat.py fails until someone checks the new version. The
# shim's private pieces live in keras_ae/_compat.py.
MULTI_WORKER_SHIM_VERSIONS = _compat.MULTI_WORKER_SHIM_VERSIONS


def enable_multi_worker_fit():
    """Makes ``model.fit`` work under ``MultiWorkerMirroredStrategy`` (Keras 3.15).

    Keras 3.15's TensorFlow trainer fails under a multi-worker strategy
    (Keras issue 20585), in two places, and this shim replaces exactly those
    two internal functions, only changing what they do in multi-worker mode:

    - ``TensorFlowTrainer._maybe_symbolic_build`` reduces the first
      ``PerReplica`` input batch with an eager cross-worker ``reduce`` that
      cannot convert it (``ValueError: Attempt to convert a value
      (PerReplica...)``). The patched version builds from this worker's
      first local batch: only its shapes and dtypes are used.
    - ``reduce_per_replica`` reduces the step's logs with
      ``strategy.reduce("MEAN", v, axis=0)``, which fails on scalar logs
      (``Invalid reduction dimension 0 for input with 0 dimensions``). The
      patched version uses ``axis=None``: the mean over replicas, as on one
      machine.

    The shim is idempotent, and only applied for the Keras versions in
    ``MULTI_WORKER_SHIM_VERSIONS`` that it was checked against; for another
    version it warns and does nothing (``tests/test_distribute.py`` then
    tells whether the upstream bug is still there). Its private pieces live
    in ``keras_ae/_compat.py``, with the rest of the private API keras_ae
    uses.

    Returns:
        ``True`` if the shim is active, ``False`` if this Keras version is
        outside the checked range.

    Example:

    ```python
    keras_ae.distribute.enable_multi_worker_fit()  # get_strategy("multi_worker") does it
    ```
    """
    if not _compat.multi_worker_shim_supported():
        warnings.warn(
            f"keras_ae.distribute: Keras {keras.version()} is outside the versions "
            f"{_compat.format_range(MULTI_WORKER_SHIM_VERSIONS)} that the multi-worker fit "
            "shim (Keras issue 20585) was checked against; it is not applied. Run "
            "tests/test_compat.py and tests/test_distribute.py to see whether Keras still needs it.",
            RuntimeWarning,
            stacklevel=2,
        )
        return False
    _compat.apply_multi_worker_patches()
    return True


def disable_multi_worker_fit():
    """Removes the shim of :func:`enable_multi_worker_fit`, if applied."""
    _compat.restore_multi_worker_patches()


def multi_worker_fit_enabled():
    """Returns whether the shim of :func:`enable_multi_worker_fit` is active."""
    return _compat.multi_worker_patches() == set(_compat.MULTI_WORKER_PATCHES)


# --------------------------------------------------------------------------
# Chief-only writes
# --------------------------------------------------------------------------


def is_chief(strategy=None):
    """Returns whether this process should write checkpoints and saved models.

    With a strategy (given, or the one whose scope is entered) this is its
    ``extended.should_checkpoint``; otherwise it is read from ``TF_CONFIG``:
    the task of type ``"chief"``, or worker 0 when the cluster has no chief.
    Without a cluster, the single process is the chief.

    Args:
        strategy: Optional ``tf.distribute.Strategy``.

    Returns:
        A bool.

    Example:

    ```python
    if keras_ae.distribute.is_chief():
        print("saving")
    ```
    """
    if strategy is None and tf.distribute.has_strategy():
        strategy = tf.distribute.get_strategy()
    if strategy is not None:
        return bool(strategy.extended.should_checkpoint)
    config = _tf_config()
    if _cluster_size(config) == 0:
        return True
    task = config.get("task") or {}
    task_type, index = task.get("type", "worker"), int(task.get("index", 0))
    if "chief" in (config.get("cluster") or {}):
        return task_type == "chief"
    return task_type == "worker" and index == 0


def _task_tag():
    task = _tf_config().get("task") or {}
    return f"{task.get('type', 'worker')}_{task.get('index', 0)}"


def save_model(model, path, strategy=None):
    """Saves ``model`` to ``path`` on the chief only.

    Every worker of a multi-worker cluster must call this (saving may read
    variables through collective operations); the chief writes ``path`` and
    each other worker writes to a temporary directory that is then deleted,
    as in the Keras multi-worker tutorial. On one machine this is
    ``model.save(path)``.

    Args:
        model: A ``keras.Model``.
        path: Destination ``.keras`` file.
        strategy: Optional strategy (default: as in :func:`is_chief`).

    Returns:
        ``path`` on the chief, ``None`` on the other workers.

    Example:

    ```python
    keras_ae.distribute.save_model(model, "model.keras")
    ```
    """
    path = os.fspath(path)
    if is_chief(strategy):
        model.save(path)
        return path
    scratch = tempfile.mkdtemp(prefix=f"keras_ae_{_task_tag()}_")
    try:
        model.save(os.path.join(scratch, os.path.basename(path) or "model.keras"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return None


class _ChiefBackupAndRestore(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` whose backups are written by the chief only."""

    def __init__(self, backup_dir, strategy=None, **kwargs):
        super().__init__(backup_dir, **kwargs)
        self._strategy = strategy
        self._shared_paths = (self._weights_path, self._training_metadata_path)

    def _save_model(self):
        if is_chief(self._strategy or self.model.distribute_strategy):
            return super()._save_model()
        # A non-chief worker saves like the chief (saving may need collective
        # reads) but to its own scratch directory, which it then deletes.
        scratch = tempfile.mkdtemp(prefix=f"keras_ae_backup_{_task_tag()}_")
        saved = (self.backup_dir, self._weights_path, self._training_metadata_path)
        try:
            self.backup_dir = scratch
            self._weights_path = os.path.join(scratch, "latest.weights.h5")
            self._training_metadata_path = os.path.join(scratch, "training_metadata.json")
            super()._save_model()
        finally:
            self.backup_dir, self._weights_path, self._training_metadata_path = saved
            shutil.rmtree(scratch, ignore_errors=True)

    def on_train_end(self, logs=None):
        if is_chief(self._strategy or self.model.distribute_strategy):
            super().on_train_end(logs)


def backup_and_restore(backup_dir, *, save_freq="epoch", strategy=None, **kwargs):
    """Returns a ``BackupAndRestore`` callback that works on several machines.

    ``keras.callbacks.BackupAndRestore`` saves the weights, the optimizer
    state and the epoch at the end of each epoch (or every ``save_freq``
    batches) and, when ``fit`` starts again after a crash, resumes from the
    last backup. Keras 3 has every worker write the same files; here only
    the chief writes them, and every worker restores from them, so all
    workers resume from the same epoch with the same weights. On several
    machines ``backup_dir`` must be on a filesystem shared by all workers.
    On one machine this is exactly ``keras.callbacks.BackupAndRestore``.

    Resuming reproduces the uninterrupted run only if the data order of an
    epoch does not depend on the epochs before it (``shuffle=False``, or a
    dataset shuffled with a seed derived from the epoch).

    Args:
        backup_dir: Directory of the backup (deleted when ``fit`` ends,
            unless ``delete_checkpoint=False``).
        save_freq: ``"epoch"`` or a number of batches.
        strategy: Optional strategy (default: the model's).
        **kwargs: Other ``keras.callbacks.BackupAndRestore`` arguments
            (``double_checkpoint``, ``delete_checkpoint``).

    Returns:
        A ``keras.callbacks.BackupAndRestore``.

    Example:

    ```python
    model.fit(x, x, epochs=50, callbacks=[backup_and_restore("/shared/run1/backup")])
    ```
    """
    return _ChiefBackupAndRestore(os.fspath(backup_dir), strategy=strategy, save_freq=save_freq, **kwargs)
