import OctetGraph
import OctetTensor

/// Integer element-wise DPU ops not covered by OctetTensor's INT8 kernels. Every result is one
/// DPU_ROUND (half toward +∞) and a saturation to [−128, 127] (reference-quantizer §4.2).
enum IntegerOps {
    /// `sat(DPU_ROUND(x · 2^(fpOut − fpIn)))`: moves codes to another fix_pos.
    static func requantize(_ x: Tensor, from fpIn: Int, to fpOut: Int) -> Tensor {
        if fpIn == fpOut { return x }
        return map(x) { saturateInt8(dpuRoundScale(Int64($0), exponent: fpOut - fpIn)) }
    }

    /// Relu / Relu6 / LeakyRelu(26/256) of codes at fpIn, written at fpOut.
    /// relu6 clamps at `sat(DPU_ROUND(6 · 2^fpOut))` after rounding, equal to clamping before since
    /// rounding is monotone. Leaky: `x < 0 → DPU_ROUND(x · 26 / 2^(8 + fpIn − fpOut))`.
    static func activation(_ x: Tensor, _ act: FusedActivation, fpIn: Int, fpOut: Int) -> Tensor {
        let e = fpOut - fpIn
        switch act {
        case .none:
            return requantize(x, from: fpIn, to: fpOut)
        case .relu:
            return map(x) { saturateInt8(dpuRoundScale(Int64(max($0, 0)), exponent: e)) }
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

    /// Clamps codes already at their output fix_pos: relu → max(q, 0); relu6 → min(max(q, 0), DPU_ROUND(6·2^fp)).
    static func clampActivation(_ x: Tensor, _ act: FusedActivation?, fixPos: Int) -> Tensor {
        switch act {
        case .relu: return map(x) { max($0, 0) }
        case .relu6:
            let top = saturateInt8(dpuRoundScale(6, exponent: fixPos))
            return map(x) { min(max($0, 0), top) }
        default: return x
        }
    }

    /// DPU hard-sigmoid (VAI `hard-sigmoid-fix`): with t = clamp(x + 3·2^fpIn, 0, 6·2^fpIn),
    /// `out = sat(DPU_ROUND(t · 2731 / 2^(14 + fpIn − fpOut)))`. Requires fpIn ≥ 0.
    static func hardSigmoid(_ x: Tensor, fpIn: Int, fpOut: Int) -> Tensor {
        let three = Int64(3) << Int64(max(fpIn, 0)), six = 2 * three
        let e = fpOut - fpIn - DPUMath.hardSigmoidShift
        return map(x) { v in
            let t = min(max(Int64(v) + three, 0), six)
            return saturateInt8(dpuRoundScale(t * Int64(DPUMath.hardSigmoidMultiplier), exponent: e))
        }
    }

    /// DPU hard-swish: h = hardSigmoid(x) at fix_pos 7, then `sat(DPU_ROUND(x · h / 2^(fpIn + 7 − fpOut)))`.
    static func hardSwish(_ x: Tensor, fpIn: Int, fpOut: Int) -> Tensor {
        let h = hardSigmoid(x, fpIn: fpIn, fpOut: 7)
        var out = x
        out.withMutableInt8s { o in h.withInt8s { hp in
            for i in o.indices {
                o[i] = saturateInt8(dpuRoundScale(Int64(o[i]) * Int64(hp[i]), exponent: fpOut - fpIn - 7))
            }
        } }
        return out
    }

    static func map(_ x: Tensor, _ f: (Int8) -> Int8) -> Tensor {
        var y = x
        y.withMutableInt8s { p in for i in p.indices { p[i] = f(p[i]) } }
        return y
    }

    /// Codes as exact floats (for data-movement kernels) and back.
    static func asFloat(_ x: Tensor) -> Tensor { x.converted(to: .float32) }
    static func asInt8(_ x: Tensor) -> Tensor {
        Tensor(shape: x.shape, int8s: x.floats.map { Int8(max(-128, min(127, $0))) })
    }
}
