import Foundation
import OctetGraph
import OctetTensor

/// The reconstruction problem of one conv group: the layer on the quantized model's input must
/// reproduce, after its fused activation, the float model's layer output on the float input
/// (AdaQuant, Hubara et al. 2020 §3; AdaRound, Nagel et al. 2020 §4).
final class LayerProblem {
    let site: LayerSite
    let layer: LayerGradient
    let floatWeight: Tensor
    let floatBias: Tensor?
    /// Activation applied to the quantized output (DPU LeakyRelu slope) and its kind on the float side.
    let quantActivation: ActivationGradient.Kind?
    /// Float model's layer output after the activation, per chunk.
    let targets: [Tensor]
    let channels: Int

    init(site: LayerSite, graph: Graph) throws {
        self.site = site
        layer = try Differentiable.layer(for: site.node, in: graph)
        floatWeight = layer.weight!
        floatBias = layer.bias
        let act = LayerProblem.fusedActivation(site, graph)
        quantActivation = act.quant
        var t: [Tensor] = []
        for x in site.floatInput {
            var y = try layer.forward(x)
            if let k = act.float { y.withMutableFloats { ActivationGradient(node: site.node, kind: k).apply($0) } }
            t.append(y)
        }
        targets = t
        channels = t.first.map { $0.rank >= 2 ? $0.shape[1] : 1 } ?? 1
    }

    /// The fused activation (float kind, quantized kind) of the site's group.
    static func fusedActivation(_ site: LayerSite, _ g: Graph) -> (float: ActivationGradient.Kind?, quant: ActivationGradient.Kind?) {
        guard let a = site.annotation.activation, a != .none,
              let j = g.consumers(of: site.node.outputs[0]).first else { return (nil, nil) }
        switch a {
        case .relu: return (.clamp(lo: 0, hi: .infinity), .clamp(lo: 0, hi: .infinity))
        case .relu6: return (.clamp(lo: 0, hi: 6), .clamp(lo: 0, hi: 6))
        case .leakyRelu:
            let alpha = (try? g.nodes[j].float("alpha", default: 0.01)) ?? 0.01
            return (.leaky(alpha: alpha), .leaky(alpha: DPUMath.dpuLeakyReluAlpha))
        case .none: return (nil, nil)
        }
    }

    var sampleChunks: Int { targets.count }

    /// Reconstruction loss on the chunks `idx` with the given (already fake-quantized) parameters,
    /// and its gradients with respect to them when `gradients`.
    /// `perChannelSum`: Σ over channels, mean over the rest (AdaRound); otherwise the mean (MSE).
    func evaluate(weight: Tensor, bias: Tensor?, chunks idx: [Int], gradients: Bool, perChannelSum: Bool = false)
        throws -> (loss: Double, dW: Tensor?, dB: Tensor?) {
        let x = idx.count == 1 ? site.quantInput[idx[0]] : try TensorBatch.concat(idx.map { site.quantInput[$0] })
        let target = idx.count == 1 ? targets[idx[0]] : try TensorBatch.concat(idx.map { targets[$0] })
        layer.weight = weight
        layer.bias = bias
        let pre = try layer.forward(x)
        var out = pre
        if let k = quantActivation { out.withMutableFloats { ActivationGradient(node: site.node, kind: k).apply($0) } }
        let norm = perChannelSum ? Double(channels) / Double(out.count) : 1 / Double(out.count)
        var loss = 0.0
        var dY = out
        target.withFloats { tp in dY.withMutableFloats { d in
            var acc = 0.0
            for i in d.indices {
                let e = d[i] - tp[i]
                acc += Double(e * e)
                d[i] = Float(2 * norm) * e
            }
            loss = acc * norm
        } }
        guard gradients else { return (loss, nil, nil) }
        if let k = quantActivation { pre.withFloats { p in dY.withMutableFloats { ActivationGradient.mask($0, p, k) } } }
        let g = try layer.backward(dY, inputGradient: false)
        return (loss, g.weight, g.bias)
    }

    /// Loss over the whole calibration set.
    func fullLoss(weight: Tensor, bias: Tensor?) throws -> Double {
        var s = 0.0
        for c in 0..<sampleChunks { s += try evaluate(weight: weight, bias: bias, chunks: [c], gradients: false).loss }
        return s / Double(sampleChunks)
    }
}

/// Adam (Kingma & Ba 2015, Algorithm 1) on one flat parameter vector.
struct Adam {
    var lr: Float
    var beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8
    private var m: [Float], v: [Float], t = 0

    init(count: Int, lr: Float) { self.lr = lr; m = Array(repeating: 0, count: count); v = m }

    mutating func step(_ p: inout Tensor, _ g: Tensor) {
        t += 1
        let c1 = 1 - Float(Foundation.pow(Double(beta1), Double(t))), c2 = 1 - Float(Foundation.pow(Double(beta2), Double(t)))
        let (b1, b2, e, a) = (beta1, beta2, eps, lr)
        g.withFloats { gp in p.withMutableFloats { pp in m.withUnsafeMutableBufferPointer { mp in v.withUnsafeMutableBufferPointer { vp in
            for i in pp.indices {
                mp[i] = b1 * mp[i] + (1 - b1) * gp[i]
                vp[i] = b2 * vp[i] + (1 - b2) * gp[i] * gp[i]
                pp[i] -= a * (mp[i] / c1) / ((vp[i] / c2).squareRoot() + e)
            }
        } } } }
    }
}

/// SplitMix64 (Steele et al. 2014): the recovery passes' own seeded generator, so reruns with the
/// same seed shuffle identically on every platform.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        return z ^ (z >> 31)
    }
    /// Fisher–Yates permutation of 0..<n.
    mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, Int(next() % UInt64(i + 1))) } }
        return p
    }
}
