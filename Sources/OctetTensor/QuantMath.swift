/// The integer interval a quantized value is clamped to.
///
/// Signed b-bit: [−2^(b−1), 2^(b−1)−1] (DPU: [−128, 127]); unsigned: [0, 2^b−1].
/// Narrow range raises `qmin` by one ([−127, 127], or [1, 255] unsigned; TF / ONNX convention).
public struct QuantRange: Sendable, Codable, Equatable, CustomStringConvertible {
    public let qmin: Int
    public let qmax: Int

    /// Supported bit widths.
    public static let supportedBits = 2...16

    /// - Throws: `OctetTensorError.unsupported` when `bits` is outside 2…16.
    public init(bits: Int, signed: Bool = true, narrowRange: Bool = false) throws {
        guard QuantRange.supportedBits.contains(bits) else {
            throw OctetTensorError.unsupported("bit width \(bits); supported 2–16")
        }
        let lo = signed ? -(1 << (bits - 1)) : 0
        qmax = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1
        qmin = narrowRange ? lo + 1 : lo
    }

    /// Explicit bounds.
    /// - Throws: `OctetTensorError.unsupported` unless qmin < qmax and both fit in 17 bits (±65536).
    public init(qmin: Int, qmax: Int) throws {
        guard qmin < qmax, qmin >= -65536, qmax <= 65536 else {
            throw OctetTensorError.unsupported("quantization range [\(qmin), \(qmax)]")
        }
        self.init(checkedMin: qmin, max: qmax)
    }

    private init(checkedMin qmin: Int, max qmax: Int) {
        self.qmin = qmin
        self.qmax = qmax
    }

    /// Signed 8-bit full range [−128, 127], the DPU's only format.
    public static let int8 = QuantRange(checkedMin: -128, max: 127)

    public var description: String { "[\(qmin), \(qmax)]" }

    /// Clamps a grid coordinate (before adding `offset`) to [qmin − offset − 1, qmax − offset + 1],
    /// so fast rounding stays in its domain; the final `clamp` result is unchanged. NaN maps low.
    @inlinable @inline(__always)
    func preClamp(_ g: Float, offset: Float) -> Float {
        let lo = Float(qmin) - offset - 1, hi = Float(qmax) - offset + 1
        return g > lo ? (g < hi ? g : hi) : lo
    }

    /// Saturates an integer-valued Float into the range. NaN maps to `qmin`.
    @inlinable @inline(__always)
    public func clamp(_ q: Float) -> Float {
        let lo = Float(qmin), hi = Float(qmax)
        return q > lo ? (q < hi ? q : hi) : lo
    }
}

/// Pure power-of-two and affine quantization maths.
///
/// Power-of-two (fixed point): `q = clamp(round(x · 2^fix_pos), qmin, qmax)`, `x̂ = q · 2^−fix_pos`
/// (vai_q_pytorch `_fix_neuron_v1`; reference-quantizer §1.1, §3.1). Affine (ONNX QuantizeLinear):
/// `q = clamp(round(x / scale) + zero_point)`, `x̂ = (q − zero_point) · scale`.
/// Values saturate, never wrap. Results are exact when `fix_pos` is in −126…126.
public enum QuantMath {
    /// 2^e as a Float (exact for −149…127; 0 below, +∞ above).
    @inlinable
    public static func exp2(_ e: Int) -> Float {
        Float(sign: .plus, exponent: e, significand: 1)
    }

    /// The scale of a fix position: 2^−fix_pos.
    @inlinable
    public static func scale(fixPos: Int) -> Float { exp2(-fixPos) }

    /// The fix position of a scale that is an exact power of two (2^−fp), else nil.
    public static func fixPos(ofScale scale: Float) -> Int? {
        guard scale.isNormal, scale > 0, scale.significand == 1 else { return nil }
        return -Int(scale.exponent)
    }

    /// Largest fix_pos the reference quantizer allows: 12 for ≤ 8 bits, 15 above
    /// (vai_q_pytorch `nndct_max_fix_position`; reference-quantizer §1.1).
    public static func maxFixPos(bits: Int) -> Int { bits <= 8 ? 12 : 15 }

    // MARK: Power-of-two scalars

    /// The integer code of `x` at `fixPos`, saturated to `range`.
    @inlinable
    public static func quantize(_ x: Float, fixPos: Int, range: QuantRange = .int8,
                                rounding: RoundingMode) -> Int {
        Int(range.clamp(rounding.round(x * exp2(fixPos))))
    }

    /// The real value of code `q` at `fixPos`: q · 2^−fixPos.
    @inlinable
    public static func dequantize(_ q: Int, fixPos: Int) -> Float { Float(q) * exp2(-fixPos) }

    /// Quantize then dequantize.
    @inlinable
    public static func fakeQuantize(_ x: Float, fixPos: Int, range: QuantRange = .int8,
                                    rounding: RoundingMode) -> Float {
        range.clamp(rounding.round(x * exp2(fixPos))) * exp2(-fixPos)
    }

    // MARK: Affine scalars

    /// `clamp(round(x / scale) + zeroPoint)`; `scale` must be positive and finite.
    @inlinable
    public static func quantize(_ x: Float, scale: Float, zeroPoint: Int, range: QuantRange,
                                rounding: RoundingMode) -> Int {
        Int(range.clamp(rounding.round(x / scale) + Float(zeroPoint)))
    }

    /// `(q − zeroPoint) · scale`.
    @inlinable
    public static func dequantize(_ q: Int, scale: Float, zeroPoint: Int) -> Float {
        Float(q - zeroPoint) * scale
    }

    /// Quantize then dequantize with a float scale and zero point.
    @inlinable
    public static func fakeQuantize(_ x: Float, scale: Float, zeroPoint: Int, range: QuantRange,
                                    rounding: RoundingMode) -> Float {
        let zp = Float(zeroPoint)
        return (range.clamp(rounding.round(x / scale) + zp) - zp) * scale
    }
}
