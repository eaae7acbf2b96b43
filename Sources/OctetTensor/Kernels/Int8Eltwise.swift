/// INT8 element-wise Add and Mul with per-tensor fix positions (reference-quantizer.md §4.4).
/// Inputs broadcast per ONNX (multidirectional); fast paths are tight Int32 loops for equal
/// shapes, the `…Reference` twins evaluate the Int64 formula per element.
extension Int8Kernels {
    /// Add (VAI `cpu_task/ops/eltwise-fix/eltwise-fix.cpp`): with `fpMax = max(fpA, fpB)`,
    /// `v = a · 2^(fpMax − fpA) + b · 2^(fpMax − fpB)`, `y = saturate_int8(DPU_ROUND(v · 2^(fpOut − fpMax)))`.
    /// - Throws: dtype/broadcast mismatch; `.unsupported` when `|fpA − fpB| > 24` or `|fpOut − fpMax| > 24`.
    public static func add(_ a: Tensor, fixPos fpA: Int, _ b: Tensor, fixPos fpB: Int, outFixPos fpOut: Int) throws -> Tensor {
        let (sa, sb, e) = try addShifts(fpA, fpB, fpOut)
        return try eltwise(a, b, op: "add") { pa, pb, po, n in
            // |v| ≤ 2 · 128 · 2^24 would overflow Int32 only above 2^31: use Int32 when the shifts are ≤ 22.
            if max(sa, sb) <= 22 && e <= 0 {
                let half: Int32 = e < 0 ? 1 << Int32(-e - 1) : 0, s = Int32(-e)
                for i in 0..<n {
                    let v = Int32(pa[i]) << Int32(sa) + Int32(pb[i]) << Int32(sb)
                    po[i] = Int8(truncatingIfNeeded: min(max((v + half) >> s, -128), 127))
                }
            } else {
                for i in 0..<n { po[i] = addOne(pa[i], pb[i], sa, sb, e) }
            }
        }
    }

    /// Scalar twin of `add`.
    public static func addReference(_ a: Tensor, fixPos fpA: Int, _ b: Tensor, fixPos fpB: Int,
                                    outFixPos fpOut: Int) throws -> Tensor {
        let (sa, sb, e) = try addShifts(fpA, fpB, fpOut)
        return try eltwiseReference(a, b, op: "add") { addOne($0, $1, sa, sb, e) }
    }

    /// Mul: `y = saturate_int8(DPU_ROUND(a · b / 2^(fpA + fpB − fpOut)))` (a left shift when the exponent is negative).
    /// - Throws: dtype/broadcast mismatch; `.unsupported` when `|fpA + fpB − fpOut| > 24`.
    public static func mul(_ a: Tensor, fixPos fpA: Int, _ b: Tensor, fixPos fpB: Int, outFixPos fpOut: Int) throws -> Tensor {
        let s = try mulShift(fpA, fpB, fpOut)
        return try eltwise(a, b, op: "mul") { pa, pb, po, n in
            if s >= 0 && s <= 16 {
                let half: Int32 = s > 0 ? 1 << Int32(s - 1) : 0
                for i in 0..<n {
                    let v = (Int32(pa[i]) * Int32(pb[i]) + half) >> Int32(s)
                    po[i] = Int8(truncatingIfNeeded: min(max(v, -128), 127))
                }
            } else {
                for i in 0..<n { po[i] = saturateInt8(dpuRoundScale(Int64(pa[i]) * Int64(pb[i]), exponent: -s)) }
            }
        }
    }

    /// Scalar twin of `mul`.
    public static func mulReference(_ a: Tensor, fixPos fpA: Int, _ b: Tensor, fixPos fpB: Int,
                                    outFixPos fpOut: Int) throws -> Tensor {
        let s = try mulShift(fpA, fpB, fpOut)
        return try eltwiseReference(a, b, op: "mul") { saturateInt8(dpuRoundScale(Int64($0) * Int64($1), exponent: -s)) }
    }

    static func addOne(_ a: Int8, _ b: Int8, _ sa: Int, _ sb: Int, _ e: Int) -> Int8 {
        saturateInt8(dpuRoundScale(Int64(a) << Int64(sa) + Int64(b) << Int64(sb), exponent: e))
    }

    private static func addShifts(_ fpA: Int, _ fpB: Int, _ fpOut: Int) throws -> (Int, Int, Int) {
        let fpMax = max(fpA, fpB)
        guard abs(fpA - fpB) <= 24, abs(fpOut - fpMax) <= 24 else {
            throw OctetTensorError.unsupported("add: fix positions \(fpA), \(fpB) -> \(fpOut) differ by more than 24")
        }
        return (fpMax - fpA, fpMax - fpB, fpOut - fpMax)
    }

    private static func mulShift(_ fpA: Int, _ fpB: Int, _ fpOut: Int) throws -> Int {
        let s = fpA + fpB - fpOut
        guard abs(s) <= 24 else {
            throw OctetTensorError.unsupported("mul: shift fp_a + fp_b - fp_out = \(s) outside -24...24")
        }
        return s
    }

    /// Equal shapes: `body` on the flat buffers. Otherwise both operands are expanded to the
    /// broadcast shape first (one copy per call) and `body` runs on the copies.
    private static func eltwise(_ a: Tensor, _ b: Tensor, op: String,
                                _ body: (UnsafePointer<Int8>, UnsafePointer<Int8>, UnsafeMutablePointer<Int8>, Int) -> Void)
        throws -> Tensor {
        try checkInt8(a, b, op: op)
        let shape = try Shape.broadcast(a.shape, b.shape)
        let ea = a.shape == shape ? a : expand(a, to: shape), eb = b.shape == shape ? b : expand(b, to: shape)
        var out = [Int8](repeating: 0, count: Tensor.elementCount(shape))
        ea.withInt8s { pa in eb.withInt8s { pb in out.withUnsafeMutableBufferPointer { po in
            if po.count > 0 { body(pa.baseAddress!, pb.baseAddress!, po.baseAddress!, po.count) }
        } } }
        return Tensor(shape: shape, int8s: out)
    }

    private static func eltwiseReference(_ a: Tensor, _ b: Tensor, op: String, _ f: (Int8, Int8) -> Int8) throws -> Tensor {
        try checkInt8(a, b, op: op)
        let shape = try Shape.broadcast(a.shape, b.shape)
        let va = a.int8s, vb = b.int8s
        let oa = broadcastOffsets(a.shape, to: shape), ob = broadcastOffsets(b.shape, to: shape)
        return Tensor(shape: shape, int8s: (0..<oa.count).map { f(va[oa[$0]], vb[ob[$0]]) })
    }

    private static func checkInt8(_ a: Tensor, _ b: Tensor, op: String) throws {
        for (t, name) in [(a, "first input"), (b, "second input")] where t.dtype != .int8 {
            throw OctetTensorError.dtypeMismatch(expected: .int8, got: t.dtype, context: "\(op) \(name)")
        }
    }

    /// `t` materialised at the broadcast shape `shape`.
    static func expand(_ t: Tensor, to shape: [Int]) -> Tensor {
        let v = t.int8s
        let padded = [Int](repeating: 1, count: shape.count - t.rank) + t.shape
        // leading dims equal, trailing dims 1 (e.g. [1, C, 1, 1] against [1, C, H, W]): each element repeats
        if let k = (0...shape.count).first(where: { padded[$0...].allSatisfy { $0 == 1 } }),
           padded[..<k] == shape[..<k] {
            let inner = shape[k...].reduce(1, *)
            var out = [Int8](repeating: 0, count: v.count * inner)
            out.withUnsafeMutableBufferPointer { o in
                for (i, x) in v.enumerated() { (o.baseAddress! + i * inner).update(repeating: x, count: inner) }
            }
            return Tensor(shape: shape, int8s: out)
        }
        return Tensor(shape: shape, int8s: broadcastOffsets(t.shape, to: shape).map { v[$0] })
    }

    /// For each element of `out` (row-major), the flat offset of the element of `shape` it reads under ONNX broadcasting.
    static func broadcastOffsets(_ shape: [Int], to out: [Int]) -> [Int] {
        let lead = out.count - shape.count
        let src = Shape.strides(shape)
        let strides = out.indices.map { d in d < lead || shape[d - lead] == 1 ? 0 : src[d - lead] }
        var offsets = [Int](repeating: 0, count: Tensor.elementCount(out))
        var index = [Int](repeating: 0, count: out.count), cur = 0
        for i in 0..<offsets.count {
            offsets[i] = cur
            var d = out.count - 1
            while d >= 0 {
                index[d] += 1; cur += strides[d]
                if index[d] < out[d] { break }
                cur -= strides[d] * out[d]; index[d] = 0; d -= 1
            }
        }
        return offsets
    }
}
