/// What every node-by-node runner of a `Graph` needs: each node's float kernel and, per node,
/// the tensors whose last consumer it is (released after it runs, so peak memory is the live set).
/// Used by `Executor` and by the quantizer's simulated and layer-wise forward passes.
public struct ExecutionSchedule {
    public let kernels: [OpKernel]
    public let releaseAfter: [[String]]

    /// - Throws: `OctetGraphError.unsupportedOp` for the first node without a kernel,
    ///   `.missingInput` for a tensor nobody produces, `.badModel` for a tensor produced twice.
    public init(_ graph: Graph) throws {
        var ks: [OpKernel] = []
        var available = Set(graph.initializers.keys).union(graph.inputs.map(\.name))
        for node in graph.nodes {
            guard node.domain.isEmpty || node.domain == "ai.onnx", let k = OpRegistry.kernels[node.opType] else {
                throw OctetGraphError.unsupportedOp(node: node.name, opType: node.opType, domain: node.domain, opset: graph.opset)
            }
            for i in node.inputs where !i.isEmpty && !available.contains(i) {
                throw OctetGraphError.missingInput(node: node.label, tensor: i)
            }
            for o in node.outputs where !o.isEmpty && available.contains(o) {
                throw OctetGraphError.badModel("node \(node.label): output '\(o)' is already produced by another node, an input or an initializer")
            }
            available.formUnion(node.outputs)
            ks.append(k)
        }
        kernels = ks
        let keep = Set(graph.outputs.map(\.name)).union(graph.initializers.keys)
        var release = Array(repeating: [String](), count: graph.nodes.count)
        for (t, i) in Self.lastUse(graph) where !keep.contains(t) { release[i].append(t) }
        releaseAfter = release
    }

    /// Index of the last node reading each tensor.
    public static func lastUse(_ graph: Graph) -> [String: Int] {
        var last: [String: Int] = [:]
        for (i, n) in graph.nodes.enumerated() { for t in n.inputs where !t.isEmpty { last[t] = i } }
        return last
    }
}
