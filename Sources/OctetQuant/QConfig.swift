import OctetTensor
import OctetGraph

/// Quantization configuration (vai_q_pytorch `quant_config` names where they exist).
///
/// The default is the reference DPU strategy: diffs for weights and activations, 8 bits, per
/// tensor, power-of-two, weights/bias `std_round`, activations `half_up` (reference-quantizer
/// §1.2, §3.2). Per-channel weights, float scales, asymmetric activations and bit widths ≠ 8
/// are experiments that cannot run on the DPU (`isDPUDeployable == false`).
public struct QConfig: Sendable, Codable, Equatable {
    public enum ScaleType: String, Sendable, Codable, CaseIterable { case powerOfTwo = "poweroftwo", float }

    public var weightObserver: ObserverKind = .diffs
    public var activationObserver: ObserverKind = .diffs
    public var weightBits = 8
    public var biasBits = 8
    public var activationBits = 8
    public var perChannel = false
    public var scaleType: ScaleType = .powerOfTwo
    /// Activations with a zero point (unsigned, affine); not DPU.
    public var asymmetricActivations = false
    public var weightRounding: RoundingMode = .halfAwayFromZero
    public var activationRounding: RoundingMode = .halfUp
    /// Node names and op types kept in float (CPU).
    public var excludedNodes: [String] = []
    public var excludedOpTypes: [String] = []

    /// Whether `n` is kept in float: its name (its first output when unnamed) or op type is excluded.
    public func excludes(_ n: Node) -> Bool {
        excludedNodes.contains(QuantPlan.key(n)) || excludedOpTypes.contains(n.opType)
    }
    /// Calibrate with preceding quantizers active (vai_q_pytorch calib mode) or on the float model.
    public var quantizedCalibration = true
    /// Align AveragePool output fix_pos with its input (TF2 `align_pool`; PyTorch does not).
    public var alignPool = false
    /// Score the fix_pos candidates of a tensor read only by PRelu with the error after the PRelu
    /// (negative values' squared errors × slope²; diffs and minmse). Off: the reference's plain SSE.
    public var scoreThroughPRelu = false

    public init() {}

    /// Checks that every excluded node and op type exists in `graph`.
    /// - Throws: `OctetQuantError.invalidParameter` for an excluded node or op type `graph` does not have.
    public func checkExclusions(in graph: Graph) throws {
        let names = Set(graph.nodes.map(QuantPlan.key)), ops = Set(graph.nodes.map(\.opType))
        if let n = excludedNodes.first(where: { !names.contains($0) }) {
            throw OctetQuantError.invalidParameter("exclude_nodes: no node named '\(n)' in the model")
        }
        if let o = excludedOpTypes.first(where: { !ops.contains($0) }) {
            throw OctetQuantError.invalidParameter("exclude_ops: no \(o) node in the model")
        }
    }

    /// Option names accepted by `init(options:)`.
    public static let optionNames = ["weight_observer", "activation_observer", "weight_bits", "bias_bits",
                                     "activation_bits", "bits", "per_channel", "scale_type", "asymmetric",
                                     "weight_round", "activation_round", "exclude_nodes", "exclude_ops",
                                     "quantized_calibration", "align_pool", "score_through_prelu"]

    /// Builds a configuration from option name → value text (lists are comma-separated). `bits`
    /// sets the three widths first; `weight_bits`, `bias_bits`, `activation_bits` override it.
    /// - Throws: `OctetQuantError.unknownOption` listing `optionNames`, `.invalidParameter` for a bad value.
    public init(options: [String: String]) throws {
        if let b = options["bits"] { try set("bits", b) }
        for (key, value) in options.sorted(by: { $0.key < $1.key }) where key != "bits" { try set(key, value) }
        try validate()
    }

    mutating func set(_ key: String, _ v: String) throws {
        func int() throws -> Int {
            guard let i = Int(v) else { throw OctetQuantError.invalidParameter("\(key) = '\(v)': expected an integer") }
            return i
        }
        func bool() throws -> Bool {
            switch v.lowercased() {
            case "true", "1", "yes": return true
            case "false", "0", "no": return false
            default: throw OctetQuantError.invalidParameter("\(key) = '\(v)': expected true or false")
            }
        }
        func list() -> [String] { v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        func round() throws -> RoundingMode {
            do { return try RoundingMode.parse(v) } catch { throw OctetQuantError.invalidParameter("\(key): \(error)") }
        }
        switch key {
        case "weight_observer": weightObserver = try ObserverKind(parsing: v)
        case "activation_observer": activationObserver = try ObserverKind(parsing: v)
        case "weight_bits": weightBits = try int()
        case "bias_bits": biasBits = try int()
        case "activation_bits": activationBits = try int()
        case "bits": let b = try int(); weightBits = b; biasBits = b; activationBits = b
        case "per_channel": perChannel = try bool()
        case "scale_type":
            guard let s = ScaleType(rawValue: v.lowercased()) else {
                throw OctetQuantError.invalidParameter("scale_type '\(v)'; accepted: poweroftwo, float")
            }
            scaleType = s
        case "asymmetric": asymmetricActivations = try bool()
        case "weight_round": weightRounding = try round()
        case "activation_round": activationRounding = try round()
        case "exclude_nodes": excludedNodes = list()
        case "exclude_ops": excludedOpTypes = list()
        case "quantized_calibration": quantizedCalibration = try bool()
        case "align_pool": alignPool = try bool()
        case "score_through_prelu": scoreThroughPRelu = try bool()
        default: throw OctetQuantError.unknownOption(name: key, accepted: QConfig.optionNames)
        }
    }

    /// - Throws: `OctetQuantError.invalidParameter` for bit widths outside 2…16.
    public func validate() throws {
        for (name, b) in [("weight_bits", weightBits), ("bias_bits", biasBits), ("activation_bits", activationBits)]
        where !QuantRange.supportedBits.contains(b) {
            throw OctetQuantError.invalidParameter("\(name) = \(b): supported 2–16")
        }
    }

    /// Whether the weights/activations get power-of-two fix positions.
    public var weightsPowerOfTwo: Bool { scaleType == .powerOfTwo && weightObserver.isPowerOfTwo }
    public var activationsPowerOfTwo: Bool {
        scaleType == .powerOfTwo && activationObserver.isPowerOfTwo && !asymmetricActivations
    }

    /// 8-bit per-tensor power-of-two everywhere with nothing excluded: runs on the DPU.
    public var isDPUDeployable: Bool { nonDPUOptions.isEmpty }

    /// The options that keep this configuration off the DPU, as `name=value` (empty for a DPU one).
    public var nonDPUOptions: [String] {
        var out: [String] = []
        for (name, bits) in [("weight_bits", weightBits), ("bias_bits", biasBits), ("activation_bits", activationBits)] where bits != 8 {
            out.append("\(name)=\(bits)")
        }
        if perChannel { out.append("per_channel=true") }
        if scaleType != .powerOfTwo { out.append("scale_type=\(scaleType.rawValue)") }
        if !weightObserver.isPowerOfTwo { out.append("weight_observer=\(weightObserver.rawValue)") }
        if !activationObserver.isPowerOfTwo { out.append("activation_observer=\(activationObserver.rawValue)") }
        if asymmetricActivations { out.append("asymmetric=true") }
        if !excludedNodes.isEmpty { out.append("exclude_nodes=" + excludedNodes.joined(separator: ",")) }
        if !excludedOpTypes.isEmpty { out.append("exclude_ops=" + excludedOpTypes.joined(separator: ",")) }
        return out
    }

    /// The options as text, for saved parameters.
    public var options: [String: String] {
        ["weight_observer": weightObserver.rawValue, "activation_observer": activationObserver.rawValue,
         "weight_bits": "\(weightBits)", "bias_bits": "\(biasBits)", "activation_bits": "\(activationBits)",
         "per_channel": "\(perChannel)", "scale_type": scaleType.rawValue, "asymmetric": "\(asymmetricActivations)",
         "weight_round": weightRounding.rawValue, "activation_round": activationRounding.rawValue,
         "exclude_nodes": excludedNodes.joined(separator: ","), "exclude_ops": excludedOpTypes.joined(separator: ","),
         "quantized_calibration": "\(quantizedCalibration)", "align_pool": "\(alignPool)",
         "score_through_prelu": "\(scoreThroughPRelu)"]
    }
}
