/// Slicing and concatenating tensors along the batch axis (axis 0).
public enum TensorBatch {
    /// Samples `start..<start+count` of `t`, zero-padded up to `padTo` samples.
    public static func slice(_ t: Tensor, start: Int, count: Int, padTo: Int) -> Tensor {
        let per = t.shape.isEmpty ? 1 : t.count / max(t.shape[0], 1)
        var shape = t.shape
        shape[0] = max(count, padTo)
        let lo = start * per, hi = (start + count) * per, pad = (max(count, padTo) - count) * per
        switch t.storage {
        case .float32(let a): return Tensor(shape: shape, floats: Array(a[lo..<hi]) + Array(repeating: 0, count: pad))
        case .int8(let a): return Tensor(shape: shape, int8s: Array(a[lo..<hi]) + Array(repeating: 0, count: pad))
        case .uint8(let a): return Tensor(shape: shape, uint8s: Array(a[lo..<hi]) + Array(repeating: 0, count: pad))
        case .int32(let a): return Tensor(shape: shape, int32s: Array(a[lo..<hi]) + Array(repeating: 0, count: pad))
        case .int64(let a): return Tensor(shape: shape, int64s: Array(a[lo..<hi]) + Array(repeating: 0, count: pad))
        }
    }

    /// Concatenates tensors of equal dtype and trailing shape along axis 0.
    /// - Throws: `OctetTensorError.shapeMismatch` when trailing shapes or dtypes differ.
    public static func concat(_ parts: [Tensor]) throws -> Tensor {
        guard let first = parts.first else { throw OctetTensorError.shapeMismatch("nothing to concatenate") }
        if parts.count == 1 { return first }
        let tail = Array(first.shape.dropFirst())
        var n = 0
        for p in parts {
            guard p.dtype == first.dtype, Array(p.shape.dropFirst()) == tail else {
                throw OctetTensorError.shapeMismatch("cannot concatenate \(p.shape) \(p.dtype) with \(first.shape) \(first.dtype)")
            }
            n += p.shape.first ?? 1
        }
        let shape = [n] + tail
        switch first.storage {
        case .float32: return Tensor(shape: shape, floats: parts.flatMap { $0.floats })
        case .int8: return Tensor(shape: shape, int8s: parts.flatMap { $0.int8s })
        case .uint8: return Tensor(shape: shape, uint8s: parts.flatMap { $0.uint8s })
        case .int32: return Tensor(shape: shape, int32s: parts.flatMap { $0.int32s })
        case .int64: return Tensor(shape: shape, int64s: parts.flatMap { $0.int64s })
        }
    }

    /// Cuts `feeds` (every tensor [n, …]) into chunks of `batchSize` samples, the last one
    /// zero-padded, and calls `body` with each chunk. This is how a graph specialised to a batch
    /// size runs a batch of any size; `join` (and `OutputBatching.join` for graph outputs) puts
    /// the chunks' results together.
    public static func forEachChunk(_ feeds: [String: Tensor], samples n: Int, batchSize b: Int,
                                    _ body: (_ chunk: [String: Tensor]) throws -> Void) rethrows {
        var start = 0
        while start < n {
            let count = min(b, n - start)
            var chunk: [String: Tensor] = [:]
            for (k, t) in feeds { chunk[k] = slice(t, start: start, count: count, padTo: b) }
            try body(chunk)
            start += count
        }
    }

    /// Tensor `name`'s values on the chunks of a run of `n` samples (chunks of `batchSize`, the last
    /// one zero-padded) as its value for the run, for tensors inside a graph (its outputs are joined
    /// by `OutputBatching`): a run of one batch as computed; with the batch on axis 0, each chunk cut
    /// to its real samples and concatenated; the value every chunk gave when they are all the same
    /// and have no batch axis (a constant).
    /// - Throws: `OctetTensorError.unsupported` naming the tensor when its axis 0 is not the batch and
    ///   the chunks differ or the one chunk is padded (only a run of one batch computes it);
    ///   `.shapeMismatch` as `concat`.
    public static func join(_ parts: [Tensor], name: String, samples n: Int, batchSize b: Int) throws -> Tensor {
        guard let first = parts.first else { throw OctetTensorError.shapeMismatch("tensor '\(name)': nothing to join") }
        if n == b && parts.count == 1 { return first }
        if first.rank > 0 && first.shape[0] == b {
            return try concat(parts.enumerated().map { i, t in trimmed(t, toSamples: min(b, n - i * b), batchSize: b) })
        }
        if n > b, parts.dropFirst().allSatisfy({ $0.shape == first.shape && sameBits($0.storage, first.storage) }) { return first }
        throw OctetTensorError.unsupported("tensor '\(name)' \(first.shape) does not have the batch on axis 0, so it is computed only for a batch of exactly \(b) sample\(b == 1 ? "" : "s"), not \(n); run \(b) at a time")
    }

    private static func sameBits(_ a: Tensor.Storage, _ b: Tensor.Storage) -> Bool {
        switch (a, b) {
        case (.float32(let x), .float32(let y)): return x.elementsEqual(y) { $0.bitPattern == $1.bitPattern }
        default: return a == b
        }
    }

    /// `t`, computed from a chunk of `batchSize` samples of which the first `count` are real,
    /// cut to those (a tensor without the batch axis passes unchanged).
    public static func trimmed(_ t: Tensor, toSamples count: Int, batchSize b: Int) -> Tensor {
        count < b && t.rank > 0 && t.shape[0] == b ? slice(t, start: 0, count: count, padTo: count) : t
    }

    /// `t` [N, C, H, W] (float32) with the samples whose flag is set mirrored left to right
    /// (each row's W values reversed); the others are copied unchanged.
    /// - Throws: `OctetTensorError.shapeMismatch` unless `t` is float32 of rank 4 with one flag per sample.
    public static func mirroringWidth(_ t: Tensor, where flags: [Bool]) throws -> Tensor {
        guard t.dtype == .float32, t.rank == 4, flags.count == t.shape[0] else {
            throw OctetTensorError.shapeMismatch("mirroring needs float32 images [N, C, H, W] with one flag per sample; got \(t.shape) \(t.dtype), \(flags.count) flags")
        }
        let w = t.shape[3], rows = t.shape[1] * t.shape[2]
        var out = t.floats
        out.withUnsafeMutableBufferPointer { o in
            for (n, flip) in flags.enumerated() where flip {
                for r in 0..<rows { o[(n * rows + r) * w..<(n * rows + r + 1) * w].reverse() }
            }
        }
        return Tensor(shape: t.shape, floats: out)
    }
}
