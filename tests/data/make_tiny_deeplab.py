"""Generate tiny_deeplab_frozen.pb + tiny_deeplab_weights.npz (NOT run by the tests; needs tensorflow).

A few-KB stand-in for deeplabv3_mnv2_pascal_train_aug/frozen_inference_graph.pb with the structure that
Open Model Zoo's conversion depends on:

    ImageTensor (uint8 [1,?,?,3], RGB) -> Cast(f32) -> ResizeBilinear(513x513) -> mul_1 = Mul(2/255, x)
    -> sub = x - 1 -> Conv2D 3x3 SAME (3 -> 21, fixed random weights) -> BiasAdd -> ArgMax (axis 3, int64)

As in DeepLab's MobileNet preprocessing ``(2.0 / 255.0) * inputs - 1.0``, input port 0 of ``mul_1`` is the
scalar constant and input port 1 the f32 image, where the converter cuts the graph.

    python tests/data/make_tiny_deeplab.py   # in an environment with tensorflow
"""

from pathlib import Path

import numpy as np
import tensorflow as tf

HERE = Path(__file__).resolve().parent


def main() -> None:
    rng = np.random.default_rng(20180129)
    kernel = rng.normal(0.0, 1.0, (3, 3, 3, 21)).astype(np.float32)
    bias = rng.normal(0.0, 0.1, (21,)).astype(np.float32)
    g = tf.Graph()
    with g.as_default():
        tf1 = tf.compat.v1
        image = tf1.placeholder(tf.uint8, [1, None, None, 3], name="ImageTensor")
        x = tf.cast(image, tf.float32, name="Cast")
        x = tf1.image.resize_bilinear(x, [513, 513], align_corners=True, name="ResizeBilinear")
        x = tf.multiply(tf.constant(2.0 / 255.0, tf.float32, name="mul_1/x"), x, name="mul_1")
        x = tf.subtract(x, tf.constant(1.0, tf.float32, name="sub/y"), name="sub")
        x = tf.nn.conv2d(x, tf.constant(kernel, name="logits/weights"), strides=1, padding="SAME",
                         name="logits/Conv2D")
        x = tf.nn.bias_add(x, tf.constant(bias, name="logits/biases"), name="logits/BiasAdd")
        tf.argmax(x, axis=3, output_type=tf.int64, name="ArgMax")
    (HERE / "tiny_deeplab_frozen.pb").write_bytes(g.as_graph_def().SerializeToString())
    np.savez(HERE / "tiny_deeplab_weights.npz", kernel=kernel, bias=bias)


if __name__ == "__main__":
    main()
