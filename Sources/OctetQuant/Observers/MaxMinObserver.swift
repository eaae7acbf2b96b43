import OctetTensor

/// Min/max calibration (reference-quantizer §2.1).
///
/// `.powerOfTwo`: per batch the largest non-overflowing fix_pos (diffs with scope 1, clamped
/// to `maxFixPos`), final value the mode over batches (ties to the smallest).
/// `.symmetric`: scale = max|x| / qmax over all batches, zero point 0.
/// `.asymmetric`: range [min(x_min, 0), max(x_max, 0)] over all batches,
/// scale = (max − min)/(qmax − qmin), zero point = qmin − round_half_even(min/scale) (torch.ao MinMaxObserver).
public final class MaxMinObserver: RangeObserving {
    public enum Scheme: String, Sendable, Codable, CaseIterable {
        case powerOfTwo, symmetric, asymmetric
    }

    public let kind = ObserverKind.maxmin
    public let name: String
    public let scheme: Scheme
    public let bits: Int
    public let signed: Bool
    public let maxFixPos: Int
    public private(set) var history = FixPosHistory()
    public private(set) var observedMin = Float.infinity
    public private(set) var observedMax = -Float.infinity
    public private(set) var histogram = Histogram()
    public private(set) var batchCount = 0
    private let range: QuantRange

    /// - Throws: `OctetQuantError.invalidParameter` for bits outside 2…16, or an unsigned power-of-two scheme.
    public init(name: String = "", scheme: Scheme = .powerOfTwo, bits: Int = 8, signed: Bool = true,
                maxFixPos: Int? = nil) throws {
        guard scheme != .powerOfTwo || signed else {
            throw OctetQuantError.invalidParameter("power-of-two maxmin is signed only")
        }
        do { range = try QuantRange(bits: bits, signed: signed) } catch {
            throw OctetQuantError.invalidParameter("maxmin observer bit width \(bits): supported 2–16")
        }
        self.name = name
        self.scheme = scheme
        self.bits = bits
        self.signed = signed
        self.maxFixPos = maxFixPos ?? QuantMath.maxFixPos(bits: bits)
    }

    public func observe(_ tensor: Tensor) throws {
        let stats = try checkedStatistics(tensor, observer: self)
        tensor.withFloats { histogram.add($0, maxAbs: stats.maxAbs) }
        observedMin = min(observedMin, stats.min)
        observedMax = max(observedMax, stats.max)
        batchCount += 1
        if scheme == .powerOfTwo {
            let fp = QuantMath.nonOverflowFixPos(min: stats.min, max: stats.max, range: range)
            history.add(min(fp, maxFixPos))
        }
    }

    public func quantParams() throws -> QuantParams {
        guard batchCount > 0 else { throw OctetQuantError.noObservations(observer: kind.rawValue, tensor: name) }
        switch scheme {
        case .powerOfTwo:
            return try QuantParams(bits: bits, signed: true, fixPos: history.mode!)   // batchCount > 0
        case .symmetric:
            let amax = max(abs(observedMin), abs(observedMax))
            return try QuantParams(bits: bits, signed: signed, scale: floatScale(amax: amax, qmax: range.qmax))
        case .asymmetric:
            let lo = min(observedMin, 0), hi = max(observedMax, 0)
            guard hi > lo else { return try QuantParams(bits: bits, signed: signed, scale: 1, zeroPoint: signed ? 0 : range.qmin) }
            let scale = (hi - lo) / Float(range.qmax - range.qmin)
            let zp = range.qmin - Int((lo / scale).rounded(.toNearestOrEven))
            return try QuantParams(bits: bits, signed: signed, scale: scale,
                                   zeroPoint: min(max(zp, range.qmin), range.qmax))
        }
    }
}

/// amax / qmax, or 1 when amax is 0 (any scale represents an all-zero tensor exactly).
func floatScale(amax: Float, qmax: Int) -> Float {
    amax > 0 ? amax / Float(qmax) : 1
}
