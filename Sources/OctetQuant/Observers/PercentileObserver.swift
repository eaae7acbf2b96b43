import OctetTensor

/// Float-scale calibration from a percentile of |x| (vai_q_pytorch `percentile`,
/// `nndct_calib_histogram_bins` = 2048, default 99.99 %; reference-quantizer §2.1).
///
/// |x| of every batch goes into one fixed-size histogram (see `Histogram` for merging);
/// amax is the right edge of the first bin where the cumulative fraction reaches the
/// percentile; scale = amax / qmax, zero point 0. Not DPU-deployable.
public final class PercentileObserver: Observer {
    public let kind = ObserverKind.percentile
    public let name: String
    public let percentile: Double
    public let bits: Int
    public let signed: Bool
    public private(set) var histogram: Histogram
    public private(set) var batchCount = 0
    private let range: QuantRange

    /// - Throws: `OctetQuantError.invalidParameter` for a percentile outside (0, 100], bad bits or < 2 bins.
    public init(name: String = "", percentile: Double = 99.99, bits: Int = 8, signed: Bool = true,
                binCount: Int = 2048) throws {
        guard percentile > 0, percentile <= 100 else {
            throw OctetQuantError.invalidParameter("percentile \(percentile): must be in (0, 100]")
        }
        (range, histogram) = try histogramSetup(kind: .percentile, bits: bits, signed: signed, binCount: binCount)
        self.name = name
        self.percentile = percentile
        self.bits = bits
        self.signed = signed
    }

    public func observe(_ tensor: Tensor) throws {
        try addToHistogram(tensor, observer: self, histogram: &histogram)
        batchCount += 1
    }

    /// amax at the percentile.
    public func amax() throws -> Float {
        guard batchCount > 0 else { throw OctetQuantError.noObservations(observer: kind.rawValue, tensor: name) }
        return histogram.quantileUpperEdge(percentile / 100)
    }

    public func quantParams() throws -> QuantParams {
        try QuantParams(bits: bits, signed: signed, scale: floatScale(amax: amax(), qmax: range.qmax))
    }
}

/// Validates bits/bins for a histogram observer and returns its range and empty histogram.
func histogramSetup(kind: ObserverKind, bits: Int, signed: Bool, binCount: Int) throws -> (QuantRange, Histogram) {
    guard binCount >= 2 else { throw OctetQuantError.invalidParameter("\(kind) observer needs ≥ 2 bins, got \(binCount)") }
    do {
        return (try QuantRange(bits: bits, signed: signed), Histogram(binCount: binCount))
    } catch {
        throw OctetQuantError.invalidParameter("\(kind) observer bit width \(bits): supported 2–16")
    }
}

/// Checks a batch and adds its |x| to `histogram`.
func addToHistogram(_ tensor: Tensor, observer: Observer, histogram: inout Histogram) throws {
    let stats = try checkedStatistics(tensor, observer: observer)
    tensor.withFloats { histogram.add($0, maxAbs: stats.maxAbs) }
}
