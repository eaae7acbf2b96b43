import OctetTensor

/// Power-of-two calibration minimising the squared error over the whole calibration set
/// (AMD Quark ONNX's `PowerOfTwoMethod.MinMSE`, the XINT8 configuration; reference-quantizer §2.3–2.4).
///
/// Every batch adds |x| to a fixed-size histogram (2048 bins, merged exactly when the range
/// grows), and the negative values also to a second one with the same bins. fp0 is the
/// non-overflowing fix_pos of the overall [min, max] (±0.5 LSB allowance, as `diffs`); the
/// chosen fix_pos is the best of fp0 … fp0+scope−1 by Σ_bins count · (v − q(v))² over bin
/// centres v = ±c, with q half-up power-of-two quantization saturating at [qmin, qmax]
/// (so −2^(b−1)·2^−fp is exact), ties keeping the smaller fix_pos, clamped to `maxFixPos`. Unlike `diffs`,
/// whose final fix_pos is the mode of per-batch choices, rare large values in a few batches
/// count with their real weight. Network inputs use scope 5 too (Quark calibrates them
/// like any activation); scope 1 would be pure non-overflow.
public final class MinMSEObserver: RangeObserving {
    public let kind = ObserverKind.minmse
    public let name: String
    public let bits: Int
    public let scope: Int
    public let maxFixPos: Int
    public private(set) var histogram: Histogram
    /// |x| of the negative values, binned as `histogram`.
    public private(set) var negatives: Histogram
    /// Per-channel weights of negative values' squared errors (nil: all 1).
    public let negativeWeights: NegativeErrorWeights?
    /// With `negativeWeights`: |x| of the negative values, each counted with its channel's weight.
    public private(set) var weightedNegatives: Histogram
    public private(set) var batchCount = 0
    /// Finite min / max over all batches.
    public private(set) var observedMin = Float.infinity
    public private(set) var observedMax = -Float.infinity
    private let range: QuantRange

    /// - Throws: `OctetQuantError.invalidParameter` for bits outside 2…16, scope < 1 or < 2 bins.
    public init(name: String = "", bits: Int = 8, scope: Int = 5, binCount: Int = 2048,
                negativeWeights: NegativeErrorWeights? = nil) throws {
        guard scope >= 1 else { throw OctetQuantError.invalidParameter("minmse scope \(scope): must be ≥ 1") }
        (range, histogram) = try histogramSetup(kind: .minmse, bits: bits, signed: true, binCount: binCount)
        negatives = histogram
        weightedNegatives = histogram
        self.negativeWeights = negativeWeights
        self.name = name
        self.bits = bits
        self.scope = scope
        maxFixPos = QuantMath.maxFixPos(bits: bits)
    }

    public func observe(_ tensor: Tensor) throws {
        let stats = try checkedStatistics(tensor, observer: self)
        try negativeWeights?.check(shape: tensor.shape)
        tensor.withFloats {
            histogram.add($0, maxAbs: stats.maxAbs)
            negatives.add($0, maxAbs: stats.maxAbs, negativeOnly: true)
            if let w = negativeWeights {
                let values = $0
                w.forEachPlane(count: values.count, shape: tensor.shape) { part, weight in
                    weightedNegatives.add(UnsafeBufferPointer(rebasing: values[part]), maxAbs: stats.maxAbs, negativeOnly: true,
                                          weight: Double(weight))
                }
            }
        }
        observedMin = min(observedMin, stats.min)
        observedMax = max(observedMax, stats.max)
        batchCount += 1
    }

    /// The candidates fp0 … fp0+scope−1 (clamped to `maxFixPos`) and their histogram SSE.
    public func candidateErrors() throws -> [(fixPos: Int, error: Double)] {
        guard batchCount > 0 else { throw OctetQuantError.noObservations(observer: kind.rawValue, tensor: name) }
        let fp0 = min(QuantMath.nonOverflowFixPos(min: observedMin, max: observedMax, range: range), maxFixPos)
        let candidates = Array(Set((fp0..<(fp0 + scope)).map { min($0, maxFixPos) })).sorted()
        let centres = (0..<histogram.binCount).map { Double(histogram.center($0)) }
        let qmin = Double(range.qmin), qmax = Double(range.qmax)
        return candidates.map { fp in
            let a = Double(sign: .plus, exponent: fp, significand: 1)
            func squaredError(_ v: Double) -> Double {
                let d = v - min(max((v * a + 0.5).rounded(.down), qmin), qmax) / a
                return d * d
            }
            var err = 0.0
            for i in 0..<centres.count where histogram.counts[i] != 0 {
                let neg = negatives.counts[i], pos = histogram.counts[i] - neg
                let weightedNeg = negativeWeights == nil ? neg : weightedNegatives.counts[i]
                if pos != 0 { err += pos * squaredError(centres[i]) }
                if weightedNeg != 0 { err += weightedNeg * squaredError(-centres[i]) }
            }
            return (fp, err)
        }
    }

    public func quantParams() throws -> QuantParams {
        let scored = try candidateErrors()
        var best = scored[0]
        for c in scored.dropFirst() where c.error < best.error { best = c }
        return try QuantParams(bits: bits, signed: true, fixPos: best.fixPos)
    }
}
