/// Per-channel weights of the squared quantization error of negative values, for a tensor whose
/// consumer scales them: after PRelu(x) = slope_c · x (x < 0), the error of q(x) is
/// slope_c² · (q(x) − x)² there and (q(x) − x)² for x ≥ 0 (q keeps the sign of x).
///
/// Channels are axis 1 of [N, C, …] (NCHW); one weight applies to every channel.
public struct NegativeErrorWeights: Sendable, Equatable {
    /// One weight per channel, or one for all; each ≥ 0 and finite.
    public let perChannel: [Float]

    /// - Throws: `OctetTensorError.unsupported` for no weights or a negative / non-finite one.
    public init(perChannel: [Float]) throws {
        guard !perChannel.isEmpty, perChannel.allSatisfy({ $0.isFinite && $0 >= 0 }) else {
            throw OctetTensorError.unsupported("negative-value error weights must be finite and ≥ 0, got \(perChannel)")
        }
        self.perChannel = perChannel
    }

    /// The weights of PRelu with `slope` (ONNX PRelu: slope broadcast to X unidirectionally) on a
    /// rank-`rank` input: slope², when the slope is one value or varies along axis 1 only
    /// ([C], [C, 1, …] or [1, C, 1, …] aligned to axis 1); nil for any other layout.
    public static func prelu(slope: Tensor, inputRank rank: Int) -> NegativeErrorWeights? {
        let values = slope.floats
        guard slope.dtype == .float32, !values.isEmpty, values.allSatisfy(\.isFinite) else { return nil }
        if values.count == 1 { return try? NegativeErrorWeights(perChannel: [values[0] * values[0]]) }
        // Right-aligned broadcast: slope axis j sits at input axis rank − slope.rank + j.
        let offset = rank - slope.rank
        guard rank >= 2, offset >= 0,
              slope.shape.enumerated().allSatisfy({ j, d in offset + j == 1 || d == 1 }) else { return nil }
        return try? NegativeErrorWeights(perChannel: values.map { $0 * $0 })
    }
}

extension NegativeErrorWeights {
    /// - Throws: `OctetTensorError.shapeMismatch` unless there is one weight or one per channel of `shape`.
    public func check(shape: [Int]) throws {
        guard perChannel.count == 1 || (shape.count >= 2 && shape[1] == perChannel.count) else {
            throw OctetTensorError.shapeMismatch("\(perChannel.count) negative-value weights for a tensor of shape \(shape)")
        }
    }

    /// Calls `body(elements, weight)` for each [n, c] plane of a buffer of `count` elements with
    /// `shape` (the whole buffer at once when there is one weight).
    /// - Precondition: `check(shape:)` holds.
    public func forEachPlane(count: Int, shape: [Int], _ body: (Range<Int>, Float) -> Void) {
        let channels = perChannel.count == 1 || shape.count < 2 ? 1 : shape[1]
        precondition(channels == 1 || channels == perChannel.count, "\(perChannel.count) channel weights for shape \(shape)")
        let plane = Swift.max(channels == 1 ? count : shape.dropFirst(2).reduce(1, *), 1)
        for start in stride(from: 0, to: count, by: plane) {
            body(start..<Swift.min(start + plane, count), perChannel[channels == 1 ? 0 : (start / plane) % channels])
        }
    }
}

extension QuantMath {
    /// Σ over elements of w(x) · (x − q_fp(x))² for each candidate fix_pos, with w = 1 for x ≥ 0
    /// and `weights` of the element's channel for x < 0 (`sumSquaredErrors` on the non-negative
    /// part, then per [n, c] plane on the negative part; zero quantizes exactly).
    /// - Precondition: `values.count` is the product of `shape`; `weights` has 1 or `shape[1]` entries
    ///   (`NegativeErrorWeights.check(shape:)`).
    public static func sumSquaredErrors(_ values: UnsafeBufferPointer<Float>, shape: [Int], negativeWeights weights: NegativeErrorWeights,
                                        fixPositions: [Int], range: QuantRange = .int8, rounding: RoundingMode,
                                        parallel: Bool = true) -> [Double] {
        let positive = values.map { Swift.max($0, 0) }, negative = values.map { Swift.min($0, 0) }
        var sse = positive.withUnsafeBufferPointer {
            sumSquaredErrors($0, fixPositions: fixPositions, range: range, rounding: rounding, parallel: parallel)
        }
        negative.withUnsafeBufferPointer { neg in
            weights.forEachPlane(count: values.count, shape: shape) { part, w in
                let s = sumSquaredErrors(UnsafeBufferPointer(rebasing: neg[part]), fixPositions: fixPositions, range: range,
                                         rounding: rounding, parallel: parallel)
                for k in sse.indices { sse[k] += Double(w) * s[k] }
            }
        }
        return sse
    }
}
