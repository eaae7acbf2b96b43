import Foundation
import OctetTensor

/// Element-wise activations (ONNX operator spec): Relu, Clip, LeakyRelu, PRelu, Sigmoid,
/// Tanh, HardSigmoid, HardSwish, Elu, Selu, Softplus, Softsign.
enum ActivationOps {
    static let kernels: [String: OpKernel] = [
        "Relu": unary { max($0, 0) },
        "Sigmoid": unary { 1 / (1 + exp(-$0)) },
        "Tanh": unary { tanh($0) },
        "Softplus": unary { $0 > 20 ? $0 : log1p(exp($0)) },
        "Softsign": unary { $0 / (1 + abs($0)) },
        "HardSwish": unary { $0 * max(0, min(1, $0 / 6 + 0.5)) },
        "HardSigmoid": { n, i, _ in
            let a = try n.float("alpha", default: 0.2), b = try n.float("beta", default: 0.5)
            return try apply(n, i) { min(max(a * $0 + b, 0), 1) }  // NaN stays NaN
        },
        "LeakyRelu": { n, i, _ in
            let a = try n.float("alpha", default: 0.01)
            return try apply(n, i) { $0 >= 0 ? $0 : a * $0 }
        },
        "Elu": { n, i, _ in
            let a = try n.float("alpha", default: 1)
            return try apply(n, i) { $0 >= 0 ? $0 : a * (exp($0) - 1) }
        },
        "Selu": { n, i, _ in
            let a = try n.float("alpha", default: 1.67326319217681884765625)
            let g = try n.float("gamma", default: 1.05070102214813232421875)
            return try apply(n, i) { g * ($0 > 0 ? $0 : a * (exp($0) - 1)) }
        },
        "Clip": clip,
        "PRelu": prelu,
    ]

    static func unary(_ f: @escaping (Float) -> Float) -> OpKernel {
        { n, i, _ in try apply(n, i, f) }
    }

    @inline(__always)
    static func apply(_ node: Node, _ inputs: [Tensor?], _ f: (Float) -> Float) throws -> [Tensor] {
        var y = try node.requiredFloat(inputs, 0)
        y.withMutableFloats { p in for i in p.indices { p[i] = f(p[i]) } }
        return [y]
    }

    /// Clip: bounds are attributes `min`/`max` before opset 11, optional inputs 1 and 2 after.
    /// y = min(max(x, min), max), so every output is max when min > max (ONNX Clip).
    static func clip(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        let (lo, hi) = try clipBounds(node, inputs, opset)
        return try apply(node, inputs) { min(max($0, lo), hi) }
    }

    /// The [min, max] of a Clip node for its opset (missing bounds are ∓infinity).
    static func clipBounds(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> (Float, Float) {
        if opset < 11 {
            return (try node.float("min", default: -Float.greatestFiniteMagnitude),
                    try node.float("max", default: Float.greatestFiniteMagnitude))
        }
        func bound(_ i: Int, _ d: Float) throws -> Float {
            guard let t = node.optional(inputs, i) else { return d }
            guard t.count == 1 else { throw node.fail("Clip bound input #\(i) must be a scalar, got shape \(t.shape)") }
            return t.asFloatArray()[0]
        }
        return (try bound(1, -Float.infinity), try bound(2, Float.infinity))
    }

    /// PRelu: y = x < 0 ? slope · x : x, slope unidirectionally broadcast to x.
    static func prelu(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        var y = try node.requiredFloat(inputs, 0)
        let slope = try node.requiredFloat(inputs, 1)
        let full = try Shape.broadcast(y.shape, slope.shape)
        guard full == y.shape else { throw node.fail("slope \(slope.shape) does not broadcast to input \(y.shape)") }
        let s = slope.floats
        if y.count == 0 { return [y] }
        if s.count == 1 {
            let a = s[0]
            y.withMutableFloats { p in for i in p.indices where p[i] < 0 { p[i] *= a } }
        } else if y.rank >= 2, s.count == y.shape[1], let axis = slope.shape.firstIndex(where: { $0 != 1 }),
                  slope.shape.filter({ $0 != 1 }).count == 1, axis + y.rank - slope.rank == 1 {
            // one slope per channel: the slope's only non-1 axis lines up with axis 1
            let c = y.shape[1], n = y.shape[0], plane = y.count / (n * c)
            y.withMutableFloats { p in
                for i in 0..<(n * c) {
                    let a = s[i % c], base = p.baseAddress! + i * plane
                    for j in 0..<plane where base[j] < 0 { base[j] *= a }
                }
            }
        } else {
            let shape = y.shape
            y.withMutableFloats { p in
                for i in p.indices where p[i] < 0 { p[i] *= s[LinearOps.broadcastIndex(i, shape, slope.shape)] }
            }
        }
        return [y]
    }
}
