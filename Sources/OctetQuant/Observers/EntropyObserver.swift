import Foundation
import OctetTensor

/// Float-scale calibration minimising KL divergence (vai_q_pytorch `entropy`, start bin 1536,
/// stride 16, reference-quantizer §2.1; algorithm of pytorch-quantization `_compute_amax_entropy`,
/// after TensorRT's entropy calibration).
///
/// For each candidate i (start, start+stride, …, binCount): the reference P is bins[0..<i]
/// with the tail Σ bins[i...] added to bin i−1; Q spreads each of the nbins = 2^(bits−1)
/// quantization levels' counts evenly over its non-empty source bins. Bin 0 is first set
/// to bin 1 so the spike at zero does not dominate. amax = left edge of bin i for the i with
/// the smallest KL(P‖Q); ties go to the last (largest) candidate.
public final class EntropyObserver: Observer {
    public let kind = ObserverKind.entropy
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
        (range, histogram) = try histogramSetup(kind: .entropy, bits: bits, signed: signed, binCount: binCount)
        let start = startBin ?? binCount * 3 / 4
        guard stride >= 1, start >= 1, start <= binCount else {
            throw OctetQuantError.invalidParameter("entropy start bin \(start), stride \(stride) for \(binCount) bins")
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

    /// Number of quantization levels on one side: 2^(bits−1) signed, 2^bits unsigned.
    var levels: Int { 1 << (signed ? bits - 1 : bits) }

    /// KL(P‖Q) for every candidate bin count i.
    public func divergences() -> [(bins: Int, divergence: Double)] {
        var bins = histogram.counts
        if bins.count > 1 { bins[0] = bins[1] }
        return Swift.stride(from: startBin, through: histogram.binCount, by: stride).map { i in
            (i, Self.divergence(bins, keep: i, levels: levels))
        }
    }

    /// KL divergence of the i-bin reference against its `levels`-level quantized version.
    static func divergence(_ bins: [Double], keep i: Int, levels: Int) -> Double {
        var p = Array(bins[0..<i])
        p[i - 1] += bins[i...].reduce(0, +)
        var levelSum = [Double](repeating: 0, count: levels)
        var levelNonEmpty = [Int](repeating: 0, count: levels)
        for j in 0..<i where bins[j] != 0 {
            let l = j * levels / i   // np.digitize(j, linspace(0, i, levels + 1)) − 1
            levelSum[l] += bins[j]
            levelNonEmpty[l] += 1
        }
        var q = [Double](repeating: 0, count: i)
        for j in 0..<i where bins[j] != 0 {
            let l = j * levels / i
            q[j] = levelSum[l] / Double(levelNonEmpty[l])
        }
        let pSum = p.reduce(0, +), qSum = q.reduce(0, +)
        guard pSum > 0, qSum > 0 else { return .infinity }
        var kl = 0.0
        for j in 0..<i where p[j] > 0 {
            let pj = p[j] / pSum, qj = q[j] / qSum
            if qj == 0 { return .infinity }
            kl += pj * Foundation.log(pj / qj)
        }
        return kl
    }

    /// The chosen amax.
    public func amax() throws -> Float {
        guard batchCount > 0 else { throw OctetQuantError.noObservations(observer: kind.rawValue, tensor: name) }
        let d = divergences()
        var best = 0
        for k in d.indices where d[k].divergence <= d[best].divergence { best = k }
        return histogram.edge(d[best].bins)
    }

    public func quantParams() throws -> QuantParams {
        try QuantParams(bits: bits, signed: signed, scale: floatScale(amax: amax(), qmax: range.qmax))
    }
}
