/// SplitMix64 pseudo-random generator (Steele, Lea & Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014; constants of Vigna's reference `splitmix64.c`). Integer-only, so the
/// same seed yields the same sequence on every machine and Swift version.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform integer in `0..<bound` by Lemire's multiply-shift with rejection ("Fast random
    /// integer generation in an interval", ACM TOMACS 2019), so no modulo bias.
    /// - Precondition: `bound > 0`.
    public mutating func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "SplitMix64.next(below:) needs a positive bound")
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return m.high
    }

    /// `0..<n` in Fisher–Yates order: for i from n − 1 down to 1, swap i with `next(below: i + 1)`.
    public static func permutation(_ n: Int, seed: UInt64) -> [Int] {
        var rng = SplitMix64(seed: seed)
        var order = Array(0..<n)
        var i = n - 1
        while i > 0 {
            let j = Int(rng.next(below: UInt64(i + 1)))
            order.swapAt(i, j)
            i -= 1
        }
        return order
    }
}
