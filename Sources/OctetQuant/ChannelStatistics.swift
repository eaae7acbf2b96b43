import OctetGraph
import OctetTensor

/// Per-channel extremes (axis 1 of [N, C, …]) of float tensors over a calibration set, from one
/// float run of the graph in chunks of its batch size (the padding of the last chunk excluded).
enum ChannelStatistics {
    struct Range { var min: [Float]; var max: [Float] }

    /// - Throws: `OctetQuantError.emptyCalibrationSet`; execution errors naming the node.
    static func ranges(_ g: Graph, tensors: [String], feeds: [String: Tensor], batchSize: Int) throws -> [String: Range] {
        let n = feeds.values.first?.shape.first ?? 0
        guard n > 0 else { throw OctetQuantError.emptyCalibrationSet }
        let wanted = Set(tensors)
        var out: [String: Range] = [:]
        let executor = try Executor(graph: g)
        for start in stride(from: 0, to: n, by: batchSize) {
            let count = min(batchSize, n - start)
            let chunk = feeds.mapValues { TensorBatch.slice($0, start: start, count: count, padTo: batchSize) }
            _ = try executor.run(chunk) { _, node, outs in
                for (k, name) in node.outputs.enumerated() where wanted.contains(name) && k < outs.count {
                    let t = outs[k], ch = t.rank >= 2 ? t.shape[1] : 1, plane = t.count / max(1, t.shape[0] * ch)
                    var r = out[name] ?? Range(min: [Float](repeating: .infinity, count: ch), max: [Float](repeating: -.infinity, count: ch))
                    t.withFloats { p in
                        for s in 0..<count { for c in 0..<ch {
                            let base = (s * ch + c) * plane
                            for i in 0..<plane { r.min[c] = Swift.min(r.min[c], p[base + i]); r.max[c] = Swift.max(r.max[c], p[base + i]) }
                        } }
                    }
                    out[name] = r
                }
            }
        }
        return out
    }
}
