import Foundation
import OctetGraph
import OctetTensor

/// Errors of the accuracy-recovery passes (CLE, bias correction, AdaQuant, AdaRound).
public enum RecoveryError: Error, CustomStringConvertible, Equatable {
    /// The activations the pass must hold exceed the configured limit.
    case memoryLimit(neededMB: Int, limitMB: Int, what: String)
    case unsupported(layer: String, reason: String)
    /// An option outside its range (name as the API spells it).
    case invalidOption(name: String, reason: String)
    public var description: String {
        switch self {
        case .memoryLimit(let n, let l, let w):
            return "max_memory_mb = \(l) cannot be met: \(w) needs about \(n) MB (use fewer calibration samples or raise the limit)"
        case .unsupported(let l, let r): return "layer \(l): \(r)"
        case .invalidOption(let n, let r): return "\(n): \(r)"
        }
    }
}

/// What a layer-wise pass sees at one Conv / ConvTranspose / Gemm group, in graph order.
struct LayerSite {
    var index: Int
    var node: Node
    var annotation: QuantNodeAnnotation
    /// The layer's input on the float model and on the quantized model (earlier layers already
    /// changed), as chunks of the model's batch size covering the calibration set; a padded last
    /// chunk is cut to its calibration samples, so padding counts in no loss or mean.
    var floatInput: [Tensor]
    var quantInput: [Tensor]
    var weightParams: QuantParams
    var biasParams: QuantParams?
    /// The prepared float graph (original weights) and the configuration.
    var graph: Graph
    var config: QConfig
    /// With `LayerwiseRunner.run(networkLoss: true)`: the network output loss over the calibration
    /// set with this layer's (already fake-quantized) weight and bias replaced, per graph output
    /// (`LayerwiseRunner.outputLoss`).
    var networkLoss: ((_ weight: Tensor, _ bias: Tensor?) throws -> [Double])? = nil
}

/// What a pass returns for a visited layer: its new float weight and bias, and the weight's
/// quantization parameters when the pass chose another fix_pos (the quantized stream then uses them).
struct LayerUpdate {
    var weight: Tensor
    var bias: Tensor?
    var weightParams: QuantParams? = nil
}

/// Streams the calibration set through the float and the fake-quantized prepared graph node by
/// node, over the whole set at once, so each layer sees its input for every sample while only the
/// live tensors (the frontier of the graph) are held — never all activations. Quantized nodes use
/// the DPU arithmetic of `SimulatedForward`; each activation quantizer fake-quantizes with its
/// calibrated fix_pos. At a conv group, `visit` may return new float weight and bias, which the
/// quantized stream uses (fake-quantized at the layer's fixed fix_pos) from then on.
final class LayerwiseRunner {
    let graph: Graph
    let plan: QuantPlan
    let config: QConfig
    let params: [String: QuantParams]
    let chunks: [[String: Tensor]]
    /// Samples of each chunk that are calibration data (the last chunk may be padded).
    private let realRows: [Int]
    private let batchSize: Int
    private let kernels: [OpKernel]
    private let releaseAfter: [[String]]
    /// Bytes of the float + quantized frontiers, largest seen.
    private(set) var peakFrontierBytes = 0

    init(graph: Graph, plan: QuantPlan, config: QConfig, params: [String: QuantParams], feeds: [String: Tensor], batchSize: Int) throws {
        self.graph = graph; self.plan = plan; self.config = config; self.params = params; self.batchSize = batchSize
        let n = feeds.values.first?.shape.first ?? 0
        guard n > 0 else { throw OctetQuantError.emptyCalibrationSet }
        chunks = stride(from: 0, to: n, by: batchSize).map { s in
            feeds.mapValues { TensorBatch.slice($0, start: s, count: min(batchSize, n - s), padTo: batchSize) }
        }
        realRows = stride(from: 0, to: n, by: batchSize).map { min(batchSize, n - $0) }
        let schedule = try ExecutionSchedule(graph)
        kernels = schedule.kernels
        releaseAfter = schedule.releaseAfter
    }

    /// Each chunk's tensor cut to the chunk's calibration samples (`TensorBatch.trimmed`).
    private func real(_ chunks: [Tensor]) -> [Tensor] {
        chunks.enumerated().map { TensorBatch.trimmed($1, toSamples: realRows[$0], batchSize: batchSize) }
    }

    /// Peak bytes of the two frontiers, from the tensor shapes at the model's batch size.
    static func estimatedFrontierBytes(_ prepared: PreparedGraph, chunks: Int) -> Int {
        let g = prepared.graph
        let lastUse = ExecutionSchedule.lastUse(g)
        let bytes = prepared.info.byteCount
        var live = g.inputs.reduce(0) { $0 + bytes($1.name) }, peak = live
        for (i, n) in g.nodes.enumerated() {
            live += n.outputs.reduce(0) { $0 + bytes($1) }
            peak = max(peak, live)
            for t in n.inputs where lastUse[t] == i && g.initializers[t] == nil { live -= bytes(t) }
        }
        return 2 * peak * chunks
    }

    /// Runs the pass; `visit` is called at each quantized conv group before its output is computed.
    /// With `networkLoss`, the float graph outputs are computed first and each site gets
    /// `LayerSite.networkLoss`, which runs the quantized stream from the site to the graph outputs.
    /// - Returns: the float initializers with every weight and bias `visit` replaced.
    func run(networkLoss: Bool = false, _ visit: (LayerSite) throws -> LayerUpdate?) throws -> [String: Tensor] {
        let floatOutputs = networkLoss ? try KernelConfig.mapItems(chunks.count, workers: KernelConfig.threads) { _, c in
            try forward(from: 0, chunks[c], constants: graph.initializers, quantized: false)
        } : []
        if networkLoss, !(floatOutputs.first ?? []).contains(where: { $0.dtype == .float32 }) {
            throw RecoveryError.invalidOption(name: "epoch loss", reason: "network: the model has no float32 graph output to compare")
        }
        var floatVals: [String: [Tensor]] = [:], quantVals: [String: [Tensor]] = [:]
        var qconst = graph.initializers
        var result = graph.initializers
        for name in plan.parameters.keys {
            guard let t = graph.constantFloat(name), let p = params[name] else { continue }
            qconst[name] = try ParameterQuantizer.fakeQuantized(t, p, config: config)
        }
        for input in graph.inputs where graph.initializers[input.name] == nil {
            floatVals[input.name] = chunks.map { $0[input.name]! }
            quantVals[input.name] = try chunks.map { c in
                var t = c[input.name]!
                try quantize(input.name, &t)
                return t
            }
        }
        for (i, node) in graph.nodes.enumerated() {
            let a = plan.nodes[i]
            if a.kind == .conv, let w = a.weight, let wp = params[w] {
                var site = LayerSite(index: i, node: node, annotation: a, floatInput: real(floatVals[node.inputs[0]]!),
                                     quantInput: real(quantVals[node.inputs[0]]!), weightParams: wp, biasParams: a.bias.flatMap { params[$0] },
                                     graph: graph, config: config)
                if networkLoss {
                    let frontier = quantVals, constants = qconst, b = a.bias
                    site.networkLoss = { [unowned self] weight, bias in
                        var k = constants
                        k[w] = weight
                        if let b, let bias { k[b] = bias }
                        return try self.outputLoss(from: i, frontier, constants: k, reference: floatOutputs)
                    }
                }
                if let u = try visit(site) {
                    result[w] = u.weight
                    qconst[w] = try ParameterQuantizer.fakeQuantized(u.weight, u.weightParams ?? wp, config: config)
                    if let b = a.bias, let nb = u.bias, let bp = params[b] {
                        result[b] = nb
                        qconst[b] = try ParameterQuantizer.fakeQuantized(nb, bp, config: config)
                    }
                }
            }
            try step(i, node, &floatVals, constants: graph.initializers, quantized: false)
            try step(i, node, &quantVals, constants: qconst, quantized: true)
            let live = (floatVals.values.joined().reduce(0) { $0 + $1.count } + quantVals.values.joined().reduce(0) { $0 + $1.count }) * 4
            peakFrontierBytes = max(peakFrontierBytes, live)
            for t in releaseAfter[i] { floatVals[t] = nil; quantVals[t] = nil }
        }
        return result
    }

    /// The network output loss of the reference's fast finetune (reference-quantizer §7 step 3): per
    /// float32 graph output, the mean over chunks (model batches) of √MSE(float output, quantized
    /// output) over the chunk's calibration samples (`TensorBatch.trimmed`, as `Model.run` cuts a
    /// padded batch), the quantized stream run from node `i` on the `frontier` (the live quantized
    /// tensors before node `i`) with `constants`. Other outputs (int64 ArgMax…) are not compared.
    private func outputLoss(from i: Int, _ frontier: [String: [Tensor]], constants: [String: Tensor], reference: [[Tensor]]) throws -> [Double] {
        let losses = try KernelConfig.mapItems(chunks.count, workers: KernelConfig.threads) { _, c -> [Double] in
            let outs = try forward(from: i, frontier.mapValues { $0[c] }, constants: constants, quantized: true)
            return zip(outs, reference[c]).filter { $0.1.dtype == .float32 }.map { q, f in
                RecoveryPipeline.meanSquaredDifference(TensorBatch.trimmed(q, toSamples: realRows[c], batchSize: batchSize),
                                                       TensorBatch.trimmed(f, toSamples: realRows[c], batchSize: batchSize)).squareRoot()
            }
        }
        return (0..<(losses.first?.count ?? 0)).map { k in losses.reduce(0) { $0 + $1[k] } / Double(losses.count) }
    }

    /// One chunk through nodes `start`… of the float (graph kernels) or quantized (DPU arithmetic,
    /// fake-quantized outputs) stream, from `values` (the live tensors before node `start`).
    /// - Returns: the graph outputs.
    private func forward(from start: Int, _ values: [String: Tensor], constants: [String: Tensor], quantized: Bool) throws -> [Tensor] {
        var vals = values
        for i in start..<graph.nodes.count {
            let node = graph.nodes[i]
            let o = try outputs(i, node, node.inputs.map { $0.isEmpty ? nil : (constants[$0] ?? vals[$0]) }, quantized: quantized)
            for (k, name) in node.outputs.enumerated() where !name.isEmpty && k < o.count { vals[name] = o[k] }
            for t in releaseAfter[i] { vals[t] = nil }
        }
        return try graph.outputs.map { out in
            guard let t = vals[out.name] ?? constants[out.name] else {
                throw OctetGraphError.execution(node: out.name, reason: "graph output not computed")
            }
            return t
        }
    }

    /// The graph outputs of the quantized stream are not needed; the frontier is. Chunks run in
    /// parallel with single-threaded kernels (`KernelConfig.mapItems`), so the streamed
    /// activations, and the passes fed with them, do not depend on the thread count.
    private func step(_ i: Int, _ node: Node, _ vals: inout [String: [Tensor]], constants: [String: Tensor], quantized: Bool) throws {
        var outs = [[Tensor]](repeating: [], count: node.outputs.count)
        let current = vals
        let computed = try KernelConfig.mapItems(chunks.count, workers: KernelConfig.threads) { _, c -> [Tensor] in
            try outputs(i, node, node.inputs.map { $0.isEmpty ? nil : (constants[$0] ?? current[$0]?[c]) }, quantized: quantized)
        }
        for o in computed { for k in 0..<min(o.count, node.outputs.count) { outs[k].append(o[k]) } }
        for (k, name) in node.outputs.enumerated() where !name.isEmpty && !outs[k].isEmpty { vals[name] = outs[k] }
    }

    /// Node `i` on one chunk's inputs: the graph kernel (float stream) or the DPU arithmetic with
    /// each output fake-quantized (quantized stream); errors name the node.
    private func outputs(_ i: Int, _ node: Node, _ ins: [Tensor?], quantized: Bool) throws -> [Tensor] {
        var o: [Tensor]
        do {
            o = quantized ? try compute(i, node, ins) : try kernels[i](node, ins, graph.opset)
        } catch let e as OctetTensorError {
            throw OctetGraphError.execution(node: node.label, reason: e.description)
        }
        if quantized { for k in 0..<min(o.count, node.outputs.count) { try quantize(node.outputs[k], &o[k]) } }
        return o
    }

    private func quantize(_ name: String, _ t: inout Tensor) throws {
        guard plan.canonical[name] == name, let q = params[name] else { return }
        try QuantMath.fakeQuantize(&t, params: q, rounding: config.activationRounding)
    }

    /// One node with the DPU arithmetic `SimulatedForward` applies.
    private func compute(_ i: Int, _ node: Node, _ ins: [Tensor?]) throws -> [Tensor] {
        try SimulatedForward.computeDPU(node, ins, annotation: plan.nodes[i], kernel: kernels[i], opset: graph.opset)
    }
}

extension RecoveryError {
    /// Throws `.invalidOption` unless `value ≥ minimum`.
    static func require(_ name: String, _ value: Int, atLeast minimum: Int) throws {
        guard value >= minimum else { throw RecoveryError.invalidOption(name: name, reason: "must be at least \(minimum), got \(value)") }
    }

    /// Throws `.invalidOption` unless `minimum ≤ value ≤ maximum` (counts that bound the work: a
    /// typo such as 10^18 iterations would otherwise run for ever, as these passes do not stop
    /// on Ctrl-C).
    static func require(_ name: String, _ value: Int, in range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw RecoveryError.invalidOption(name: name, reason: "must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
        }
    }
}

/// Peak resident set size of the process (VmHWM), in MiB; 0 where /proc is unavailable.
public enum ProcessMemory {
    public static func peakMB() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return 0 }
        return (Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "0") ?? 0) / 1024
    }
}
