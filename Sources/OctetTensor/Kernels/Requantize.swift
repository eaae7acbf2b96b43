import CKernels

/// Activation fused into a DPU conv / FC requantization (reference-quantizer.md §4.2).
public enum Int8Activation: String, Sendable, Equatable, CaseIterable {
    /// Identity.
    case none
    /// `max(y, 0)`.
    case relu
    /// `min(max(y, 0), 6)` in real units.
    case relu6
    /// `y ≥ 0 ? y : y · 26/256` (the DPU's fixed alpha 0.1015625).
    case leakyRelu
}

/// DPU round (NNDCT method 2, "half up"): `floor(v / 2^s + 0.5)` computed exactly as
/// `(v + 2^(s−1)) >> s` with an arithmetic shift; `s = 0` returns `v`. Requires `0 ≤ s ≤ 62`.
/// E.g. s = 1: 3 → 2, −3 → −1, −1 → 0.
@inlinable
public func dpuRoundShift(_ v: Int64, _ s: Int) -> Int64 {
    s == 0 ? v : (v + (Int64(1) << (s - 1))) >> Int64(s)
}

/// `DPU_ROUND(v · 2^e)` for any integer exponent `e` in −62...62: a left shift when `e ≥ 0`
/// (caller guarantees no Int64 overflow), `dpuRoundShift(v, −e)` otherwise.
@inlinable
public func dpuRoundScale(_ v: Int64, exponent e: Int) -> Int64 {
    e >= 0 ? v << Int64(e) : dpuRoundShift(v, -e)
}

/// Saturates to the int8 range [−128, 127] (every DPU op output saturates; no wrap-around).
@inlinable
public func saturateInt8(_ v: Int64) -> Int8 {
    Int8(truncatingIfNeeded: min(max(v, -128), 127))
}

/// Per-tensor requantization of a DPU conv / FC accumulator to int8 (reference-quantizer.md §4.1).
///
/// Source: Vitis AI `cpu_task/ops/conv2d-fix/conv2d-fix.cpp`, real-valued there:
/// `out = saturate_int8(DPU_ROUND(act((acc + b · 2^shiftBias) / 2^shiftCut)))` with
/// `shiftCut = fp_in + fp_w − fp_out`, `shiftBias = fp_in + fp_w − fp_b`.
/// Exact integer definition used here (it equals that real formula for every input, so a
/// negative `shiftBias` rounds once, at the end, as the quantizer's float simulation does):
/// - `k = max(−shiftBias, 0)`, `v = acc · 2^k + b · 2^max(shiftBias, 0)` (Int64), `S = shiftCut + k`;
///   `v / 2^S` is exactly the real pre-activation value in units of 2^−fp_out.
/// - `.none`: `out = sat(R(v, S))` where `R(v, s) = floor(v / 2^s + 1/2) = (v + 2^(s−1)) >> s`.
/// - `.relu`: `out = sat(R(max(v, 0), S))`.
/// - `.relu6`: the clamp is `T = 6 · 2^(accFixPos + k)` in the `v` domain (`accFixPos = fp_in + fp_w`);
///   `out = sat(R(min(max(v, 0), T), S))`. `T` may be fractional when `accFixPos + k < 0`: since
///   `v` is an integer, `v > floor(T)` ⇔ `v > T`, and then `out = sat(DPU_ROUND(6 · 2^fp_out))`.
/// - `.leakyRelu`: `v < 0` → `out = sat(R(v · 26, S + 8))`, else `sat(R(v, S))`.
public struct Int8Requant: Sendable, Equatable {
    public let shiftCut: Int
    public let shiftBias: Int
    public let activation: Int8Activation
    /// `fp_in + fp_w`; only ReLU6 uses it.
    public let accFixPos: Int
    /// `k`: accumulator up-shift for a negative `shiftBias`.
    public let upShift: Int
    /// `S = shiftCut + upShift`.
    public let totalShift: Int
    /// ReLU6: `floor(6 · 2^(accFixPos + k))`, and the saturated output when `v` exceeds it.
    public let relu6Floor: Int64
    public let relu6Out: Int8

    /// The accumulator fix positions (fp_in + fp_w) the requantization can shift.
    public static let accumulatorFixPos = -32...32

    /// - Parameters: `shiftCut` in 0...16, `shiftBias` in −24...24, `accFixPos` (= fp_in + fp_w) in −32...32.
    /// - Throws: `OctetTensorError.unsupported` outside those ranges.
    public init(shiftCut: Int, shiftBias: Int = 0, accFixPos: Int = 0, activation: Int8Activation = .none) throws {
        guard (0...16).contains(shiftCut) else {
            throw OctetTensorError.unsupported("requantize: shift_cut \(shiftCut) outside the DPU range 0...16")
        }
        guard (-24...24).contains(shiftBias) else {
            throw OctetTensorError.unsupported("requantize: shift_bias \(shiftBias) outside -24...24")
        }
        guard Int8Requant.accumulatorFixPos.contains(accFixPos) else {
            throw OctetTensorError.unsupported("requantize: fp_in + fp_w = \(accFixPos) outside \(Int8Requant.accumulatorFixPos)")
        }
        self.shiftCut = shiftCut; self.shiftBias = shiftBias
        self.activation = activation; self.accFixPos = accFixPos
        upShift = max(-shiftBias, 0)
        totalShift = shiftCut + upShift
        let e = accFixPos + upShift
        relu6Floor = e >= 0 ? Int64(6) << Int64(e) : Int64(6) >> Int64(-e)
        relu6Out = saturateInt8(dpuRoundScale(6, exponent: accFixPos - shiftCut))
    }

    /// From fix positions: `shiftCut = fpIn + fpWeight − fpOut`, `shiftBias = fpIn + fpWeight − fpBias`
    /// (0 without bias). - Throws: as `init(shiftCut:…)`, naming the offending shift.
    public init(fpIn: Int, fpWeight: Int, fpBias: Int?, fpOut: Int, activation: Int8Activation = .none) throws {
        try self.init(shiftCut: fpIn + fpWeight - fpOut, shiftBias: fpBias.map { fpIn + fpWeight - $0 } ?? 0,
                      accFixPos: fpIn + fpWeight, activation: activation)
    }

    /// Scalar reference requantization of one accumulator with int8 bias `bias` (0 when absent).
    @inlinable
    public func apply(_ acc: Int32, bias: Int8 = 0) -> Int8 {
        let v = (Int64(acc) << Int64(upShift)) + (Int64(bias) << Int64(max(shiftBias, 0)))
        let s = totalShift
        switch activation {
        case .none: return saturateInt8(dpuRoundShift(v, s))
        case .relu: return saturateInt8(dpuRoundShift(max(v, 0), s))
        case .relu6: return v > relu6Floor ? relu6Out : saturateInt8(dpuRoundShift(max(v, 0), s))
        case .leakyRelu: return saturateInt8(v < 0 ? dpuRoundShift(v * 26, s + 8) : dpuRoundShift(v, s))
        }
    }

    /// Parameters for the vectorised int32 path, or nil when some accumulator of magnitude
    /// ≤ `maxAbsAcc` could overflow an int32 step (then callers use `apply`).
    func int32Params(bias: Int8, maxAbsAcc: Int64) -> octet_requant_i32? {
        let biasTerm = Int64(bias) << Int64(max(shiftBias, 0))
        let maxV = (maxAbsAcc << Int64(upShift)) + 128 << Int64(max(shiftBias, 0))
        let limit = Int64(Int32.max) / 2
        guard maxV + (Int64(1) << Int64(totalShift)) < limit else { return nil }
        if activation == .leakyRelu && maxV * 26 + (Int64(1) << Int64(totalShift + 8)) >= limit { return nil }
        let act: Int32 = activation == .none ? 0 : activation == .relu ? 1 : activation == .relu6 ? 2 : 3
        return octet_requant_i32(bias_term: Int32(biasTerm), up_shift: Int32(upShift), shift: Int32(totalShift),
                                 activation: act, relu6_floor: Int32(min(relu6Floor, Int64(Int32.max))),
                                 relu6_out: Int32(relu6Out))
    }

    /// Requantizes `count` accumulators of one output channel; AVX2 when `int32Params` allows,
    /// else `apply` per element. Bit-exact with `apply` (tested).
    func requantizeRow(_ acc: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int8>, count: Int,
                       bias: Int8, maxAbsAcc: Int64) {
        Int8RowRequantizer(self, bias: bias, maxAbsAcc: maxAbsAcc).run(acc, out, count: count)
    }
}

/// `Int8Requant` bound to one channel's bias, with the vector-path decision made once.
struct Int8RowRequantizer {
    let requant: Int8Requant, bias: Int8
    let vector: octet_requant_i32?

    init(_ requant: Int8Requant, bias: Int8, maxAbsAcc: Int64) {
        self.requant = requant; self.bias = bias
        vector = requant.int32Params(bias: bias, maxAbsAcc: maxAbsAcc)
    }

    @inline(__always)
    func run(_ acc: UnsafePointer<Int32>, _ out: UnsafeMutablePointer<Int8>, count: Int) {
        if var p = vector {
            octet_i8_requant_row(acc, out, count, &p)
        } else {
            for i in 0..<count { out[i] = requant.apply(acc[i], bias: bias) }
        }
    }
}
