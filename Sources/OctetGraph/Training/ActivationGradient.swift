import OctetTensor

/// Relu / Clip (ReLU6) / LeakyRelu / HardSwish / HardSigmoid with their derivatives: 1 inside
/// (lo, hi) for a clamp, 0 outside (the subgradient at the bounds is taken as 0 below lo or above
/// hi, 1 at them); LeakyRelu 1 for x ≥ 0 and alpha below; HardSwish 0 below −3, 1 above 3,
/// x/3 + 1/2 between; HardSigmoid alpha where 0 < alpha·x + beta < 1, else 0 (ONNX operator
/// semantics).
public final class ActivationGradient: LayerGradient {
    public enum Kind: Sendable, Equatable {
        case clamp(lo: Float, hi: Float)
        case leaky(alpha: Float)
        /// ONNX HardSwish: x · clamp(x/6 + 1/2, 0, 1).
        case hardSwish
        /// ONNX HardSigmoid: clamp(alpha·x + beta, 0, 1).
        case hardSigmoid(alpha: Float, beta: Float)
    }
    public let node: Node
    public let kind: Kind
    public var weight: Tensor? { get { nil } set {} }
    public var bias: Tensor? { get { nil } set {} }
    private var cachedInput: Tensor?

    public init(node: Node, kind: Kind) { self.node = node; self.kind = kind }

    public func forward(_ x: Tensor) throws -> Tensor {
        try x.requireShape(x.shape, node, "input")
        cachedInput = x
        var y = x
        y.withMutableFloats { p in apply(p) }
        return y
    }

    /// Applies the activation in place.
    public func apply(_ p: UnsafeMutableBufferPointer<Float>) {
        switch kind {
        case .clamp(let lo, let hi): for i in p.indices { p[i] = Swift.min(Swift.max(p[i], lo), hi) }
        case .leaky(let a): for i in p.indices where p[i] < 0 { p[i] *= a }
        case .hardSwish: for i in p.indices { p[i] *= Swift.min(Swift.max(p[i] / 6 + 0.5, 0), 1) }
        case .hardSigmoid(let a, let b): for i in p.indices { p[i] = Swift.min(Swift.max(a * p[i] + b, 0), 1) }
        }
    }

    public func backward(_ dY: Tensor, inputGradient: Bool) throws -> LayerGradients {
        guard let x = cachedInput else { throw OctetGraphError.execution(node: node.label, reason: "backward before forward") }
        try dY.requireShape(x.shape, node, "output gradient")
        var dX = dY
        x.withFloats { xp in dX.withMutableFloats { d in ActivationGradient.mask(d, xp, kind) } }
        return LayerGradients(input: dX)
    }

    /// d[i] *= f'(x[i]).
    public static func mask(_ d: UnsafeMutableBufferPointer<Float>, _ x: UnsafeBufferPointer<Float>, _ kind: Kind) {
        switch kind {
        case .clamp(let lo, let hi): for i in d.indices where x[i] < lo || x[i] > hi { d[i] = 0 }
        case .leaky(let a): for i in d.indices where x[i] < 0 { d[i] *= a }
        case .hardSwish: for i in d.indices { d[i] *= x[i] < -3 ? 0 : x[i] > 3 ? 1 : x[i] / 3 + 0.5 }
        case .hardSigmoid(let a, let b):
            for i in d.indices { let t = a * x[i] + b; d[i] *= t <= 0 || t >= 1 ? 0 : a }
        }
    }
}
