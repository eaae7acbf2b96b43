import OctetTensor

/// How a node of a prepared float graph is computed by power-of-two quantization, before
/// activations are fused into their producers and before layer exclusions: the one rule set
/// the quantizer's plan and the DPU inspector share (reference-quantizer §1.2, §4).
public enum QuantOpClassifier {
    /// Ops that move or select data and keep their input's fix_pos.
    public static let passThroughOps: Set<String> = ["Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice",
                                                     "MaxPool", "GlobalMaxPool", "Identity", "Dropout", "Split"]

    /// The node's kind: `.conv` for Conv / ConvTranspose / Gemm (transB = 1) with constant weights
    /// and bias, `.add` / `.mul` on two float tensors, `.activation` for Relu, LeakyRelu with a
    /// DPU slope (`DPUMath.isDPULeakyReluAlpha`) and Clip(0, 6 or ∞), DPU average pooling, hard-sigmoid (alpha 1/6, beta 1/2), hard-swish,
    /// nearest resize and zero padding as pass-through, `.nonFloat` when no output is float,
    /// else `.float`. - Throws: on malformed attributes, naming the node.
    public static func kind(_ g: Graph, _ info: TensorInfo, _ n: Node) throws -> QuantOpKind {
        if !n.outputs.contains(where: { info.isFloat($0) }) { return .nonFloat }
        let constantBias = n.inputs.count < 3 || n.inputs[2].isEmpty || g.constantFloat(n.inputs[2]) != nil
        switch n.opType {
        case "Conv", "ConvTranspose": return g.constantFloat(n.inputs[1])?.rank == 4 && constantBias ? .conv : .float
        case "Gemm":
            let ok = try n.int("transA", default: 0) == 0 && n.int("transB", default: 0) == 1
                && n.float("alpha", default: 1) == 1 && n.float("beta", default: 1) == 1
            return ok && g.constantFloat(n.inputs[1])?.rank == 2 && constantBias && info.shapes[n.inputs[0]]?.count == 2 ? .conv : .float
        case "Add", "Mul":
            let consts = n.inputs.filter { g.initializers[$0] != nil }.count
            return n.inputs.count == 2 && consts < 2 && n.inputs.allSatisfy({ info.isFloat($0) })
                ? (n.opType == "Add" ? .add : .mul) : .float
        case "Concat": return n.inputs.allSatisfy({ info.isFloat($0) }) ? .concat : .float
        case "Relu": return .activation
        case "LeakyRelu": return activation(g, n) != nil ? .activation : .float
        case "Clip": return activation(g, n) != nil ? .activation : .float
        case "AveragePool", "GlobalAveragePool": return info.shapes[n.inputs[0]]?.count == 4 ? .averagePool : .float
        case "ReduceMean": return try isSpatialMean(g, info, n) ? .averagePool : .float
        case "HardSigmoid":
            let a = try n.float("alpha", default: 0.2), b = try n.float("beta", default: 0.5)
            return abs(a - 1 / 6) < 1e-4 && b == 0.5 ? .hardSigmoid : .float
        case "HardSwish": return .hardSwish
        case "Resize", "Upsample": return try n.string("mode", default: "nearest") == "nearest" ? .passThrough : .float
        case "Pad":
            let zero = n.inputs.count < 3 || n.inputs[2].isEmpty || g.scalarConstant(n.inputs[2]) == 0
            return try n.string("mode", default: "constant") == "constant" && zero ? .passThrough : .float
        default: return passThroughOps.contains(n.opType) ? .passThrough : .float
        }
    }

    /// relu for Relu / Clip(0, ∞), relu6 for Clip(0, 6), leakyRelu for LeakyRelu with a DPU
    /// slope; nil otherwise.
    public static func activation(_ g: Graph, _ n: Node) -> FusedActivation? {
        switch n.opType {
        case "Relu": return .relu
        case "LeakyRelu":
            guard let alpha = try? n.float("alpha", default: 0.01), DPUMath.isDPULeakyReluAlpha(alpha) else { return nil }
            return .leakyRelu
        case "Clip":
            guard let (lo, hi) = g.clipBounds(n), lo == 0 else { return nil }
            return hi == 6 ? .relu6 : hi == .infinity || hi == .greatestFiniteMagnitude ? .relu : nil
        default: return nil
        }
    }

    /// ReduceMean over H and W of an NCHW tensor with keepdims (a global average pool).
    public static func isSpatialMean(_ g: Graph, _ info: TensorInfo, _ n: Node) throws -> Bool {
        guard let s = info.shapes[n.inputs[0]], s.count == 4, try n.int("keepdims", default: 1) == 1 else { return false }
        var axes = try n.ints("axes")
        if axes == nil, n.inputs.count > 1, let t = g.initializers[n.inputs[1]] { axes = t.asInt64Array().map { Int($0) } }
        return Set((axes ?? []).map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3]
    }
}
