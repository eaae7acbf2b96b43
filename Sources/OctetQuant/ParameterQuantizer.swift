import OctetGraph
import OctetTensor

/// Quantization parameters of weights, biases and constant operands, computed once
/// (reference-quantizer §2.1 "Batches": parameters are calibrated a single time).
/// DPU default: diffs, 8 bits, `std_round`, per tensor; the bias has its own fix_pos.
enum ParameterQuantizer {
    /// Observer for one tensor following `config` (weights when `bias` is false).
    static func observer(_ name: String, bias: Bool, config: QConfig) throws -> Observer {
        let bits = bias ? config.biasBits : config.weightBits
        if config.scaleType == .float && config.weightObserver.isPowerOfTwo {
            return try MaxMinObserver(name: name, scheme: .symmetric, bits: bits)
        }
        return try config.weightObserver.makeObserver(name: name, bits: bits, rounding: config.weightRounding)
    }

    /// Parameters of `tensor`; per output channel along `axis` when given.
    static func params(_ name: String, _ tensor: Tensor, bias: Bool, axis: Int?, config: QConfig) throws -> QuantParams {
        guard let axis, tensor.rank > axis, tensor.shape[axis] > 1 else {
            let o = try observer(name, bias: bias, config: config)
            try o.observe(tensor)
            return try o.quantParams()
        }
        let channels = tensor.shape[axis]
        let outer = tensor.shape[..<axis].reduce(1, *), inner = tensor.shape[(axis + 1)...].reduce(1, *)
        let values = tensor.floats
        var perChannel: [QuantParams] = []
        for c in 0..<channels {
            var slice = [Float]()
            slice.reserveCapacity(outer * inner)
            for o in 0..<outer { slice += values[((o * channels + c) * inner)..<((o * channels + c + 1) * inner)] }
            let obs = try observer("\(name)[\(c)]", bias: bias, config: config)
            try obs.observe(Tensor(shape: [slice.count], floats: slice))
            perChannel.append(try obs.quantParams())
        }
        let bits = perChannel[0].bits
        if perChannel.allSatisfy({ $0.fixPos != nil && $0.channels == nil }) {
            return try QuantParams(bits: bits, axis: axis, fixPos: perChannel.map { $0.fixPos! })
        }
        return try QuantParams(bits: bits, signed: perChannel[0].signed, axis: axis, scales: perChannel.map(\.scale),
                               zeroPoints: perChannel.map(\.zeroPoint))
    }

    /// Output-channel axis of a layer's weight for per-channel quantization.
    static func channelAxis(_ node: Node) -> Int { node.opType == "ConvTranspose" ? 1 : 0 }

    /// Fake-quantized copy of `tensor` with `params` and the weight rounding.
    static func fakeQuantized(_ tensor: Tensor, _ params: QuantParams, config: QConfig) throws -> Tensor {
        var t = tensor
        try QuantMath.fakeQuantize(&t, params: params, rounding: config.weightRounding)
        return t
    }

    /// Integer codes of `tensor` at a power-of-two per-tensor `params`.
    static func int8Codes(_ tensor: Tensor, _ params: QuantParams, rounding: RoundingMode) throws -> Tensor {
        guard let fp = params.fixPos, params.channels == nil else {
            throw OctetQuantError.invalidParameter("int8 codes need a per-tensor fix_pos, got \(params)")
        }
        return Tensor(shape: tensor.shape, int8s: try QuantMath.quantizeToInt8(tensor.floats, fixPos: fp, range: params.range,
                                                                              rounding: rounding))
    }
}
