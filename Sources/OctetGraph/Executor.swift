import OctetTensor

/// Runs a `Graph` on float inputs, node by node in topological order.
///
/// Intermediate tensors are released after their last consumer, so peak memory is the
/// live set, not the sum of all activations. Weights are shared (copy-on-write), never
/// copied per run. A hook sees (and may replace) each node's outputs: calibration
/// observers and fake quantization use it.
public final class Executor: @unchecked Sendable {
    public let graph: Graph
    private let kernels: [OpKernel]
    /// For each node, the tensors whose last use it is.
    private let releaseAfter: [[String]]

    /// Called after each node with its index and outputs; may rewrite the outputs.
    public typealias NodeHook = (_ index: Int, _ node: Node, _ outputs: inout [Tensor]) throws -> Void

    /// - Throws: `OctetGraphError.unsupportedOp` for the first node without a kernel,
    ///   `.missingInput` for a tensor nobody produces.
    public init(graph: Graph) throws {
        self.graph = graph
        var ks: [OpKernel] = []
        var available = Set(graph.initializers.keys).union(graph.inputs.map(\.name))
        for node in graph.nodes {
            guard node.domain.isEmpty || node.domain == "ai.onnx", let k = OpRegistry.kernels[node.opType] else {
                throw OctetGraphError.unsupportedOp(node: node.name, opType: node.opType, domain: node.domain, opset: graph.opset)
            }
            for i in node.inputs where !i.isEmpty && !available.contains(i) {
                throw OctetGraphError.missingInput(node: node.label, tensor: i)
            }
            available.formUnion(node.outputs)
            ks.append(k)
        }
        kernels = ks
        var lastUse: [String: Int] = [:]
        for (i, n) in graph.nodes.enumerated() { for t in n.inputs where !t.isEmpty { lastUse[t] = i } }
        let keep = Set(graph.outputs.map(\.name)).union(graph.initializers.keys)
        var release = Array(repeating: [String](), count: graph.nodes.count)
        for (t, i) in lastUse where !keep.contains(t) { release[i].append(t) }
        releaseAfter = release
    }

    /// Runs the graph. `feeds` maps input names to tensors; returns every graph output.
    /// - Throws: `OctetGraphError.inputMismatch` for a missing feed, `.execution` naming
    ///   the failing node.
    public func run(_ feeds: [String: Tensor], hook: NodeHook? = nil) throws -> [String: Tensor] {
        var values: [String: Tensor] = graph.initializers
        for input in graph.inputs where graph.initializers[input.name] == nil {
            guard let t = feeds[input.name] else {
                throw OctetGraphError.inputMismatch("missing value for graph input '\(input.name)'")
            }
            values[input.name] = t
        }
        for (i, node) in graph.nodes.enumerated() {
            let ins = node.inputs.map { $0.isEmpty ? nil : values[$0] }
            var outs: [Tensor]
            do {
                outs = try kernels[i](node, ins, graph.opset)
            } catch let e as OctetTensorError {
                throw OctetGraphError.execution(node: node.label, reason: e.description)
            }
            try hook?(i, node, &outs)
            for (name, t) in zip(node.outputs, outs) where !name.isEmpty { values[name] = t }
            for t in releaseAfter[i] { values[t] = nil }
        }
        var result: [String: Tensor] = [:]
        for o in graph.outputs {
            guard let t = values[o.name] else {
                throw OctetGraphError.badModel("graph output '\(o.name)' was not computed")
            }
            result[o.name] = t
        }
        return result
    }
}
