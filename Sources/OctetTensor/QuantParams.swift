/// How one tensor is quantized: integer format plus scale (and zero point), per tensor or per channel.
///
/// Power-of-two mode (the DPU's): `fixPos` is set, `scale = 2^−fixPos`, `zeroPoint = 0`
/// (reference-quantizer §1.1). Float-scale mode (non-DPU experiments): `fixPos` is nil.
/// Per channel: `channels` holds one scale (and fix_pos / zero point) per index of `axis`;
/// the per-tensor `scale` then holds the largest channel scale and `fixPos` the smallest
/// channel fix_pos, as a summary.
public struct QuantParams: Sendable, Codable, Equatable, CustomStringConvertible {
    /// Per-channel parameters along `axis` (e.g. axis 0 = output channels of OIHW conv weights).
    public struct Channels: Sendable, Codable, Equatable {
        public var axis: Int
        public var scales: [Float]
        public var zeroPoints: [Int]
        /// Set in power-of-two mode: scales[i] == 2^−fixPos[i].
        public var fixPos: [Int]?
    }

    public private(set) var bits: Int
    public private(set) var signed: Bool
    public private(set) var narrowRange: Bool
    /// fix_pos in power-of-two mode, nil for float scales.
    public private(set) var fixPos: Int?
    /// Real value of one integer step (2^−fixPos in power-of-two mode).
    public private(set) var scale: Float
    public private(set) var zeroPoint: Int
    public private(set) var channels: Channels?

    /// Power-of-two, per tensor, zero point 0.
    /// - Throws: `OctetTensorError.unsupported` for bits outside 2…16.
    public init(bits: Int = 8, signed: Bool = true, narrowRange: Bool = false, fixPos: Int) throws {
        try self.init(bits: bits, signed: signed, narrowRange: narrowRange, fixPos: fixPos,
                      scale: QuantMath.scale(fixPos: fixPos), zeroPoint: 0, channels: nil)
    }

    /// Float scale and zero point, per tensor.
    /// - Throws: `.unsupported` for bad bits, a non-positive scale or a zero point outside the range.
    public init(bits: Int = 8, signed: Bool = true, narrowRange: Bool = false, scale: Float, zeroPoint: Int = 0) throws {
        try self.init(bits: bits, signed: signed, narrowRange: narrowRange, fixPos: nil,
                      scale: scale, zeroPoint: zeroPoint, channels: nil)
    }

    /// Power-of-two per channel along `axis`.
    /// - Throws: `.unsupported` for bad bits or an empty channel list.
    public init(bits: Int = 8, signed: Bool = true, narrowRange: Bool = false, axis: Int, fixPos: [Int]) throws {
        guard let lowest = fixPos.min() else { throw OctetTensorError.unsupported("per-channel quant params with no channels") }
        let scales = fixPos.map(QuantMath.scale(fixPos:))
        let ch = Channels(axis: axis, scales: scales, zeroPoints: Array(repeating: 0, count: fixPos.count), fixPos: fixPos)
        try self.init(bits: bits, signed: signed, narrowRange: narrowRange, fixPos: lowest,
                      scale: QuantMath.scale(fixPos: lowest), zeroPoint: 0, channels: ch)
    }

    /// Float scales per channel along `axis`.
    /// - Throws: `.unsupported` for bad bits, mismatched counts or non-positive scales.
    public init(bits: Int = 8, signed: Bool = true, narrowRange: Bool = false, axis: Int,
                scales: [Float], zeroPoints: [Int]? = nil) throws {
        let zps = zeroPoints ?? Array(repeating: 0, count: scales.count)
        guard !scales.isEmpty, zps.count == scales.count else {
            throw OctetTensorError.unsupported("per-channel quant params: \(scales.count) scales, \(zps.count) zero points")
        }
        let ch = Channels(axis: axis, scales: scales, zeroPoints: zps, fixPos: nil)
        try self.init(bits: bits, signed: signed, narrowRange: narrowRange, fixPos: nil,
                      scale: scales.max() ?? 1, zeroPoint: 0, channels: ch)
    }

    private init(bits: Int, signed: Bool, narrowRange: Bool, fixPos: Int?, scale: Float,
                 zeroPoint: Int, channels: Channels?) throws {
        self.bits = bits
        self.signed = signed
        self.narrowRange = narrowRange
        self.fixPos = fixPos
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.channels = channels
        try validate()
    }

    /// The DPU format: signed 8-bit full range, power of two, per tensor.
    /// - Throws: `.unsupported` when `fixPos` is outside `QuantParams.fixPosLimits`.
    public static func dpu(fixPos: Int) throws -> QuantParams {
        try QuantParams(bits: 8, signed: true, narrowRange: false, fixPos: fixPos)
    }

    /// fix_pos values whose scale 2^−fix_pos is a normal Float.
    public static let fixPosLimits = -126...126

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(bits: c.decode(Int.self, forKey: .bits), signed: c.decode(Bool.self, forKey: .signed),
                      narrowRange: c.decodeIfPresent(Bool.self, forKey: .narrowRange) ?? false,
                      fixPos: c.decodeIfPresent(Int.self, forKey: .fixPos),
                      scale: c.decode(Float.self, forKey: .scale),
                      zeroPoint: c.decodeIfPresent(Int.self, forKey: .zeroPoint) ?? 0,
                      channels: c.decodeIfPresent(Channels.self, forKey: .channels))
    }

    /// Checks bits, scale, zero point and channel consistency.
    private func validate() throws {
        let r = try QuantRange(bits: bits, signed: signed, narrowRange: narrowRange)
        func check(_ s: Float, _ zp: Int, _ what: String) throws {
            guard s.isFinite, s > 0 else { throw OctetTensorError.unsupported("\(what) scale \(s): must be positive and finite") }
            guard zp >= r.qmin, zp <= r.qmax else { throw OctetTensorError.unsupported("\(what) zero point \(zp) outside \(r)") }
        }
        for fp in [fixPos].compactMap({ $0 }) + (channels?.fixPos ?? []) where !QuantParams.fixPosLimits.contains(fp) {
            throw OctetTensorError.unsupported("fix_pos \(fp) outside \(QuantParams.fixPosLimits)")
        }
        try check(scale, zeroPoint, "quant params")
        if let fp = fixPos, channels == nil, scale != QuantMath.scale(fixPos: fp) {
            throw OctetTensorError.unsupported("scale \(scale) is not 2^-\(fp)")
        }
        guard let ch = channels else { return }
        guard ch.scales.count == ch.zeroPoints.count, ch.fixPos.map({ $0.count == ch.scales.count }) ?? true else {
            throw OctetTensorError.unsupported("per-channel quant params: inconsistent channel counts")
        }
        for i in ch.scales.indices { try check(ch.scales[i], ch.zeroPoints[i], "channel \(i)") }
    }

    /// The integer range.
    public var range: QuantRange {
        // Cannot throw: `bits` was validated at construction.
        try! QuantRange(bits: bits, signed: signed, narrowRange: narrowRange)
    }
    public var qmin: Int { range.qmin }
    public var qmax: Int { range.qmax }

    /// Power of two with zero point 0, per tensor or every channel.
    public var isPowerOfTwo: Bool {
        guard fixPos != nil, zeroPoint == 0 else { return false }
        guard let ch = channels else { return true }
        return ch.fixPos != nil && ch.zeroPoints.allSatisfy { $0 == 0 }
    }

    /// 8-bit signed full-range symmetric per-tensor power of two: what the DPU executes.
    public var isDPUDeployable: Bool {
        bits == 8 && signed && !narrowRange && channels == nil && isPowerOfTwo
    }

    /// A copy at a new per-tensor fix_pos (power-of-two mode; drops per-channel data).
    /// - Throws: `.unsupported` when `fp` is outside `fixPosLimits`.
    public func withFixPos(_ fp: Int) throws -> QuantParams {
        try QuantParams(bits: bits, signed: signed, narrowRange: narrowRange, fixPos: fp)
    }

    public var description: String {
        let fmt = "\(signed ? "int" : "uint")\(bits)\(narrowRange ? " narrow" : "")"
        if let ch = channels {
            if let fps = ch.fixPos { return "\(fmt) per-channel(axis \(ch.axis)) fix_pos \(fps)" }
            return "\(fmt) per-channel(axis \(ch.axis)) \(ch.scales.count) scales"
        }
        if let fp = fixPos { return "\(fmt) fix_pos \(fp)" }
        return "\(fmt) scale \(scale) zero_point \(zeroPoint)"
    }
}
