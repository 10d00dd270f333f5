"""Gated PixelCNN: masked convolutions, the gated block, a network builder, exact log-likelihood and sampling.

A PixelCNN models an image (or a grid of discrete codes) one pixel at a time
in raster order, ``p(x) = prod_i p(x_i | x_<i [, h])``: every output at pixel
``(i, j)`` is computed from the pixels strictly before it (rows above, and
the pixels to its left on its own row), so one forward pass of a whole image
gives every conditional at once (teacher forcing) and the log-likelihood is
exact. Sampling is sequential: one forward pass per pixel.

The gated network follows van den Oord et al., "Conditional Image Generation
with PixelCNN Decoders", NeurIPS 2016:

- two stacks: a vertical stack that sees the rows above (any column within
  the receptive field), and a horizontal stack that sees the pixels to the
  left on the current row and receives the vertical stack's features shifted
  down by one row. Together they have no blind spot (the masked 3x3 PixelCNN
  of van den Oord et al., ICML 2016, misses a growing triangle up and right);
- gated units ``tanh(W_f * x + V_f h) * sigmoid(W_g * x + V_g h)``;
- the first block uses mask type ``"A"`` (the current pixel excluded), the
  others type ``"B"`` (the current position's own features included), with a
  residual connection on the horizontal stack;
- optional conditioning on a vector ``h`` (added inside the gates, the same
  at every pixel) and/or on a spatial map ``s`` of the image's height and
  width (a 1x1 convolution added inside the gates: PixelVAE, Gulrajani et al.,
  ICLR 2017, conditions its PixelCNN on the latent code this way).

Values: ``n_values == 2`` is a binary image (a Bernoulli per pixel, the
network gives one logit per pixel); ``n_values = K > 2`` is a categorical
value in ``0..K-1`` per pixel (the discrete codes of a VQ-VAE), given either
as integer codes (one-hot encoded inside the network) or as one-hot vectors
(``one_hot_input=True``); the network gives ``K`` logits per pixel. One
channel only: the ordering over several channels of a pixel (R, then G given
R, ...) is not implemented, and :func:`pixelcnn_network` refuses
``input_shape[-1] != 1`` (unless the last axis holds the one-hot vectors).

Public to the package: :func:`pixelcnn_network`, :func:`pixelcnn_log_prob`,
:func:`pixelcnn_sample`, and the layers :class:`MaskedConv2D`,
:class:`GatedPixelCNNBlock`, :class:`ShiftDown`, :class:`IntegerOneHot`.
"""

import keras
import numpy as np
import tensorflow as tf
from keras import layers, ops

from keras_ae import _validation as v

__all__ = [
    "GatedPixelCNNBlock",
    "IntegerOneHot",
    "MASK_TYPES",
    "MaskedConv2D",
    "ShiftDown",
    "pixelcnn_log_prob",
    "pixelcnn_network",
    "pixelcnn_sample",
]

#: The masks of :class:`MaskedConv2D`, by name.
MASK_TYPES = ("A", "B", "horizontal_A", "horizontal_B", "vertical")


def causal_mask(kernel_size, mask_type):
    """The 0/1 mask of a ``kernel_size`` (height, width) kernel, a float32 array of that shape.

    With the kernel's centre at ``(ci, cj)``: ``"A"`` keeps the rows above the
    centre and the centre row left of the centre; ``"B"`` also the centre;
    ``"vertical"`` keeps every row up to and including the centre row (all
    columns); ``"horizontal_A"`` the centre row left of the centre;
    ``"horizontal_B"`` also the centre.
    """
    kh, kw = kernel_size
    ci, cj = kh // 2, kw // 2
    mask = np.zeros((kh, kw), "float32")
    if mask_type == "vertical":
        mask[: ci + 1, :] = 1
    elif mask_type in ("A", "B"):
        mask[:ci, :] = 1
        mask[ci, : cj + (mask_type == "B")] = 1
    else:
        mask[ci, : cj + (mask_type == "horizontal_B")] = 1
    return mask


def _odd_kernel(kernel_size):
    size = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
    if not (len(size) == 2 and all(isinstance(k, (int, np.integer)) and k >= 1 and k % 2 == 1 for k in size)):
        raise v.invalid("kernel_size", "an odd positive integer, or a pair of them (a mask needs a centre)",
                        kernel_size)
    return tuple(int(k) for k in size)


@keras.saving.register_keras_serializable(package="keras_ae")
class MaskedConv2D(layers.Conv2D):
    """A ``Conv2D`` (stride 1, ``"same"`` padding) whose kernel is multiplied by a causal mask.

    The mask is a constant, not a weight: the masked-out entries of the
    kernel are trained to nothing and never reach the output. Masks
    (``mask_type``, see :func:`causal_mask`): ``"A"`` (rows above, and the
    left of the current row: the first layer of a PixelCNN, which must not
    see the pixel it predicts), ``"B"`` (the same plus the centre: later
    layers), ``"vertical"`` (the rows above and the current row, for the
    vertical stack of a gated PixelCNN, whose output is shifted down by
    :class:`ShiftDown` before the horizontal stack reads it),
    ``"horizontal_A"`` / ``"horizontal_B"`` (the current row only, left of
    the centre, without / with it).

    Args:
        filters: Positive integer, the number of output channels.
        kernel_size: Odd integer or pair of odd integers.
        mask_type: One of :data:`MASK_TYPES`.
        **kwargs: Other ``keras.layers.Conv2D`` arguments (``strides`` must
            be 1 and ``padding`` ``"same"``; ``data_format`` channels-last).

    Raises:
        ValueError: For an unknown ``mask_type``, an even kernel size, a
            stride other than 1, a padding other than ``"same"``.

    Example:

    ```python
    conv = MaskedConv2D(16, 3, mask_type="A")
    y = conv(keras.random.uniform((2, 8, 8, 1)))  # y[:, i, j] reads x[:, :i] and x[:, i, :j] only
    ```
    """

    def __init__(self, filters, kernel_size, mask_type="B", **kwargs):
        self.mask_type = v.check_choice("mask_type", mask_type, MASK_TYPES)
        kernel_size = _odd_kernel(kernel_size)
        if kwargs.get("padding", "same") != "same":
            raise v.invalid("padding", "'same' (a masked convolution keeps the image's size)", kwargs["padding"])
        strides = kwargs.get("strides", 1)
        if strides not in (1, (1, 1), [1, 1]):
            raise v.invalid("strides", "1", strides)
        if kwargs.get("data_format") not in (None, "channels_last"):
            raise v.invalid("data_format", "'channels_last'", kwargs["data_format"])
        kwargs.update(padding="same", strides=1, data_format="channels_last")
        super().__init__(filters, kernel_size, **kwargs)
        self._mask = causal_mask(kernel_size, self.mask_type)[:, :, None, None]

    def convolution_op(self, inputs, kernel):
        return super().convolution_op(inputs, kernel * ops.cast(self._mask, kernel.dtype))

    def get_config(self):
        return {**super().get_config(), "mask_type": self.mask_type}


@keras.saving.register_keras_serializable(package="keras_ae")
class ShiftDown(layers.Layer):
    """Shifts a feature map down by one row: row ``i`` of the output is row ``i - 1`` of the input, row 0 zeros.

    Input and output shape ``(batch, height, width, channels)``.
    """

    def call(self, inputs):
        padded = ops.pad(inputs, ((0, 0), (1, 0), (0, 0), (0, 0)))
        return padded[:, :-1]

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="keras_ae")
class IntegerOneHot(layers.Layer):
    """Integer codes ``(batch, height, width, 1)`` -> one-hot vectors ``(batch, height, width, n_values)``.

    The codes may be of any numeric dtype holding integers ``0..n_values-1``
    (a code outside that range gives a row of zeros). The output is in the
    layer's compute dtype.

    Args:
        n_values: Integer >= 2, the number of values.
        **kwargs: Base layer arguments.
    """

    def __init__(self, n_values, **kwargs):
        super().__init__(**kwargs)
        self.n_values = v.check_int("n_values", n_values, minimum=2)

    def call(self, inputs):
        codes = ops.cast(ops.round(ops.cast(inputs[..., 0], "float32")), "int32")
        return ops.one_hot(codes, self.n_values, dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.n_values)

    def get_config(self):
        return {**super().get_config(), "n_values": self.n_values}


@keras.saving.register_keras_serializable(package="keras_ae")
class GatedPixelCNNBlock(layers.Layer):
    """One gated PixelCNN layer: a vertical and a horizontal stack (van den Oord et al., NeurIPS 2016).

    Takes a list ``[v, h]``, then the conditions the block was built for:
    ``[v, h, vector]``, ``[v, h, map]`` or ``[v, h, vector, map]``, with
    ``v`` and ``h`` of shape ``(batch, height, width, channels)``, the
    vector ``(batch, d)`` and the map ``(batch, height, width, c)``.
    Returns ``[v_out, h_out]``, each ``(batch, height, width, filters)``::

        v_pre = vertical_conv(v) + cond_v                      # rows <= i
        h_pre = horizontal_conv(h) + cond_h + 1x1(shift_down(v_pre))
        v_out = tanh(v_pre[:f]) * sigmoid(v_pre[f:])
        h_out = h + 1x1(tanh(h_pre[:f]) * sigmoid(h_pre[f:]))   # residual with mask "B"

    where ``cond = Dense(vector) + 1x1(map)`` (separate weights for each
    stack and each half of the gate). Feature ``v_out[i, j]`` depends on rows
    ``<= i`` of the input only (it reaches the horizontal stack one row down);
    ``h_out[i, j]`` on the rows above and on the current row left of ``j``
    (mask ``"A"``) or up to ``j`` (mask ``"B"``), so stacked blocks keep
    ``h_out[i, j]`` a function of the pixels strictly before ``(i, j)`` when
    the first block has mask ``"A"``.

    Args:
        filters: Positive integer ``f``, the channels of both stacks' outputs.
        kernel_size: Odd integer ``k`` (vertical ``k x k`` masked to the rows
            up to the centre; horizontal ``1 x k`` masked to the left).
        mask_type: ``"A"`` (the first block: the current pixel excluded) or
            ``"B"``.
        residual: Whether ``h`` is added to the horizontal output (mask
            ``"B"`` and ``h`` with ``filters`` channels only; ignored for
            mask ``"A"``).
        vector_condition: Whether a condition vector follows ``[v, h]``.
        map_condition: Whether a condition map follows (after the vector).
        **kwargs: Base layer arguments.

    Raises:
        ValueError: For a bad argument, or inputs of the wrong number or
            shapes (a map of another height or width than the image).

    Example:

    ```python
    block = GatedPixelCNNBlock(16, 3, mask_type="A", vector_condition=True)
    v_out, h_out = block([image, image, z])
    ```
    """

    def __init__(self, filters, kernel_size=3, mask_type="B", residual=True, vector_condition=False,
                 map_condition=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = v.check_int("filters", filters)
        size = _odd_kernel(kernel_size)
        self.kernel_size = size[0] if size[0] == size[1] else list(size)
        self.mask_type = v.check_choice("mask_type", mask_type, ("A", "B"))
        self.residual = v.Boolean().check("residual", residual)
        self.vector_condition = v.Boolean().check("vector_condition", vector_condition)
        self.map_condition = v.Boolean().check("map_condition", map_condition)
        two = 2 * self.filters
        name = self.name
        self.vertical_conv = MaskedConv2D(two, size, mask_type="vertical", name=f"{name}_vertical",
                                          dtype=self.dtype_policy)
        self.horizontal_conv = MaskedConv2D(two, (1, size[1]), mask_type=f"horizontal_{self.mask_type}",
                                            name=f"{name}_horizontal", dtype=self.dtype_policy)
        self.shift = ShiftDown(name=f"{name}_shift", dtype=self.dtype_policy)
        self.vertical_to_horizontal = layers.Conv2D(two, 1, name=f"{name}_v_to_h", dtype=self.dtype_policy)
        self.horizontal_out = layers.Conv2D(self.filters, 1, name=f"{name}_h_out", dtype=self.dtype_policy)
        self.vector_v = self.vector_h = self.map_v = self.map_h = None
        if self.vector_condition:
            self.vector_v = layers.Dense(two, use_bias=False, name=f"{name}_vector_v", dtype=self.dtype_policy)
            self.vector_h = layers.Dense(two, use_bias=False, name=f"{name}_vector_h", dtype=self.dtype_policy)
        if self.map_condition:
            self.map_v = layers.Conv2D(two, 1, use_bias=False, name=f"{name}_map_v", dtype=self.dtype_policy)
            self.map_h = layers.Conv2D(two, 1, use_bias=False, name=f"{name}_map_h", dtype=self.dtype_policy)

    def _split(self, shapes):
        expected = 2 + self.vector_condition + self.map_condition
        if not isinstance(shapes, (list, tuple)) or len(shapes) != expected:
            names = "v, h" + (", vector" if self.vector_condition else "") + (", map" if self.map_condition else "")
            count = len(shapes) if isinstance(shapes, (list, tuple)) else 1
            raise v.invalid("inputs", f"a list of {expected} tensors [{names}]", v.Shown(f"<{count} tensors>"))
        vertical, horizontal, *rest = shapes
        vector = rest.pop(0) if self.vector_condition else None
        spatial = rest.pop(0) if self.map_condition else None
        return vertical, horizontal, vector, spatial

    def build(self, input_shape):
        v_shape, h_shape, vec_shape, map_shape = self._split(list(input_shape))
        if tuple(v_shape[1:3]) != tuple(h_shape[1:3]) or len(v_shape) != 4:
            raise v.invalid("inputs", "v and h of the same shape (batch, height, width, channels)",
                            v.Shown(f"<shapes {tuple(v_shape)} and {tuple(h_shape)}>"))
        if map_shape is not None and (len(map_shape) != 4 or tuple(map_shape[1:3]) != tuple(v_shape[1:3])):
            raise v.invalid("inputs", f"a condition map of the image's height and width {tuple(v_shape[1:3])}",
                            v.Shown(f"<map of shape {tuple(map_shape)}>"))
        if vec_shape is not None and len(vec_shape) != 2:
            raise v.invalid("inputs", "a condition vector of shape (batch, d)",
                            v.Shown(f"<vector of shape {tuple(vec_shape)}>"))
        two = (*v_shape[:3], 2 * self.filters)
        self.vertical_conv.build(v_shape)
        self.horizontal_conv.build(h_shape)
        self.vertical_to_horizontal.build(two)
        self.horizontal_out.build((*h_shape[:3], self.filters))
        if vec_shape is not None:
            self.vector_v.build(vec_shape)
            self.vector_h.build(vec_shape)
        if map_shape is not None:
            self.map_v.build(map_shape)
            self.map_h.build(map_shape)
        self._use_residual = self.residual and self.mask_type == "B" and h_shape[-1] == self.filters
        self.built = True

    @staticmethod
    def _gate(pre):
        first, second = ops.split(pre, 2, axis=-1)
        return ops.tanh(first) * ops.sigmoid(second)

    def call(self, inputs):
        vertical, horizontal, vector, spatial = self._split(list(inputs))
        v_pre = self.vertical_conv(vertical)
        h_pre = self.horizontal_conv(horizontal)
        if vector is not None:
            v_pre = v_pre + self.vector_v(vector)[:, None, None, :]
            h_pre = h_pre + self.vector_h(vector)[:, None, None, :]
        if spatial is not None:
            v_pre = v_pre + self.map_v(spatial)
            h_pre = h_pre + self.map_h(spatial)
        # The link reads the conditioned vertical pre-activations (so the last
        # block's vertical conditioning is trained too): still causal, the
        # condition does not depend on the image.
        h_pre = h_pre + self.vertical_to_horizontal(self.shift(v_pre))
        h_out = self.horizontal_out(self._gate(h_pre))
        if self._use_residual:
            h_out = h_out + horizontal
        return [self._gate(v_pre), h_out]

    def compute_output_shape(self, input_shape):
        v_shape = tuple(list(input_shape)[0])
        out = (*v_shape[:3], self.filters)
        return [out, out]

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "mask_type": self.mask_type,
            "residual": self.residual,
            "vector_condition": self.vector_condition,
            "map_condition": self.map_condition,
        }


def _check_condition_shape(condition_shape, height, width):
    if condition_shape is None:
        return None
    shape = v.check_shape("condition_shape", condition_shape, ndim=(1, 3))
    if len(shape) == 3 and shape[:2] != (height, width):
        raise v.invalid("condition_shape", f"(d,) for a vector, or ({height}, {width}, channels) for a map of "
                        "the image's height and width", condition_shape)
    return shape


def pixelcnn_network(input_shape, n_values=2, filters=64, n_layers=5, kernel_size=3, condition_shape=None,
                     one_hot_input=False, head_filters=None, name="pixelcnn"):
    """Builds a gated PixelCNN: ``(image[, condition]) -> logits of every pixel given the pixels before it``.

    Raster order, one channel. Block 1 has mask ``"A"`` (its input is the
    image, the current pixel excluded), blocks 2..``n_layers`` mask ``"B"``
    with residual connections; the horizontal stack's output goes through
    ReLU, a 1x1 convolution (``head_filters`` channels), ReLU, and a 1x1
    convolution to the logits (float32 under mixed precision). The logits at
    pixel ``(i, j)`` depend only on the pixels before ``(i, j)`` in raster
    order and on the condition; with ``kernel_size = k`` and ``n_layers = L``
    they see ``L * (k // 2)`` pixels to the left on the current row, and
    ``L * (k // 2)`` rows up and columns either side above (no blind spot).

    Inputs:

    - binary (``n_values=2``): the image ``(batch, H, W, 1)``, values in
      {0, 1} (values in [0, 1] are accepted, as teacher-forced context);
    - categorical (``n_values=K>2``): integer codes ``(batch, H, W, 1)`` in
      ``0..K-1`` (any numeric dtype; one-hot encoded inside by
      :class:`IntegerOneHot`), or with ``one_hot_input=True`` one-hot vectors
      ``(batch, H, W, K)`` (``input_shape=(H, W, K)``).
    - condition (if ``condition_shape`` is given): a vector ``(batch, d)``
      (``condition_shape=(d,)``), added inside every gate, or a map
      ``(batch, H, W, c)`` (``condition_shape=(H, W, c)``), added through
      1x1 convolutions. It must not depend on the image (the model is then
      ``p(x | condition)``).

    Args:
        input_shape: ``(H, W, 1)``, or ``(H, W, n_values)`` with
            ``one_hot_input``.
        n_values: Integer >= 2: 2 for binary pixels (Bernoulli), ``K`` for
            categorical values ``0..K-1``.
        filters: Positive integer, channels of both stacks.
        n_layers: Positive integer, the number of gated blocks.
        kernel_size: Odd integer >= 3.
        condition_shape: ``None``, ``(d,)`` or ``(H, W, c)``.
        one_hot_input: Whether the categorical input is given as one-hot
            vectors instead of integer codes.
        head_filters: Channels of the output head's hidden 1x1 convolution
            (default ``filters``).
        name: Name of the model; its layers are named ``{name}_block_{i}``,
            ``{name}_head``, ``{name}_logits``...

    Returns:
        A ``keras.Model`` taking ``image`` or ``[image, condition]`` and
        returning float32 logits ``(batch, H, W, 1)`` for ``n_values=2`` (the
        logit of ``x = 1``), ``(batch, H, W, 1, n_values)`` otherwise.
        Turn them into per-example log-likelihoods (nats) with
        :func:`pixelcnn_log_prob`; sample with :func:`pixelcnn_sample`.

    Raises:
        ValueError: For a bad argument (house format), including
            ``input_shape[-1] != 1`` (several channels are not supported:
            their autoregressive order is not implemented).

    Example:

    ```python
    prior = pixelcnn_network((7, 7, 1), n_values=512, filters=64, n_layers=8)
    logits = prior(codes[..., None])                 # (batch, 7, 7, 1, 512)
    nll = -pixelcnn_log_prob(logits, codes[..., None], n_values=512)   # nats per grid
    new = pixelcnn_sample(prior, 16, n_values=512, seed=0)   # (16, 7, 7, 1) int32 codes
    ```

    References:
        van den Oord, Kalchbrenner, Vinyals, Espeholt, Graves & Kavukcuoglu,
        "Conditional Image Generation with PixelCNN Decoders", NeurIPS 2016.
        van den Oord, Kalchbrenner & Kavukcuoglu, "Pixel Recurrent Neural
        Networks", ICML 2016 (masks A and B).
    """
    n_values = v.check_int("n_values", n_values, minimum=2)
    one_hot_input = v.Boolean().check("one_hot_input", one_hot_input)
    shape = v.check_shape("input_shape", input_shape, ndim=3)
    channels = n_values if one_hot_input else 1
    if shape[-1] != channels:
        what = (f"(height, width, {n_values}): one-hot vectors of the n_values={n_values} values"
                if one_hot_input else "(height, width, 1): one channel (the autoregressive order over several "
                "channels is not implemented; model each channel separately or use one_hot_input for "
                "categorical values)")
        raise v.invalid("input_shape", what, input_shape)
    filters = v.check_int("filters", filters)
    n_layers = v.check_int("n_layers", n_layers)
    kernel = v.check_int("kernel_size", kernel_size, minimum=3)
    if kernel % 2 == 0:
        raise v.invalid("kernel_size", "an odd integer >= 3 (a mask needs a centre)", kernel_size)
    head_filters = filters if head_filters is None else v.check_int("head_filters", head_filters)
    if not isinstance(name, str) or not name:
        raise v.invalid("name", "a non-empty string", name)
    height, width = shape[:2]
    condition_shape = _check_condition_shape(condition_shape, height, width)

    image = keras.Input(shape=shape, name=f"{name}_input")
    inputs = [image]
    x = image
    if n_values > 2 and not one_hot_input:
        x = IntegerOneHot(n_values, name=f"{name}_one_hot")(x)
    conditions = []
    if condition_shape is not None:
        condition = keras.Input(shape=condition_shape, name=f"{name}_condition")
        inputs.append(condition)
        conditions = [condition]
    vector, spatial = condition_shape is not None and len(condition_shape) == 1, \
        condition_shape is not None and len(condition_shape) == 3
    vertical, horizontal = x, x
    for i in range(1, n_layers + 1):
        vertical, horizontal = GatedPixelCNNBlock(
            filters, kernel, mask_type="A" if i == 1 else "B", residual=i > 1,
            vector_condition=vector, map_condition=spatial, name=f"{name}_block_{i}",
        )([vertical, horizontal, *conditions])
    h = layers.Activation("relu", name=f"{name}_head_relu_1")(horizontal)
    h = layers.Conv2D(head_filters, 1, activation="relu", name=f"{name}_head")(h)
    outputs = n_values if n_values > 2 else 1
    logits = layers.Conv2D(outputs, 1, name=f"{name}_logits", dtype="float32")(h)
    if n_values > 2:
        logits = layers.Reshape((height, width, 1, n_values), name=f"{name}_logits_reshape",
                                dtype="float32")(logits)
    return keras.Model(inputs if len(inputs) > 1 else image, logits, name=name)


def pixelcnn_log_prob(logits, x, n_values=2):
    """Exact log-likelihood per example, in nats, from teacher-forced logits.

    Args:
        logits: The network's output for ``x`` (``(batch, H, W, 1)`` for
            ``n_values=2``, ``(batch, H, W, 1, K)`` otherwise).
        x: The same images: binary ``(batch, H, W, 1)`` in {0, 1} (values in
            [0, 1] give the negative cross-entropy, not a probability), or
            integer codes ``(batch, H, W, 1)``, or one-hot ``(batch, H, W, K)``.
        n_values: As given to :func:`pixelcnn_network`.

    Returns:
        A float32 tensor ``(batch,)``: ``sum_i log p(x_i | x_<i [, h])``.
    """
    logits = ops.cast(logits, "float32")
    x = ops.cast(ops.convert_to_tensor(x), "float32")
    if n_values == 2:
        per_pixel = x * logits - ops.softplus(logits)  # x log sigmoid(l) + (1 - x) log sigmoid(-l)
        return ops.sum(ops.reshape(per_pixel, (ops.shape(x)[0], -1)), axis=-1)
    log_p = ops.log_softmax(logits, axis=-1)
    if x.shape[-1] == n_values and len(x.shape) == 4 and n_values != 1:
        one_hot = x[..., None, :]
    else:
        one_hot = ops.one_hot(ops.cast(ops.round(x), "int32"), n_values, dtype="float32")
    per_pixel = ops.sum(log_p * one_hot, axis=-1)
    return ops.sum(ops.reshape(per_pixel, (ops.shape(per_pixel)[0], -1)), axis=-1)


def _split_seed(seed):
    if seed is None:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    return v.check_int("seed", seed, minimum=0)


def pixelcnn_sample(network, n, n_values=2, condition=None, seed=None, one_hot_input=False):
    """Draws ``n`` images from the PixelCNN, one pixel at a time in raster order.

    Runs ``H * W`` forward passes of ``network`` on the batch of ``n`` (784
    for a 28x28 image), inside one ``tf.function``: each pass fills one
    pixel with a draw from its conditional given the pixels drawn before.

    Args:
        network: A model from :func:`pixelcnn_network`.
        n: Positive number of samples.
        n_values: As given to :func:`pixelcnn_network`.
        condition: ``None``, or an array of ``n`` conditions (one per sample)
            of the network's ``condition_shape``.
        seed: Non-negative integer seed (the same draws for the same seed and
            conditions), or ``None``.
        one_hot_input: As given to :func:`pixelcnn_network`; then the samples
            are returned as one-hot vectors too.

    Returns:
        A NumPy array: ``(n, H, W, 1)`` float32 in {0, 1} for ``n_values=2``,
        ``(n, H, W, 1)`` int32 codes for categorical values, or
        ``(n, H, W, K)`` float32 one-hot vectors with ``one_hot_input``.

    Raises:
        ValueError: For a bad ``n``, ``seed`` or a condition of the wrong
            number or shape.
    """
    n = v.check_int("n", n)
    seed = _split_seed(seed)
    shape = tuple(network.inputs[0].shape[1:])
    height, width = shape[:2]
    has_condition = len(network.inputs) > 1
    if has_condition != (condition is not None):
        raise v.invalid("condition", "an array of conditions, one per sample" if has_condition else
                        "None (this network takes no condition)", v.Shown(f"<{type(condition).__name__}>"))
    if has_condition:
        condition = ops.convert_to_tensor(condition, dtype="float32")
        expected = (n, *network.inputs[1].shape[1:])
        if tuple(condition.shape) != expected:
            raise v.invalid("condition", f"an array of shape {expected}",
                            v.Shown(f"<array of shape {tuple(condition.shape)}>"))
    categorical = n_values > 2

    @tf.function(reduce_retracing=True)
    def run(condition, seed):
        x = tf.zeros((n, *shape), "float32")
        for t in tf.range(height * width):
            i, j = t // width, t % width
            logits = network([x, condition] if has_condition else x, training=False)
            step_seed = tf.stack([seed, t])
            if categorical:
                drawn = tf.random.stateless_categorical(tf.cast(logits[:, i, j, 0, :], "float32"), 1,
                                                        seed=step_seed)[:, 0]
                value = tf.one_hot(drawn, n_values) if one_hot_input else tf.cast(drawn, "float32")[:, None]
            else:
                p = tf.sigmoid(tf.cast(logits[:, i, j, :], "float32"))
                value = tf.cast(tf.random.stateless_uniform(tf.shape(p), seed=step_seed) < p, "float32")
            where = tf.reshape(tf.one_hot(t, height * width), (1, height, width, 1))
            x = x * (1.0 - where) + value[:, None, None, :] * where
        return x

    out = run(condition if has_condition else tf.zeros(()), tf.constant(seed, tf.int32)).numpy()
    return out.astype("int32") if categorical and not one_hot_input else out
