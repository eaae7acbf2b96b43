import OctetTensor

/// The vai_q_pytorch default power-of-two calibration ("diffs", reference-quantizer §2.1).
///
/// Per batch: fp0 = largest non-overflowing fix_pos (±0.5 LSB allowance), then the best of
/// fp0 … fp0+scope−1 by Σ(x − q(x))² (ties keep the smaller), clamped to `maxFixPos`
/// (12 for ≤ 8 bits, 15 above). Final fix_pos: the mode over batches, ties to the smallest.
/// Scope 5 is the default; 1 for network inputs (pure non-overflow). Rounding: half-up for
/// activations and inputs, half-away-from-zero (`std_round`) for weights and bias. With
/// `negativeWeights` the SSE weights negative values per channel (the error a consuming PRelu sees).
public final class DiffsObserver: RangeObserving {
    public let kind = ObserverKind.diffs
    public let name: String
    public let bits: Int
    public let rounding: RoundingMode
    public let scope: Int
    public let maxFixPos: Int
    /// Per-channel weights of negative values' squared errors (nil: all 1).
    public let negativeWeights: NegativeErrorWeights?
    /// Per-batch fix positions.
    public private(set) var history = FixPosHistory()
    /// The search of the most recent batch (candidate SSEs), for reports.
    public private(set) var lastSearch: DiffsSearch?
    /// Finite min / max over all batches.
    public private(set) var observedMin = Float.infinity
    public private(set) var observedMax = -Float.infinity
    public private(set) var histogram = Histogram()
    private let range: QuantRange

    /// - Throws: `OctetQuantError.invalidParameter` for bits outside 2…16 or scope < 1.
    public init(name: String = "", bits: Int = 8, rounding: RoundingMode = .halfUp, scope: Int = 5,
                maxFixPos: Int? = nil, negativeWeights: NegativeErrorWeights? = nil) throws {
        guard scope >= 1 else { throw OctetQuantError.invalidParameter("diffs scope \(scope): must be ≥ 1") }
        do { range = try QuantRange(bits: bits) } catch {
            throw OctetQuantError.invalidParameter("diffs observer bit width \(bits): supported 2–16")
        }
        self.name = name
        self.bits = bits
        self.rounding = rounding
        self.scope = scope
        self.maxFixPos = maxFixPos ?? QuantMath.maxFixPos(bits: bits)
        self.negativeWeights = negativeWeights
    }

    /// Activation / node-output settings: 8-bit, half-up, scope 5.
    public static func activation(name: String = "") -> DiffsObserver {
        try! DiffsObserver(name: name)   // constant valid arguments
    }

    /// Weight / bias settings: 8-bit, `std_round` (half away from zero), scope 5.
    public static func weight(name: String = "") -> DiffsObserver {
        try! DiffsObserver(name: name, rounding: .halfAwayFromZero)   // constant valid arguments
    }

    /// Network-input settings: 8-bit, half-up, scope 1.
    public static func networkInput(name: String = "") -> DiffsObserver {
        try! DiffsObserver(name: name, scope: 1)   // constant valid arguments
    }

    public var batchCount: Int { history.batchCount }

    public func observe(_ tensor: Tensor) throws {
        let stats = try checkedStatistics(tensor, observer: self)
        try negativeWeights?.check(shape: tensor.shape)
        let search = try tensor.withFloats { buf -> DiffsSearch in
            histogram.add(buf, maxAbs: stats.maxAbs)
            return try QuantMath.diffsFixPos(buf, range: range, scope: scope, rounding: rounding,
                                             maxFixPos: maxFixPos, stats: stats,
                                             weighted: negativeWeights.map { (tensor.shape, $0) })
        }
        observedMin = min(observedMin, stats.min)
        observedMax = max(observedMax, stats.max)
        lastSearch = search
        history.add(search.fixPos)
    }

    public func quantParams() throws -> QuantParams {
        guard let fp = history.mode else {
            throw OctetQuantError.noObservations(observer: kind.rawValue, tensor: name)
        }
        return try QuantParams(bits: bits, signed: true, fixPos: fp)
    }
}
