"""Small NCHW CNN in plain numpy: forward and backward passes for training.

Layers follow the ONNX operator semantics they are exported as (opset 13):
Conv (3x3, stride 1, no bias), BatchNormalization (training mode keeps running
statistics, inference uses them), Relu, MaxPool (2x2, stride 2), Flatten (axis 1)
and Gemm (transB=1). Convolutions use im2col so every heavy step is one matmul.
"""
import numpy as np

BN_EPSILON = 1e-5
BN_MOMENTUM = 0.9  # ONNX convention: running = running * momentum + batch * (1 - momentum)


def im2col(x, k, pad):
    """x [N,C,H,W] -> columns [N*Ho*Wo, C*k*k] (row order n, ho, wo; column order c, kh, kw)."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))  # N,C,Ho,Wo,k,k
    n, c, ho, wo = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k * k)
    return np.ascontiguousarray(cols), (n, c, ho, wo)


def col2im(dcols, geom, k, pad):
    """Adjoint of im2col: dcols [N*Ho*Wo, C*k*k] -> dx [N,C,H,W] (overlaps summed)."""
    n, c, ho, wo = geom
    d = dcols.reshape(n, ho, wo, c, k, k).transpose(0, 3, 1, 2, 4, 5)
    dxp = np.zeros((n, c, ho + k - 1, wo + k - 1), dtype=dcols.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i:i + ho, j:j + wo] += d[..., i, j]
    return dxp[:, :, pad:pad + ho + k - 1 - 2 * pad, pad:pad + wo + k - 1 - 2 * pad]


class Conv:
    """ONNX Conv, weight [O,C,k,k], stride 1, symmetric padding `pad`, no bias."""

    def __init__(self, rng, cin, cout, k=3, pad=1):
        std = np.sqrt(2.0 / (cin * k * k))
        self.params = {"weight": (rng.standard_normal((cout, cin, k, k)) * std).astype(np.float32)}
        self.k, self.pad = k, pad

    def forward(self, x, train):
        cols, geom = im2col(x, self.k, self.pad)
        w = self.params["weight"].reshape(self.params["weight"].shape[0], -1)
        out = cols @ w.T  # [N*Ho*Wo, O]
        n, _, ho, wo = geom
        if train:
            self.cache = (cols, geom)
        return out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)

    def backward(self, dout, need_dx=True):
        cols, geom = self.cache
        w = self.params["weight"]
        d = dout.transpose(0, 2, 3, 1).reshape(-1, w.shape[0])
        self.grads = {"weight": (d.T @ cols).reshape(w.shape)}
        return col2im(d @ w.reshape(w.shape[0], -1), geom, self.k, self.pad) if need_dx else None


class BatchNorm:
    """ONNX BatchNormalization over channel axis 1 with scale, bias, running mean and var."""

    def __init__(self, channels):
        self.params = {"scale": np.ones(channels, np.float32), "bias": np.zeros(channels, np.float32)}
        self.mean = np.zeros(channels, np.float32)
        self.var = np.ones(channels, np.float32)

    def forward(self, x, train):
        if not train:
            inv = 1.0 / np.sqrt(self.var + BN_EPSILON)
            return ((x - self.mean[None, :, None, None]) * inv[None, :, None, None]
                    * self.params["scale"][None, :, None, None] + self.params["bias"][None, :, None, None])
        mu = x.mean(axis=(0, 2, 3))
        var = x.var(axis=(0, 2, 3))
        m = x.size // x.shape[1]
        self.mean = BN_MOMENTUM * self.mean + (1 - BN_MOMENTUM) * mu
        self.var = BN_MOMENTUM * self.var + (1 - BN_MOMENTUM) * var * (m / (m - 1))
        inv = 1.0 / np.sqrt(var + BN_EPSILON)
        xhat = (x - mu[None, :, None, None]) * inv[None, :, None, None]
        self.cache = (xhat, inv)
        return xhat * self.params["scale"][None, :, None, None] + self.params["bias"][None, :, None, None]

    def backward(self, dout):
        xhat, inv = self.cache
        self.grads = {"scale": (dout * xhat).sum(axis=(0, 2, 3)), "bias": dout.sum(axis=(0, 2, 3))}
        dxhat = dout * self.params["scale"][None, :, None, None]
        mean_d = dxhat.mean(axis=(0, 2, 3), keepdims=True)
        mean_dx = (dxhat * xhat).mean(axis=(0, 2, 3), keepdims=True)
        return (dxhat - mean_d - xhat * mean_dx) * inv[None, :, None, None]


class Relu:
    params = {}

    def forward(self, x, train):
        if train:
            self.mask = x > 0
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout * self.mask


class MaxPool2:
    """ONNX MaxPool kernel 2x2, stride 2 (H and W must be even)."""
    params = {}

    def forward(self, x, train):
        n, c, h, w = x.shape
        r = x.reshape(n, c, h // 2, 2, w // 2, 2)
        out = r.max(axis=(3, 5))
        if train:
            # first maximum of each window gets the gradient (ties broken like argmax)
            flat = r.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
            self.cache = (x.shape, flat.argmax(axis=-1))
        return out

    def backward(self, dout):
        (n, c, h, w), idx = self.cache
        d = np.zeros((n, c, h // 2, w // 2, 4), dout.dtype)
        np.put_along_axis(d, idx[..., None], dout[..., None], axis=-1)
        return d.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h, w)


class Flatten:
    params = {}

    def forward(self, x, train):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.shape)


class Gemm:
    """ONNX Gemm with transB=1: y = x @ weight.T + bias, weight [out, in]."""

    def __init__(self, rng, fan_in, fan_out, gain=2.0):
        std = np.sqrt(gain / fan_in)
        self.params = {"weight": (rng.standard_normal((fan_out, fan_in)) * std).astype(np.float32),
                       "bias": np.zeros(fan_out, np.float32)}

    def forward(self, x, train):
        if train:
            self.x = x
        return x @ self.params["weight"].T + self.params["bias"]

    def backward(self, dout):
        self.grads = {"weight": dout.T @ self.x, "bias": dout.sum(axis=0)}
        return dout @ self.params["weight"]


def softmax_cross_entropy(logits, labels):
    """Mean cross-entropy loss and its gradient w.r.t. logits [N,10]."""
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n = logits.shape[0]
    loss = -np.log(p[np.arange(n), labels] + 1e-12).mean()
    p[np.arange(n), labels] -= 1.0
    return float(loss), (p / n).astype(np.float32)


class Adam:
    """Adam (Kingma & Ba 2015, Algorithm 1) over every layer's params dict."""

    def __init__(self, layers, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        self.layers, self.lr, self.b1, self.b2, self.eps, self.t = layers, lr, beta1, beta2, eps, 0
        self.m = [{k: np.zeros_like(v) for k, v in l.params.items()} for l in layers]
        self.v = [{k: np.zeros_like(v) for k, v in l.params.items()} for l in layers]

    def step(self):
        self.t += 1
        c1, c2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for layer, m, v in zip(self.layers, self.m, self.v):
            for k, p in layer.params.items():
                g = layer.grads[k]
                m[k] = self.b1 * m[k] + (1 - self.b1) * g
                v[k] = self.b2 * v[k] + (1 - self.b2) * g * g
                p -= (self.lr * (m[k] / c1) / (np.sqrt(v[k] / c2) + self.eps)).astype(np.float32)
