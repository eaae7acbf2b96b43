import OctetTensor

/// Gradients of one layer's backward pass: with respect to its input, weight and bias.
/// `input` is nil when the caller did not ask for it (layer-wise optimization needs only dW, dB).
public struct LayerGradients: Sendable {
    public var input: Tensor?
    public var weight: Tensor?
    public var bias: Tensor?
    public init(input: Tensor?, weight: Tensor? = nil, bias: Tensor? = nil) {
        self.input = input; self.weight = weight; self.bias = bias
    }
}

/// A differentiable layer: `forward` caches what `backward` needs; `backward(dY)` returns
/// (dX, dW, dB) for the last forward. Parameters are mutable so an optimizer (or fake
/// quantization of the weights) can replace them between steps.
///
/// Reverse-mode differentiation of the ONNX operator semantics; shapes are those of the op
/// (NCHW for Conv / ConvTranspose, [M, K] for Gemm). Designed to chain into full training:
/// layers compose by feeding one's dX as the previous layer's dY.
public protocol LayerGradient: AnyObject {
    /// Weight (nil for activations), replaced by the optimizer between steps.
    var weight: Tensor? { get set }
    var bias: Tensor? { get set }
    /// - Throws: `OctetGraphError.execution` naming the node on a shape mismatch.
    func forward(_ x: Tensor) throws -> Tensor
    /// - Parameter dY: gradient of the loss with respect to the last forward's output (same shape).
    /// - Parameter inputGradient: compute dX (false skips the most expensive part when unused).
    /// - Throws: `OctetGraphError.execution` when called before `forward` or with a wrong shape.
    func backward(_ dY: Tensor, inputGradient: Bool) throws -> LayerGradients
}

/// Builds the differentiable layer of a node: Conv, ConvTranspose, Gemm (weights from
/// `initializers`), Relu, Clip (constant bounds), LeakyRelu, HardSwish, HardSigmoid.
public enum Differentiable {
    /// Op types with a `LayerGradient`.
    public static let supportedOps: Set<String> = ["Conv", "ConvTranspose", "Gemm", "Relu", "Clip", "LeakyRelu", "HardSwish",
                                                   "HardSigmoid"]

    /// - Throws: `OctetGraphError.unsupportedOp` for another op; `.execution` for a missing weight.
    public static func layer(for node: Node, in graph: Graph) throws -> LayerGradient {
        func constant(_ i: Int) -> Tensor? {
            i < node.inputs.count && !node.inputs[i].isEmpty ? graph.initializers[node.inputs[i]] : nil
        }
        switch node.opType {
        case "Conv", "ConvTranspose", "Gemm":
            guard let w = constant(1), w.dtype == .float32 else {
                throw OctetGraphError.execution(node: node.label, reason: "weight must be a float initializer to differentiate")
            }
            switch node.opType {
            case "Conv": return ConvGradient(node: node, weight: w, bias: constant(2))
            case "ConvTranspose": return ConvTransposeGradient(node: node, weight: w, bias: constant(2))
            default: return try GemmGradient(node: node, weight: w, bias: constant(2))
            }
        case "Relu": return ActivationGradient(node: node, kind: .clamp(lo: 0, hi: .infinity))
        case "LeakyRelu": return ActivationGradient(node: node, kind: .leaky(alpha: try node.float("alpha", default: 0.01)))
        case "HardSwish": return ActivationGradient(node: node, kind: .hardSwish)
        case "HardSigmoid":
            return ActivationGradient(node: node, kind: .hardSigmoid(alpha: try node.float("alpha", default: 0.2),
                                                                     beta: try node.float("beta", default: 0.5)))
        case "Clip":
            guard let (lo, hi) = graph.clipBounds(node) else {
                throw OctetGraphError.execution(node: node.label, reason: "Clip bounds must be constant to differentiate")
            }
            return ActivationGradient(node: node, kind: .clamp(lo: lo, hi: hi))
        default:
            throw OctetGraphError.unsupportedOp(node: node.name, opType: node.opType, domain: node.domain, opset: graph.opset)
        }
    }
}

extension Tensor {
    /// Throws unless `self` has `shape` (used by backward passes).
    func requireShape(_ shape: [Int], _ node: Node, _ what: String) throws {
        guard self.shape == shape, dtype == .float32 else {
            throw OctetGraphError.execution(node: node.label, reason: "\(what) must be float32 of shape \(shape), got \(dtype) \(self.shape)")
        }
    }
}
