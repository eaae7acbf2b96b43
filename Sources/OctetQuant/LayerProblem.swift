import CKernels
import Foundation
import OctetGraph
import OctetTensor

/// The reconstruction problem of one conv group: the layer on the quantized model's input must
/// reproduce, after its fused activation, the float model's layer output on the float input
/// (AdaQuant, Hubara et al. 2020 §3; AdaRound, Nagel et al. 2020 §4). An activation of
/// `following` (HardSwish, HardSigmoid) that alone reads the output of a group without a fused
/// activation is applied to both sides too, as vai_q_pytorch's fast finetune does
/// (shared/design/reference-quantizer.md §7).
final class LayerProblem {
    let site: LayerSite
    let layer: LayerGradient
    let floatWeight: Tensor
    let floatBias: Tensor?
    /// Activation applied to the quantized output (DPU LeakyRelu slope) and its kind on the float side.
    let quantActivation: ActivationGradient.Kind?
    /// Float model's layer output after the activation, per chunk.
    private(set) var targets: [Tensor]
    private(set) var channels: Int

    /// One copy of the layer per worker of `perChunk` (the first is `layer`).
    private var workers: [LayerGradient]

    init(site: LayerSite, graph: Graph, following: Set<String> = []) throws {
        self.site = site
        layer = try Differentiable.layer(for: site.node, in: graph)
        floatWeight = layer.weight!
        floatBias = layer.bias
        let act = LayerProblem.fusedActivation(site, graph, following: following)
        quantActivation = act.quant
        workers = [layer]
        let count = max(1, min(KernelConfig.threads, site.floatInput.count))
        for _ in 1..<count { workers.append(try Differentiable.layer(for: site.node, in: graph)) }
        targets = []
        channels = 1
        let inputs = site.floatInput
        targets = try perChunk(inputs.count, weight: floatWeight, bias: floatBias) { layer, k in
            var y = try layer.forward(inputs[k])
            if let f = act.float { y.withMutableFloats { ActivationGradient(node: site.node, kind: f).apply($0) } }
            return y
        }
        channels = targets.first.map { $0.rank >= 2 ? $0.shape[1] : 1 } ?? 1
    }

    /// `body(layer, k)` for k in 0..<count through `KernelConfig.mapItems`: several chunks run in
    /// parallel, one layer copy (with `weight`, `bias`) per worker and the kernels inside
    /// single-threaded; results in k order, so they do not depend on the thread count. A single
    /// chunk runs on the calling thread with threaded kernels.
    private func perChunk<T>(_ count: Int, weight: Tensor, bias: Tensor?, _ body: (LayerGradient, Int) throws -> T) throws -> [T] {
        for l in workers { l.weight = weight; l.bias = bias }
        defer { for l in workers { l.weight = nil; l.bias = nil } }  // the caller may then update its buffers in place
        return try KernelConfig.mapItems(count, workers: workers.count) { w, k in try body(workers[w], k) }
    }

    /// The fused activation (float kind, quantized kind) of the site's group; a group without one
    /// whose output is read only by a node of an op type in `following` (HardSwish, HardSigmoid),
    /// and is not a graph output, takes that node's activation (computed in float on both sides).
    static func fusedActivation(_ site: LayerSite, _ g: Graph, following: Set<String> = [])
        -> (float: ActivationGradient.Kind?, quant: ActivationGradient.Kind?) {
        let users = g.consumers(of: site.node.outputs[0])
        let fused = site.annotation.activation ?? FusedActivation.none
        if fused == .none, users.count == 1, !g.outputs.contains(where: { $0.name == site.node.outputs[0] }),
           following.contains(g.nodes[users[0]].opType),
           ["HardSwish", "HardSigmoid"].contains(g.nodes[users[0]].opType),
           let next = try? Differentiable.layer(for: g.nodes[users[0]], in: g) as? ActivationGradient {
            return (next.kind, next.kind)
        }
        guard fused != .none, let j = users.first else { return (nil, nil) }
        switch fused {
        case .relu: return (.clamp(lo: 0, hi: .infinity), .clamp(lo: 0, hi: .infinity))
        case .relu6: return (.clamp(lo: 0, hi: 6), .clamp(lo: 0, hi: 6))
        case .leakyRelu:
            let alpha = (try? g.nodes[j].float("alpha", default: 0.01)) ?? 0.01
            return (.leaky(alpha: alpha), .leaky(alpha: DPUMath.dpuLeakyReluAlpha))
        case .none: return (nil, nil)
        }
    }

    var sampleChunks: Int { targets.count }

    /// Per output channel, the mean over the calibration set of (layer with `weight`, `bias` on the
    /// quantized input) − (float layer on the float input), before the activation (empirical bias
    /// correction, Nagel et al. 2019 §4.2). Chunks run as in `perChunk` and are summed in order, so
    /// the result does not depend on the thread count.
    func meanOutputError(weight: Tensor, bias: Tensor?) throws -> [Double] {
        let (w, b) = (floatWeight, floatBias)
        let parts = try perChunk(site.quantInput.count, weight: weight, bias: bias) { layer, k -> (sums: [Float], count: Int) in
            var d = try layer.forward(site.quantInput[k])
            layer.weight = w; layer.bias = b
            defer { layer.weight = weight; layer.bias = bias }
            let f = try layer.forward(site.floatInput[k])
            f.withFloats { y in d.withMutableFloats { q in for i in q.indices { q[i] -= y[i] } } }
            return (ConvGradient.channelSums(d, channels: channels), d.count / max(channels, 1))
        }
        var err = [Double](repeating: 0, count: channels)
        for part in parts { for i in err.indices { err[i] += Double(part.sums[i]) } }
        let count = parts.reduce(0) { $0 + $1.count }
        return err.map { $0 / Double(max(count, 1)) }
    }

    /// Reconstruction loss on the chunks `idx` with the given (already fake-quantized) parameters,
    /// and its gradients with respect to them when `gradients`.
    /// `perChannelSum`: Σ over channels, mean over the rest (AdaRound); otherwise the mean (MSE).
    /// Each chunk is one forward, one fused loss and output-gradient pass through the activation
    /// (`octet_f32_recon_loss`) and one backward; losses and gradients are summed in `idx` order.
    func evaluate(weight: Tensor, bias: Tensor?, chunks idx: [Int], gradients: Bool, perChannelSum: Bool = false)
        throws -> (loss: Double, dW: Tensor?, dB: Tensor?) {
        let (kind, lo, hi, alpha): (Int32, Float, Float, Float)
        switch quantActivation {
        case nil: (kind, lo, hi, alpha) = (0, 0, 0, 0)
        case .clamp(let l, let h)?: (kind, lo, hi, alpha) = (1, l, h, 0)
        case .leaky(let a)?: (kind, lo, hi, alpha) = (2, 0, 0, a)
        case .hardSwish?: (kind, lo, hi, alpha) = (3, 0, 0, 0)
        case .hardSigmoid(let a, let b)?: (kind, lo, hi, alpha) = (4, b, 0, a)
        }
        let elements = idx.reduce(0) { $0 + targets[$1].count }
        let norm = perChannelSum ? Double(channels) / Double(elements) : 1 / Double(elements)
        let parts = try perChunk(idx.count, weight: weight, bias: bias) { layer, k -> (Double, LayerGradients?) in
            var out = try layer.forward(site.quantInput[idx[k]])
            var sum = 0.0
            out.withMutableFloats { o in
                targets[idx[k]].withFloats { t in
                    sum = octet_f32_recon_loss(o.baseAddress!, t.baseAddress!, gradients ? o.baseAddress! : nil, o.count,
                                               kind, lo, hi, alpha, Float(2 * norm))
                }
            }
            return (sum, gradients ? try layer.backward(out, inputGradient: false) : nil)
        }
        let loss = parts.reduce(0) { $0 + $1.0 } * norm
        guard gradients else { return (loss, nil, nil) }
        let grads = parts.map { $0.1! }
        return (loss, LayerProblem.sum(grads.map { $0.weight! }), bias == nil ? nil : LayerProblem.sum(grads.map { $0.bias! }))
    }

    /// Element-wise sum of same-shape tensors, in order (slices of 8192 spread over the kernel
    /// threads; element-wise, so the result does not depend on the thread count).
    static func sum(_ ts: [Tensor]) -> Tensor {
        var acc = ts[0]
        guard ts.count > 1 else { return acc }
        let n = acc.count, slice = 1 << 13
        acc.withMutableFloats { a in
            KernelConfig.parallelFor((n + slice - 1) / slice) { k in
                let range = k * slice..<min(n, (k + 1) * slice)
                for t in ts.dropFirst() { t.withFloats { b in for i in range { a[i] += b[i] } } }
            }
        }
        return acc
    }

    /// The weight parameters among fix_pos fp − 1 … fp + 2 (power-of-two, per tensor) whose
    /// nearest-rounded weights give the smallest reconstruction loss on the calibration set; the
    /// calibrated ones on ties. The weight observer minimizes the weight error; a finer grid that
    /// clips a few large weights often reproduces the layer output better.
    /// `calibratedLoss`: `nearestLoss(site.weightParams, bias:)`, which the caller already has.
    func searchWeightFixPos(bias: Tensor?, calibratedLoss: Double) throws -> (params: QuantParams, loss: Double) {
        let wp = site.weightParams
        var best = (params: wp, loss: calibratedLoss)
        guard wp.channels == nil, let fp = wp.fixPos else { return best }
        for d in [-1, 1, 2] where fp + d <= QuantMath.maxFixPos(bits: wp.bits) {
            let c = try QuantParams(bits: wp.bits, signed: wp.signed, narrowRange: wp.narrowRange, fixPos: fp + d)
            let l = try nearestLoss(c, bias: bias)
            if l < best.loss { best = (c, l) }
        }
        return best
    }

    /// Full-set loss of the float weight rounded to nearest with `params`.
    func nearestLoss(_ params: QuantParams, bias: Tensor?) throws -> Double {
        try fullLoss(weight: ParameterQuantizer.fakeQuantized(floatWeight, params, config: site.config), bias: bias)
    }

    /// Loss over the whole calibration set.
    func fullLoss(weight: Tensor, bias: Tensor?) throws -> Double {
        try evaluate(weight: weight, bias: bias, chunks: Array(0..<sampleChunks), gradients: false).loss
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
