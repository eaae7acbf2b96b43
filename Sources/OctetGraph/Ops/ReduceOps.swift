import OctetTensor
import Foundation

/// Reductions (ReduceMean, ReduceSum, ReduceMax, ReduceMin), ArgMax, and Softmax/LogSoftmax
/// (in `ReduceOps+Softmax.swift`), following the ONNX operator specs per opset.
///
/// `axes` is an attribute before opset 13 (ReduceSum) or 18 (the others) and an optional
/// input from then on. With no axes every axis is reduced, unless `noop_with_empty_axes`=1,
/// which returns the input unchanged. `keepdims` (default 1) keeps reduced axes as size 1.
enum ReduceOps {
    static let kernels: [String: OpKernel] = [
        "ReduceMean": { n, i, o in [try reduce(n, i, o, axesInputOpset: 18, .mean)] },
        "ReduceSum": { n, i, o in [try reduce(n, i, o, axesInputOpset: 13, .sum)] },
        "ReduceMax": { n, i, o in [try reduce(n, i, o, axesInputOpset: 18, .max)] },
        "ReduceMin": { n, i, o in [try reduce(n, i, o, axesInputOpset: 18, .min)] },
        "ArgMax": { n, i, _ in [try argMax(n, i)] },
        "Softmax": { n, i, o in [try softmax(n, i, o, log: false)] },
        "LogSoftmax": { n, i, o in [try softmax(n, i, o, log: true)] },
    ]

    enum Reduction { case mean, sum, max, min }

    /// Reduces a float32 tensor over the selected axes. A NaN in a max or min window gives NaN;
    /// an empty window gives −inf (max), +inf (min), 0 (sum) or NaN (mean), as the ONNX spec says.
    static func reduce(_ node: Node, _ inputs: [Tensor?], _ opset: Int, axesInputOpset: Int,
                       _ kind: Reduction) throws -> Tensor {
        let x = try node.requiredFloat(inputs, 0)
        let keepDims = try node.int("keepdims", default: 1) != 0
        let given = try ShapeOps.axesArgument(node, inputs, opset: opset, inputOpset: axesInputOpset, inputIndex: 1)
        let noop = try node.int("noop_with_empty_axes", default: 0) != 0
        if (given ?? []).isEmpty && opset >= axesInputOpset && noop { return x }
        var reduced = Array(repeating: (given ?? []).isEmpty, count: x.rank)
        for a in given ?? [] { reduced[try ShapeOps.axis(node, a, rank: x.rank, name: "axes")] = true }
        let outFull = x.shape.indices.map { reduced[$0] ? 1 : x.shape[$0] }
        let outShape = keepDims ? outFull : x.shape.indices.filter { !reduced[$0] }.map { x.shape[$0] }
        let outCount = Tensor.elementCount(outFull)
        let n = outCount == 0 ? 0 : x.count / outCount
        let initial: Float = kind == .max ? -.infinity : (kind == .min ? .infinity : 0)
        let outStrides = Shape.strides(outFull)
        let tables = x.shape.indices.map { k in reduced[k] ? Array(repeating: 0, count: x.shape[k])
            : AxisGather.linear(count: x.shape[k], stride: outStrides[k]) }
        let targets = AxisGather(tables: tables).apply(Tensor(shape: [outCount], int64s: (0..<outCount).map { Int64($0) }))
        var acc = Array(repeating: initial, count: outCount)
        x.withFloats { v in
            targets.int64s.withUnsafeBufferPointer { t in
                acc.withUnsafeMutableBufferPointer { a in
                    switch kind {
                    case .sum, .mean: for i in 0..<v.count { a[Int(t[i])] += v[i] }
                    case .max: for i in 0..<v.count where !a[Int(t[i])].isNaN && !(v[i] <= a[Int(t[i])]) { a[Int(t[i])] = v[i] }
                    case .min: for i in 0..<v.count where !a[Int(t[i])].isNaN && !(v[i] >= a[Int(t[i])]) { a[Int(t[i])] = v[i] }
                    }
                }
            }
        }
        if kind == .mean { let s = 1 / Float(n); for i in acc.indices { acc[i] *= s } }
        return Tensor(shape: outShape, floats: acc)
    }

    /// `ArgMax` on `axis` (default 0): int64 indices of the first maximum, or the last with
    /// `select_last_index`=1 (opset 12); `keepdims` default 1.
    static func argMax(_ node: Node, _ inputs: [Tensor?]) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let k = try ShapeOps.axis(node, try node.int("axis", default: 0), rank: x.rank)
        let keepDims = try node.int("keepdims", default: 1) != 0
        let last = try node.int("select_last_index", default: 0) != 0
        let dim = x.shape[k]
        guard dim > 0 else { throw node.fail("cannot take ArgMax over an empty axis") }
        let outer = x.shape[..<k].reduce(1, *), inner = x.shape[(k + 1)...].reduce(1, *)
        let v = x.asFloatArray()
        var out = [Int64](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * dim * inner + i
                var best = 0, bestValue = v[base]
                for j in 1..<dim {
                    let e = v[base + j * inner]
                    if e > bestValue || (last && e == bestValue) {
                        best = j; bestValue = e
                    }
                }
                out[o * inner + i] = Int64(best)
            }
        }
        var shape = x.shape
        if keepDims { shape[k] = 1 } else { shape.remove(at: k) }
        return Tensor(shape: shape, int64s: out)
    }
}
