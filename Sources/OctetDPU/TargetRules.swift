import OctetGraph
import OctetTensor

/// The rules that decide whether one node fits a target's engines (vai_q_pytorch
/// `hardware/dpu_op_filter.py`, UG1414 "Currently Supported Operators"; reference-quantizer §9).
/// Each check returns nil when the node fits, else the broken rule as text
/// (e.g. "kernel 17x17 exceeds conv kernel limit 1..16").
struct TargetRules {
    let target: DPUTarget
    let graph: Graph
    /// Shape of every tensor at the graph's batch size.
    let shapes: [String: [Int]]

    /// The rule `node` (of quantized kind `kind`, with fused `activation`) breaks, or nil.
    func rejection(_ node: Node, kind: QuantOpKind, activation: FusedActivation?, leakyAlpha: Float?) throws -> String? {
        switch kind {
        case .conv: return try convFamily(node, activation, leakyAlpha)
        case .fused: return nil
        case .add, .mul: return eltwise(node, kind, activation)
        case .concat: return try concat(node)
        case .passThrough: return try movement(node)
        case .averagePool: return try averagePool(node)
        case .activation: return activationRule(activation ?? .none, engine: "alu", alpha: leakyAlpha)
        case .hardSigmoid: return target.alu.types.contains("hsigmoid") ? nil : "alu engine has no hsigmoid"
        case .hardSwish:
            if !target.alu.types.contains("hsigmoid") { return "alu engine has no hsigmoid" }
            return target.eltwise.types.contains("mult") ? nil : "eltwise engine has no mult"
        case .float:
            if node.opType == "LeakyRelu", let r = alphaRule(leakyAlpha) { return r }
            return "\(node.opType) is not a DPU operation here\(try floatDetail(node)) (computed in float on dequantized values)"
        case .excluded: return "excluded from quantization by configuration"
        case .nonFloat: return "integer/shape computation (no real-valued data)"
        }
    }

    /// Why a node the target's engines might name is still computed in float: ", …", or "".
    func floatDetail(_ node: Node) throws -> String {
        switch node.opType {
        case "HardSigmoid":
            let a = try node.float("alpha", default: 0.2), b = try node.float("beta", default: 0.5)
            return ": the alu's hsigmoid is alpha 1/6, beta 1/2; this one has alpha \(a), beta \(b)"
        case "PRelu": return ": Octet does not emulate the alu's prelu arithmetic"
        case "MatMul", "Gemm": return ": the DPU runs it as a fully connected layer: a 2-D input, a constant 2-D weight used by no other node, a bias per output"
        default: return ""
        }
    }

    func shape(_ t: String, _ node: Node) throws -> [Int] {
        guard let s = shapes[t] else { throw OctetDPUError.execution(node: node.name, reason: "no shape for tensor '\(t)'") }
        return s
    }

    func range(_ r: ClosedRange<Int>) -> String { "\(r.lowerBound)..\(r.upperBound)" }

    // MARK: Conv / ConvTranspose / Gemm

    func convFamily(_ n: Node, _ act: FusedActivation?, _ alpha: Float?) throws -> String? {
        let x = try shape(n.inputs[0], n), w = try shape(n.inputs[1], n)
        switch n.opType {
        case "Conv":
            let g = try NodeGeometry.conv(n, input: x, weight: w)
            if g.groups > 1 {
                guard g.isDepthwise || (g.groups == g.inChannels && g.inChannelsPerGroup == 1) else {
                    return "grouped conv (group \(g.groups), \(g.inChannels) input channels) is neither full nor depthwise"
                }
                return depthwise(g, act, alpha)
            }
            return conv(g, act, alpha)
        case "ConvTranspose":
            let g = try NodeGeometry.convTranspose(n, input: x, weight: w)
            if let op = try n.ints("output_padding"), op.contains(where: { $0 != 0 }) {
                return "transposed conv output_padding \(op) must be 0"
            }
            return conv(g, act, alpha, transposed: true)
        default:
            return fullyConnected(k: w[1], outputs: w[0], act, alpha)
        }
    }

    func conv(_ g: ConvGeometry, _ act: FusedActivation?, _ alpha: Float?, transposed: Bool = false) -> String? {
        let c = target.conv
        if !c.kernel.contains(g.kernelH) || !c.kernel.contains(g.kernelW) {
            return "kernel \(g.kernelH)x\(g.kernelW) exceeds conv kernel limit \(range(c.kernel))"
        }
        if !c.stride.contains(g.strideH) || !c.stride.contains(g.strideW) {
            return "stride \(g.strideH)x\(g.strideW) exceeds conv stride limit \(range(c.stride))"
        }
        if !transposed {
            let maxH = (g.kernelH - 1) * g.dilationH, maxW = (g.kernelW - 1) * g.dilationW
            if max(g.padTop, g.padBottom) > maxH || max(g.padLeft, g.padRight) > maxW {
                return "pads [\(g.padTop), \(g.padLeft), \(g.padBottom), \(g.padRight)] exceed (kernel − 1) · dilation = \(maxH)x\(maxW)"
            }
        }
        if g.dilationH * g.inChannels > target.maxConvChannels {
            return "dilation · input channels = \(g.dilationH * g.inChannels) exceeds 256 · channel parallel = \(target.maxConvChannels)"
        }
        if g.outChannels > 256 * c.outputChannelParallel {
            return "output channels \(g.outChannels) exceed 256 · channel parallel = \(256 * c.outputChannelParallel)"
        }
        if let r = weightFit(g.kernelH * g.kernelW, inputs: g.inChannelsPerGroup) { return r }
        return activationRule(act ?? .none, engine: "conv", alpha: alpha)
    }

    func depthwise(_ g: ConvGeometry, _ act: FusedActivation?, _ alpha: Float?) -> String? {
        let a = target.alu
        guard a.types.contains("dwconv") else { return "alu engine has no dwconv" }
        if !a.kernel.contains(g.kernelH) || !a.kernel.contains(g.kernelW) {
            return "kernel \(g.kernelH)x\(g.kernelW) exceeds depthwise (alu) kernel limit \(range(a.kernel))"
        }
        if !a.stride.contains(g.strideH) || !a.stride.contains(g.strideW) {
            return "stride \(g.strideH)x\(g.strideW) exceeds depthwise (alu) stride limit \(range(a.stride))"
        }
        if let r = padRule(g) { return r }
        if max(g.inChannels, g.outChannels) > target.maxALUChannels {
            return "channels \(max(g.inChannels, g.outChannels)) exceed 256 · channel parallel = \(target.maxALUChannels)"
        }
        if let b = target.bank("DWCONVW") {
            let words = g.kernelH * g.kernelW * ((target.alu.channelParallel + b.width - 1) / b.width)
            if words > b.depth { return "depthwise weights need \(words) words of DWCONVW, bank depth is \(b.depth)" }
        }
        if act == .leakyRelu {
            return a.types.contains("leaky_relu") ? alphaRule(alpha) : "alu engine has no leaky_relu"
        }
        return activationRule(act ?? .none, engine: "alu", alpha: alpha)
    }

    func fullyConnected(k: Int, outputs: Int, _ act: FusedActivation?, _ alpha: Float?) -> String? {
        if k > target.maxConvChannels { return "inner product of length \(k) exceeds 256 · channel parallel = \(target.maxConvChannels)" }
        if outputs > 256 * target.conv.outputChannelParallel {
            return "\(outputs) outputs exceed 256 · channel parallel = \(256 * target.conv.outputChannelParallel)"
        }
        if let r = weightFit(1, inputs: k) { return r }
        return activationRule(act ?? .none, engine: "conv", alpha: alpha)
    }

    /// CONVW fit: kh · kw · ceil(ic / bank_width) · ceil(ocp / bank_count) ≤ bank_depth.
    func weightFit(_ taps: Int, inputs ic: Int) -> String? {
        guard let b = target.bank("CONVW") else { return nil }
        let words = taps * ((ic + b.width - 1) / b.width) * ((target.conv.outputChannelParallel + b.count - 1) / b.count)
        return words > b.depth ? "weights need \(words) words of CONVW per output-channel block, bank depth is \(b.depth)" : nil
    }

    func padRule(_ g: ConvGeometry) -> String? {
        let a = target.alu
        if !a.padTop.contains(g.padTop) || !a.padBottom.contains(g.padBottom) || !a.padLeft.contains(g.padLeft)
            || !a.padRight.contains(g.padRight) {
            return "pads [top \(g.padTop), left \(g.padLeft), bottom \(g.padBottom), right \(g.padRight)] exceed alu pad limits "
                + "top \(range(a.padTop)), left \(range(a.padLeft)), bottom \(range(a.padBottom)), right \(range(a.padRight))"
        }
        return nil
    }

    func activationRule(_ act: FusedActivation, engine: String, alpha: Float?) -> String? {
        let allowed = engine == "conv" ? target.conv.nonlinear : engine == "alu" ? target.alu.nonlinear : target.eltwise.nonlinear
        switch act {
        case .none: return nil
        case .relu: return allowed.contains("relu") ? nil : "\(engine) engine has no nonlinear relu"
        case .relu6: return allowed.contains("relu_six") ? nil : "\(engine) engine has no nonlinear relu_six"
        case .leakyRelu:
            let ok = allowed.contains("leaky_relu") || (engine == "alu" && target.alu.types.contains("leaky_relu"))
            return ok ? alphaRule(alpha) : "\(engine) engine has no leaky_relu"
        }
    }

    /// LeakyRelu runs only at the target's alpha (26/256), which a slope rounding to it on the
    /// 1/256 grid (0.1) is computed at; another slope stays in float on the CPU.
    func alphaRule(_ alpha: Float?) -> String? {
        guard let a = alpha, DPUMath.leakyReluAlpha(a) != target.leakyReluAlpha else { return nil }
        return "LeakyRelu alpha \(a) is not the DPU's \(Int(target.leakyReluAlpha * 256))/256 (kept, computed in float on the CPU)"
    }
}
