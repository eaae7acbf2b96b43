import Foundation
import OctetGraph
import OctetTensor

/// DPU arithmetic written with standard ONNX ops (reference-quantizer §4.3, §10.4; Quark's
/// `SimulateDPU`): LeakyRelu alpha, average-pool factor, hard-sigmoid and hard-swish.
extension QDQBuilder {
    /// The nodes replacing `n`; the last one writing an output of `n` keeps its name.
    mutating func rewrite(_ n: Node, _ a: QuantNodeAnnotation) throws -> [Node] {
        var node = n
        switch a.kind {
        case .fused, .activation:
            if n.opType == "LeakyRelu" { node.attributes["alpha"] = .float(DPUMath.dpuLeakyReluAlpha) }
            return [node]
        case .averagePool: return try averagePool(n, a)
        case .hardSigmoid:
            return hardSigmoid(name: QuantPlan.key(n), x: n.inputs[0], y: n.outputs[0])
        case .hardSwish: return try hardSwish(n)
        default:
            return [node]   // a float HardSwish at opset < 14 is lowered by ONNXExporter
        }
    }

    /// Pool then `Mul` by k·N/2^M, so the result is Σx · N/2^M: the DPU sums the valid taps of
    /// every window and scales by the fixed factor. An AveragePool is written with
    /// count_include_pad = 1, explicit pads and ceil_mode = 0, its bottom/right pads widened to
    /// hold every ceil_mode window: ONNX AveragePool divides a window reaching past the pads by
    /// its clipped size even with count_include_pad = 1, the DPU by the full k.
    mutating func averagePool(_ n: Node, _ a: QuantNodeAnnotation) throws -> [Node] {
        guard let f = a.avgPoolFactor, f.count == 2 else {
            throw OctetQuantError.invalidParameter("QDQ export: \(n.label) has no average-pool factor")
        }
        guard let s = ann.shapes[n.inputs[0]], s.count == 4 else {
            throw OctetQuantError.invalidParameter("QDQ export: \(n.label): input '\(n.inputs[0])' has no recorded NCHW shape")
        }
        var pool = n
        let k: Int
        if n.opType == "AveragePool" {
            let g = try NodeGeometry.pool(n, input: s)
            k = g.kernelH * g.kernelW
            let bottom = max(g.padBottom, (g.outH - 1) * g.strideH + (g.kernelH - 1) * g.dilationH + 1 - g.inH - g.padTop)
            let right = max(g.padRight, (g.outW - 1) * g.strideW + (g.kernelW - 1) * g.dilationW + 1 - g.inW - g.padLeft)
            pool.attributes["count_include_pad"] = .int(1)
            pool.attributes["pads"] = .ints([g.padTop, g.padLeft, bottom, right])
            pool.attributes["auto_pad"] = nil
            pool.attributes["ceil_mode"] = nil
        } else {
            k = s[2] * s[3]
        }
        let y = n.outputs[0], raw = fresh("\(y)_pooled"), name = QuantPlan.key(n)
        pool.outputs = [raw]
        let factor = Float(k * f[0]) * QuantMath.exp2(-f[1])
        let c = constant("\(name)_dpu_factor", factor)
        return [pool, Node(name: freshNode("\(name)_dpu_factor_Mul"), opType: "Mul", inputs: [raw, c], outputs: [y])]
    }

    /// `Mul(Clip(Add(x, 3), 0, 6), 2731/16384)`: the DPU hard-sigmoid; the Mul keeps the node name.
    mutating func hardSigmoid(name: String, x: String, y: String) -> [Node] {
        let three = constant("\(name)_three", 3), zero = constant("\(name)_zero", 0), six = constant("\(name)_six", 6)
        let scale = constant("\(name)_dpu_scale", Float(DPUMath.hardSigmoidMultiplier) * QuantMath.exp2(-DPUMath.hardSigmoidShift))
        let plus3 = fresh("\(y)_plus3"), relu6 = fresh("\(y)_relu6")
        return [
            Node(name: freshNode("\(name)_add3"), opType: "Add", inputs: [x, three], outputs: [plus3]),
            Node(name: freshNode("\(name)_relu6"), opType: "Clip", inputs: [plus3, zero, six], outputs: [relu6]),
            Node(name: name, opType: "Mul", inputs: [relu6, scale], outputs: [y]),
        ]
    }

    /// `x · Q/DQ₇(hard-sigmoid(x))`: the DPU hard-swish with its fix_pos-7 intermediate.
    mutating func hardSwish(_ n: Node) throws -> [Node] {
        let name = QuantPlan.key(n), x = n.inputs[0], y = n.outputs[0]
        let h = fresh("\(y)_hard_sigmoid"), hFloat = fresh(QDQExport.floatName(h))
        var out = hardSigmoid(name: freshNode("\(name)_hard_sigmoid"), x: x, y: hFloat)
        out += try qdqNodes(h, from: hFloat, to: h, params: try QuantParams.dpu(fixPos: 7))
        out.append(Node(name: name, opType: "Mul", inputs: [x, h], outputs: [y]))
        return out
    }

    /// A float scalar initializer named `base` (or `fresh`'s variant of it); returns its name.
    mutating func constant(_ base: String, _ v: Float) -> String {
        let name = fresh(base)
        initializers[name] = Tensor(scalar: v)
        return name
    }
}

/// Integer codes of weights, biases and constant operands for the exported initializers.
enum QDQParameters {
    /// The integer evaluation's int8 codes when it has them; otherwise the codes of the
    /// fake-quantized tensor (per channel when `q` is): int8 / uint8 up to 8 bits, int32 above.
    /// - Throws: `OctetQuantError.invalidParameter` for a wide tensor with a non-zero zero point.
    static func codes(_ model: QuantizedModel, _ name: String, _ q: QuantParams) throws -> Tensor {
        if let c = model.codes[name] { return c }
        guard let t = model.graph.initializers[name] else {
            throw OctetQuantError.invalidParameter("QDQ export: parameter '\(name)' is not an initializer")
        }
        let fq = try ParameterQuantizer.fakeQuantized(t, q, config: model.config)
        let (scales, zps, inner) = channelPlan(q, shape: t.shape)
        var v = [Int64](repeating: 0, count: t.count)
        fq.withFloats { p in
            for i in 0..<p.count {
                let c = scales.count == 1 ? 0 : (i / inner) % scales.count
                v[i] = Int64((p[i] / scales[c]).rounded()) + Int64(zps[c])
            }
        }
        if q.bits > 8 {
            guard zps.allSatisfy({ $0 == 0 }) else {
                throw OctetQuantError.invalidParameter("QDQ export: '\(name)' is \(q.bits)-bit with a zero point; DequantizeLinear takes int32 only with zero point 0")
            }
            return Tensor(shape: t.shape, int32s: v.map { Int32(clamping: $0) })
        }
        return q.signed ? Tensor(shape: t.shape, int8s: v.map { Int8(clamping: $0) })
                        : Tensor(shape: t.shape, uint8s: v.map { UInt8(clamping: $0) })
    }

    /// Per-element scale and zero point lookup: (scales, zero points, elements per channel step).
    static func channelPlan(_ q: QuantParams, shape: [Int]) -> ([Float], [Int], Int) {
        guard let ch = q.channels else { return ([q.scale], [q.zeroPoint], 1) }
        let axis = ch.axis < 0 ? ch.axis + shape.count : ch.axis
        return (ch.scales, ch.zeroPoints, shape[(axis + 1)...].reduce(1, *))
    }
}
