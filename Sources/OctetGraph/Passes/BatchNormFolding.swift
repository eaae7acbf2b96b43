import Foundation
import OctetTensor

/// Folds inference BatchNormalization into the preceding Conv / ConvTranspose / Gemm, and turns
/// a standalone BatchNormalization on NCHW data into a depthwise 1×1 Conv (so it is quantized
/// like a conv).
///
/// With `s = γ / √(var + ε)` per output channel: `W' = W · s`, `b' = (b − μ) · s + β`; a bias is
/// created when absent. Conv → BN → BN folds twice. A producer whose output has other consumers
/// (or is a graph output) is not folded. Source: vai_q_pytorch `fuse_conv_bn.py` / `ConvertBNParams`
/// (reference-quantizer §5 steps 2–3); ONNX BatchNormalization spec.
/// Weights must not be shared between nodes (run `GraphCleanup.decoupleSharedWeights` first).
extension BatchNormFolding {
    /// Applies both rewrites; `shapes` gives tensor shapes (from `TensorInfo`) for the standalone case.
    /// - Throws: `OctetGraphError.badModel` naming a BatchNormalization whose parameters do not
    ///   match the channel count.
    public static func run(_ graph: Graph, shapes: [String: [Int]]) throws -> Graph {
        var g = graph
        var k = 0
        while k < g.nodes.count {
            let node = g.nodes[k]
            if node.opType == "BatchNormalization", node.outputs.count == 1 || node.outputs.dropFirst().allSatisfy(\.isEmpty),
               let params = try affine(node, g) {
                if try foldIntoProducer(&g, bnIndex: k, params) { continue }
                if try convertToDepthwise(&g, bnIndex: k, params, shapes: shapes) { k += 1; continue }
            }
            k += 1
        }
        return g
    }

    /// Per-channel scale s and shift t so that BN(x) = x·s + t; nil when a parameter is not constant.
    /// - Throws: `.badModel` for parameters of different lengths, `.execution` naming the node for
    ///   a channel whose variance + epsilon is not positive.
    static func affine(_ node: Node, _ g: Graph) throws -> (scale: [Float], shift: [Float])? {
        guard node.inputs.count >= 5 else { return nil }
        let ps = node.inputs[1...4].map { g.constantFloat($0) }
        guard let gamma = ps[0], let beta = ps[1], let mean = ps[2], let variance = ps[3] else { return nil }
        let c = gamma.count
        guard beta.count == c, mean.count == c, variance.count == c else {
            throw OctetGraphError.badModel("BatchNormalization \(node.label): parameter lengths differ")
        }
        let eps = try node.float("epsilon", default: 1e-5)
        let (gf, bf, mf, vf) = (gamma.floats, beta.floats, mean.floats, variance.floats)
        var s = [Float](repeating: 0, count: c), t = s
        for i in 0..<c {
            let denominator = Double(vf[i]) + Double(eps)
            guard denominator > 0 else {  // NaN included
                throw OctetGraphError.execution(node: node.label, reason: "channel \(i): variance + epsilon = \(vf[i]) + \(eps) is not positive, so the normalization is undefined (NaN)")
            }
            let si = Double(gf[i]) / denominator.squareRoot()
            s[i] = Float(si)
            t[i] = Float(Double(bf[i]) - Double(mf[i]) * si)
        }
        return (s, t)
    }

    /// Folds BN at `bnIndex` into its producer; returns false when the pattern does not apply.
    static func foldIntoProducer(_ g: inout Graph, bnIndex: Int, _ p: (scale: [Float], shift: [Float])) throws -> Bool {
        let bn = g.nodes[bnIndex]
        let x = bn.inputs[0]
        guard let pi = g.producerIndex(of: x), g.useCount(of: x) == 1 else { return false }
        let prod = g.nodes[pi]
        guard ["Conv", "ConvTranspose", "Gemm"].contains(prod.opType), prod.inputs.count >= 2,
              var w = g.constantFloat(prod.inputs[1]), g.useCount(of: prod.inputs[1]) == 1 else { return false }
        if prod.opType == "Gemm", try prod.int("transA", default: 0) != 0 { return false }
        let c = p.scale.count
        guard let layout = try channelLayout(prod, w.shape), layout.channels == c else { return false }
        var b: [Float]
        if prod.inputs.count > 2, !prod.inputs[2].isEmpty {
            guard let bt = g.constantFloat(prod.inputs[2]), bt.count == c, g.useCount(of: prod.inputs[2]) == 1 else { return false }
            b = bt.floats
        } else {
            b = Array(repeating: 0, count: c)
        }
        if prod.opType == "Gemm" {
            let alpha = try prod.float("alpha", default: 1), beta = try prod.float("beta", default: 1)
            guard alpha == 1, beta == 1 || prod.inputs.count < 3 else { return false }
        }
        w.withMutableFloats { wp in
            for i in 0..<wp.count { wp[i] *= p.scale[layout.channel(i)] }
        }
        for i in 0..<c { b[i] = b[i] * p.scale[i] + p.shift[i] }
        g.initializers[prod.inputs[1]] = w
        let biasName = prod.inputs.count > 2 && !prod.inputs[2].isEmpty
            ? prod.inputs[2] : g.freshName("\(prod.name.isEmpty ? x : prod.name)_bias")
        g.initializers[biasName] = Tensor(shape: [c], floats: b)
        var folded = prod
        if folded.inputs.count < 3 { folded.inputs.append(biasName) } else { folded.inputs[2] = biasName }
        folded.outputs[0] = bn.outputs[0]
        g.nodes[pi] = folded
        g.nodes.remove(at: bnIndex)
        return true
    }

    /// How element i of a weight maps to an output channel.
    struct ChannelLayout {
        var channels: Int
        var inner: Int      // elements per (channel, outer) block
        var period: Int     // channels repeat every `period` blocks (ConvTranspose groups)
        var outerChannels: Int
        func channel(_ i: Int) -> Int {
            let block = i / inner
            return outerChannels > 0 ? (block / period) * outerChannels + block % outerChannels : block % channels
        }
    }

    static func channelLayout(_ node: Node, _ shape: [Int]) throws -> ChannelLayout? {
        switch node.opType {
        case "Conv":
            guard shape.count >= 3 else { return nil }
            return ChannelLayout(channels: shape[0], inner: shape.dropFirst().reduce(1, *), period: 1, outerChannels: 0)
        case "ConvTranspose":
            // weight [IC, OC/g, kh, kw]; input channel ic belongs to group ic / (IC/g).
            guard shape.count >= 3 else { return nil }
            let groups = try node.int("group", default: 1)
            let ocg = shape[1], icg = shape[0] / max(groups, 1)
            return ChannelLayout(channels: ocg * groups, inner: shape.dropFirst(2).reduce(1, *), period: icg * ocg,
                                 outerChannels: ocg)
        case "Gemm":
            guard shape.count == 2 else { return nil }
            let transB = try node.int("transB", default: 0) != 0
            return transB ? ChannelLayout(channels: shape[0], inner: shape[1], period: 1, outerChannels: 0)
                          : ChannelLayout(channels: shape[1], inner: 1, period: 1, outerChannels: 0)
        default:
            return nil
        }
    }

    /// Standalone BN on a rank-4 input → depthwise 1×1 Conv with weight s and bias t.
    static func convertToDepthwise(_ g: inout Graph, bnIndex: Int, _ p: (scale: [Float], shift: [Float]),
                                   shapes: [String: [Int]]) throws -> Bool {
        let bn = g.nodes[bnIndex]
        guard let shape = shapes[bn.inputs[0]], shape.count == 4, shape[1] == p.scale.count else { return false }
        let c = p.scale.count
        let base = bn.name.isEmpty ? bn.outputs[0] : bn.name
        let wName = g.freshName("\(base)_dw_weight")
        g.initializers[wName] = Tensor(shape: [c, 1, 1, 1], floats: p.scale)
        let bName = g.freshName("\(base)_dw_bias")
        g.initializers[bName] = Tensor(shape: [c], floats: p.shift)
        g.nodes[bnIndex] = Node(name: bn.name, opType: "Conv", inputs: [bn.inputs[0], wName, bName],
                                outputs: [bn.outputs[0]],
                                attributes: ["group": .int(c), "kernel_shape": .ints([1, 1])])
        return true
    }
}
