import OctetTensor

/// Fixed-size calibration state of one diffs activation quantizer (half-up rounding): per-batch
/// fix positions, their mode, and the observed range. `search` is pure, so batches can be searched
/// concurrently and committed in order.
final class DiffsTracker: @unchecked Sendable {
    let name: String
    let bits: Int
    let range: QuantRange
    let scope: Int
    let maxFixPos: Int
    let negativeWeights: NegativeErrorWeights?
    private(set) var history = FixPosHistory()
    private(set) var observedMin = Float.infinity
    private(set) var observedMax = -Float.infinity

    init(name: String, bits: Int, networkInput: Bool, negativeWeights: NegativeErrorWeights? = nil) throws {
        self.name = name
        self.bits = bits
        range = try QuantRange(bits: bits)
        scope = networkInput ? 1 : 5
        maxFixPos = QuantMath.maxFixPos(bits: bits)
        self.negativeWeights = negativeWeights
    }

    /// The fix_pos of one batch. - Throws: `OctetQuantError.nonFiniteValues` / `.emptyTensor`.
    func search(_ t: Tensor) throws -> (fixPos: Int, stats: RangeStatistics) {
        guard t.count > 0 else { throw OctetQuantError.emptyTensor(observer: "diffs", tensor: name) }
        try negativeWeights?.check(shape: t.shape)
        return try t.withFloats { p in
            let stats = QuantMath.rangeStatistics(p)
            guard stats.nonFinite == 0 else {
                throw OctetQuantError.nonFiniteValues(observer: "diffs", tensor: name, count: stats.nonFinite)
            }
            let found = try QuantMath.diffsFixPos(p, range: range, scope: scope, rounding: .halfUp, maxFixPos: maxFixPos,
                                                  stats: stats, parallel: false,
                                                  weighted: negativeWeights.map { (t.shape, $0) })
            return (found.fixPos, stats)
        }
    }

    /// The mode of the committed history plus `fixPos` (ties to the smaller).
    func mode(adding fixPos: Int) -> Int {
        var h = history
        h.add(fixPos)
        return h.mode!   // non-empty
    }

    func commit(_ fixPos: Int, _ stats: RangeStatistics) {
        history.add(fixPos)
        observedMin = min(observedMin, stats.min)
        observedMax = max(observedMax, stats.max)
    }

    /// - Throws: `OctetQuantError.noObservations` before the first batch.
    func quantParams() throws -> QuantParams {
        guard let fp = history.mode else { throw OctetQuantError.noObservations(observer: "diffs", tensor: name) }
        return try QuantParams(bits: bits, signed: true, fixPos: fp)
    }
}
