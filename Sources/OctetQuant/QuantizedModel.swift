import OctetGraph
import OctetTensor

/// One int8 tensor read from an integer run: codes and fix_pos (value = code · 2^−fix_pos).
public struct CapturedTensor: Sendable {
    public var codes: Tensor
    public var fixPos: Int
    /// The real values codes · 2^−fix_pos.
    public var real: Tensor { Tensor(shape: codes.shape, floats: QuantMath.dequantize(codes.int8s, fixPos: fixPos)) }
}

/// A calibrated model that evaluates quantized.
///
/// DPU configurations (`isDPUDeployable`) run as integer hardware does (`IntegerExecutor`):
/// int8 tensors, int32 accumulation, one DPU_ROUND + saturation per requantization, CPU nodes in
/// float between dequantize and quantize. Non-DPU configurations (per-channel, float scales,
/// asymmetric, bits ≠ 8, excluded nodes) run the dequantized path instead (`evaluation == .dequantized`):
/// float arithmetic on fake-quantized weights and activations.
public final class QuantizedModel: @unchecked Sendable {
    public enum Evaluation: String, Sendable { case integer, dequantized }

    public let quantizedGraph: QuantizedGraph
    public let config: QConfig
    public let plan: QuantPlan
    /// Batch size the graph is specialised to; `run` chunks any N by it.
    public let batchSize: Int
    public let evaluation: Evaluation
    /// Observed [min, max] of each activation quantizer during calibration (empty after `load`).
    public let observedRanges: [String: (min: Float, max: Float)]
    let codes: [String: Tensor]
    let forward: SimulatedForward

    public var annotations: QuantAnnotations { quantizedGraph.annotations }
    public var graph: Graph { quantizedGraph.graph }
    public var isDPUDeployable: Bool { config.isDPUDeployable && annotations.isDPUDeployable }

    /// Builds the model from final parameters; DPU configurations first go through `ConstraintPass`.
    convenience init(calibrator c: Calibrator, params: [String: QuantParams], ranges: [String: (min: Float, max: Float)]) throws {
        var p = params
        var adjustments: [FixPosAdjustment] = []
        if c.config.isDPUDeployable, p.values.allSatisfy(\.isDPUDeployable) {
            var pass = ConstraintPass(graph: c.prepared.graph, plan: c.plan, fixPos: p.compactMapValues(\.fixPos),
                                      alignPool: c.config.alignPool)
            pass.run()
            try pass.checkAccumulatorRange(ranges)
            for (k, f) in pass.fixPos.sorted(by: { $0.key < $1.key }) {
                p[k] = try OctetQuantError.naming(k) { try QuantParams.dpu(fixPos: f) }
            }
            adjustments = pass.adjustments
        }
        let ann = QuantizedModel.annotations(c.prepared, c.plan, c.config, p, adjustments)
        try self.init(graph: c.prepared.graph, plan: c.plan, config: c.config, annotations: ann,
                      batchSize: c.model.batchSize, ranges: ranges)
    }

    init(graph: Graph, plan: QuantPlan, config: QConfig, annotations: QuantAnnotations, batchSize: Int,
         ranges: [String: (min: Float, max: Float)]) throws {
        quantizedGraph = QuantizedGraph(graph: graph, annotations: annotations)
        self.config = config
        self.plan = plan
        self.batchSize = batchSize
        observedRanges = ranges
        let integer = config.isDPUDeployable && annotations.tensors.values.allSatisfy(\.isDPUDeployable)
        evaluation = integer ? .integer : .dequantized
        var codes: [String: Tensor] = [:]
        forward = try SimulatedForward(graph: graph, plan: plan)
        for name in plan.parameters.keys {
            guard let t = graph.constantFloat(name), let q = annotations.tensors[name] else { continue }
            if integer { codes[name] = try ParameterQuantizer.int8Codes(t, q, rounding: config.weightRounding) }
            forward.constants[name] = try ParameterQuantizer.fakeQuantized(t, q, config: config)
        }
        self.codes = codes
    }

    /// Observed ranges of the observers that record them (diffs, maxmin).
    static func ranges(of observers: [String: Observer]) -> [String: (min: Float, max: Float)] {
        var ranges: [String: (min: Float, max: Float)] = [:]
        for (k, o) in observers {
            if let r = o as? RangeObserving { ranges[k] = (r.observedMin, r.observedMax) }
        }
        return ranges
    }

    /// Annotations from the plan and final parameters (aliases take their canonical's parameters).
    static func annotations(_ prep: PreparedGraph, _ plan: QuantPlan, _ config: QConfig, _ p: [String: QuantParams],
                            _ adj: [FixPosAdjustment]) -> QuantAnnotations {
        var tensors = p, shares: [String: String] = [:], shapes: [String: [Int]] = [:]
        for (t, c) in plan.canonical {
            if let q = p[c] { tensors[t] = q }
            if t != c { shares[t] = c }
        }
        for t in tensors.keys { shapes[t] = prep.info.shapes[t] }
        return QuantAnnotations(tensors: tensors, shares: shares, nodes: plan.nodes,
                                adjustments: adj.map { QuantAdjustment(rule: $0.rule, tensor: $0.tensor, old: $0.old, new: $0.new, reason: $0.reason) },
                                config: config.options, warnings: plan.warnings, shapes: shapes)
    }

    /// Runs a batch of any size N. - Returns: output name → float tensor [N, …].
    /// - Throws: `OctetGraphError.inputMismatch` for missing or mis-shaped inputs; errors naming the node.
    public func run(_ feeds: [String: Tensor], outputs: [String]? = nil) throws -> [String: Tensor] {
        try run(feeds, capture: false, outputs: outputs).outputs
    }

    /// Runs a single-input model and returns its first output.
    public func run(_ x: Tensor) throws -> Tensor {
        guard graph.inputs.count == 1 else { throw OctetGraphError.inputMismatch("model has \(graph.inputs.count) inputs; pass them by name") }
        let first = graph.outputs[0].name
        return try run([graph.inputs[0].name: x], outputs: [first])[first]!
    }

    /// Runs and, with `capture`, returns every int8 tensor (name → codes [N, …] and fix_pos) of an
    /// integer evaluation (empty for the dequantized path). `outputs`: the outputs wanted (nil: all),
    /// joined over the chunks as `OutputBatching.join` joins them.
    public func run(_ feeds: [String: Tensor], capture: Bool, outputs wanted: [String]? = nil)
        throws -> (outputs: [String: Tensor], captured: [String: CapturedTensor]) {
        let n = try QuantizedModel.sampleCount(feeds, graph)
        let names = wanted ?? graph.outputs.map(\.name)
        try OutputBatching.checkRun(names, in: graph, samples: n, batchSize: batchSize)
        var parts: [[String: Tensor]] = [], caught: [String: [Tensor]] = [:], fps: [String: Int] = [:]
        let exec = IntegerExecutor(graph: graph, plan: plan, annotations: annotations, codes: codes)
        try TensorBatch.forEachChunk(feeds, samples: n, batchSize: batchSize) { chunk in
            let out: [String: Tensor]
            if evaluation == .integer {
                var emitted: [(String, Tensor)] = []
                out = try exec.run(chunk, capture: capture ? { name, t, f in emitted.append((name, t)); fps[name] = f } : nil)
                for (name, t) in emitted { caught[name, default: []].append(t) }
            } else {
                out = try forward.run(chunk) { name, v in
                    if let q = self.annotations.tensors[name] { try QuantMath.fakeQuantize(&v, params: q, rounding: self.config.activationRounding) }
                }
            }
            parts.append(out)
        }
        var outputs: [String: Tensor] = [:]
        for name in names { outputs[name] = try OutputBatching.join(name, parts.map { $0[name]! }, in: graph, samples: n, batchSize: batchSize) }
        var captured: [String: CapturedTensor] = [:]
        for (k, v) in caught { captured[k] = CapturedTensor(codes: try TensorBatch.join(v, name: k, samples: n, batchSize: batchSize), fixPos: fps[k]!) }
        return (outputs, captured)
    }

    static func sampleCount(_ feeds: [String: Tensor], _ g: Graph) throws -> Int {
        var n: Int?
        for input in g.inputs where g.initializers[input.name] == nil {
            guard let t = feeds[input.name], t.rank > 0, Array(t.shape.dropFirst()) == Array((input.shape ?? []).dropFirst()) else {
                throw OctetGraphError.inputMismatch("input '\(input.name)': expected shape [N, \((input.shape ?? []).dropFirst().map(String.init).joined(separator: ", "))], got \(feeds[input.name]?.shape.description ?? "nothing")")
            }
            if let m = n, m != t.shape[0] { throw OctetGraphError.inputMismatch("inputs have different batch sizes (\(m) and \(t.shape[0]))") }
            n = t.shape[0]
        }
        guard let count = n, count > 0 else { throw OctetGraphError.inputMismatch("empty input batch") }
        return count
    }
}
