import OctetGraph
import OctetTensor

/// One function per instruction kind.
extension Emulator {
    func execute(_ ins: Instruction, _ n: Node, _ values: [String: Value]) throws -> [(String, Value)] {
        switch ins.kind {
        case .conv, .depthwiseConv, .transposedConv, .fullyConnected: return try [out(ins, conv(ins, n, values))]
        case .fused: return []
        case .add, .mul: return try [out(ins, eltwise(ins, n, values))]
        case .concat: return try [out(ins, concat(ins, n, values))]
        case .maxPool:
            let (x, f) = try int8(n.inputs[0], values, ins)
            return [(n.outputs[0], .int8(try Int8Kernels.maxPool(x, geometry: try NodeGeometry.pool(n, input: x.shape), threads: threads), f))]
        case .upsample: return try upsample(ins, n, values)
        case .move: return try move(ins, n, values)
        case .avgPool: return try [out(ins, averagePool(ins, n, values))]
        case .activation, .hardSigmoid, .hardSwish:
            let (x, fx) = try int8(n.inputs[0], values, ins)
            let fo = try fp(ins.output!, ins)
            let y = ins.kind == .activation ? IntegerForms.activation(x, ins.activation, fpIn: fx, fpOut: fo)
                : ins.kind == .hardSigmoid ? IntegerForms.hardSigmoid(x, fpIn: fx, fpOut: fo) : IntegerForms.hardSwish(x, fpIn: fx, fpOut: fo)
            return [(ins.output!, .int8(y, fo))]
        case .float: return try float(n, values)
        }
    }

    private func out(_ ins: Instruction, _ t: Tensor) throws -> (String, Value) {
        guard let o = ins.output else { throw OctetDPUError.execution(node: ins.node, reason: "instruction has no output tensor") }
        return (o, .int8(t, try fp(o, ins)))
    }

    /// Conv / depthwise / transposed conv / fully connected with `Int8Requant`.
    func conv(_ ins: Instruction, _ n: Node, _ values: [String: Value]) throws -> Tensor {
        let (x, fx) = try int8(n.inputs[0], values, ins)
        guard let wName = ins.weight, let w = program.constants[wName] else {
            throw OctetDPUError.execution(node: ins.node, reason: "missing int8 weight")
        }
        let b = ins.bias.flatMap { program.constants[$0] }
        let act: Int8Activation
        switch ins.activation {
        case .none: act = .none
        case .relu: act = .relu
        case .relu6: act = .relu6
        case .leakyRelu: act = .leakyRelu
        }
        let rq = try Int8Requant(fpIn: fx, fpWeight: try fp(wName, ins), fpBias: try ins.bias.map { try fp($0, ins) },
                                 fpOut: try fp(ins.output!, ins), activation: act)
        switch ins.kind {
        case .transposedConv:
            let g = try NodeGeometry.convTranspose(n, input: x.shape, weight: w.shape)
            return try Int8Kernels.convTranspose2d(x, weight: w, bias: b, geometry: g, requant: rq, threads: threads)
        case .fullyConnected:
            let x2 = x.rank == 2 ? x : try x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)])
            return try Int8Kernels.fullyConnected(x2, weight: w, bias: b, requant: rq, threads: threads)
        default:
            let g = try NodeGeometry.conv(n, input: x.shape, weight: w.shape)
            return try Int8Kernels.conv2d(x, weight: w, bias: b, geometry: g, requant: rq, threads: threads)
        }
    }

    /// Add / Mul aligned as VAI `eltwise-fix`, then the fused relu / relu6 clamp.
    func eltwise(_ ins: Instruction, _ n: Node, _ values: [String: Value]) throws -> Tensor {
        let (x, fx) = try int8(n.inputs[0], values, ins), (y, fy) = try int8(n.inputs[1], values, ins)
        let fo = try fp(ins.output!, ins)
        let r = ins.kind == .add ? try Int8Kernels.add(x, fixPos: fx, y, fixPos: fy, outFixPos: fo)
                                 : try Int8Kernels.mul(x, fixPos: fx, y, fixPos: fy, outFixPos: fo)
        return IntegerForms.clamp(r, ins.activation, fixPos: fo)
    }

    /// Inputs moved to the output fix_pos (a copy when they share it), then joined.
    func concat(_ ins: Instruction, _ n: Node, _ values: [String: Value]) throws -> Tensor {
        let fo = try fp(ins.output!, ins)
        let parts = try n.inputs.map { t -> Tensor in
            let (x, f) = try int8(t, values, ins)
            return IntegerForms.requantize(x, from: f, to: fo)
        }
        return try IntegerForms.concat(parts, axis: try n.int("axis", default: 1))
    }

    /// `sat(DPU_ROUND(Σx · N / 2^(M + fpIn − fpOut)))` over the window or the whole plane.
    func averagePool(_ ins: Instruction, _ n: Node, _ values: [String: Value]) throws -> Tensor {
        let (x, fx) = try int8(n.inputs[0], values, ins)
        let fo = try fp(ins.output!, ins)
        guard let m = ins.poolMultiplier, let s = ins.poolShift else {
            throw OctetDPUError.execution(node: ins.node, reason: "average pool without N/2^M")
        }
        if n.opType == "AveragePool" {
            return try Int8Kernels.averagePool(x, geometry: try NodeGeometry.pool(n, input: x.shape), multiplier: m, shift: s,
                                               fpIn: fx, fpOut: fo, threads: threads)
        }
        return try Int8Kernels.globalAveragePool(x, multiplier: m, shift: s, fpIn: fx, fpOut: fo, threads: threads)
    }

    /// Nearest Resize by integer factors with the INT8 kernel when its index rule matches ONNX's
    /// (half_pixel with round_prefer_floor/ceil, or asymmetric with floor); else a data move.
    func upsample(_ ins: Instruction, _ n: Node, _ values: [String: Value]) throws -> [(String, Value)] {
        guard let (sh, sw) = try integerScales(n) else { return try move(ins, n, values) }
        let (x, f) = try int8(n.inputs[0], values, ins)
        return [(n.outputs[0], .int8(try Int8Kernels.upsampleNearest(x, scaleH: sh, scaleW: sw), f))]
    }

    func integerScales(_ n: Node) throws -> (Int, Int)? {
        guard n.opType == "Resize", graph.opset >= 11, n.inputs.count >= 3 else { return nil }
        let coord = try n.string("coordinate_transformation_mode", default: "half_pixel")
        let nearest = try n.string("nearest_mode", default: "round_prefer_floor")
        let ok = (["half_pixel", "pytorch_half_pixel"].contains(coord) && nearest.hasPrefix("round_prefer"))
            || (coord == "asymmetric" && nearest == "floor")
        guard ok, let scales = graph.initializers[n.inputs[2]]?.asFloatArray(), scales.count == 4,
              scales[0] == 1, scales[1] == 1 else { return nil }
        let sh = Int(scales[2]), sw = Int(scales[3])
        return Float(sh) == scales[2] && Float(sw) == scales[3] && sh >= 1 && sw >= 1 ? (sh, sw) : nil
    }

    /// Data movement on codes (exact through float: codes are small integers); fix_pos unchanged.
    func move(_ ins: Instruction, _ n: Node, _ values: [String: Value]) throws -> [(String, Value)] {
        let (x, f) = try int8(n.inputs[0], values, ins)
        var inputs: [Tensor?] = [IntegerForms.asFloat(x)]
        for t in n.inputs.dropFirst() { inputs.append(t.isEmpty ? nil : constant(t, values)) }
        guard let kernel = OpRegistry.kernels[n.opType] else { throw OctetDPUError.execution(node: ins.node, reason: "no kernel for \(n.opType)") }
        let outs = try kernel(n, inputs, graph.opset)
        return zip(n.outputs, outs).filter { !$0.0.isEmpty }.map { ($0.0, .int8(IntegerForms.asInt8($0.1), f)) }
    }

    /// CPU: float kernel on dequantized inputs; outputs with a fix_pos are re-quantized (half-up).
    func float(_ n: Node, _ values: [String: Value]) throws -> [(String, Value)] {
        let inputs = n.inputs.map { $0.isEmpty ? nil : constant($0, values) }
        guard let kernel = OpRegistry.kernels[n.opType] else {
            throw OctetDPUError.execution(node: Inspector.nodeKey(n), reason: "no kernel for \(n.opType)")
        }
        let outs = try kernel(n, inputs, graph.opset)
        return try zip(n.outputs, outs).filter { !$0.0.isEmpty }.map { ($0.0, try quantizeIfNeeded($0.0, $0.1)) }
    }

    /// A value as a float tensor (graph constants as stored, activations dequantized).
    func constant(_ t: String, _ values: [String: Value]) -> Tensor? {
        if let v = values[t] { return real(v) }
        return graph.initializers[t]
    }
}
