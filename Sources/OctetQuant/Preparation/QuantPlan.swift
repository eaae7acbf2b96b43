import OctetGraph
import OctetTensor

/// Which tensors are quantized and how nodes group, before any calibration.
///
/// Grouping (reference-quantizer §1.2): Relu / Clip(0, 6) / Clip(0, ∞) / LeakyRelu after a
/// Conv / ConvTranspose / Gemm (or Relu / Relu6 after an Add) whose output has no other use join
/// the producer's group, which has one output quantizer. A producer whose only consumer is a
/// Concat shares the Concat output's quantizer. Pass-through ops keep the input's quantizer.
public struct QuantPlan: Sendable {
    /// Activation quantizers in graph order: the tensors that are observed (canonical names).
    public var activations: [String]
    /// Network inputs among `activations` (diffs scope 1).
    public var networkInputs: Set<String>
    /// Constant tensors quantized as parameters: weight/bias name → is bias.
    public var parameters: [String: Bool]
    /// Every quantized tensor → its canonical activation quantizer (identity for canonical ones).
    public var canonical: [String: String]
    /// Node annotations in graph order (no parameters yet).
    public var nodes: [QuantNodeAnnotation]
    public var warnings: [String]

    /// The key of a node: its name, or its first output when unnamed.
    public static func key(_ n: Node) -> String { n.name.isEmpty ? (n.outputs.first ?? "") : n.name }
}

extension QuantPlan {
    /// Plans the quantization of a prepared graph.
    /// - Throws: `OctetQuantError.nothingToQuantize` when no Conv/Gemm/eltwise node can be quantized.
    public init(prepared: PreparedGraph, config: QConfig) throws {
        var b = QuantPlanBuilder(prepared, config)
        try b.build()
        self.init(activations: b.order, networkInputs: b.networkInputs, parameters: b.parameters,
                  canonical: b.canonical, nodes: b.nodes, warnings: b.warnings)
        guard nodes.contains(where: { [.conv, .add, .mul].contains($0.kind) }) else {
            throw OctetQuantError.nothingToQuantize(graph: prepared.graph.name)
        }
    }
}

struct QuantPlanBuilder {
    let g: Graph
    let info: TensorInfo
    let config: QConfig
    var order: [String] = []
    var networkInputs: Set<String> = []
    var parameters: [String: Bool] = [:]
    var canonical: [String: String] = [:]
    var nodes: [QuantNodeAnnotation] = []
    var warnings: [String] = []
    var fusedInto: [Int: Int] = [:]          // activation node → producer node
    var fusedActivation: [Int: FusedActivation] = [:]   // producer node → activation
    var concatShare: [String: String] = [:]   // producer output → concat output

    init(_ p: PreparedGraph, _ c: QConfig) { g = p.graph; info = p.info; config = c }

    static let passThroughOps: Set<String> = ["Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice",
                                              "MaxPool", "GlobalMaxPool", "Identity", "Dropout", "Split"]

    func excluded(_ n: Node) -> Bool {
        config.excludedNodes.contains(QuantPlan.key(n)) || config.excludedOpTypes.contains(n.opType)
    }

    mutating func build() throws {
        for input in g.inputs where g.initializers[input.name] == nil && info.isFloat(input.name) {
            addQuantizer(input.name)
            networkInputs.insert(input.name)
        }
        var kinds = try g.nodes.map { try kind(of: $0) }
        findFusions(&kinds)
        findConcatShares(kinds)
        for (i, n) in g.nodes.enumerated() { try annotate(i, n, kinds[i]) }
    }

    mutating func addQuantizer(_ t: String) {
        guard canonical[t] == nil else { return }
        canonical[t] = t
        order.append(t)
    }

    /// Classifies a node before fusion.
    func kind(of n: Node) throws -> QuantOpKind {
        if !n.outputs.contains(where: { info.isFloat($0) }) { return .nonFloat }
        if excluded(n) { return .excluded }
        switch n.opType {
        case "Conv", "ConvTranspose":
            return g.constantFloat(n.inputs[1])?.rank == 4 && biasIsConstant(n) ? .conv : .float
        case "Gemm":
            let ok = try n.int("transA", default: 0) == 0 && n.int("transB", default: 0) == 1
                && n.float("alpha", default: 1) == 1 && n.float("beta", default: 1) == 1
            return ok && g.constantFloat(n.inputs[1])?.rank == 2 && biasIsConstant(n) && info.shapes[n.inputs[0]]?.count == 2 ? .conv : .float
        case "Add", "Mul":
            let consts = n.inputs.filter { g.initializers[$0] != nil }.count
            return n.inputs.count == 2 && consts < 2 && n.inputs.allSatisfy({ info.isFloat($0) })
                ? (n.opType == "Add" ? .add : .mul) : .float
        case "Concat": return n.inputs.allSatisfy({ info.isFloat($0) }) ? .concat : .float
        case "Relu", "LeakyRelu": return .activation
        case "Clip": return activationOfClip(n) != nil ? .activation : .float
        case "AveragePool", "GlobalAveragePool": return info.shapes[n.inputs[0]]?.count == 4 ? .averagePool : .float
        case "ReduceMean": return try isSpatialMean(n) ? .averagePool : .float
        case "HardSigmoid":
            let a = try n.float("alpha", default: 0.2), beta = try n.float("beta", default: 0.5)
            return abs(a - 1 / 6) < 1e-4 && beta == 0.5 ? .hardSigmoid : .float
        case "HardSwish": return .hardSwish
        case "Resize", "Upsample": return try n.string("mode", default: "nearest") == "nearest" ? .passThrough : .float
        case "Pad":
            let zeroValue = n.inputs.count < 3 || n.inputs[2].isEmpty || g.scalarConstant(n.inputs[2]) == 0
            return try n.string("mode", default: "constant") == "constant" && zeroValue ? .passThrough : .float
        default:
            return QuantPlanBuilder.passThroughOps.contains(n.opType) ? .passThrough : .float
        }
    }

    func biasIsConstant(_ n: Node) -> Bool {
        n.inputs.count < 3 || n.inputs[2].isEmpty || g.constantFloat(n.inputs[2]) != nil
    }

    /// relu for Relu / Clip(0, ∞), relu6 for Clip(0, 6), leaky for LeakyRelu; nil otherwise.
    func activationOfClip(_ n: Node) -> FusedActivation? {
        guard let (lo, hi) = g.clipBounds(n), lo == 0 else { return nil }
        return hi == 6 ? .relu6 : hi == .infinity || hi == .greatestFiniteMagnitude ? .relu : nil
    }

    func activation(_ n: Node) -> FusedActivation? {
        switch n.opType {
        case "Relu": return .relu
        case "LeakyRelu": return .leakyRelu
        case "Clip": return activationOfClip(n)
        default: return nil
        }
    }

    func isSpatialMean(_ n: Node) throws -> Bool {
        guard let s = info.shapes[n.inputs[0]], s.count == 4, try n.int("keepdims", default: 1) == 1 else { return false }
        var axes = try n.ints("axes")
        if axes == nil, n.inputs.count > 1, let t = g.initializers[n.inputs[1]] { axes = t.asInt64Array().map { Int($0) } }
        return Set((axes ?? []).map { $0 < 0 ? $0 + 4 : $0 }) == [2, 3]
    }
}
