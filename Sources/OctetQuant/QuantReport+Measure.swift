import Foundation
import OctetGraph
import OctetTensor

/// Running sums for one tensor's SQNR and clipping.
struct ErrorSums {
    var signal = 0.0, noise = 0.0, clipped = 0, count = 0
    var min = Float.infinity, max = -Float.infinity
    mutating func add(float f: Tensor, quantized q: Tensor, lo: Float, hi: Float) {
        f.withFloats { fp in q.withFloats { qp in
            for i in 0..<Swift.min(fp.count, qp.count) {
                let x = fp[i], e = Double(x - qp[i])
                signal += Double(x) * Double(x); noise += e * e
                if x < lo || x > hi { clipped += 1 }
                min = Swift.min(min, x); max = Swift.max(max, x)
            }
            count += fp.count
        } }
    }
    var sqnr: Double { noise == 0 ? .infinity : 10 * log10(Swift.max(signal, .leastNonzeroMagnitude) / noise) }
}

extension QuantReport {
    /// The prepared graph of `reference`, or `q`'s own float graph.
    static func referenceGraph(_ reference: Model?, of q: QuantizedModel) throws -> Graph {
        guard let reference else { return q.graph }
        let describe = { (v: [ValueInfo]) in v.map { "\($0.name) \($0.shape.map { "\($0)" } ?? "?")" }.sorted() }
        guard describe(reference.inputs) == describe(q.graph.inputs) else {
            throw OctetQuantError.invalidParameter("the reference model's inputs \(describe(reference.inputs)) differ from the quantized model's \(describe(q.graph.inputs))")
        }
        return try QuantPreparation.prepare(reference.graph).graph
    }

    static func tensorStats(_ q: QuantizedModel, _ data: ReportData, float graph: Graph) throws -> [TensorQuantStats] {
        let exec = try Executor(graph: graph)
        var sums: [String: ErrorSums] = [:]
        for chunk in data.chunks {
            var float: [String: Tensor] = chunk
            _ = try exec.run(chunk) { _, node, outs in for (n, t) in zip(node.outputs, outs) where q.annotations.tensors[n] != nil { float[n] = t } }
            try q.runChunk(chunk) { name, value in
                guard let f = float[name], f.dtype == .float32, f.shape == value.shape, let p = q.annotations.tensors[name] else { return }
                let (lo, hi) = representable(p)
                sums[name, default: ErrorSums()].add(float: f, quantized: value, lo: lo, hi: hi)
            }
        }
        return q.plan.activations.compactMap { name in
            guard let s = sums[name], let p = q.annotations.tensors[name] else { return nil }
            let r = q.observedRanges[name] ?? (s.min, s.max)
            return TensorQuantStats(tensor: name, params: p, min: r.min, max: r.max,
                                    clipped: Double(s.clipped) / Double(Swift.max(s.count, 1)), sqnr: s.sqnr)
        }
    }

    /// [qmin − zp, qmax − zp] · scale (per-tensor summary for per-channel parameters).
    static func representable(_ p: QuantParams) -> (Float, Float) {
        (Float(p.qmin - p.zeroPoint) * p.scale, Float(p.qmax - p.zeroPoint) * p.scale)
    }

    static func layerSensitivity(_ q: QuantizedModel, _ data: ReportData) throws -> [LayerSensitivity] {
        let forward = try SimulatedForward(graph: q.graph, plan: q.plan)
        let reference = try data.chunks.map { try forward.run($0, quantize: nil) }
        var out: [LayerSensitivity] = []
        for a in q.plan.nodes {
            guard let produced = a.output, let t = q.plan.canonical[produced], a.kind != .passThrough, a.kind != .fused,
                  !q.plan.networkInputs.contains(t) else { continue }
            let layer = try SimulatedForward(graph: q.graph, plan: q.plan)
            for p in [a.weight, a.bias].compactMap({ $0 }) {
                if let w = q.graph.constantFloat(p), let params = q.annotations.tensors[p] {
                    layer.constants[p] = try ParameterQuantizer.fakeQuantized(w, params, config: q.config)
                }
            }
            var sums = ErrorSums()
            for (k, chunk) in data.chunks.enumerated() {
                let y = try layer.run(chunk) { name, v in
                    guard name == t, let p = q.annotations.tensors[name] else { return }
                    try QuantMath.fakeQuantize(&v, params: p, rounding: q.config.activationRounding)
                }
                for o in q.graph.outputs { sums.add(float: reference[k][o.name]!, quantized: y[o.name]!, lo: -.infinity, hi: .infinity) }
            }
            out.append(LayerSensitivity(node: a.node, opType: a.opType, sqnr: sums.sqnr))
        }
        return out.sorted { $0.sqnr < $1.sqnr }
    }
}

extension QuantizedModel {
    /// Runs one chunk at the graph's batch size, handing each quantized tensor's real value to `observe`.
    func runChunk(_ chunk: [String: Tensor], observe: @escaping (String, Tensor) -> Void) throws {
        if evaluation == .integer {
            let exec = IntegerExecutor(graph: graph, plan: plan, annotations: annotations, codes: codes)
            _ = try exec.run(chunk) { name, t, f in
                observe(name, Tensor(shape: t.shape, floats: QuantMath.dequantize(t.int8s, fixPos: f)))
            }
        } else {
            _ = try forward.run(chunk) { name, v in
                if let p = self.annotations.tensors[name] { try QuantMath.fakeQuantize(&v, params: p, rounding: self.config.activationRounding) }
                observe(name, v)
            }
        }
    }
}
