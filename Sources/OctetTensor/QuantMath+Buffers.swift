import CKernels
import Dispatch

/// Mapping between real values and the integer grid, as a type so loops specialise.
protocol GridScaling {
    /// Real value → grid coordinate before rounding (zero point not yet added).
    func toGrid(_ x: Float) -> Float
    /// Clamped integer code → real value.
    func fromGrid(_ q: Float) -> Float
    /// Zero point added after rounding.
    var offset: Float { get }
}

/// x · 2^fp and q · 2^−fp (both exact).
struct PowerOfTwoScaling: GridScaling {
    let amp: Float
    let inverse: Float
    init(fixPos: Int) { amp = QuantMath.exp2(fixPos); inverse = QuantMath.exp2(-fixPos) }
    @inline(__always) func toGrid(_ x: Float) -> Float { x * amp }
    @inline(__always) func fromGrid(_ q: Float) -> Float { q * inverse }
    var offset: Float { 0 }
}

/// x / scale (+ zp) and (q − zp) · scale, as ONNX QuantizeLinear / DequantizeLinear.
struct AffineScaling: GridScaling {
    let scale: Float
    let offset: Float
    @inline(__always) func toGrid(_ x: Float) -> Float { x / scale }
    @inline(__always) func fromGrid(_ q: Float) -> Float { (q - offset) * scale }
}

/// Fake-quantizes a buffer in place, one specialised loop per rounding kernel.
struct FakeQuantizeLoop<S: GridScaling>: RoundingVisitor {
    let buffer: UnsafeMutableBufferPointer<Float>
    let scaling: S
    let range: QuantRange

    func visit<K: RoundingKernel>(_ kernel: K.Type) {
        let s = scaling, r = range, off = s.offset
        QuantMath.forEachChunk(buffer.count) { lo, hi in
            for i in lo..<hi {
                buffer[i] = s.fromGrid(r.clamp(K.applySmall(r.preClamp(s.toGrid(buffer[i]), offset: off)) + off))
            }
        }
    }
}

/// Quantizes floats to integer codes of type `I`.
struct QuantizeLoop<S: GridScaling, I: FixedWidthInteger>: RoundingVisitor {
    let source: UnsafeBufferPointer<Float>
    let destination: UnsafeMutableBufferPointer<I>
    let scaling: S
    let range: QuantRange

    func visit<K: RoundingKernel>(_ kernel: K.Type) {
        let s = scaling, r = range, off = s.offset
        QuantMath.forEachChunk(source.count) { lo, hi in
            for i in lo..<hi {
                // clamped to the code range, so the Int32 conversion is exact (and not the generic one)
                destination[i] = I(truncatingIfNeeded: Int32(r.clamp(K.applySmall(r.preClamp(s.toGrid(source[i]), offset: off)) + off)))
            }
        }
    }
}

extension QuantMath {
    /// Elements per parallel chunk; chunking is fixed so results never depend on thread count.
    static let chunkSize = 1 << 16

    /// Runs `body(lo, hi)` over fixed chunks of `0..<count`, on two threads when large.
    static func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
        let chunks = (count + chunkSize - 1) / chunkSize
        if chunks <= 1 { body(0, count); return }
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            body(c * chunkSize, min(count, (c + 1) * chunkSize))
        }
    }

    // MARK: In-place fake quantization

    /// Fake-quantizes `buffer` in place at `fixPos` (power of two): x ← clamp(round(x·2^fp))·2^−fp.
    /// No allocation; AVX2 (`octet_f32_fake_quantize`); large buffers run on two threads.
    public static func fakeQuantize(_ buffer: UnsafeMutableBufferPointer<Float>, fixPos: Int,
                                    range: QuantRange = .int8, rounding: RoundingMode) {
        let lo = Float(range.qmin), hi = Float(range.qmax), mode = rounding.kernelCode
        forEachChunk(buffer.count) { a, b in
            if b > a { octet_f32_fake_quantize(buffer.baseAddress! + a, b - a, Int32(fixPos), lo, hi, mode) }
        }
    }

    /// Fake-quantizes `buffer` in place with a float scale and zero point:
    /// x ← (clamp(round(x/scale) + zp) − zp)·scale.
    /// - Throws: `OctetTensorError.unsupported` when `scale` is not positive and finite.
    public static func fakeQuantize(_ buffer: UnsafeMutableBufferPointer<Float>, scale: Float, zeroPoint: Int,
                                    range: QuantRange, rounding: RoundingMode) throws {
        try checkScale(scale)
        let s = AffineScaling(scale: scale, offset: Float(zeroPoint))
        rounding.accept(FakeQuantizeLoop(buffer: buffer, scaling: s, range: range))
    }

    // MARK: Float → integer codes

    /// Quantizes `source` into `destination` (same count) at `fixPos`.
    /// - Throws: `OctetTensorError.shapeMismatch` on count mismatch; `.unsupported` when
    ///   `range` does not fit in `I`.
    public static func quantize<I: FixedWidthInteger>(_ source: UnsafeBufferPointer<Float>,
                                                      into destination: UnsafeMutableBufferPointer<I>,
                                                      fixPos: Int, range: QuantRange = .int8,
                                                      rounding: RoundingMode) throws {
        try checkDestination(source.count, destination.count, range, I.self)
        let loop = QuantizeLoop(source: source, destination: destination,
                                scaling: PowerOfTwoScaling(fixPos: fixPos), range: range)
        rounding.accept(loop)
    }

    /// Quantizes `source` into `destination` with a float scale and zero point.
    /// - Throws: as `quantize(_:into:fixPos:range:rounding:)`, and when `scale` is not positive.
    public static func quantize<I: FixedWidthInteger>(_ source: UnsafeBufferPointer<Float>,
                                                      into destination: UnsafeMutableBufferPointer<I>,
                                                      scale: Float, zeroPoint: Int, range: QuantRange,
                                                      rounding: RoundingMode) throws {
        try checkScale(scale)
        try checkDestination(source.count, destination.count, range, I.self)
        let loop = QuantizeLoop(source: source, destination: destination,
                                scaling: AffineScaling(scale: scale, offset: Float(zeroPoint)), range: range)
        rounding.accept(loop)
    }

    /// Array form of power-of-two quantization to int8 codes.
    /// - Throws: `.unsupported` when `range` does not fit in Int8.
    public static func quantizeToInt8(_ values: [Float], fixPos: Int, range: QuantRange = .int8,
                                      rounding: RoundingMode) throws -> [Int8] {
        var out = [Int8](repeating: 0, count: values.count)
        try values.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try quantize(src, into: dst, fixPos: fixPos, range: range, rounding: rounding)
            }
        }
        return out
    }

    // MARK: Integer codes → float

    /// `destination[i] = source[i] · 2^−fixPos`.
    /// - Throws: `OctetTensorError.shapeMismatch` on count mismatch.
    public static func dequantize<I: FixedWidthInteger>(_ source: UnsafeBufferPointer<I>,
                                                        into destination: UnsafeMutableBufferPointer<Float>,
                                                        fixPos: Int) throws {
        try dequantize(source, into: destination, scale: exp2(-fixPos), zeroPoint: 0)
    }

    /// `destination[i] = (source[i] − zeroPoint) · scale`.
    /// - Throws: `OctetTensorError.shapeMismatch` on count mismatch.
    public static func dequantize<I: FixedWidthInteger>(_ source: UnsafeBufferPointer<I>,
                                                        into destination: UnsafeMutableBufferPointer<Float>,
                                                        scale: Float, zeroPoint: Int) throws {
        guard source.count == destination.count else {
            throw OctetTensorError.shapeMismatch("dequantize: \(source.count) codes into \(destination.count) floats")
        }
        let zp = Float(zeroPoint)
        for i in 0..<source.count { destination[i] = (Float(source[i]) - zp) * scale }
    }

    /// Array form: codes · 2^−fixPos.
    public static func dequantize(_ codes: [Int8], fixPos: Int) -> [Float] {
        let s = exp2(-fixPos)
        return codes.map { Float($0) * s }
    }

    static func checkScale(_ scale: Float) throws {
        guard scale.isFinite, scale > 0 else {
            throw OctetTensorError.unsupported("quantization scale \(scale): must be positive and finite")
        }
    }

    static func checkDestination<I: FixedWidthInteger>(_ n: Int, _ m: Int, _ range: QuantRange,
                                                       _ type: I.Type) throws {
        guard n == m else {
            throw OctetTensorError.shapeMismatch("quantize: \(n) floats into \(m) codes")
        }
        guard range.qmin >= Int(I.min), range.qmax <= Int(I.max) else {
            throw OctetTensorError.unsupported("range \(range) does not fit in \(I.self)")
        }
    }
}
