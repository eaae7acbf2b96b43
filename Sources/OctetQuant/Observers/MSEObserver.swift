import OctetTensor

/// Float-scale calibration minimising the histogram's squared quantization error
/// (vai_q_pytorch `mse`; reference-quantizer §2.1; algorithm of pytorch-quantization
/// `_compute_amax_mse`).
///
/// Candidates amax = centre of bin i for i = start, start+stride, … (2048 bins: start 1536,
/// stride 16). Each is scored by Σ_j count_j · (q(c_j) − c_j)² over bin centres c_j, with
/// q fake quantization at scale amax/qmax (half-to-even, as torch.round); the first minimum wins.
public final class MSEObserver: Observer {
    public let kind = ObserverKind.mse
    public let name: String
    public let bits: Int
    public let signed: Bool
    public let startBin: Int
    public let stride: Int
    public private(set) var histogram: Histogram
    public private(set) var batchCount = 0
    private let range: QuantRange

    /// `startBin` defaults to 3/4 of `binCount` (1536 of 2048).
    /// - Throws: `OctetQuantError.invalidParameter` for bad bits, bins, start or stride.
    public init(name: String = "", bits: Int = 8, signed: Bool = true, binCount: Int = 2048,
                startBin: Int? = nil, stride: Int = 16) throws {
        (range, histogram) = try histogramSetup(kind: .mse, bits: bits, signed: signed, binCount: binCount)
        let start = startBin ?? binCount * 3 / 4
        guard stride >= 1, start >= 0, start < binCount else {
            throw OctetQuantError.invalidParameter("mse start bin \(start), stride \(stride) for \(binCount) bins")
        }
        self.name = name
        self.bits = bits
        self.signed = signed
        self.startBin = start
        self.stride = stride
    }

    public func observe(_ tensor: Tensor) throws {
        try addToHistogram(tensor, observer: self, histogram: &histogram)
        batchCount += 1
    }

    /// Score of each candidate bin index (for reports and tests).
    public func candidateErrors() -> [(bin: Int, amax: Float, error: Double)] {
        let centers = (0..<histogram.binCount).map { histogram.center($0) }
        return Swift.stride(from: startBin, to: histogram.binCount, by: stride).map { i in
            let amax = centers[i]
            let scale = floatScale(amax: amax, qmax: range.qmax)
            var err = 0.0
            for j in 0..<centers.count where histogram.counts[j] != 0 {
                let q = QuantMath.fakeQuantize(centers[j], scale: scale, zeroPoint: 0, range: range, rounding: .halfEven)
                let d = Double(q - centers[j])
                err += histogram.counts[j] * d * d
            }
            return (i, amax, err)
        }
    }

    /// The chosen amax.
    public func amax() throws -> Float {
        guard batchCount > 0 else { throw OctetQuantError.noObservations(observer: kind.rawValue, tensor: name) }
        let scored = candidateErrors()
        var best = 0
        for k in 1..<scored.count where scored[k].error < scored[best].error { best = k }
        return scored[best].amax
    }

    public func quantParams() throws -> QuantParams {
        try QuantParams(bits: bits, signed: signed, scale: floatScale(amax: amax(), qmax: range.qmax))
    }
}
