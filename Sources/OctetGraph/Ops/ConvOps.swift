import OctetTensor

/// Conv and ConvTranspose (ONNX operator spec, opsets 1–11 semantics unchanged since), 2-D NCHW.
enum ConvOps {
    static let kernels: [String: OpKernel] = ["Conv": conv, "ConvTranspose": convTranspose]

    static func conv(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        let x = try node.requiredFloat(inputs, 0), w = try node.requiredFloat(inputs, 1)
        try node.requireNCHW(x); try node.requireNCHW(w, "weight")
        let groups = try node.int("group", default: 1)
        guard groups >= 1, x.shape[1] % groups == 0, w.shape[0] % groups == 0, w.shape[1] * groups == x.shape[1] else {
            throw node.fail("input channels \(x.shape[1]), weight \(w.shape) and group \(groups) do not agree")
        }
        let attrs = try WindowAttributes(node: node, spatial: [x.shape[2], x.shape[3]], kernel: [w.shape[2], w.shape[3]])
        guard attrs.kernel == [w.shape[2], w.shape[3]] else { throw node.fail("kernel_shape \(attrs.kernel) does not match weight \(w.shape)") }
        for i in 0..<2 where x.shape[2 + i] + attrs.pads[i] + attrs.pads[i + 2] < attrs.dilations[i] * (attrs.kernel[i] - 1) + 1 {
            throw node.fail("the \(attrs.kernel[0])×\(attrs.kernel[1]) kernel (dilations \(attrs.dilations)) is larger than the padded input \(x.shape)")
        }
        let g = attrs.geometry(batch: x.shape[0], channels: x.shape[1], spatial: [x.shape[2], x.shape[3]], outChannels: w.shape[0], groups: groups)
        try node.requireOutputSize([g.batch, g.outChannels, g.outH, g.outW])
        guard g.outH > 0, g.outW > 0 else { throw node.fail("output would be empty for input \(x.shape)") }
        let b = node.optional(inputs, 2)
        let clamp = try node.floats(Executor.fusedClampAttribute).map { (lo: $0[0], hi: $0[1]) }
        if let b, b.count != w.shape[0] { throw node.fail("bias has \(b.count) elements, expected \(w.shape[0])") }
        let out = x.withFloats { xp in w.withFloats { wp in
            withOptionalFloats(b) { bp in
                Conv2DFloat.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: bp, geometry: g, clamp: clamp)
            }
        } }
        return [Tensor(shape: [g.batch, g.outChannels, g.outH, g.outW], floats: out)]
    }

    static func convTranspose(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        let x = try node.requiredFloat(inputs, 0), w = try node.requiredFloat(inputs, 1)
        try node.requireNCHW(x); try node.requireNCHW(w, "weight")
        let groups = try node.int("group", default: 1)
        guard groups >= 1, w.shape[0] == x.shape[1], x.shape[1] % groups == 0 else {
            throw node.fail("input channels \(x.shape[1]), weight \(w.shape) and group \(groups) do not agree")
        }
        let k = try node.ints("kernel_shape") ?? [w.shape[2], w.shape[3]]
        let s = try node.ints("strides") ?? [1, 1], d = try node.ints("dilations") ?? [1, 1]
        let op = try node.ints("output_padding") ?? [0, 0]
        var pads = try node.ints("pads") ?? [0, 0, 0, 0]
        if op.count == 2, s.count == 2, d.count == 2, (0..<2).contains(where: { op[$0] < 0 || op[$0] >= max(s[$0], d[$0]) }) {
            throw node.fail("output_padding \(op) must be ≥ 0 and below the stride or the dilation per axis")
        }
        guard k.count == 2, s.count == 2, d.count == 2, op.count == 2, pads.count == 4 else {
            throw node.fail("only 2-D ConvTranspose is supported")
        }
        let ins: [Int] = [x.shape[2], x.shape[3]]
        let autoPad = try node.string("auto_pad", default: "NOTSET")
        let (outHW, resolved) = transposedOutput(input: ins, kernel: k, strides: s, dilations: d, outputPadding: op,
                                                 pads: pads, outputShape: try node.ints("output_shape"), autoPad: autoPad)
        pads = resolved
        let oc = w.shape[1] * groups
        let g = ConvGeometry(batch: x.shape[0], inChannels: x.shape[1], inH: ins[0], inW: ins[1], outChannels: oc,
                             kernelH: k[0], kernelW: k[1], strideH: s[0], strideW: s[1], padTop: pads[0], padLeft: pads[1],
                             padBottom: pads[2], padRight: pads[3], dilationH: d[0], dilationW: d[1], groups: groups,
                             outH: outHW[0], outW: outHW[1])
        guard g.outH > 0, g.outW > 0 else { throw node.fail("output would be empty") }
        try node.requireOutputSize([g.batch, oc, g.outH, g.outW])
        let b = node.optional(inputs, 2)
        let out = x.withFloats { xp in w.withFloats { wp in
            withOptionalFloats(b) { bp in ConvTransposeFloat.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: bp, geometry: g) }
        } }
        return [Tensor(shape: [g.batch, oc, g.outH, g.outW], floats: out)]
    }
}

extension ConvOps {
    /// Output size and pads of a transposed conv (ONNX ConvTranspose):
    /// full = stride·(in − 1) + output_padding + (k − 1)·dil + 1; output_shape or SAME_* auto_pad
    /// determine the pads (the extra odd pad goes to the end for SAME_UPPER, the start for SAME_LOWER).
    static func transposedOutput(input: [Int], kernel k: [Int], strides s: [Int], dilations d: [Int], outputPadding op: [Int],
                                 pads: [Int], outputShape: [Int]?, autoPad: String) -> ([Int], [Int]) {
        var pads = pads
        var out: [Int] = [0, 0]
        var full: [Int] = [0, 0]
        for i in 0..<2 {
            let span: Int = (k[i] - 1) * d[i] + 1
            full[i] = s[i] * (input[i] - 1) + op[i] + span
            out[i] = full[i] - pads[i] - pads[i + 2]
        }
        let target: [Int]? = outputShape.map { Array($0.suffix(2)) }
            ?? ((autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") ? [input[0] * s[0], input[1] * s[1]] : nil)
        if let t = target {
            for i in 0..<2 {
                out[i] = t[i]
                let total: Int = full[i] - t[i]
                // ONNX ConvTranspose: SAME_UPPER puts the odd pad at the end, NOTSET and SAME_LOWER at the start.
                let big: Int = (total + 1) / 2, small: Int = total / 2
                pads[i] = autoPad == "SAME_UPPER" ? small : big
                pads[i + 2] = autoPad == "SAME_UPPER" ? big : small
            }
        }
        return (out, pads)
    }
}

/// Calls `body` with a pointer to `t`'s floats, or nil when `t` is nil.
func withOptionalFloats<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.withFloats { body($0.baseAddress) }
}
