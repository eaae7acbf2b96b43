import OctetTensor

/// Integer forms of the DPU ops that are not OctetTensor INT8 kernels, shared by the
/// quantizer's integer evaluation and the DPU emulator. Every result is one
/// DPU_ROUND (half toward +∞, `dpuRoundScale`) and a saturation to [−128, 127]
/// (reference-quantizer §4.2, §4.4; VAI `cpu_task/ops/*-fix`).
public enum IntegerForms {
    /// Moves codes from fpIn to fpOut: `sat(DPU_ROUND(x · 2^(fpOut − fpIn)))`.
    public static func requantize(_ x: Tensor, from fpIn: Int, to fpOut: Int) -> Tensor {
        if fpIn == fpOut { return x }
        let e = fpOut - fpIn
        return map(x) { saturateInt8(dpuRoundScale(Int64($0), exponent: e)) }
    }

    /// Standalone Relu / Relu6 / LeakyRelu(26/256) from fpIn to fpOut.
    /// relu6: `min(sat(DPU_ROUND(max(x, 0) · 2^e)), sat(DPU_ROUND(6 · 2^fpOut)))`;
    /// leaky: `x < 0 → sat(DPU_ROUND(x · 26 · 2^(e − 8)))`, with e = fpOut − fpIn.
    public static func activation(_ x: Tensor, _ act: FusedActivation, fpIn: Int, fpOut: Int) -> Tensor {
        let e = fpOut - fpIn
        switch act {
        case .none: return requantize(x, from: fpIn, to: fpOut)
        case .relu: return map(x) { saturateInt8(dpuRoundScale(Int64(max($0, 0)), exponent: e)) }
        case .relu6:
            let top = saturateInt8(dpuRoundScale(6, exponent: fpOut))
            return map(x) { min(saturateInt8(dpuRoundScale(Int64(max($0, 0)), exponent: e)), top) }
        case .leakyRelu:
            return map(x) { v in
                v >= 0 ? saturateInt8(dpuRoundScale(Int64(v), exponent: e))
                       : saturateInt8(dpuRoundScale(Int64(v) * 26, exponent: e - 8))
            }
        }
    }

    /// Activation fused into an eltwise add / mul, on codes already at the output fix_pos:
    /// relu → max(q, 0); relu6 → min(max(q, 0), sat(DPU_ROUND(6 · 2^fp))).
    public static func clamp(_ x: Tensor, _ act: FusedActivation?, fixPos: Int) -> Tensor {
        switch act {
        case .relu: return map(x) { max($0, 0) }
        case .relu6:
            let top = saturateInt8(dpuRoundScale(6, exponent: fixPos))
            return map(x) { min(max($0, 0), top) }
        default: return x
        }
    }

    /// VAI `hard-sigmoid-fix`: t = clamp(x + 3·2^fpIn, 0, 6·2^fpIn),
    /// `out = sat(DPU_ROUND(t · 2731 / 2^(14 + fpIn − fpOut)))`. Requires fpIn ≥ 0.
    public static func hardSigmoid(_ x: Tensor, fpIn: Int, fpOut: Int) -> Tensor {
        map(x, hardSigmoidCode(fpIn: fpIn, fpOut: fpOut))
    }

    /// `hardSigmoid` of one code.
    static func hardSigmoidCode(fpIn: Int, fpOut: Int) -> (Int8) -> Int8 {
        let three = Int64(3) << Int64(max(fpIn, 0)), six = 2 * three
        let e = fpOut - fpIn - DPUMath.hardSigmoidShift, m = Int64(DPUMath.hardSigmoidMultiplier)
        return { v in saturateInt8(dpuRoundScale(min(max(Int64(v) + three, 0), six) * m, exponent: e)) }
    }

    /// Hard-swish: h = hardSigmoid(x) at fix_pos 7, `out = sat(DPU_ROUND(x · h / 2^(fpIn + 7 − fpOut)))`.
    public static func hardSwish(_ x: Tensor, fpIn: Int, fpOut: Int) -> Tensor {
        let h = table(hardSigmoidCode(fpIn: fpIn, fpOut: 7))
        let e = fpOut - fpIn - 7
        return map(x) { v in saturateInt8(dpuRoundScale(Int64(v) * Int64(h[Int(v) + 128]), exponent: e)) }
    }

    /// Concatenation of int8 tensors along `axis` (inputs already at one fix_pos).
    public static func concat(_ parts: [Tensor], axis a: Int) throws -> Tensor {
        guard let first = parts.first else { throw OctetTensorError.shapeMismatch("concat of nothing") }
        let rank = first.rank, axis = a < 0 ? a + rank : a
        guard axis >= 0, axis < rank else { throw OctetTensorError.shapeMismatch("concat axis \(a) of rank \(rank)") }
        var shape = first.shape
        shape[axis] = 0
        for p in parts {
            guard p.rank == rank, (0..<rank).allSatisfy({ $0 == axis || p.shape[$0] == first.shape[$0] }) else {
                throw OctetTensorError.shapeMismatch("concat: \(p.shape) does not match \(first.shape) off axis \(axis)")
            }
            shape[axis] += p.shape[axis]
        }
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var out = [Int8](repeating: 0, count: shape.reduce(1, *))
        var offset = 0
        out.withUnsafeMutableBufferPointer { o in
            for p in parts {
                let len = p.shape[axis] * inner
                p.withInt8s { src in
                    for r in 0..<outer { (o.baseAddress! + r * shape[axis] * inner + offset).update(from: src.baseAddress! + r * len, count: len) }
                }
                offset += len
            }
        }
        return Tensor(shape: shape, int8s: out)
    }

    /// Applies a code-to-code function: through a 256-entry table (f evaluated once per code)
    /// when the tensor is larger than that.
    public static func map(_ x: Tensor, _ f: (Int8) -> Int8) -> Tensor {
        var y = x
        if x.count <= 256 || x.dtype != .int8 {
            y.withMutableInt8s { p in for i in p.indices { p[i] = f(p[i]) } }
            return y
        }
        return Int8Kernels.lookup(y, table: table(f))
    }

    /// `f(c)` for every code c in −128...127, indexed by c + 128.
    static func table(_ f: (Int8) -> Int8) -> [Int8] { (-128...127).map { f(Int8($0)) } }

    /// Codes as exact floats (data-movement kernels run on them) and back.
    public static func asFloat(_ x: Tensor) -> Tensor { x.converted(to: .float32) }
    public static func asInt8(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, int8s: x.withFloats { p in p.map { Int8(max(-128, min(127, $0))) } })
    }
}
