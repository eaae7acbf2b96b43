import OctetGraph
import OctetTensor

/// Decides, for a target, where each node runs and why (vai_q_pytorch `Inspector`,
/// `hardware/dpu_op_filter.py`; reference-quantizer §9.1).
///
/// A node goes to the CPU when the quantizer computes it in float (not a DPU op), or when it
/// breaks a target rule (`TargetRules`: engine present, kernel / stride / pad ranges, channel
/// limits, weight-bank fit, fused nonlinear, LeakyRelu slope). A fused activation follows its
/// producer. The partition is the maximal runs of one device in execution order; shape
/// computations (no real-valued data) belong to no subgraph.
public enum Inspector {
    /// Inspects a float graph: it is prepared as the quantizer would prepare it (BN folding, …),
    /// then classified with the quantizer's grouping rules. Patterns are found on the original graph
    /// (so BatchNormalization shows); a chain absorbed into a larger recognized op (e.g. the
    /// Add → Clip inside a HardSwish) is left out, as its output no longer exists.
    /// - Throws: preparation errors naming the node.
    public static func inspect(_ graph: Graph, target: DPUTarget = .default) throws -> Inspection {
        let prepared = try QuantPreparation.prepare(graph)
        let kinds = try NodeClassifier.classify(prepared.graph, info: prepared.info)
        var r = try inspect(prepared.graph, kinds, shapes: prepared.info.shapes, target: target)
        let kept = Set(prepared.graph.nodes.flatMap(\.outputs))
        r.patterns = FusedPatterns.find(in: graph).filter { kept.contains($0.output) }
        return r
    }

    /// Inspects a quantized graph from its annotations (kinds, fused activations).
    /// - Throws: `OctetDPUError.notDeployable` when annotations and graph disagree.
    public static func inspect(_ q: QuantizedGraph, target: DPUTarget = .default) throws -> Inspection {
        let kinds = try NodeClassifier.classify(q)
        let info = try TensorInfo(graph: q.graph)
        var r = try inspect(q.graph, kinds, shapes: info.shapes, target: target)
        r.patterns = FusedPatterns.find(in: q.graph, kinds: kinds)
        return r
    }

    static func inspect(_ g: Graph, _ kinds: [NodeClassification], shapes: [String: [Int]], target: DPUTarget) throws -> Inspection {
        let rules = TargetRules(target: target, graph: g, shapes: shapes)
        var nodes: [NodeInspection] = []
        for (i, n) in g.nodes.enumerated() {
            let k = kinds[i]
            var reason = try rules.rejection(n, kind: k.kind, activation: k.activation, leakyAlpha: k.leakyAlpha)
            if k.kind == .fused, let p = k.fusedInto, let pr = nodes[p].reason { reason = "fused into \(nodes[p].node), which runs on the CPU (\(pr))" }
            nodes.append(NodeInspection(node: nodeKey(n), opType: n.opType, kind: k.kind, device: reason == nil ? .dpu : .cpu,
                                        reason: reason, activation: k.activation, subgraph: nil,
                                        outputShape: shapes[n.outputs.first ?? ""] ?? []))
        }
        let subgraphs = partition(&nodes)
        return Inspection(target: target.name, nodes: nodes, patterns: [], subgraphs: subgraphs)
    }

    /// Maximal runs of one device in execution order; `.nonFloat` nodes join no subgraph.
    static func partition(_ nodes: inout [NodeInspection]) -> [SubgraphInspection] {
        var subgraphs: [SubgraphInspection] = []
        for i in nodes.indices where nodes[i].kind != .nonFloat {
            if subgraphs.last?.device != nodes[i].device {
                subgraphs.append(SubgraphInspection(index: subgraphs.count, device: nodes[i].device, nodes: []))
            }
            subgraphs[subgraphs.count - 1].nodes.append(nodes[i].node)
            nodes[i].subgraph = subgraphs.count - 1
        }
        return subgraphs
    }

    /// A node's name, or its first output when unnamed (the quantizer's node key).
    public static func nodeKey(_ n: Node) -> String { n.name.isEmpty ? (n.outputs.first ?? "") : n.name }
}

/// Fusion patterns: Conv / ConvTranspose / Gemm [+ BatchNormalization] [+ activation], Add + activation.
enum FusedPatterns {
    static func label(_ op: String, _ g: Graph, _ n: Node) -> String {
        switch op {
        case "BatchNormalization": return "BN"
        case "Relu": return "ReLU"
        case "LeakyRelu": return "LeakyReLU"
        case "Clip": return NodeClassifier.activation(g, n) == .relu6 ? "ReLU6" : "ReLU"
        default: return op
        }
    }

    /// On a float graph (BatchNormalization still present).
    static func find(in g: Graph) -> [FusedPattern] {
        var out: [FusedPattern] = []
        for n in g.nodes where ["Conv", "ConvTranspose", "Gemm", "MatMul", "Add"].contains(n.opType) {
            var chain = [n]
            while let last = chain.last, g.useCount(of: last.outputs[0]) == 1,
                  let j = g.consumers(of: last.outputs[0]).first {
                let next = g.nodes[j]
                let bn = next.opType == "BatchNormalization" && chain.count == 1 && n.opType != "Add"
                let act = NodeClassifier.activation(g, next) != nil && !(n.opType == "Add" && next.opType == "LeakyRelu")
                guard bn || act else { break }
                chain.append(next)
                if act { break }
            }
            if chain.count > 1 {
                out.append(FusedPattern(name: chain.map { label($0.opType, g, $0) }.joined(separator: "+"),
                                        nodes: chain.map(Inspector.nodeKey), output: chain.last!.outputs[0]))
            }
        }
        return out
    }

    /// On a quantized graph: each `.fused` node with its producer.
    static func find(in g: Graph, kinds: [NodeClassification]) -> [FusedPattern] {
        kinds.indices.compactMap { i -> FusedPattern? in
            guard kinds[i].kind == .fused, let p = kinds[i].fusedInto else { return nil }
            let a = g.nodes[p], b = g.nodes[i]
            return FusedPattern(name: "\(label(a.opType, g, a))+\(label(b.opType, g, b))",
                                nodes: [Inspector.nodeKey(a), Inspector.nodeKey(b)], output: b.outputs[0])
        }
    }
}
