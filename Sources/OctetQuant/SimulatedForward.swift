import OctetGraph
import OctetTensor

/// Float forward of a prepared graph with the DPU's arithmetic on quantized nodes and a callback
/// on every activation quantizer — used by calibration (with quantizers active, as vai_q_pytorch's
/// calib mode runs), by the report, and as the dequantized evaluation of non-DPU configurations.
///
/// DPU arithmetic (reference-quantizer §4.2, §4.3): LeakyRelu slope 26/256; HardSigmoid
/// `relu6(x + 3) · 2731/16384`; HardSwish `x · Q₇(hsig(x))` (hsig fake-quantized at fix_pos 7,
/// half-up); AveragePool / GlobalAveragePool / ReduceMean as `sum · N / 2^M` (the float average
/// times k·N/2^M, padding counted). Excluded and CPU nodes keep their ONNX semantics.
final class SimulatedForward {
    /// Called for each quantizer tensor right after it is produced; may rewrite the value.
    typealias Quantize = (_ tensor: String, _ value: inout Tensor) throws -> Void

    let graph: Graph
    let plan: QuantPlan
    /// Constants used by the run (weights may be replaced by fake-quantized copies).
    var constants: [String: Tensor]
    private let kernels: [OpKernel]
    private let releaseAfter: [[String]]

    /// - Throws: `OctetGraphError.unsupportedOp` for a node without a float kernel.
    init(graph: Graph, plan: QuantPlan) throws {
        self.graph = graph
        self.plan = plan
        constants = graph.initializers
        let schedule = try ExecutionSchedule(graph)
        kernels = schedule.kernels
        releaseAfter = schedule.releaseAfter
    }

    /// Runs one batch; returns the graph outputs.
    /// - Throws: `OctetGraphError.execution` naming the node, or what `quantize` throws.
    func run(_ feeds: [String: Tensor], quantize: Quantize?) throws -> [String: Tensor] {
        var values = constants
        for input in graph.inputs where constants[input.name] == nil {
            guard var t = feeds[input.name] else { throw OctetGraphError.inputMismatch("missing value for graph input '\(input.name)'") }
            if plan.canonical[input.name] == input.name { try quantize?(input.name, &t) }
            values[input.name] = t
        }
        for (i, node) in graph.nodes.enumerated() {
            let ins = node.inputs.map { $0.isEmpty ? nil : values[$0] }
            var outs: [Tensor]
            do {
                outs = try compute(i, node, ins)
            } catch let e as OctetTensorError {
                throw OctetGraphError.execution(node: node.label, reason: e.description)
            }
            for (k, name) in node.outputs.enumerated() where !name.isEmpty && k < outs.count {
                if plan.canonical[name] == name { try quantize?(name, &outs[k]) }
                values[name] = outs[k]
            }
            for t in releaseAfter[i] { values[t] = nil }
        }
        var result: [String: Tensor] = [:]
        for o in graph.outputs { result[o.name] = values[o.name] }
        return result
    }

    /// One node with DPU arithmetic where the plan says the node is a DPU op.
    private func compute(_ i: Int, _ node: Node, _ ins: [Tensor?]) throws -> [Tensor] {
        try SimulatedForward.computeDPU(node, ins, annotation: plan.nodes[i], kernel: kernels[i], opset: graph.opset)
    }

    /// One node as the DPU computes it, in float: LeakyRelu with alpha 26/256, the DPU
    /// hard-sigmoid / hard-swish (hard-sigmoid at fix_pos 7), average pooling as sum · N / 2^M;
    /// every other node through its float `kernel`. Shared with `LayerwiseRunner`.
    static func computeDPU(_ node: Node, _ ins: [Tensor?], annotation a: QuantNodeAnnotation, kernel: OpKernel,
                           opset: Int) throws -> [Tensor] {
        switch a.kind {
        case .fused where node.opType == "LeakyRelu", .activation where node.opType == "LeakyRelu":
            var n = node
            n.attributes["alpha"] = .float(DPUMath.dpuLeakyReluAlpha)
            return try kernel(n, ins, opset)
        case .hardSigmoid:
            return [try map(node, ins) { DPUMath.hardSigmoid($0) }]
        case .hardSwish:
            return [try map(node, ins) { x in
                x * QuantMath.fakeQuantize(DPUMath.hardSigmoid(x), fixPos: 7, rounding: .halfUp)
            }]
        case .averagePool:
            var n = node
            if node.opType == "AveragePool" { n.attributes["count_include_pad"] = .int(1) }
            var y = try kernel(n, ins, opset)
            let scale = try averageScale(node, a, inputShape: ins[0]!.shape)
            y[0].withMutableFloats { p in for k in p.indices { p[k] *= scale } }
            return y
        default:
            return try kernel(node, ins, opset)
        }
    }

    /// k · N / 2^M: the factor turning a float average into the DPU's.
    static func averageScale(_ node: Node, _ a: QuantNodeAnnotation, inputShape s: [Int]) throws -> Float {
        guard let f = a.avgPoolFactor, f.count == 2 else { return 1 }
        let k: Int
        if node.opType == "AveragePool" {
            let geo = try NodeGeometry.pool(node, input: s)
            k = geo.kernelH * geo.kernelW
        } else {
            k = s[2] * s[3]
        }
        return Float(Double(k) * Double(f[0]) / Double(1 << f[1]))
    }

    private static func map(_ node: Node, _ ins: [Tensor?], _ f: (Float) -> Float) throws -> Tensor {
        guard let x0 = ins.first ?? nil, x0.dtype == .float32 else {
            throw OctetGraphError.execution(node: node.label, reason: "missing float input")
        }
        var x = x0
        x.withMutableFloats { p in for k in p.indices { p[k] = f(p[k]) } }
        return x
    }
}
