import CKernels

/// Minimum, maximum and count of non-finite elements of a float buffer.
public struct RangeStatistics: Sendable, Equatable {
    /// Smallest finite element (+∞ when there is none).
    public var min: Float
    /// Largest finite element (−∞ when there is none).
    public var max: Float
    /// Number of NaN or ±∞ elements.
    public var nonFinite: Int
    public var maxAbs: Float { Swift.max(Swift.abs(min), Swift.abs(max)) }
}

/// Outcome of the "diffs" fix_pos search (see `QuantMath.diffsFixPos`).
public struct DiffsSearch: Sendable, Equatable {
    /// Chosen fix_pos after the clamp to `maxFixPos`.
    public var fixPos: Int
    /// Largest non-overflowing fix_pos (first candidate).
    public var startFixPos: Int
    /// Σ(x − q(x))² of candidates startFixPos, startFixPos+1, … (empty when scope is 1).
    public var sse: [Double]
}

extension QuantMath {
    /// One pass over `values`: finite min/max and the number of NaN/±∞ elements.
    public static func rangeStatistics(_ values: UnsafeBufferPointer<Float>) -> RangeStatistics {
        let chunks = max(1, (values.count + chunkSize - 1) / chunkSize)
        var parts = [RangeStatistics](repeating: RangeStatistics(min: .infinity, max: -.infinity, nonFinite: 0),
                                      count: chunks)
        parts.withUnsafeMutableBufferPointer { out in
            forEachChunk(values.count) { lo, hi in
                var mn = Float.infinity, mx = -Float.infinity, bad = 0
                if hi > lo { octet_f32_range(values.baseAddress! + lo, hi - lo, &mn, &mx, &bad) }
                out[lo / chunkSize] = RangeStatistics(min: mn, max: mx, nonFinite: bad)
            }
        }
        return parts.reduce(RangeStatistics(min: .infinity, max: -.infinity, nonFinite: 0)) {
            RangeStatistics(min: Swift.min($0.min, $1.min), max: Swift.max($0.max, $1.max),
                            nonFinite: $0.nonFinite + $1.nonFinite)
        }
    }

    /// fix_pos used for a degenerate range (`step ≤ FLT_MIN`), before the `maxFixPos` clamp.
    public static let degenerateFixPos = 18

    /// Largest fix_pos at which `[min, max]` does not overflow `range` with the half-LSB
    /// allowance: max·2^fp ≤ qmax + 0.5 and min·2^fp ≥ qmin − 0.5. This is
    /// floor(log2(1/step)) with step = max(min/(qmin − 0.5), max/(qmax + 0.5)), computed exactly;
    /// 18 when step ≤ FLT_MIN (all-zero or subnormal data). No clamp is applied.
    /// Source: vai_q_pytorch `diffs_fix_pos` / `cpu_diff_S` (reference-quantizer §2.1 steps 2–3).
    public static func nonOverflowFixPos(min: Float, max: Float, range: QuantRange = .int8) -> Int {
        let lower = Float(range.qmin) - 0.5, upper = Float(range.qmax) + 0.5
        let step = Swift.max(min / lower, max / upper)
        guard step > Float.leastNormalMagnitude else { return degenerateFixPos }
        func fits(_ fp: Int) -> Bool {
            let a = exp2(fp)
            return max * a <= upper && min * a >= lower
        }
        var fp = Int((1 / step).exponent)
        while !fits(fp) { fp -= 1 }
        while fits(fp + 1) { fp += 1 }
        return fp
    }

    /// Σ(x − q_fp(x))² for each candidate fix_pos, where q_fp is power-of-two fake
    /// quantization with `range` and `rounding` (values pre-clamped to [qmin − 1, qmax + 1] on
    /// the grid). One AVX2 pass per chunk computes every candidate (`octet_f32_fixpos_sse`);
    /// sums are in Double over fixed chunks, so results do not depend on the thread count.
    /// `parallel: false` keeps every chunk on the calling thread (same result).
    public static func sumSquaredErrors(_ values: UnsafeBufferPointer<Float>, fixPositions: [Int],
                                        range: QuantRange = .int8, rounding: RoundingMode,
                                        parallel: Bool = true) -> [Double] {
        let chunks = max(1, (values.count + chunkSize - 1) / chunkSize), count = fixPositions.count
        var parts = [Double](repeating: 0, count: chunks * count)
        let fps = fixPositions.map { Int32($0) }
        parts.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            fps.withUnsafeBufferPointer { fp in
                let fpBase = fp.baseAddress!
                let chunk = { (lo: Int, hi: Int) in
                    guard hi > lo else { return }
                    octet_f32_fixpos_sse(values.baseAddress! + lo, hi - lo, fpBase, Int32(count),
                                         Float(range.qmin), Float(range.qmax), rounding.kernelCode,
                                         outBase + lo / chunkSize * count)
                }
                if parallel { forEachChunk(values.count, chunk) } else {
                    for c in 0..<chunks { chunk(c * chunkSize, Swift.min(values.count, (c + 1) * chunkSize)) }
                }
            }
        }
        return (0..<count).map { k in (0..<chunks).reduce(0.0) { $0 + parts[$1 * count + k] } }
    }

    /// The "diffs" fix_pos of one tensor (reference-quantizer §2.1): start at the
    /// non-overflow fix_pos fp0 of [min, max], try fp0 … fp0+scope−1 by Σ(x − q(x))²
    /// (strict `<`, so a tie keeps the smaller fix_pos), then clamp to `maxFixPos`.
    /// `stats` is the buffer's `rangeStatistics` when already known; `parallel: false` keeps the
    /// work on the calling thread (calibration searches batches concurrently). With `weighted`
    /// (the buffer's shape and `NegativeErrorWeights`), negative values' errors are weighted per
    /// channel, as a consuming PRelu sees them.
    /// - Throws: `OctetTensorError.unsupported` for an empty buffer, NaN/±∞ values or scope < 1.
    public static func diffsFixPos(_ values: UnsafeBufferPointer<Float>, range: QuantRange = .int8,
                                   scope: Int, rounding: RoundingMode, maxFixPos: Int,
                                   stats known: RangeStatistics? = nil, parallel: Bool = true,
                                   weighted: (shape: [Int], weights: NegativeErrorWeights)? = nil) throws -> DiffsSearch {
        guard scope >= 1 else { throw OctetTensorError.unsupported("diffs scope \(scope): must be ≥ 1") }
        guard values.count > 0 else { throw OctetTensorError.unsupported("diffs fix_pos of an empty tensor") }
        let stats = known ?? rangeStatistics(values)
        guard stats.nonFinite == 0 else {
            throw OctetTensorError.unsupported("diffs fix_pos: \(stats.nonFinite) NaN/Inf values")
        }
        let fp0 = nonOverflowFixPos(min: stats.min, max: stats.max, range: range)
        guard scope > 1 else {
            return DiffsSearch(fixPos: Swift.min(fp0, maxFixPos), startFixPos: fp0, sse: [])
        }
        let candidates = Array(fp0..<(fp0 + scope))
        let sse = weighted.map {
            sumSquaredErrors(values, shape: $0.shape, negativeWeights: $0.weights, fixPositions: candidates, range: range,
                             rounding: rounding, parallel: parallel)
        } ?? sumSquaredErrors(values, fixPositions: candidates, range: range, rounding: rounding, parallel: parallel)
        var best = 0
        for k in 1..<sse.count where sse[k] < sse[best] { best = k }
        return DiffsSearch(fixPos: Swift.min(candidates[best], maxFixPos), startFixPos: fp0, sse: sse)
    }
}
