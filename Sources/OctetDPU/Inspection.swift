import OctetGraph

/// What the inspector found for one node.
public struct NodeInspection: Sendable, Equatable {
    /// Node name (its first output when unnamed).
    public var node: String
    public var opType: String
    /// Quantized op kind (conv, add, fused, …; see `QuantOpKind`).
    public var kind: QuantOpKind
    public var device: QuantDevice
    /// The target rule that sent the node to the CPU; nil on the DPU.
    public var reason: String?
    /// Activation fused into this node's group.
    public var activation: FusedActivation?
    /// Index into `Inspection.subgraphs`; nil for shape computations that carry no data.
    public var subgraph: Int?
    /// Output shape at the graph's batch size.
    public var outputShape: [Int]
    /// "Conv_12: kernel 17x17 exceeds conv kernel limit 1..16", or nil on the DPU.
    public var message: String? { reason.map { "\(node): \($0)" } }
}

/// Nodes computed as one DPU instruction (e.g. Conv + BatchNormalization + Relu).
public struct FusedPattern: Sendable, Equatable {
    /// "Conv+BN+ReLU", "Add+ReLU", …
    public var name: String
    public var nodes: [String]
    /// The tensor the fused instruction writes (the last node's output).
    public var output: String
}

/// A maximal run of nodes, in execution order, on one device.
public struct SubgraphInspection: Sendable, Equatable {
    public var index: Int
    public var device: QuantDevice
    public var nodes: [String]
}

/// The inspector's result: per-node device and rule, fused patterns, partition.
public struct Inspection: Sendable, Equatable {
    public var target: String
    public var nodes: [NodeInspection]
    public var patterns: [FusedPattern]
    public var subgraphs: [SubgraphInspection]

    public var dpuSubgraphCount: Int { subgraphs.filter { $0.device == .dpu }.count }
    public var cpuSubgraphCount: Int { subgraphs.filter { $0.device == .cpu }.count }
    /// The messages of every CPU node, in graph order.
    public var cpuMessages: [String] { nodes.compactMap(\.message) }

    public func node(_ name: String) -> NodeInspection? { nodes.first { $0.node == name } }

    /// A fixed-width text table: node, op, kind, device, subgraph, shape, rule; then patterns and partition.
    public var table: String {
        let header = ["node", "op", "kind", "device", "sub", "output shape", "reason"]
        let rows = nodes.map { n in
            [n.node, n.opType, n.kind.rawValue + (n.activation.map { $0 == .none ? "" : "+\($0.rawValue)" } ?? ""),
             n.device.rawValue.uppercased(), n.subgraph.map(String.init) ?? "-",
             n.outputShape.map(String.init).joined(separator: "x"), n.reason ?? ""]
        }
        let widths = (0..<header.count - 1).map { c in ([header] + rows).map { $0[c].count }.max() ?? 0 }
        func line(_ r: [String]) -> String {
            (0..<r.count).map { c in c < widths.count ? r[c].padding(toLength: widths[c], withPad: " ", startingAt: 0) : r[c] }
                .joined(separator: "  ").trimmingTrailingSpaces
        }
        var out = ["Target: \(target)", line(header)] + rows.map(line)
        out.append("")
        let bn = patterns.contains { $0.name.contains("+BN") }
        out.append("Fused patterns: \(patterns.count)" + (bn ? " (in the original graph: each BatchNormalization is folded into its conv in the table)" : ""))
        for p in patterns { out.append("  \(p.name): \(p.nodes.joined(separator: " → "))") }
        out.append("Subgraphs: \(subgraphs.count) (DPU \(dpuSubgraphCount), CPU \(cpuSubgraphCount))")
        for s in subgraphs {
            let span = s.nodes.count == 1 ? "1 node (\(s.nodes[0]))" : "\(s.nodes.count) nodes (\(s.nodes.first ?? "") … \(s.nodes.last ?? ""))"
            out.append("  #\(s.index) \(s.device.rawValue.uppercased()): \(span)")
        }
        return out.joined(separator: "\n")
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
