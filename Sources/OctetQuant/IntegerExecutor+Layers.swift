import OctetGraph
import OctetTensor

extension IntegerExecutor {
    /// Conv / ConvTranspose / Gemm group: int8 GEMM/conv with `Int8Requant` (shift_cut, shift_bias, activation).
    func conv(_ a: QuantNodeAnnotation, _ n: Node, _ values: [String: Value]) throws -> Tensor {
        let (x, fx) = try int8(n.inputs[0], values)
        let w = codes[a.weight!]!, fw = try fp(a.weight!)
        let b = a.bias.flatMap { codes[$0] }, fb = try a.bias.map { try fp($0) }
        let act: Int8Activation
        switch a.activation ?? .none {
        case .none: act = .none
        case .relu: act = .relu
        case .relu6: act = .relu6
        case .leakyRelu: act = .leakyRelu
        }
        let rq = try Int8Requant(fpIn: fx, fpWeight: fw, fpBias: fb, fpOut: try fp(a.output!), activation: act)
        switch n.opType {
        case "Conv":
            let g = try NodeGeometry.conv(n, input: x.shape, weight: w.shape)
            return try Int8Kernels.conv2d(x, weight: w, bias: b, geometry: g, requant: rq)
        case "ConvTranspose":
            let g = try NodeGeometry.convTranspose(n, input: x.shape, weight: w.shape)
            return try Int8Kernels.convTranspose2d(x, weight: w, bias: b, geometry: g, requant: rq)
        default:
            let x2 = x.rank == 2 ? x : try x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)])
            return try Int8Kernels.fullyConnected(x2, weight: w, bias: b, requant: rq)
        }
    }

    /// Concat: inputs moved to the output fix_pos (a copy when they share it), then joined.
    func concat(_ a: QuantNodeAnnotation, _ n: Node, _ values: [String: Value]) throws -> Tensor {
        let fo = try fp(a.output!)
        let parts = try n.inputs.map { t -> Tensor? in
            let (x, f) = try int8(t, values)
            return IntegerForms.asFloat(IntegerForms.requantize(x, from: f, to: fo))
        }
        let y = try OpRegistry.kernels["Concat"]!(n, parts, graph.opset)[0]
        return IntegerForms.asInt8(y)
    }

    /// Data movement on codes (exact through float: codes are small integers); fix_pos unchanged.
    func passThrough(_ n: Node, _ values: [String: Value]) throws -> [(String, Value)] {
        let (x, f) = try int8(n.inputs[0], values)
        var ins: [Tensor?] = [IntegerForms.asFloat(x)]
        for t in n.inputs.dropFirst() { ins.append(t.isEmpty ? nil : constant(t, values)) }
        let outs = try OpRegistry.kernels[n.opType]!(n, ins, graph.opset)
        return zip(n.outputs, outs).filter { !$0.0.isEmpty }.map { ($0.0, .int8(IntegerForms.asInt8($0.1), f)) }
    }

    /// AveragePool / GlobalAveragePool / ReduceMean: `sat(DPU_ROUND(Σx · N / 2^(M + fpIn − fpOut)))`.
    func averagePool(_ a: QuantNodeAnnotation, _ n: Node, _ values: [String: Value]) throws -> Tensor {
        let (x, fx) = try int8(n.inputs[0], values)
        let f = a.avgPoolFactor!, fo = try fp(a.output!)
        if n.opType == "AveragePool" {
            let g = try NodeGeometry.pool(n, input: x.shape)
            return try Int8Kernels.averagePool(x, geometry: g, multiplier: f[0], shift: f[1], fpIn: fx, fpOut: fo)
        }
        return try Int8Kernels.globalAveragePool(x, multiplier: f[0], shift: f[1], fpIn: fx, fpOut: fo)
    }

    /// CPU node: float kernel on dequantized inputs; outputs quantized when they carry a quantizer.
    func floatNode(_ n: Node, _ values: [String: Value]) throws -> [(String, Value)] {
        let ins = n.inputs.map { $0.isEmpty ? nil : constant($0, values) }
        let outs = try OpRegistry.kernels[n.opType]!(n, ins, graph.opset)
        return try zip(n.outputs, outs).filter { !$0.0.isEmpty }.map { ($0.0, try quantizeIfNeeded($0.0, $0.1)) }
    }

    /// A value as a float tensor (constants from the graph, activations dequantized).
    func constant(_ t: String, _ values: [String: Value]) -> Tensor? {
        if let v = values[t] { return real(v) }
        return graph.initializers[t]
    }
}
