import Dispatch
import OctetGraph
import OctetTensor

/// Calibration feeds cut into chunks of the model's batch size (the last one zero-padded;
/// observers only see its real samples).
struct CalibrationBatches {
    let feeds: [String: Tensor]
    let count: Int
    let batchSize: Int
    var total: Int { (count + batchSize - 1) / batchSize }
    func samples(_ b: Int) -> Int { min(batchSize, count - b * batchSize) }
    func chunk(_ b: Int) -> [String: Tensor] {
        feeds.mapValues { TensorBatch.slice($0, start: b * batchSize, count: samples(b), padTo: batchSize) }
    }
    /// The real samples of a tensor computed on chunk `b`.
    func real(_ t: Tensor, _ b: Int) -> Tensor { TensorBatch.trimmed(t, toSamples: samples(b), batchSize: batchSize) }
}

extension Calibrator {
    /// Batches in groups of two on two workers (kernels single-threaded inside). Within a group each
    /// batch fake-quantizes with the mode of the earlier groups plus its own fix_pos; the group's
    /// fix positions are then committed in batch order, so results do not depend on timing.
    func runParallel(_ forward: SimulatedForward, _ batches: CalibrationBatches, _ trackers: [String: DiffsTracker],
                     progress: ((Int, Int) -> Void)?, shouldCancel: (() -> Bool)?) throws {
        let saved = KernelConfig.threads
        KernelConfig.threads = 1
        defer { KernelConfig.threads = saved }
        typealias Record = (String, Int, RangeStatistics)
        var b = 0
        while b < batches.total {
            if shouldCancel?() == true { throw OctetQuantError.cancelled }
            let width = min(2, batches.total - b)
            var records = [[Record]](repeating: [], count: width)
            var errors = [Error?](repeating: nil, count: width)
            records.withUnsafeMutableBufferPointer { rec in errors.withUnsafeMutableBufferPointer { err in
                DispatchQueue.concurrentPerform(iterations: width) { r in
                    do { rec[r] = try self.runTracked(forward, batches, b + r, trackers) } catch { err[r] = error }
                }
            } }
            if let e = errors.compactMap({ $0 }).first { throw e }
            for group in records { for (name, fp, stats) in group { trackers[name]!.commit(fp, stats) } }
            b += width
            progress?(b, batches.total)
        }
    }

    private func runTracked(_ forward: SimulatedForward, _ batches: CalibrationBatches, _ b: Int,
                            _ trackers: [String: DiffsTracker]) throws -> [(String, Int, RangeStatistics)] {
        var out: [(String, Int, RangeStatistics)] = []
        let quantized = config.quantizedCalibration
        _ = try forward.run(batches.chunk(b)) { name, value in
            let t = trackers[name]!
            let (fp, stats) = try self.namingProducer(name, batch: b, of: batches) { try t.search(batches.real(value, b)) }
            out.append((name, fp, stats))
            guard quantized else { return }
            let mode = t.mode(adding: fp)
            value.withMutableFloats { QuantMath.fakeQuantize($0, fixPos: mode, range: t.range, rounding: .halfUp) }
        }
        return out
    }

    /// Any observer kind, one batch after another: observe, then fake-quantize with the parameters so far.
    func runSequential(_ forward: SimulatedForward, _ batches: CalibrationBatches, _ observers: [String: Observer],
                       progress: ((Int, Int) -> Void)?, shouldCancel: (() -> Bool)?) throws {
        for b in 0..<batches.total {
            if shouldCancel?() == true { throw OctetQuantError.cancelled }
            _ = try forward.run(batches.chunk(b)) { name, value in
                let o = observers[name]!
                try self.namingProducer(name, batch: b, of: batches) { try o.observe(batches.real(value, b)) }
                guard self.config.quantizedCalibration else { return }
                try QuantMath.fakeQuantize(&value, params: o.quantParams(), rounding: self.config.activationRounding)
            }
            progress?(b + 1, batches.total)
        }
    }

    /// `body()`, with an observer's NaN/Inf error rethrown naming the node that wrote `tensor`.
    func namingProducer<T>(_ tensor: String, batch b: Int, of batches: CalibrationBatches, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as OctetQuantError {
            guard case .nonFiniteValues(_, _, let count) = e,
                  let node = prepared.graph.nodes.first(where: { $0.outputs.contains(tensor) }) else { throw e }
            throw OctetQuantError.nonFiniteActivation(node: node.name, op: node.opType, tensor: tensor, count: count,
                                                      sample: b * batches.batchSize)
        }
    }
}
