/// How a real value on the quantization grid is rounded to an integer.
///
/// Raw values are the Vitis AI (NNDCT) configuration names; `nndctMethod` gives the
/// kernel method code of `_vai_round_cpu` / `_fix_neuron_v2_cpu`
/// (vai_q_pytorch `include/cpu/nndct_fix_kernels_cpu.h`). Behaviour on exact halves:
///
/// | mode               | code | −2.5 | −1.5 | −0.5 | 0.5 | 1.5 | 2.5 |
/// |--------------------|------|------|------|------|-----|-----|-----|
/// | `halfUp`           | 2    | −2   | −1   | 0    | 1   | 2   | 3   |
/// | `halfAwayFromZero` | 3    | −3   | −2   | −1   | 1   | 2   | 3   |
/// | `floor`            | 4    | −3   | −2   | −1   | 0   | 1   | 2   |
/// | `halfDown`         | 6    | −2   | −1   | 0    | 0   | 1   | 2   |
/// | `ceil`             | 7    | −2   | −1   | 0    | 1   | 2   | 3   |
/// | `halfEven`         | 8    | −2   | −2   | 0    | 0   | 2   | 2   |
public enum RoundingMode: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// "DPU round": `floor(x + 0.5)`, ties toward +∞. Used for activations and inputs
    /// (PyTorch, TF2) and by the DPU / xmodel `DPU_ROUND` fix op.
    case halfUp = "half_up"
    /// C `round` (`std_round`): ties away from zero. PyTorch weights and bias.
    case halfAwayFromZero = "std_round"
    /// Banker's rounding: ties to even. ONNX `QuantizeLinear`, TF2 weights.
    case halfEven = "half_even"
    /// Toward −∞.
    case floor
    /// Toward +∞.
    case ceil
    /// Ties toward zero; other values to nearest.
    case halfDown = "half_down"

    /// Mode number of the C statistics kernels (`octet_f32_fixpos_sse`).
    var kernelCode: Int32 {
        switch self {
        case .halfUp: return 0
        case .halfAwayFromZero: return 1
        case .halfEven: return 2
        case .floor: return 3
        case .ceil: return 4
        case .halfDown: return 5
        }
    }

    /// NNDCT kernel method code (2 half_up, 3 std_round, 4 floor, 6 half_down, 7 ceil, 8 half_even).
    public var nndctMethod: Int {
        switch self {
        case .halfUp: return 2
        case .halfAwayFromZero: return 3
        case .floor: return 4
        case .halfDown: return 6
        case .ceil: return 7
        case .halfEven: return 8
        }
    }

    /// The mode with NNDCT method code `code`, or nil (5 and −1 are not modelled).
    public init?(nndctMethod code: Int) {
        guard let m = RoundingMode.allCases.first(where: { $0.nndctMethod == code }) else { return nil }
        self = m
    }

    /// Parses a user-facing name: the NNDCT config name (`half_up`, `std_round`, `half_even`,
    /// `floor`, `ceil`, `half_down`), the Swift case name, or `dpu_round` (= `half_up`).
    /// - Throws: `OctetTensorError.unsupported` listing the accepted names.
    public static func parse(_ name: String) throws -> RoundingMode {
        let key = name.lowercased()
        if key == "dpu_round" { return .halfUp }
        for m in allCases where m.rawValue == key || "\(m.caseName)".lowercased() == key { return m }
        let accepted = allCases.map(\.rawValue).joined(separator: ", ")
        throw OctetTensorError.unsupported("rounding mode '\(name)'; accepted: \(accepted), dpu_round")
    }

    public var description: String { rawValue }

    private var caseName: String {
        switch self {
        case .halfUp: return "halfUp"
        case .halfAwayFromZero: return "halfAwayFromZero"
        case .halfEven: return "halfEven"
        case .floor: return "floor"
        case .ceil: return "ceil"
        case .halfDown: return "halfDown"
        }
    }

    /// Rounds `x` to an integral Float with this mode (exact: no `x + 0.5` error near ties).
    /// NaN stays NaN; ±∞ stay ±∞.
    @inlinable
    public func round(_ x: Float) -> Float {
        switch self {
        case .halfUp: return RoundHalfUp.apply(x)
        case .halfAwayFromZero: return RoundHalfAway.apply(x)
        case .halfEven: return RoundHalfEven.apply(x)
        case .floor: return RoundFloor.apply(x)
        case .ceil: return RoundCeil.apply(x)
        case .halfDown: return RoundHalfDown.apply(x)
        }
    }

    /// Calls `visitor.visit(K.self)` with the kernel type of this mode, so hot loops are
    /// specialised per mode instead of switching per element.
    @usableFromInline
    func accept<V: RoundingVisitor>(_ visitor: V) -> V.Output {
        switch self {
        case .halfUp: return visitor.visit(RoundHalfUp.self)
        case .halfAwayFromZero: return visitor.visit(RoundHalfAway.self)
        case .halfEven: return visitor.visit(RoundHalfEven.self)
        case .floor: return visitor.visit(RoundFloor.self)
        case .ceil: return visitor.visit(RoundCeil.self)
        case .halfDown: return visitor.visit(RoundHalfDown.self)
        }
    }
}

/// A rounding function as a type, for specialised loops.
///
/// `apply` works for every Float. `applySmall` gives the same result for |x| < 2^22 using only
/// SSE2 operations (Int32 truncation, compares, adds); `rounded(_:)` would otherwise call libm
/// on the x86-64 baseline. Hot loops clamp to [qmin − 1, qmax + 1] first, which does not change
/// the clamped result because rounding is monotone and exact on integers.
@usableFromInline
protocol RoundingKernel {
    static func apply(_ x: Float) -> Float
    static func applySmall(_ x: Float) -> Float
}

/// Truncation toward zero for |x| < 2^31.
@inlinable @inline(__always)
func truncSmall(_ x: Float) -> Float { Float(Int32(x)) }

/// floor for |x| < 2^31.
@inlinable @inline(__always)
func floorSmall(_ x: Float) -> Float {
    let t = truncSmall(x)
    return t > x ? t - 1 : t
}

/// A loop body generic over the rounding kernel (see `RoundingMode.accept`).
@usableFromInline
protocol RoundingVisitor {
    associatedtype Output
    func visit<K: RoundingKernel>(_ kernel: K.Type) -> Output
}

@usableFromInline
enum RoundHalfUp: RoundingKernel {
    /// `x − floor(x)` is exact in binary floating point, so the tie test is exact.
    @inlinable @inline(__always)
    static func apply(_ x: Float) -> Float {
        let f = x.rounded(.down)
        return x - f >= 0.5 ? f + 1 : f
    }
    @inlinable @inline(__always)
    static func applySmall(_ x: Float) -> Float {
        let f = floorSmall(x)
        return x - f >= 0.5 ? f + 1 : f
    }
}

@usableFromInline
enum RoundHalfAway: RoundingKernel {
    @inlinable @inline(__always)
    static func apply(_ x: Float) -> Float { x.rounded(.toNearestOrAwayFromZero) }
    @inlinable @inline(__always)
    static func applySmall(_ x: Float) -> Float {
        let t = truncSmall(x), d = x - t
        return d >= 0.5 ? t + 1 : (d <= -0.5 ? t - 1 : t)
    }
}

@usableFromInline
enum RoundHalfEven: RoundingKernel {
    @inlinable @inline(__always)
    static func apply(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }
    /// Adding and subtracting 1.5·2^23 rounds to an integer with the FPU's ties-to-even mode.
    @inlinable @inline(__always)
    static func applySmall(_ x: Float) -> Float {
        let magic: Float = 12_582_912
        return (x + magic) - magic
    }
}

@usableFromInline
enum RoundFloor: RoundingKernel {
    @inlinable @inline(__always)
    static func apply(_ x: Float) -> Float { x.rounded(.down) }
    @inlinable @inline(__always)
    static func applySmall(_ x: Float) -> Float { floorSmall(x) }
}

@usableFromInline
enum RoundCeil: RoundingKernel {
    @inlinable @inline(__always)
    static func apply(_ x: Float) -> Float { x.rounded(.up) }
    @inlinable @inline(__always)
    static func applySmall(_ x: Float) -> Float {
        let t = truncSmall(x)
        return t < x ? t + 1 : t
    }
}

@usableFromInline
enum RoundHalfDown: RoundingKernel {
    /// Truncate, then step away from zero only when the dropped part exceeds one half.
    @inlinable @inline(__always)
    static func apply(_ x: Float) -> Float {
        let t = x.rounded(.towardZero)
        let d = x - t
        if d > 0.5 { return t + 1 }
        if d < -0.5 { return t - 1 }
        return t
    }
    @inlinable @inline(__always)
    static func applySmall(_ x: Float) -> Float {
        let t = truncSmall(x), d = x - t
        return d > 0.5 ? t + 1 : (d < -0.5 ? t - 1 : t)
    }
}
