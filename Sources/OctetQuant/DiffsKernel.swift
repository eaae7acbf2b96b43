import OctetTensor

/// The diffs fix_pos search and fake quantization for half-up rounding, vectorised for calibration:
/// same results as `QuantMath.diffsFixPos` / `QuantMath.fakeQuantize` with `.halfUp`
/// (reference-quantizer §2.1), but all `scope` candidate SSEs come from one pass over the data.
///
/// Rounding without libm: after a pre-clamp to [qmin − 1, qmax + 1], n = (g + 1.5·2^23) − 1.5·2^23
/// is g rounded half-to-even exactly; half-up adds 1 where g − n = ½.
enum DiffsKernel {
    typealias V = SIMD8<Float>
    static let magic: Float = 12_582_912   // 1.5 · 2^23

    @inline(__always)
    static func roundHalfUp(_ g: V) -> V {
        let n = (g + V(repeating: magic)) - V(repeating: magic)
        return n.replacing(with: n + 1, where: (g - n) .== V(repeating: 0.5))
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

    /// Σ(x − q_fp(x))² for fp = fp0 … fp0 + scope − 1 (at most 8 candidates).
    static func sumSquaredErrors(_ x: UnsafeBufferPointer<Float>, fp0: Int, scope: Int, range: QuantRange) -> [Double] {
        precondition(scope <= 8, "diffs scope above 8")
        let lo = V(repeating: Float(range.qmin)), hi = V(repeating: Float(range.qmax))
        let plo = lo - 1, phi = hi + 1
        let amp = (0..<scope).map { QuantMath.exp2(fp0 + $0) }, inv = (0..<scope).map { QuantMath.exp2(-(fp0 + $0)) }
        var total = [Double](repeating: 0, count: scope)
        let vectors = x.count / 8
        let base = UnsafeRawPointer(x.baseAddress!)
        var start = 0
        while start < vectors {
            let end = min(vectors, start + 512)
            for k in 0..<scope {
                let a = V(repeating: amp[k]), b = V(repeating: inv[k])
                var acc = V()
                for v in start..<end {
                    let xv = base.loadUnaligned(fromByteOffset: v * 32, as: V.self)
                    let g = (xv * a).clamped(lowerBound: plo, upperBound: phi)
                    let q = roundHalfUp(g).clamped(lowerBound: lo, upperBound: hi)
                    let e = xv - q * b
                    acc += e * e
                }
                total[k] += Double(acc.sum())
            }
            start = end
        }
        for i in (vectors * 8)..<x.count {
            for k in 0..<scope {
                let e = x[i] - QuantMath.fakeQuantize(x[i], fixPos: fp0 + k, range: range, rounding: .halfUp)
                total[k] += Double(e * e)
            }
        }
        return total
    }

    /// In-place half-up fake quantization at `fixPos`.
    static func fakeQuantize(_ x: UnsafeMutableBufferPointer<Float>, fixPos: Int, range: QuantRange) {
        let lo = V(repeating: Float(range.qmin)), hi = V(repeating: Float(range.qmax))
        let a = V(repeating: QuantMath.exp2(fixPos)), b = V(repeating: QuantMath.exp2(-fixPos))
        let base = UnsafeMutableRawPointer(x.baseAddress!)
        let vectors = x.count / 8
        for v in 0..<vectors {
            let xv = base.loadUnaligned(fromByteOffset: v * 32, as: V.self)
            let q = roundHalfUp((xv * a).clamped(lowerBound: lo - 1, upperBound: hi + 1)).clamped(lowerBound: lo, upperBound: hi)
            base.storeBytes(of: q * b, toByteOffset: v * 32, as: V.self)
        }
        for i in (vectors * 8)..<x.count { x[i] = QuantMath.fakeQuantize(x[i], fixPos: fixPos, range: range, rounding: .halfUp) }
    }
}
