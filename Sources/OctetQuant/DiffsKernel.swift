import OctetTensor

/// The diffs fix_pos search and fake quantization for half-up rounding, vectorised for calibration:
/// same results as `QuantMath.diffsFixPos` / `QuantMath.fakeQuantize` with `.halfUp`
/// (reference-quantizer §2.1), but all `scope` candidate SSEs come from one pass over the data.
///
/// Rounding without libm: after a pre-clamp to [qmin − 1, qmax + 1], n = (g + 1.5·2^23) − 1.5·2^23
/// is g rounded half-to-even exactly; half-up adds 1 where g − n = ½.
enum DiffsKernel {
    static let magic: Float = 12_582_912   // 1.5 · 2^23

    /// Half-up rounding of g with |g| ≤ 2^22 (callers pre-clamp).
    @inline(__always)
    static func roundHalfUp(_ g: Float) -> Float {
        let n = (g + magic) - magic
        return g - n == 0.5 ? n + 1 : n
    }

    @inline(__always)
    static func quantized(_ x: Float, _ a: Float, _ b: Float, _ lo: Float, _ hi: Float) -> Float {
        let g = Swift.min(Swift.max(x * a, lo - 1), hi + 1)
        return Swift.min(Swift.max(roundHalfUp(g), lo), hi) * b
    }

    /// The chosen fix_pos (clamped to `maxFixPos`) of one batch; `stats` must be the buffer's finite range.
    static func search(_ x: UnsafeBufferPointer<Float>, stats: RangeStatistics, range: QuantRange,
                       scope: Int, maxFixPos: Int) -> Int {
        let fp0 = QuantMath.nonOverflowFixPos(min: stats.min, max: stats.max, range: range)
        guard scope > 1 else { return min(fp0, maxFixPos) }
        let sse = sumSquaredErrors(x, fp0: fp0, scope: scope, range: range)
        var best = 0
        for k in 1..<scope where sse[k] < sse[best] { best = k }
        return min(fp0 + best, maxFixPos)
    }

    /// Σ(x − q_fp(x))² for fp = fp0 … fp0 + scope − 1: blocks of 4096 elements with four Float
    /// accumulators per candidate, summed into Double.
    static func sumSquaredErrors(_ x: UnsafeBufferPointer<Float>, fp0: Int, scope: Int, range: QuantRange) -> [Double] {
        let lo = Float(range.qmin), hi = Float(range.qmax)
        var total = [Double](repeating: 0, count: scope)
        let p = x.baseAddress!
        var start = 0
        while start < x.count {
            let end = Swift.min(x.count, start + 4096)
            for k in 0..<scope {
                let a = QuantMath.exp2(fp0 + k), b = QuantMath.exp2(-(fp0 + k))
                var s0: Float = 0, s1: Float = 0, s2: Float = 0, s3: Float = 0
                var i = start
                while i + 4 <= end {
                    let e0 = p[i] - quantized(p[i], a, b, lo, hi), e1 = p[i + 1] - quantized(p[i + 1], a, b, lo, hi)
                    let e2 = p[i + 2] - quantized(p[i + 2], a, b, lo, hi), e3 = p[i + 3] - quantized(p[i + 3], a, b, lo, hi)
                    s0 += e0 * e0; s1 += e1 * e1; s2 += e2 * e2; s3 += e3 * e3
                    i += 4
                }
                while i < end { let e = p[i] - quantized(p[i], a, b, lo, hi); s0 += e * e; i += 1 }
                total[k] += Double(s0) + Double(s1) + Double(s2) + Double(s3)
            }
            start = end
        }
        return total
    }

    /// In-place half-up fake quantization at `fixPos`.
    static func fakeQuantize(_ x: UnsafeMutableBufferPointer<Float>, fixPos: Int, range: QuantRange) {
        let lo = Float(range.qmin), hi = Float(range.qmax)
        let a = QuantMath.exp2(fixPos), b = QuantMath.exp2(-fixPos)
        for i in x.indices { x[i] = quantized(x[i], a, b, lo, hi) }
    }
}
