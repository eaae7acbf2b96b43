import OctetTensor

/// A DPU configuration as data: memory banks and the limits of each engine, after the Vitis AI
/// target descriptions (`vai_runtime/target_factory/targets/*.prototxt`; reference-quantizer §9.2).
/// The inspector and compiler read these limits; nothing about a target is hard-coded elsewhere.
public struct DPUTarget: Sendable, Equatable, CustomStringConvertible {
    /// A group of on-chip memory banks: `count` banks of `width` int8 lanes × `depth` words.
    public struct Bank: Sendable, Equatable {
        public var name: String, count: Int, width: Int, depth: Int
        public init(name: String, count: Int, width: Int, depth: Int) {
            self.name = name; self.count = count; self.width = width; self.depth = depth
        }
    }

    /// Convolution engine (conv2d, transposed conv, fully connected as 1×1 conv).
    public struct ConvEngine: Sendable, Equatable {
        public var inputChannelParallel: Int, outputChannelParallel: Int, pixelParallel: Int
        /// Activations fused into the conv write-back (prototxt names: relu, leaky_relu, relu_six).
        public var nonlinear: Set<String>
        public var kernel: ClosedRange<Int>, stride: ClosedRange<Int>, strideOutH: ClosedRange<Int>
    }

    /// Miscellaneous ALU engine (depthwise conv, pooling, prelu, leaky relu, hard-sigmoid).
    public struct ALUEngine: Sendable, Equatable {
        public var channelParallel: Int, pixelParallel: Int
        /// Operation types (dwconv, avg_pool, max_pool, prelu, leaky_relu, hsigmoid, …).
        public var types: Set<String>
        public var nonlinear: Set<String>
        public var kernel: ClosedRange<Int>, stride: ClosedRange<Int>, strideOutH: ClosedRange<Int>
        public var padLeft: ClosedRange<Int>, padRight: ClosedRange<Int>, padTop: ClosedRange<Int>, padBottom: ClosedRange<Int>
    }

    /// Element-wise engine (add, mult).
    public struct EltwiseEngine: Sendable, Equatable {
        public var channelParallel: Int, pixelParallel: Int
        public var types: Set<String>
        public var nonlinear: Set<String>
    }

    public var name: String
    public var featureCode: UInt64
    public var isaVersion: Int
    /// Feature-map banks (VB0, VB1) then weight banks (CONVW, DWCONVW) and BIAS.
    public var banks: [Bank]
    /// Load / save engine channel parallelism.
    public var loadChannelParallel: Int
    public var conv: ConvEngine
    public var alu: ALUEngine
    public var eltwise: EltwiseEngine
    /// The only LeakyReLU slope the hardware computes: 26/256 (reference-quantizer §4.2, §9.1).
    public var leakyReluAlpha: Float
    /// Where the numbers come from.
    public var source: String

    /// The bank group named `name` (VB0, CONVW, DWCONVW, BIAS, …).
    public func bank(_ name: String) -> Bank? { banks.first { $0.name == name } }

    /// Largest channel count a conv / depthwise layer may have: 256 · channel parallel (UG1414).
    public var maxConvChannels: Int { 256 * conv.inputChannelParallel }
    public var maxALUChannels: Int { 256 * alu.channelParallel }

    /// Peak int8 operations per clock: 2 · pixel · input channel · output channel parallelism.
    public var peakOpsPerCycle: Int { 2 * conv.pixelParallel * conv.inputChannelParallel * conv.outputChannelParallel }

    public var description: String { name }

    /// Every built-in target, the default first.
    public static let all: [DPUTarget] = [.dpuczdx8gISA1B4096, .dpuczdx8gISA1B1024, .dpuczdx8gISA1B512]

    /// The default target: DPUCZDX8G_ISA1_B4096.
    public static let `default` = DPUTarget.dpuczdx8gISA1B4096

    /// The target called `name` (case-insensitive).
    /// - Throws: `OctetDPUError.unknownTarget` listing the accepted names.
    public static func named(_ name: String) throws -> DPUTarget {
        guard let t = all.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw OctetDPUError.unknownTarget(name, accepted: all.map(\.name))
        }
        return t
    }

    /// Human-readable limits, one block per engine (for `octet targets`).
    public var limitsText: String {
        func r(_ x: ClosedRange<Int>) -> String { "\(x.lowerBound)..\(x.upperBound)" }
        func s(_ x: Set<String>) -> String { x.sorted().joined(separator: ", ") }
        var lines = ["\(name)  (feature code 0x\(String(featureCode, radix: 16, uppercase: true)), ISA \(isaVersion), \(peakOpsPerCycle) ops/cycle)"]
        for b in banks { lines.append("  bank \(b.name): \(b.count) x width \(b.width) x depth \(b.depth)") }
        lines.append("  load/save: channel parallel \(loadChannelParallel)")
        lines.append("  conv engine: icp \(conv.inputChannelParallel), ocp \(conv.outputChannelParallel), pp \(conv.pixelParallel); "
            + "kernel \(r(conv.kernel)), stride \(r(conv.stride)), stride_out_h \(r(conv.strideOutH)); nonlinear \(s(conv.nonlinear))")
        lines.append("  alu engine: cp \(alu.channelParallel), pp \(alu.pixelParallel); types \(s(alu.types)); nonlinear \(s(alu.nonlinear))")
        lines.append("    kernel \(r(alu.kernel)), stride \(r(alu.stride)), stride_out_h \(r(alu.strideOutH)); "
            + "pad left \(r(alu.padLeft)), right \(r(alu.padRight)), top \(r(alu.padTop)), bottom \(r(alu.padBottom))")
        lines.append("  eltwise engine: cp \(eltwise.channelParallel), pp \(eltwise.pixelParallel); types \(s(eltwise.types)); nonlinear \(s(eltwise.nonlinear))")
        lines.append("  leaky_relu alpha: \(Int(leakyReluAlpha * 256))/256 only")
        lines.append("  source: \(source)")
        return lines.joined(separator: "\n")
    }
}
