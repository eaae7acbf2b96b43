import Dispatch
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
    /// Plan without hooks: Conv nodes carrying a fused Relu/Clip, and the activation nodes
    /// they absorbed (skipped). Hooked runs see every node unfused.
    private let fusedNodes: [Node]
    private let absorbed: Set<Int>

    /// Internal Conv attribute holding a fused [min, max] clamp.
    public static let fusedClampAttribute = "octet.fused_clamp"

    /// Called after each node with its index and outputs; may rewrite the outputs.
    public typealias NodeHook = (_ index: Int, _ node: Node, _ outputs: inout [Tensor]) throws -> Void

    /// - Throws: `OctetGraphError.unsupportedOp` for the first node without a kernel,
    ///   `.missingInput` for a tensor nobody produces.
    public init(graph: Graph) throws {
        self.graph = graph
        let schedule = try ExecutionSchedule(graph)
        kernels = schedule.kernels
        releaseAfter = schedule.releaseAfter
        (fusedNodes, absorbed) = Executor.fuseActivations(graph)
    }

    /// Conv → Relu/Clip pairs where the Conv output has that single consumer and is not a
    /// graph output become one Conv with a clamp; the activation writes the Conv's output name.
    static func fuseActivations(_ graph: Graph) -> ([Node], Set<Int>) {
        var nodes = graph.nodes
        var absorbed = Set<Int>()
        var consumers: [String: [Int]] = [:]
        for (i, n) in graph.nodes.enumerated() { for t in n.inputs where !t.isEmpty { consumers[t, default: []].append(i) } }
        let outputs = Set(graph.outputs.map(\.name))
        for (i, n) in graph.nodes.enumerated() where n.opType == "Conv" {
            let out = n.outputs[0]
            guard !outputs.contains(out), let c = consumers[out], c.count == 1 else { continue }
            let act = graph.nodes[c[0]]
            guard let bounds = clampBounds(act, graph) else { continue }
            nodes[i].attributes[fusedClampAttribute] = .floats([bounds.0, bounds.1])
            nodes[i].outputs = act.outputs
            absorbed.insert(c[0])
        }
        return (nodes, absorbed)
    }

    /// [min, max] of a Relu or a Clip with constant bounds, min ≤ max.
    static func clampBounds(_ act: Node, _ graph: Graph) -> (Float, Float)? {
        switch act.opType {
        case "Relu": return (0, .infinity)
        case "Clip":
            let inputs = act.inputs.map { $0.isEmpty ? nil : graph.initializers[$0] }
            if act.inputs.dropFirst().contains(where: { !$0.isEmpty && graph.initializers[$0] == nil }) { return nil }
            guard let (lo, hi) = try? ActivationOps.clipBounds(act, inputs, graph.opset), lo <= hi else { return nil }
            return (lo, hi)
        default: return nil
        }
    }

    /// Called after each executed node with the node as run (a fused Conv carries its clamp)
    /// and its kernel's wall time in nanoseconds.
    public typealias NodeTiming = (_ index: Int, _ node: Node, _ nanoseconds: UInt64) -> Void

    /// Runs the graph. `feeds` maps input names to tensors; returns every graph output.
    /// `timing` sees the plan that actually runs (fused when there is no hook).
    /// - Throws: `OctetGraphError.inputMismatch` for a missing feed, `.execution` naming
    ///   the failing node.
    public func run(_ feeds: [String: Tensor], hook: NodeHook? = nil, timing: NodeTiming? = nil) throws -> [String: Tensor] {
        var values: [String: Tensor] = graph.initializers
        for input in graph.inputs where graph.initializers[input.name] == nil {
            guard let t = feeds[input.name] else {
                throw OctetGraphError.inputMismatch("missing value for graph input '\(input.name)'")
            }
            values[input.name] = t
        }
        let plan = hook == nil ? fusedNodes : graph.nodes
        for (i, node) in plan.enumerated() {
            if hook == nil && absorbed.contains(i) {
                for t in releaseAfter[i] { values[t] = nil }
                continue
            }
            let ins = node.inputs.map { $0.isEmpty ? nil : values[$0] }
            var outs: [Tensor]
            do {
                let start = timing == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                outs = try kernels[i](node, ins, graph.opset)
                timing?(i, node, timing == nil ? 0 : DispatchTime.now().uptimeNanoseconds - start)
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
