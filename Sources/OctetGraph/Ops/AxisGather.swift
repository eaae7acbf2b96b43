import OctetTensor

/// Data movement shared by the shape operators (Slice, Transpose, Pad, Tile, Expand, Gather).
///
/// The output has one offset table per axis: output element `(i_0, …, i_{r-1})` reads the
/// source element at flat offset `Σ_k tables[k][i_k]`, or takes the fill value when any
/// `tables[k][i_k]` is negative (constant padding). A Transpose uses table `k` =
/// `i · stride[perm[k]]`; a Slice `(start + i·step) · stride[k]`; an Expand `0` on broadcast axes.
struct AxisGather {
    /// Output shape; `tables[k].count == shape[k]`.
    let shape: [Int]
    let tables: [[Int]]

    init(tables: [[Int]]) {
        self.tables = tables
        self.shape = tables.map(\.count)
    }

    /// Table for an axis that reads `count` elements from `start` stepping `step`, times `stride`.
    static func linear(count: Int, start: Int = 0, step: Int = 1, stride: Int) -> [Int] {
        (0..<count).map { (start + $0 * step) * stride }
    }

    /// Applies the gather to `t`; `fill` (converted to the tensor's dtype) feeds padded cells.
    func apply(_ t: Tensor, fill: Double = 0) -> Tensor {
        switch t.storage {
        case .float32(let a): return Tensor(shape: shape, floats: run(a, Float(fill)))
        case .int64(let a): return Tensor(shape: shape, int64s: run(a, Int64(clamping: Int(exactly: fill.rounded(.towardZero)) ?? 0)))
        case .int32(let a): return Tensor(shape: shape, int32s: run(a, Int32(clamping: Int(exactly: fill.rounded(.towardZero)) ?? 0)))
        case .int8(let a): return Tensor(shape: shape, int8s: run(a, Int8(clamping: Int(exactly: fill.rounded(.towardZero)) ?? 0)))
        case .uint8(let a): return Tensor(shape: shape, uint8s: run(a, UInt8(clamping: Int(exactly: fill.rounded(.towardZero)) ?? 0)))
        }
    }

    private func run<T>(_ src: [T], _ fill: T) -> [T] {
        let count = Tensor.elementCount(shape)
        guard count > 0 else { return [] }
        let rank = shape.count
        if rank == 0 { return [src[0]] }
        return [T](unsafeUninitializedCapacity: count) { out, initialized in
            src.withUnsafeBufferPointer { s in
                var idx = Array(repeating: 0, count: rank)
                var base = 0          // Σ tables[k][idx[k]] over the outer axes
                var padded = 0        // number of outer axes currently on a fill cell
                for k in 0..<(rank - 1) {
                    base += Swift.max(tables[k][0], 0); if tables[k][0] < 0 { padded += 1 }
                }
                let inner = tables[rank - 1]
                let n = inner.count
                var o = 0
                for _ in 0..<(count / n) {
                    for i in 0..<n {
                        let off = inner[i]
                        (out.baseAddress! + o + i).initialize(to: padded > 0 || off < 0 ? fill : s[base + off])
                    }
                    o += n
                    var d = rank - 2
                    while d >= 0 {
                        let old = tables[d][idx[d]]
                        idx[d] += 1
                        if idx[d] == shape[d] { idx[d] = 0 }
                        let new = tables[d][idx[d]]
                        base += Swift.max(new, 0) - Swift.max(old, 0)
                        padded += (new < 0 ? 1 : 0) - (old < 0 ? 1 : 0)
                        if idx[d] != 0 { break }
                        d -= 1
                    }
                }
            }
            initialized = count
        }
    }
}
