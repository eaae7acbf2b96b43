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
            out[i].leakyAlpha = try n.float("alpha", default: 0.01)
            if let p = out[i].fusedInto { out[p].leakyAlpha = out[i].leakyAlpha }
        }
        return out
    }

    /// From a prepared float graph.
    static func classify(_ g: Graph, info: TensorInfo) throws -> [NodeClassification] {
        var out = try g.nodes.map { NodeClassification(kind: try QuantOpClassifier.kind(g, info, $0), activation: nil) }
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

    static func activation(_ g: Graph, _ n: Node) -> FusedActivation? { QuantOpClassifier.activation(g, n) }
}
