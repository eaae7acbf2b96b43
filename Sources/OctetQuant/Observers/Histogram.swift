import Dispatch
import OctetTensor

/// A fixed-size histogram of |x| over [0, upperBound], merged across batches.
///
/// When a batch exceeds the range, `upperBound` grows by the smallest power of two
/// that covers it and old bins merge in groups of 2^k, so merging is exact and memory
/// stays `binCount` doubles. Bin i covers [i·w, (i+1)·w) with w = upperBound/binCount;
/// the largest value lands in the last bin.
public struct Histogram: Sendable, Equatable {
    public let binCount: Int
    /// Right edge of the last bin (0 until a non-zero value is seen).
    public private(set) var upperBound: Float = 0
    /// Count per bin.
    public private(set) var counts: [Double]

    /// - Precondition: `binCount` ≥ 2 (callers pass a constant).
    public init(binCount: Int = 2048) {
        precondition(binCount >= 2, "histogram needs at least 2 bins")
        self.binCount = binCount
        counts = Array(repeating: 0, count: binCount)
    }

    public var total: Double { counts.reduce(0, +) }
    public var binWidth: Float { upperBound / Float(binCount) }
    /// Left edge of bin i (i may equal binCount for the right edge).
    public func edge(_ i: Int) -> Float { Float(Double(upperBound) * Double(i) / Double(binCount)) }
    /// Centre of bin i.
    public func center(_ i: Int) -> Float { Float(Double(upperBound) * (Double(i) + 0.5) / Double(binCount)) }

    /// Adds |x| of every element (`negativeOnly`: of the elements below 0); `maxAbs` is
    /// max |x| of all of `values` (finite), so histograms fed the same batches keep equal bins.
    /// Each element counts `weight` (default 1).
    public mutating func add(_ values: UnsafeBufferPointer<Float>, maxAbs: Float, negativeOnly: Bool = false, weight: Double = 1) {
        grow(toCover: maxAbs)
        guard upperBound > 0 else { if !negativeOnly { counts[0] += weight * Double(values.count) }; return }
        let parts = values.count >= 1 << 17 ? 2 : 1
        var partial = [[Int]](repeating: [], count: parts)
        let n = binCount
        partial.withUnsafeMutableBufferPointer { out in
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                var local = [Int](repeating: 0, count: n)
                let lo = values.count * p / parts, hi = values.count * (p + 1) / parts
                for i in lo..<hi where !negativeOnly || values[i] < 0 {
                    // Exact when |x|·n/upper is an integer, so values on an edge go to the upper bin.
                    let b = Int(Double(abs(values[i])) * Double(n) / Double(upperBound))
                    local[min(b, n - 1)] += 1
                }
                out[p] = local
            }
        }
        for part in partial { for i in 0..<n where part[i] != 0 { counts[i] += weight * Double(part[i]) } }
    }

    /// Widens the range to at least `maxAbs`: the first non-zero range is exactly `maxAbs`,
    /// later ones double until they cover it, merging 2^k old bins into one.
    public mutating func grow(toCover maxAbs: Float) {
        guard maxAbs > upperBound else { return }
        if upperBound == 0 { upperBound = maxAbs; return }   // only bin 0 (zeros) can be filled
        var k = 0
        var bound = upperBound
        while bound < maxAbs { bound *= 2; k += 1 }
        var merged = [Double](repeating: 0, count: binCount)
        for i in 0..<binCount { merged[i >> k] += counts[i] }
        counts = merged
        upperBound = bound
    }

    /// Smallest right bin edge at which the cumulative fraction reaches `fraction` (0…1).
    public func quantileUpperEdge(_ fraction: Double) -> Float {
        let target = fraction * total
        var acc = 0.0
        for i in 0..<binCount {
            acc += counts[i]
            if acc >= target { return edge(i + 1) }
        }
        return upperBound
    }
}
