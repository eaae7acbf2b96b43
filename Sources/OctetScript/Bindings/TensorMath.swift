import OctetTensor

/// Float tensor arithmetic for the language: NumPy broadcasting, reductions, transpose,
/// indexing. Results are float32 (integer inputs are converted first), except the reductions of
/// integer tensors and the indices of argmax / argmin (`reduce`).
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
        try Limits.checkTensor(shape)
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
    /// Indices (argmax, argmin) are int64; integer tensors are summed and compared exactly in
    /// Int64 (sum, max, min give int64), their mean taken in Double; float tensors use float32
    /// (sums in Double).
    /// - Throws: `OctetTensorError.shapeMismatch` for max/min/arg* of nothing; `BindingError` when
    ///   an integer sum leaves Int64.
    static func reduce(_ t: Tensor, _ kind: Reduction, axis: Int?) throws -> Tensor {
        guard t.count > 0 || kind == .sum || kind == .mean else {
            throw OctetTensorError.shapeMismatch("\(kind.rawValue) of an empty tensor")
        }
        if t.dtype != .float32 {
            let x = t.asInt64Array()
            if kind == .mean {  // in Double from the integers, not from their float32 roundings
                return try along(t.shape, axis, x, kind, make: { Tensor(shape: $0, floats: $1) }) { c in
                    c.isEmpty ? .nan : Float(c.reduce(0.0) { $0 + Double($1) } / Double(c.count))
                }
            }
            return try along(t.shape, axis, x, kind, make: { Tensor(shape: $0, int64s: $1) }) { try exact($0, kind) }
        }
        let x = t.asFloatArray()
        if kind == .argmax || kind == .argmin {
            return try along(t.shape, axis, x, kind, make: { Tensor(shape: $0, int64s: $1) }) { Int64(index($0, kind)) }
        }
        return try along(t.shape, axis, x, kind, make: { Tensor(shape: $0, floats: $1) }) { reduce($0, kind) }
    }

    /// Applies `reduce` to every column along `axis` (all elements when nil).
    private static func along<T, R>(_ shape: [Int], _ axis: Int?, _ x: [T], _ kind: Reduction,
                                    make: ([Int], [R]) -> Tensor, reduce: (ArraySlice<T>) throws -> R) throws -> Tensor {
        guard let axis else { return make([], [try reduce(x[...])]) }
        guard !shape.isEmpty else { throw OctetTensorError.shapeMismatch("axis \(axis) out of range for rank 0") }
        let ax = try Shape.normalizeAxis(axis, rank: shape.count)
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        guard n > 0 || kind == .sum || kind == .mean else {
            throw OctetTensorError.shapeMismatch("\(kind.rawValue) over an empty axis")
        }
        var out: [R] = []
        out.reserveCapacity(outer * inner)
        var column = [T]()
        column.reserveCapacity(n)
        for o in 0..<outer {
            for i in 0..<inner {
                column.removeAll(keepingCapacity: true)
                for k in 0..<n { column.append(x[(o * n + k) * inner + i]) }
                out.append(try reduce(column[...]))
            }
        }
        var result = shape
        result.remove(at: ax)
        return make(result, out)
    }

    static func reduce(_ x: ArraySlice<Float>, _ kind: Reduction) -> Float {
        switch kind {
        case .sum: return Float(x.reduce(0.0) { $0 + Double($1) })
        case .mean: return x.isEmpty ? .nan : Float(x.reduce(0.0) { $0 + Double($1) } / Double(x.count))
        case .max: return x.contains { $0.isNaN } ? .nan : x.max()!   // NaN propagates, as in NumPy
        case .min: return x.contains { $0.isNaN } ? .nan : x.min()!
        case .argmax, .argmin: return Float(index(x, kind))
        }
    }

    /// Position of the first NaN (as NumPy's argmax / argmin), else of the first largest or smallest element.
    static func index(_ x: ArraySlice<Float>, _ kind: Reduction) -> Int {
        if let nan = x.firstIndex(where: { $0.isNaN }) { return nan - x.startIndex }
        return orderedIndex(x, kind)
    }

    /// Position of the first largest (argmax) or smallest (argmin) element.
    static func index(_ x: ArraySlice<Int64>, _ kind: Reduction) -> Int { orderedIndex(x, kind) }

    private static func orderedIndex<T: Comparable>(_ x: ArraySlice<T>, _ kind: Reduction) -> Int {
        var best = x.startIndex
        for i in x.indices where kind == .argmax ? x[i] > x[best] : x[i] < x[best] { best = i }
        return best - x.startIndex
    }

    /// Sum (overflow checked), max, min or index of integers, exactly.
    static func exact(_ x: ArraySlice<Int64>, _ kind: Reduction) throws -> Int64 {
        switch kind {
        case .sum:
            var total: Int64 = 0
            for v in x {
                let (s, o) = total.addingReportingOverflow(v)
                if o { throw BindingError.message("integer overflow: the sum leaves the int64 range") }
                total = s
            }
            return total
        case .max: return x.max()!
        case .min: return x.min()!
        case .argmax, .argmin: return Int64(index(x, kind))
        case .mean: preconditionFailure("mean of integers is computed in float")
        }
    }

    /// Permutes axes (`perm` nil reverses them, like NumPy `transpose`); the dtype is kept.
    static func transpose(_ t: Tensor, _ perm: [Int]?) throws -> Tensor {
        let p = perm ?? Array((0..<t.rank).reversed())
        guard p.count == t.rank, Set(p) == Set(0..<t.rank) else {
            throw OctetTensorError.shapeMismatch("transpose permutation \(p) does not fit rank \(t.rank)")
        }
        let shape = p.map { t.shape[$0] }
        let src = Shape.strides(t.shape)
        let strides = p.map { src[$0] }
        var offsets = [Int](repeating: 0, count: t.count)
        var index = [Int](repeating: 0, count: shape.count)
        var offset = 0
        for k in 0..<t.count {
            offsets[k] = offset
            var d = shape.count - 1
            while d >= 0 {
                index[d] += 1; offset += strides[d]
                if index[d] < shape[d] { break }
                offset -= strides[d] * shape[d]; index[d] = 0
                d -= 1
            }
        }
        return gather(t, offsets, shape: shape)
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
