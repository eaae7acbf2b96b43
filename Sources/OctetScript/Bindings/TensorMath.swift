import OctetTensor

/// Float tensor arithmetic for the language: NumPy broadcasting, reductions, transpose,
/// indexing. Results are float32 (integer inputs are converted first).
enum TensorMath {
    /// Element-wise `op` with NumPy broadcasting.
    /// - Throws: `OctetTensorError.shapeMismatch` when shapes do not broadcast.
    static func binary(_ a: Tensor, _ b: Tensor, _ op: (Float, Float) -> Float) throws -> Tensor {
        let x = a.asFloatArray(), y = b.asFloatArray()
        if a.shape == b.shape {
            var out = [Float](repeating: 0, count: x.count)
            for i in 0..<x.count { out[i] = op(x[i], y[i]) }
            return Tensor(shape: a.shape, floats: out)
        }
        let shape = try Shape.broadcast(a.shape, b.shape)
        let n = Tensor.elementCount(shape)
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        var out = [Float](repeating: 0, count: n)
        var index = [Int](repeating: 0, count: shape.count)
        var ia = 0, ib = 0
        for k in 0..<n {
            out[k] = op(x[ia], y[ib])
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1; ia += sa[d]; ib += sb[d]
                if index[d] < shape[d] { break }
                ia -= sa[d] * shape[d]; ib -= sb[d] * shape[d]; index[d] = 0
                d -= 1
            }
        }
        return Tensor(shape: shape, floats: out)
    }

    /// Strides of `shape` seen in the broadcast `target` shape (0 on broadcast axes).
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = Shape.strides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { d in
            d < offset || shape[d - offset] == 1 ? 0 : own[d - offset]
        }
    }

    enum Reduction: String { case sum, mean, max, min, argmax, argmin }

    /// Reduces along `axis`, or over all elements when `axis` is nil (shape `[]`).
    static func reduce(_ t: Tensor, _ kind: Reduction, axis: Int?) throws -> Tensor {
        let x = t.asFloatArray()
        guard t.count > 0 || kind == .sum || kind == .mean else {
            throw OctetTensorError.shapeMismatch("\(kind.rawValue) of an empty tensor")
        }
        guard let axis else { return Tensor(shape: [], floats: [reduce(x[...], kind)]) }
        let ax = try Shape.normalizeAxis(axis, rank: t.rank)
        let outer = t.shape[..<ax].reduce(1, *), n = t.shape[ax], inner = t.shape[(ax + 1)...].reduce(1, *)
        guard n > 0 || kind == .sum || kind == .mean else {
            throw OctetTensorError.shapeMismatch("\(kind.rawValue) over an empty axis")
        }
        var out = [Float](repeating: 0, count: outer * inner)
        var column = [Float](repeating: 0, count: n)
        for o in 0..<outer {
            for i in 0..<inner {
                for k in 0..<n { column[k] = x[(o * n + k) * inner + i] }
                out[o * inner + i] = reduce(column[...], kind)
            }
        }
        var shape = t.shape
        shape.remove(at: ax)
        return Tensor(shape: shape, floats: out)
    }

    static func reduce(_ x: ArraySlice<Float>, _ kind: Reduction) -> Float {
        switch kind {
        case .sum: return Float(x.reduce(0.0) { $0 + Double($1) })
        case .mean: return x.isEmpty ? .nan : Float(x.reduce(0.0) { $0 + Double($1) } / Double(x.count))
        case .max: return x.max()!
        case .min: return x.min()!
        case .argmax, .argmin:
            var best = x.startIndex
            for i in x.indices where kind == .argmax ? x[i] > x[best] : x[i] < x[best] { best = i }
            return Float(best - x.startIndex)
        }
    }

    /// Permutes axes (`perm` nil reverses them, like NumPy `transpose`).
    static func transpose(_ t: Tensor, _ perm: [Int]?) throws -> Tensor {
        let p = perm ?? Array((0..<t.rank).reversed())
        guard p.count == t.rank, Set(p) == Set(0..<t.rank) else {
            throw OctetTensorError.shapeMismatch("transpose permutation \(p) does not fit rank \(t.rank)")
        }
        let x = t.asFloatArray()
        let shape = p.map { t.shape[$0] }
        let src = Shape.strides(t.shape)
        let strides = p.map { src[$0] }
        var out = [Float](repeating: 0, count: x.count)
        var index = [Int](repeating: 0, count: shape.count)
        var offset = 0
        for k in 0..<x.count {
            out[k] = x[offset]
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1; offset += strides[d]
                if index[d] < shape[d] { break }
                offset -= strides[d] * shape[d]; index[d] = 0
                d -= 1
            }
        }
        return Tensor(shape: shape, floats: out)
    }

    /// Selection along leading axes: integers drop an axis, `lo..<hi` ranges keep it.
    static func select(_ t: Tensor, _ picks: [Pick]) throws -> Tensor {
        guard picks.count <= t.rank else {
            throw OctetTensorError.shapeMismatch("\(picks.count) indices for a tensor of rank \(t.rank)")
        }
        var ranges: [Range<Int>] = []
        var shape: [Int] = []
        for (d, pick) in picks.enumerated() {
            switch pick {
            case .at(let i):
                let p = i < 0 ? i + t.shape[d] : i
                guard p >= 0 && p < t.shape[d] else {
                    throw OctetTensorError.shapeMismatch("index \(i) out of range for axis \(d) of size \(t.shape[d])")
                }
                ranges.append(p..<(p + 1))
            case .slice(let lo, let hi):
                guard lo >= 0, hi <= t.shape[d], lo <= hi else {
                    throw OctetTensorError.shapeMismatch("slice \(lo)..<\(hi) out of range for axis \(d) of size \(t.shape[d])")
                }
                ranges.append(lo..<hi)
                shape.append(hi - lo)
            }
        }
        for d in picks.count..<t.rank { ranges.append(0..<t.shape[d]); shape.append(t.shape[d]) }
        let strides = Shape.strides(t.shape)
        var offsets = [0]
        for (d, r) in ranges.enumerated() {
            offsets = offsets.flatMap { base in r.map { base + $0 * strides[d] } }
        }
        return gather(t, offsets, shape: shape)
    }

    enum Pick { case at(Int), slice(Int, Int) }

    static func gather(_ t: Tensor, _ offsets: [Int], shape: [Int]) -> Tensor {
        switch t.storage {
        case .float32(let a): return Tensor(shape: shape, floats: offsets.map { a[$0] })
        case .int8(let a): return Tensor(shape: shape, int8s: offsets.map { a[$0] })
        case .uint8(let a): return Tensor(shape: shape, uint8s: offsets.map { a[$0] })
        case .int32(let a): return Tensor(shape: shape, int32s: offsets.map { a[$0] })
        case .int64(let a): return Tensor(shape: shape, int64s: offsets.map { a[$0] })
        }
    }
}
