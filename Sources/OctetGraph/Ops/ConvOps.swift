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
        let g = try transposedGeometry(node, input: x.shape, weight: w.shape)
        try node.requireOutputSize([g.batch, g.outChannels, g.outH, g.outW])
        let b = node.optional(inputs, 2)
        if let b, b.count != g.outChannels { throw node.fail("bias has \(b.count) elements, expected \(g.outChannels)") }
        let out = x.withFloats { xp in w.withFloats { wp in
            withOptionalFloats(b) { bp in ConvTransposeFloat.forward(input: xp.baseAddress!, weight: wp.baseAddress!, bias: bp, geometry: g) }
        } }
        return [Tensor(shape: [g.batch, g.outChannels, g.outH, g.outW], floats: out)]
    }
}

extension ConvOps {
    /// Validated window geometry of a 2-D ConvTranspose with input [N, C, H, W] and weight
    /// [C, OC/group, KH, KW] (ONNX ConvTranspose): full = stride·(in − 1) + output_padding +
    /// (k − 1)·dil + 1 per axis, minus the pads; output_shape or a SAME_* auto_pad determine the
    /// pads instead (the odd pad at the end for SAME_UPPER, at the start otherwise).
    /// - Throws: `OctetGraphError.badAttribute` / `.execution` naming the node for a kernel_shape
    ///   that is not the weight's, non-positive strides or dilations, negative pads, an
    ///   output_padding not below the stride or the dilation, an output_shape that is not 2-D or
    ///   larger than the full output, an unknown auto_pad, or an empty output.
    static func transposedGeometry(_ node: Node, input x: [Int], weight w: [Int]) throws -> ConvGeometry {
        guard x.count == 4, w.count == 4 else { throw node.fail("ConvTranspose needs 4-D input and weight, got \(x) and \(w)") }
        let groups = try node.int("group", default: 1)
        guard groups >= 1, w[0] == x[1], x[1] % groups == 0 else {
            throw node.fail("input channels \(x[1]), weight \(w) and group \(groups) do not agree")
        }
        let k = [w[2], w[3]]
        if let declared = try node.ints("kernel_shape"), declared != k {
            throw node.fail("kernel_shape \(declared) does not match weight \(w)")
        }
        let s = try windowList(node, "strides", default: [1, 1], count: 2, range: 1...WindowAttributes.maxExtent)
        let d = try windowList(node, "dilations", default: [1, 1], count: 2, range: 1...WindowAttributes.maxExtent)
        let op = try windowList(node, "output_padding", default: [0, 0], count: 2, range: 0...WindowAttributes.maxExtent)
        var pads = try windowList(node, "pads", default: [0, 0, 0, 0], count: 4, range: 0...WindowAttributes.maxExtent)
        if (0..<2).contains(where: { op[$0] >= max(s[$0], d[$0]) }) {
            throw node.fail("output_padding \(op) must be below the stride or the dilation per axis")
        }
        let autoPad = try node.string("auto_pad", default: "NOTSET")
        guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "auto_pad",
                                               reason: "unknown value '\(autoPad)' (accepted: NOTSET, VALID, SAME_UPPER, SAME_LOWER)")
        }
        if autoPad == "VALID" { pads = [0, 0, 0, 0] }
        var full = [0, 0]
        for i in 0..<2 { full[i] = s[i] * (x[2 + i] - 1) + op[i] + (k[i] - 1) * d[i] + 1 }
        var out = [full[0] - pads[0] - pads[2], full[1] - pads[1] - pads[3]]
        var target: (sizes: [Int], from: String)?
        if let shape = try node.ints("output_shape") {
            guard shape.count == 2 || shape.count == 4 else {
                throw OctetGraphError.badAttribute(node: node.label, attribute: "output_shape",
                                                   reason: "expected the 2 spatial sizes (or N, C, H, W), got \(shape)")
            }
            target = (Array(shape.suffix(2)), "output_shape")
        } else if autoPad.hasPrefix("SAME") {
            target = ([x[2] * s[0], x[3] * s[1]], "auto_pad \(autoPad): input × stride")
        }
        if let (t, from) = target {
            for i in 0..<2 {
                let total = full[i] - t[i]
                // output_shape may reach past the full output by less than the stride (an implied
                // output_padding: rows of bias alone), as onnxruntime accepts it. With SAME_*, a
                // kernel span below the stride gives such an output, where onnxruntime and the spec's
                // reference differ: refused.
                let most = full[i] + (from == "output_shape" ? s[i] - 1 : 0)
                guard t[i] >= 1, t[i] <= most else {
                    throw node.fail("output \(["height", "width"][i]) \(t[i]) (\(from)) is not in 1...\(most), the full output of input \(x) "
                        + "(stride·(in − 1) + output_padding + (k − 1)·dilation + 1\(from == "output_shape" ? ", plus less than the stride" : "; give output_shape, or pads and output_padding, instead"))")
                }
                out[i] = t[i]
                let big = max(0, (total + 1) / 2), small = max(0, total / 2)  // past the full output: no pads (onnxruntime)
                pads[i] = autoPad == "SAME_UPPER" ? small : big
                pads[i + 2] = autoPad == "SAME_UPPER" ? big : small
            }
        }
        guard out[0] > 0, out[1] > 0 else { throw node.fail("output would be empty for input \(x) and pads \(pads)") }
        return ConvGeometry(batch: x[0], inChannels: x[1], inH: x[2], inW: x[3], outChannels: w[1] * groups,
                            kernelH: k[0], kernelW: k[1], strideH: s[0], strideW: s[1], padTop: pads[0], padLeft: pads[1],
                            padBottom: pads[2], padRight: pads[3], dilationH: d[0], dilationW: d[1], groups: groups,
                            outH: out[0], outW: out[1])
    }

    /// The int-list attribute `name`, `default` when absent.
    /// - Throws: `OctetGraphError.badAttribute` unless it has `count` values in `range`.
    private static func windowList(_ node: Node, _ name: String, default def: [Int], count: Int, range: ClosedRange<Int>) throws -> [Int] {
        let v = try node.ints(name) ?? def
        guard v.count == count, v.allSatisfy({ range.contains($0) }) else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: name,
                                               reason: "expected \(count) values in \(range.lowerBound)...\(range.upperBound), got \(v)")
        }
        return v
    }
}

/// Calls `body` with a pointer to `t`'s floats, or nil when `t` is nil.
func withOptionalFloats<R>(_ t: Tensor?, _ body: (UnsafePointer<Float>?) -> R) -> R {
    guard let t else { return body(nil) }
    return t.withFloats { body($0.baseAddress) }
}
