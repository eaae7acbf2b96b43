import OctetGraph
import OctetTensor

/// Which output and input channel each weight element of a Conv / ConvTranspose / Gemm
/// belongs to (groups and depthwise included), for cross-layer equalization.
struct WeightChannels {
    /// Output channel of every weight element.
    var output: [Int32]
    /// Input channel of every weight element (divided by `flatten` when the input was
    /// flattened from [N, C, H, W]: column j reads channel j / (H·W)).
    var input: [Int32]
    var outChannels: Int
    var inChannels: Int

    /// - Returns: nil for an op or weight layout it does not describe.
    init?(_ node: Node, weightShape s: [Int], flatten: Int = 1) throws {
        let count = s.reduce(1, *)
        var out = [Int32](repeating: 0, count: count), inp = out
        switch node.opType {
        case "Conv":
            guard s.count == 4 else { return nil }
            let groups = try node.int("group", default: 1), kk = s[2] * s[3], icg = s[1], ocg = s[0] / max(groups, 1)
            for e in 0..<count {
                let o = e / (icg * kk)
                out[e] = Int32(o); inp[e] = Int32((o / ocg) * icg + (e / kk) % icg)
            }
            outChannels = s[0]; inChannels = icg * groups
        case "ConvTranspose":
            guard s.count == 4 else { return nil }
            let groups = try node.int("group", default: 1), kk = s[2] * s[3], ocg = s[1], icg = s[0] / max(groups, 1)
            for e in 0..<count {
                let ic = e / (ocg * kk)
                inp[e] = Int32(ic); out[e] = Int32((ic / icg) * ocg + (e / kk) % ocg)
            }
            outChannels = ocg * groups; inChannels = s[0]
        case "Gemm":
            guard s.count == 2, try node.int("transA", default: 0) == 0 else { return nil }
            let transB = try node.int("transB", default: 0) != 0
            for e in 0..<count {
                let (o, i) = transB ? (e / s[1], e % s[1]) : (e % s[1], e / s[1])
                out[e] = Int32(o); inp[e] = Int32(i / flatten)
            }
            outChannels = transB ? s[0] : s[1]; inChannels = (transB ? s[1] : s[0]) / flatten
        default:
            return nil
        }
        output = out; input = inp
    }

    /// max |w| per channel of `index`.
    static func absMax(_ w: Tensor, _ index: [Int32], channels: Int) -> [Float] {
        var r = [Float](repeating: 0, count: channels)
        w.withFloats { p in for e in p.indices { let c = Int(index[e]); r[c] = max(r[c], abs(p[e])) } }
        return r
    }

    /// w[e] *= factor[index[e]].
    static func scale(_ w: inout Tensor, _ index: [Int32], by factor: [Float]) {
        w.withMutableFloats { p in for e in p.indices { p[e] *= factor[Int(index[e])] } }
    }
}
