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
            throw OctetQuantError.nothingToQuantize(model: prepared.graph.name)
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
    var leakyReplaced: [(alpha: Float, node: String)] = []   // LeakyRelu alphas the DPU's 26/256 replaces

    init(_ p: PreparedGraph, _ c: QConfig) { g = p.graph; info = p.info; config = c }


    func excluded(_ n: Node) -> Bool { config.excludes(n) }

    mutating func build() throws {
        for input in g.inputs where g.initializers[input.name] == nil && info.isFloat(input.name) {
            addQuantizer(input.name)
            networkInputs.insert(input.name)
        }
        var kinds = try g.nodes.map { try kind(of: $0) }
        findFusions(&kinds)
        findConcatShares(kinds)
        for (i, n) in g.nodes.enumerated() { try annotate(i, n, kinds[i]) }
        warnLeakyReplaced()
    }

    /// One warning per replaced alpha, naming its nodes (up to four, then the count).
    mutating func warnLeakyReplaced() {
        var alphas: [Float] = []
        for r in leakyReplaced where !alphas.contains(r.alpha) { alphas.append(r.alpha) }
        for a in alphas {
            let names = leakyReplaced.filter { $0.alpha == a }.map(\.node)
            let shown = names.prefix(4).joined(separator: ", ") + (names.count > 4 ? ", … (\(names.count) nodes)" : "")
            warnings.append("LeakyRelu \(shown): alpha \(a) replaced by the DPU's 26/256 = 0.1015625")
        }
    }

    mutating func addQuantizer(_ t: String) {
        guard canonical[t] == nil else { return }
        canonical[t] = t
        order.append(t)
    }

    /// Classifies a node before fusion: excluded layers, else the shared rules.
    func kind(of n: Node) throws -> QuantOpKind {
        if !n.outputs.contains(where: { info.isFloat($0) }) { return .nonFloat }
        if excluded(n) { return .excluded }
        return try QuantOpClassifier.kind(g, info, n)
    }

    /// relu, relu6 or leakyRelu for an activation node (`QuantOpClassifier.activation`).
    func activation(_ n: Node) -> FusedActivation? { QuantOpClassifier.activation(g, n) }
}
