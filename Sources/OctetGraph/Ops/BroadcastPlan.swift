import OctetTensor

/// Iteration plan for ONNX multidirectional (NumPy) broadcasting of several inputs.
///
/// Shapes are right-aligned and padded with 1s; a size-1 dimension of an input gets
/// stride 0. Size-1 output dimensions are dropped and neighbouring dimensions that every
/// input walks contiguously (or every input repeats) are merged, so `[N,C,H,W] + [1,C,1,1]`
/// becomes `[N, C, H·W]` with strides `(C·H·W, H·W, 1)` and `(0, 1, 0)`: the innermost loop
/// then runs over a contiguous row against a scalar. Source: ONNX docs/Broadcasting.md.
struct BroadcastPlan {
    /// The broadcast output shape.
    let outShape: [Int]
    /// Collapsed loop dimensions, outermost first; never empty.
    let dims: [Int]
    /// Element strides of each input along `dims`.
    let strides: [[Int]]
    /// Number of output elements.
    let count: Int

    /// - Throws: `OctetTensorError.shapeMismatch` when the shapes do not broadcast.
    init(_ shapes: [[Int]]) throws {
        var out: [Int] = []
        for s in shapes { out = try Shape.broadcast(out, s) }
        outShape = out
        count = Tensor.elementCount(out)
        let rank = out.count
        let full: [[Int]] = shapes.map { s in
            let padded = Array(repeating: 1, count: rank - s.count) + s
            let st = Shape.strides(padded)
            return (0..<rank).map { padded[$0] == 1 ? 0 : st[$0] }
        }
        var keptDims: [Int] = []
        var keptStrides: [[Int]] = Array(repeating: [], count: shapes.count)
        for d in 0..<rank where out[d] != 1 {
            if let last = keptDims.last,
               (0..<shapes.count).allSatisfy({ keptStrides[$0].last! == full[$0][d] * out[d] }) {
                keptDims[keptDims.count - 1] = last * out[d]
                for k in 0..<shapes.count { keptStrides[k][keptStrides[k].count - 1] = full[k][d] }
            } else {
                keptDims.append(out[d])
                for k in 0..<shapes.count { keptStrides[k].append(full[k][d]) }
            }
        }
        if keptDims.isEmpty {
            keptDims = [1]
            for k in 0..<shapes.count { keptStrides[k] = [0] }
        }
        dims = keptDims
        strides = keptStrides
    }

    /// Computes `out[i] = f(a[ia], b[ib])` over the broadcast output.
    /// The innermost loop is specialised for contiguous/contiguous, contiguous/scalar and
    /// scalar/contiguous strides.
    @inline(__always)
    func binary<A, B, R>(_ a: UnsafePointer<A>, _ b: UnsafePointer<B>, _ out: UnsafeMutablePointer<R>,
                         _ f: (A, B) -> R) {
        guard count > 0 else { return }
        let rank = dims.count
        let n = dims[rank - 1]
        let sa = strides[0][rank - 1], sb = strides[1][rank - 1]
        var idx = Array(repeating: 0, count: rank)
        var oa = 0, ob = 0, o = 0
        for _ in 0..<(count / n) {
            if sa == 1 && sb == 1 {
                for i in 0..<n { out[o + i] = f(a[oa + i], b[ob + i]) }
            } else if sa == 1 && sb == 0 {
                let bv = b[ob]
                for i in 0..<n { out[o + i] = f(a[oa + i], bv) }
            } else if sa == 0 && sb == 1 {
                let av = a[oa]
                for i in 0..<n { out[o + i] = f(av, b[ob + i]) }
            } else {
                for i in 0..<n { out[o + i] = f(a[oa + i * sa], b[ob + i * sb]) }
            }
            o += n
            var d = rank - 2
            while d >= 0 {
                idx[d] += 1
                oa += strides[0][d]; ob += strides[1][d]
                if idx[d] < dims[d] { break }
                oa -= strides[0][d] * dims[d]; ob -= strides[1][d] * dims[d]
                idx[d] = 0
                d -= 1
            }
        }
    }

    /// Visits every output element in order with the element offset into each input.
    /// Generic (no inner-loop specialisation); used by ternary ops such as `Where`.
    func forEachOffsets(_ body: (_ outIndex: Int, _ offsets: [Int]) -> Void) {
        guard count > 0 else { return }
        let rank = dims.count
        var idx = Array(repeating: 0, count: rank)
        var offs = Array(repeating: 0, count: strides.count)
        for o in 0..<count {
            body(o, offs)
            var d = rank - 1
            while d >= 0 {
                idx[d] += 1
                for k in 0..<offs.count { offs[k] += strides[k][d] }
                if idx[d] < dims[d] { break }
                for k in 0..<offs.count { offs[k] -= strides[k][d] * dims[d] }
                idx[d] = 0
                d -= 1
            }
        }
    }
}

/// Array-level broadcasting helpers.
enum Broadcast {
    /// Applies `f` element-wise with broadcasting; returns the values and the output shape.
    /// - Throws: `OctetTensorError.shapeMismatch` when the shapes do not broadcast.
    @inline(__always)
    static func binary<A, B, R>(_ a: [A], _ aShape: [Int], _ b: [B], _ bShape: [Int],
                                _ f: (A, B) -> R) throws -> ([R], [Int]) {
        let plan = try BroadcastPlan([aShape, bShape])
        guard plan.count > 0 else { return ([], plan.outShape) }
        let values = [R](unsafeUninitializedCapacity: plan.count) { buf, initialized in
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    plan.binary(pa.baseAddress!, pb.baseAddress!, buf.baseAddress!, f)
                }
            }
            initialized = plan.count
        }
        return (values, plan.outShape)
    }
}
