import OctetGraph
import OctetTensor

/// How each node of a graph would be computed on a DPU: its `QuantOpKind`, fused activation and
/// (for a fused activation) the producer it joins. For a quantized graph this is read from the
/// annotations; for a prepared float graph it follows the quantizer's grouping rules
/// (reference-quantizer §1.2: Relu / Clip(0, 6) / Clip(0, ∞) / LeakyRelu after a Conv / ConvTranspose /
/// Gemm, Relu / Relu6 after an Add, soft-fused when the producer's output has no other use).
struct NodeClassification {
    var kind: QuantOpKind
    var activation: FusedActivation?
    /// Index of the producer a `.fused` node joins.
    var fusedInto: Int?
    /// Slope of a LeakyRelu in the group, as written in the graph.
    var leakyAlpha: Float?
}

enum NodeClassifier {
    static let movementOps: Set<String> = ["Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice",
                                           "MaxPool", "GlobalMaxPool", "Identity", "Dropout", "Split"]

    /// From a quantized graph's annotations (one per node, in order).
    static func classify(_ q: QuantizedGraph) throws -> [NodeClassification] {
        let g = q.graph, ann = q.annotations.nodes
        guard ann.count == g.nodes.count else {
            throw OctetDPUError.notDeployable("annotations list \(ann.count) nodes, the graph has \(g.nodes.count)")
        }
        var out = ann.map { NodeClassification(kind: $0.kind, activation: $0.activation) }
        for (i, a) in ann.enumerated() where a.kind == .fused {
            out[i].fusedInto = g.producerIndex(of: g.nodes[i].inputs[0])
        }
        for (i, n) in g.nodes.enumerated() where n.opType == "LeakyRelu" {
            let alpha = try n.float("alpha", default: 0.01)
            // The quantizer computes every LeakyRelu at 26/256 (its warning records the change).
            out[i].leakyAlpha = DPUMath.leakyReluAlpha(alpha) == DPUMath.dpuLeakyReluAlpha ? DPUMath.dpuLeakyReluAlpha : alpha
            if let p = out[i].fusedInto { out[p].leakyAlpha = out[i].leakyAlpha }
        }
        return out
    }

    /// From a prepared float graph.
    static func classify(_ g: Graph, info: TensorInfo) throws -> [NodeClassification] {
        var out = try g.nodes.map { NodeClassification(kind: try kind(g, info, $0), activation: nil) }
        for (i, n) in g.nodes.enumerated() {
            if out[i].kind == .activation { out[i].activation = activation(g, n) }
            if n.opType == "LeakyRelu" { out[i].leakyAlpha = try n.float("alpha", default: 0.01) }
        }
        for (i, n) in g.nodes.enumerated() where out[i].kind == .conv || out[i].kind == .add {
            if out[i].kind == .conv { out[i].activation = FusedActivation.none }
            guard g.useCount(of: n.outputs[0]) == 1, let j = g.consumers(of: n.outputs[0]).first,
                  out[j].kind == .activation, let act = activation(g, g.nodes[j]) else { continue }
            if out[i].kind == .add && act == .leakyRelu { continue }
            out[j].kind = .fused; out[j].fusedInto = i
            out[i].activation = act; out[i].leakyAlpha = out[j].leakyAlpha
        }
        return out
    }

    static func kind(_ g: Graph, _ info: TensorInfo, _ n: Node) throws -> QuantOpKind {
        if !n.outputs.contains(where: { info.isFloat($0) }) { return .nonFloat }
        let hasConstBias = n.inputs.count < 3 || n.inputs[2].isEmpty || g.constantFloat(n.inputs[2]) != nil
        switch n.opType {
        case "Conv", "ConvTranspose": return g.constantFloat(n.inputs[1])?.rank == 4 && hasConstBias ? .conv : .float
        case "Gemm":
            let ok = try n.int("transA", default: 0) == 0 && n.int("transB", default: 0) == 1
                && n.float("alpha", default: 1) == 1 && n.float("beta", default: 1) == 1
            return ok && g.constantFloat(n.inputs[1])?.rank == 2 && hasConstBias && info.shapes[n.inputs[0]]?.count == 2 ? .conv : .float
        case "Add", "Mul":
            let consts = n.inputs.filter { g.initializers[$0] != nil }.count
            return n.inputs.count == 2 && consts < 2 && n.inputs.allSatisfy({ info.isFloat($0) })
                ? (n.opType == "Add" ? .add : .mul) : .float
        case "Concat": return n.inputs.allSatisfy({ info.isFloat($0) }) ? .concat : .float
        case "Relu", "LeakyRelu": return .activation
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
        default: return movementOps.contains(n.opType) ? .passThrough : .float
        }
    }

    static func activation(_ g: Graph, _ n: Node) -> FusedActivation? {
        switch n.opType {
        case "Relu": return .relu
        case "LeakyRelu": return .leakyRelu
        case "Clip":
            guard let (lo, hi) = g.clipBounds(n), lo == 0 else { return nil }
            return hi == 6 ? .relu6 : hi == .infinity || hi == .greatestFiniteMagnitude ? .relu : nil
        default: return nil
        }
    }

    static func isSpatialMean(_ g: Graph, _ info: TensorInfo, _ n: Node) throws -> Bool {
        guard let s = info.shapes[n.inputs[0]], s.count == 4, try n.int("keepdims", default: 1) == 1 else { return false }
        var axes = try n.ints("axes")
        if axes == nil, n.inputs.count > 1, let t = g.initializers[n.inputs[1]] { axes = t.asInt64Array().map { Int($0) } }
        return Set((axes ?? []).map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3]
    }
}
