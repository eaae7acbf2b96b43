import OctetTensor

/// Collects statistics of one tensor over calibration batches and turns them into
/// quantization parameters (torch.ao observers: `observe` per batch, then `quantParams`).
public protocol Observer: AnyObject {
    /// Calibration method.
    var kind: ObserverKind { get }
    /// Name of the observed tensor, used in messages (may be empty).
    var name: String { get }
    /// Number of batches observed so far.
    var batchCount: Int { get }
    /// Adds one batch (any shape, float32).
    /// - Throws: `OctetQuantError` for non-float, empty or NaN/Inf data.
    func observe(_ tensor: Tensor) throws
    /// Parameters from everything observed so far.
    /// - Throws: `OctetQuantError.noObservations` before the first batch.
    func quantParams() throws -> QuantParams
    /// Fixed-size histogram of |x| over all batches, for plots.
    var histogram: Histogram { get }
}

/// An observer that also keeps the finite min / max of everything it saw (for reports).
public protocol RangeObserving: Observer {
    var observedMin: Float { get }
    var observedMax: Float { get }
}

/// The calibration methods, by the names users type (vai_q_pytorch `method`, reference-quantizer §2.1).
public enum ObserverKind: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Power-of-two: non-overflow start, best of `scope` fix positions by SSE, mode over batches.
    case diffs
    /// Power-of-two: best of `scope` fix positions by SSE over the whole calibration set (histogram).
    case minmse
    /// Power-of-two non-overflow (scope 1), or float-scale min/max.
    case maxmin
    /// Float scale from a percentile of |x| (default 99.99 %).
    case percentile
    /// Float scale minimising the histogram's squared quantization error.
    case mse
    /// Float scale minimising KL divergence of the quantized histogram.
    case entropy

    /// Parses a user-typed name, case-insensitive.
    /// - Throws: `OctetQuantError.unknownObserver` listing the accepted names.
    public init(parsing name: String) throws {
        guard let k = ObserverKind(rawValue: name.lowercased()) else {
            throw OctetQuantError.unknownObserver(name: name, accepted: ObserverKind.allCases.map(\.rawValue))
        }
        self = k
    }

    /// A new observer of this kind with default settings: `diffs` (scope 5, or 1 for a network
    /// input, as vai_q_pytorch), `minmse` (scope 5 everywhere, as Quark) and `maxmin` give
    /// power-of-two signed parameters (`rounding` is used by diffs' candidate search; minmse
    /// scores half-up); the others give float scales. `negativeWeights` weights the squared errors
    /// of negative values in diffs' and minmse's candidate scores (the others have none).
    /// - Throws: `OctetQuantError.invalidParameter` for bits outside 2…16.
    public func makeObserver(name: String = "", bits: Int = 8, rounding: RoundingMode = .halfUp,
                             networkInput: Bool = false, negativeWeights: NegativeErrorWeights? = nil) throws -> Observer {
        switch self {
        case .diffs:
            return try DiffsObserver(name: name, bits: bits, rounding: rounding, scope: networkInput ? 1 : 5,
                                     negativeWeights: negativeWeights)
        case .minmse: return try MinMSEObserver(name: name, bits: bits, negativeWeights: negativeWeights)
        case .maxmin: return try MaxMinObserver(name: name, scheme: .powerOfTwo, bits: bits)
        case .percentile: return try PercentileObserver(name: name, bits: bits)
        case .mse: return try MSEObserver(name: name, bits: bits)
        case .entropy: return try EntropyObserver(name: name, bits: bits)
        }
    }

    /// True when the method yields power-of-two fix positions (DPU-deployable).
    public var isPowerOfTwo: Bool { self == .diffs || self == .minmse || self == .maxmin }

    public var description: String { rawValue }
}

/// Per-batch fix positions and their statistical mode (vai_q_pytorch `calib_statistic_method: modal`).
public struct FixPosHistory: Sendable, Equatable {
    /// Number of batches that gave each fix_pos.
    public private(set) var counts: [Int: Int] = [:]

    public init() {}

    public mutating func add(_ fixPos: Int) { counts[fixPos, default: 0] += 1 }

    public var batchCount: Int { counts.values.reduce(0, +) }

    /// The most frequent fix_pos; ties go to the smallest (as `scipy.stats.mode`). Nil when empty.
    public var mode: Int? {
        counts.min { a, b in a.value != b.value ? a.value > b.value : a.key < b.key }?.key
    }
}

/// Shared validation of an observed batch: float32, non-empty, finite. Returns its statistics.
func checkedStatistics(_ tensor: Tensor, observer: Observer) throws -> RangeStatistics {
    guard tensor.dtype == .float32 else {
        throw OctetQuantError.notFloat(observer: observer.kind.rawValue, tensor: observer.name, dtype: tensor.dtype)
    }
    guard tensor.count > 0 else {
        throw OctetQuantError.emptyTensor(observer: observer.kind.rawValue, tensor: observer.name)
    }
    let stats = tensor.withFloats { QuantMath.rangeStatistics($0) }
    guard stats.nonFinite == 0 else {
        throw OctetQuantError.nonFiniteValues(observer: observer.kind.rawValue, tensor: observer.name,
                                              count: stats.nonFinite)
    }
    return stats
}
