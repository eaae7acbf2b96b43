"""Builds one single-node ONNX model per case, runs onnxruntime, writes model + .npy files."""
import os
import zlib

import numpy as np
import onnx
import onnxruntime as ort
from onnx import helper, numpy_helper

CASES = []


def rng_for(name):
    """Per-case generator seeded from the case name (stable across runs)."""
    return np.random.default_rng(zlib.crc32(name.encode()))


def case(name, op, feeds=(), consts=None, attrs=None, opset=13, inputs=None, n_out=1, family="misc",
         out_types=None, out_names=None):
    """Registers a case.

    feeds:  graph inputs (numpy arrays), named x0, x1, ...
    consts: dict name -> numpy array, stored as initializers
    inputs: node input names in order ('' = omitted); default x0..xn then consts in order
    out_types: numpy dtype per output (default float32), for the probe model
    out_names: graph output names (default y0..yn)
    """
    consts = consts or {}
    if inputs is None:
        inputs = [f"x{i}" for i in range(len(feeds))] + list(consts)
    CASES.append(dict(name=name, op=op, feeds=list(feeds), consts=consts, attrs=attrs or {},
                      opset=opset, inputs=inputs, n_out=n_out, family=family,
                      out_types=out_types or [np.float32] * n_out,
                      out_names=out_names or [f"y{i}" for i in range(n_out)]))


def _value_info(name, arr, shaped=True):
    shape = list(arr.shape) if shaped else None
    return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(arr.dtype), shape)


def _model(c, outputs, shaped=True):
    outs_names = c["out_names"]
    nodes = [helper.make_node(c["op"], c["inputs"], outs_names, name=c["name"], **c["attrs"])]
    if c["op"] == "Constant":  # importers fold Constant into initializers: keep one real node
        nodes[0].output[0] = "c0"
        nodes.append(helper.make_node("Identity", ["c0"], ["y0"], name=c["name"] + "_out"))
    ins = [_value_info(f"x{i}", a) for i, a in enumerate(c["feeds"])]
    outs = [_value_info(n, a, shaped) for n, a in zip(outs_names, outputs)]
    inits = [numpy_helper.from_array(a, name=n) for n, a in c["consts"].items()]
    graph = helper.make_graph(nodes, c["name"], ins, outs, inits)
    opsets = [helper.make_opsetid("", c["opset"])]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="octet-op-fixtures")
    try:
        model.ir_version = max(helper.find_min_ir_version_for(opsets), 7)
    except ValueError:  # opsets missing from onnx's release table (e.g. 2) predate IR 7
        model.ir_version = 7
    return model


def _run(model, feeds):
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {f"x{i}": a for i, a in enumerate(feeds)})


def build(c, out_root):
    """Runs the case with shapeless output infos to get onnxruntime's outputs, then saves a
    model whose outputs carry the real shapes (and checks it gives the same outputs)."""
    probe = [np.zeros([], t) for t in c["out_types"]]
    try:
        outputs = _run(_model(c, probe, shaped=False), c["feeds"])
    except Exception as e:
        raise RuntimeError(f"{c['name']}: onnxruntime failed: {e}") from e
    model = _model(c, outputs)
    onnx.checker.check_model(model)
    again = _run(model, c["feeds"])
    for a, b in zip(outputs, again):
        assert np.array_equal(a, b, equal_nan=True), c["name"]
    d = os.path.join(out_root, c["name"])
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(d, "model.onnx"))
    for i, a in enumerate(c["feeds"]):
        np.save(os.path.join(d, f"in_{i}.npy"), np.require(a, requirements="C"))
    for i, a in enumerate(outputs):
        np.save(os.path.join(d, f"out_{i}.npy"), np.require(a, requirements="C"))
