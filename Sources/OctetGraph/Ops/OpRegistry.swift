import OctetTensor

/// Computes one node's outputs from its inputs (`nil` for an omitted optional input).
/// `opset` is the model's default-domain opset, for ops whose semantics changed.
public typealias OpKernel = (_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor]

/// The one name → kernel table of the float executor. Each op family contributes its
/// own table from its own file.
public enum OpRegistry {
    public static let kernels: [String: OpKernel] = {
        var t: [String: OpKernel] = [:]
        for family in [ConvOps.kernels, PoolOps.kernels, LinearOps.kernels, ActivationOps.kernels,
                       ElementwiseOps.kernels, ShapeOps.kernels, ReduceOps.kernels, ResizeOps.kernels,
                       ConstantOps.kernels, QDQOps.kernels] {
            t.merge(family) { a, _ in a }
        }
        return t
    }()

    /// Whether the float executor can run `opType` (default ONNX domain).
    public static func supports(_ opType: String) -> Bool { kernels[opType] != nil }

    /// The default-domain opset each operator with a kernel here first appears in, for those
    /// after opset 7 (the lowest opset imported); ONNX operator spec (Operators.md, "since version").
    public static let introducedIn: [String: Int] = [
        "Expand": 8, "ConstantOfShape": 9, "Erf": 9, "Where": 9, "QuantizeLinear": 10, "DequantizeLinear": 10,
        "Resize": 10, "Range": 11, "HardSwish": 14,
    ]
}

/// Helpers for kernels: required inputs with a clear error.
extension Node {
    func required(_ inputs: [Tensor?], _ i: Int) throws -> Tensor {
        guard i < inputs.count, let t = inputs[i] else {
            throw OctetGraphError.execution(node: label, reason: "missing required input #\(i)")
        }
        return t
    }
    func requiredFloat(_ inputs: [Tensor?], _ i: Int) throws -> Tensor {
        let t = try required(inputs, i)
        guard t.dtype == .float32 else {
            throw OctetGraphError.execution(node: label, reason: "input #\(i) must be float32, got \(t.dtype)")
        }
        return t
    }
    func optional(_ inputs: [Tensor?], _ i: Int) -> Tensor? { i < inputs.count ? inputs[i] : nil }
    func fail(_ reason: String) -> OctetGraphError { .execution(node: label, reason: reason) }

    /// The most elements an op's output may have (2³¹: 8 GiB of float32).
    static let maxOutputElements = 1 << 31

    /// Throws unless an output of `shape` is non-negative and at most `maxOutputElements`
    /// (sizes computed from attributes: pads, strides, scales), before anything is allocated.
    func requireOutputSize(_ shape: [Int]) throws {
        guard let n = Tensor.checkedByteCount(shape), n <= Node.maxOutputElements else {
            throw fail("output shape \(shape) is negative or larger than \(Node.maxOutputElements) elements")
        }
    }
}
