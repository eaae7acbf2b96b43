/// DPU arithmetic constants and integer helpers shared by the quantizer and the DPU emulator
/// (reference-quantizer §4).
public enum DPUMath {
    /// The DPU computes an average as `sum · multiplier / 2^shift` instead of `sum / k`.
    public struct AvgPoolFactor: Sendable, Equatable, CustomStringConvertible {
        /// N.
        public var multiplier: Int
        /// M.
        public var shift: Int
        /// N / 2^M, the DPU's stand-in for 1/k.
        public var reciprocal: Double { Double(multiplier) / Double(1 << shift) }
        public var description: String { "\(multiplier)/2^\(shift)" }
    }

    /// Kernels with fixed factors (vai_q_pytorch `nn/modules/avgpool.py`; reference-quantizer §4.3).
    static let avgPoolTable: [(kh: Int, kw: Int, factor: AvgPoolFactor)] = [
        (3, 3, AvgPoolFactor(multiplier: 7, shift: 6)),
        (5, 5, AvgPoolFactor(multiplier: 10, shift: 8)),
        (6, 6, AvgPoolFactor(multiplier: 7, shift: 8)),
        (7, 7, AvgPoolFactor(multiplier: 21, shift: 10)),
        (14, 14, AvgPoolFactor(multiplier: 21, shift: 12)),
    ]

    /// (N, M) for a kh×kw average pool: the table for 3×3, 5×5, 6×6, 7×7, 14×14, else `searchFactor`.
    /// - Throws: `OctetTensorError.unsupported` for a non-positive kernel size.
    public static func avgPoolFactor(kernelH: Int, kernelW: Int) throws -> AvgPoolFactor {
        guard kernelH > 0, kernelW > 0 else {
            throw OctetTensorError.unsupported("average pool kernel \(kernelH)x\(kernelW)")
        }
        if let row = avgPoolTable.first(where: { $0.kh == kernelH && $0.kw == kernelW }) { return row.factor }
        return try searchFactor(count: kernelH * kernelW)
    }

    /// The factor the quantizer multiplies a float average by so it matches the DPU:
    /// k·N/2^M with k = kh·kw (e.g. 3×3: 9·7/64 = 0.984375).
    /// - Throws: as `avgPoolFactor`.
    public static func avgPoolScale(kernelH: Int, kernelW: Int) throws -> Float {
        let f = try avgPoolFactor(kernelH: kernelH, kernelW: kernelW)
        return Float(Double(kernelH * kernelW) * f.reciprocal)
    }

    /// (N, M) for a mean over `count` elements (ReduceMean; no fixed table). Exact for powers of two.
    /// - Throws: `OctetTensorError.unsupported` for `count` < 1.
    public static func meanFactor(count: Int) throws -> AvgPoolFactor {
        guard count > 0 else { throw OctetTensorError.unsupported("mean over \(count) elements") }
        return try searchFactor(count: count)
    }

    /// Search rule for 1/k: for M in 0 ..< ceil(log2(k·128)), N = round(2^M / k); keep the
    /// (N, M) minimising |N/2^M − 1/k|, first minimum wins (strict `<`).
    /// Source: VAI `cpu_task/ops/pool-fix/pool-fix.cpp` `get_avgpool_dpu_factors`, vai_q_pytorch avgpool.py.
    /// Ties in `round` only occur for powers of two, where a later M is exact, so Python's
    /// half-even and C's half-away give the same result.
    /// - Throws: `OctetTensorError.unsupported` for `k` < 1.
    public static func searchFactor(count k: Int) throws -> AvgPoolFactor {
        guard k > 0 else { throw OctetTensorError.unsupported("average over \(k) elements") }
        let limit = Int((Double(k) * 128).log2Ceil)
        let target = 1.0 / Double(k)
        var best = AvgPoolFactor(multiplier: 0, shift: 0)
        var bestDiff = 1.0
        for m in 0..<limit {
            let p = Double(sign: .plus, exponent: m, significand: 1)
            let n = (p / Double(k)).rounded(.toNearestOrEven)
            let diff = abs(n / p - target)
            if diff < bestDiff {
                bestDiff = diff
                best = AvgPoolFactor(multiplier: Int(n), shift: m)
            }
        }
        return best
    }

    // MARK: Activations

    /// LeakyReLU slope the DPU supports: 26/256 = 0.1015625 (reference-quantizer §4.2).
    public static let dpuLeakyReluAlpha: Float = 26.0 / 256.0

    /// A slope rounded to the DPU's 1/256 grid: round(alpha·256)/256, ties to even
    /// (Quark `dpu_leaky_relu_alpha`, Python `round`). 0.1 → 26/256.
    public static func leakyReluAlpha(_ alpha: Float) -> Float {
        (alpha * 256).rounded(.toNearestOrEven) / 256
    }

    /// Whether a LeakyRelu of slope `alpha` is a DPU LeakyRelu: its slope on the 1/256 grid is
    /// 26/256 (0.1 is; the quantizer then computes it at 26/256 and warns). Any other slope is
    /// kept and computed in float on the CPU.
    public static func isDPULeakyReluAlpha(_ alpha: Float) -> Bool {
        leakyReluAlpha(alpha) == dpuLeakyReluAlpha
    }

    /// Hard-sigmoid slope numerator: hsig(x) = relu6(x + 3) · 2731 / 2^14.
    public static let hardSigmoidMultiplier = 2731
    /// Hard-sigmoid slope shift (2^14 = 16384).
    public static let hardSigmoidShift = 14
    /// 2731/16384 ≈ 0.16668701, the DPU's 1/6.
    public static let hardSigmoidSlope: Float = 2731.0 / 16384.0
    /// The const `mul` after `hard-sigmoid` in the xmodel: 6·2731/16384 = 1.0001220703125.
    public static let hardSigmoidOutputScale: Float = 1.0001220703125

    /// Float model of the DPU hard-sigmoid: relu6(x + 3) · 2731/16384.
    public static func hardSigmoid(_ x: Float) -> Float {
        Swift.min(Swift.max(x + 3, 0), 6) * hardSigmoidSlope
    }

    // MARK: Integer helpers

    /// DPU_ROUND of the rational v / 2^shift: half toward +∞ (floor(v/2^shift + 1/2)), exact in
    /// integers. A negative shift multiplies by 2^−shift, saturating at the Int64 bounds.
    public static func dpuRound(_ v: Int64, shift: Int) -> Int64 {
        if shift == 0 { return v }
        if shift < 0 { return shiftLeftSaturating(v, by: -shift) }
        if shift >= 64 { return 0 }   // |v / 2^shift| ≤ 1/2, and −1/2 rounds up to 0
        let q = v >> Int64(shift)     // floor(v / 2^shift)
        let mask: Int64 = shift == 63 ? Int64.max : (1 << Int64(shift)) - 1
        let r = v & mask              // v − q·2^shift, in [0, 2^shift)
        return r >= (1 << Int64(shift - 1)) ? q + 1 : q
    }

    /// v · 2^n saturated to the Int64 bounds.
    static func shiftLeftSaturating(_ v: Int64, by n: Int) -> Int64 {
        if v == 0 { return 0 }
        if n >= 63 { return v > 0 ? .max : .min }
        let (p, overflow) = v.multipliedReportingOverflow(by: 1 << Int64(n))
        return overflow ? (v > 0 ? .max : .min) : p
    }

    /// Saturates to [−128, 127] (the DPU never wraps).
    @inlinable
    public static func saturateInt8(_ v: Int64) -> Int8 {
        Int8(Swift.min(Swift.max(v, -128), 127))
    }

    /// `saturateInt8(dpuRound(v, shift:))`: the requantization step of every DPU op.
    @inlinable
    public static func requantize(_ v: Int64, shift: Int) -> Int8 {
        saturateInt8(dpuRound(v, shift: shift))
    }
}

extension Double {
    /// ceil(log2(self)) for self ≥ 1, computed exactly from the binary exponent.
    fileprivate var log2Ceil: Int {
        let e = Int(exponent)
        return significand == 1 ? e : e + 1
    }
}
