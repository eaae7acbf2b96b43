import OctetTensor

/// Window attributes shared by Conv, ConvTranspose and the pooling ops (2-D, NCHW):
/// kernel_shape, strides, dilations, pads [top, left, bottom, right] and auto_pad.
struct WindowAttributes {
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var pads: [Int]           // [top, left, bottom, right] after auto_pad resolution
    var ceilMode: Bool

    /// Reads the attributes of `node` for an input of spatial size `spatial` ([H, W]).
    /// - Throws: `OctetGraphError.badAttribute` for non-positive strides/dilations/kernels,
    ///   wrong list lengths or an unknown auto_pad.
    /// Largest kernel, stride, dilation or pad accepted (2²⁰), so window arithmetic cannot overflow.
    static let maxExtent = 1 << 20

    /// `pooling`: explicit pads must be smaller than the kernel (a window wholly in padding has no
    /// input; onnxruntime refuses it too).
    init(node: Node, spatial: [Int], kernel kernelFromWeight: [Int]?, pooling: Bool = false) throws {
        guard let k = try node.ints("kernel_shape") ?? kernelFromWeight, k.count == 2 else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "kernel_shape", reason: "a 2-D kernel is required (only 2-D NCHW windows are supported)")
        }
        kernel = k
        strides = try node.ints("strides") ?? [1, 1]
        dilations = try node.ints("dilations") ?? [1, 1]
        ceilMode = try node.int("ceil_mode", default: 0) != 0
        for (name, v) in [("kernel_shape", kernel), ("strides", strides), ("dilations", dilations)] {
            guard v.count == 2, v.allSatisfy({ (1...WindowAttributes.maxExtent).contains($0) }) else {
                throw OctetGraphError.badAttribute(node: node.label, attribute: name,
                                                   reason: "expected two values in 1...\(WindowAttributes.maxExtent), got \(v)")
            }
        }
        let autoPad = try node.string("auto_pad", default: "NOTSET")
        switch autoPad {
        case "NOTSET":
            let p = try node.ints("pads") ?? [0, 0, 0, 0]
            guard p.count == 4, p.allSatisfy({ (0...WindowAttributes.maxExtent).contains($0) }) else {
                throw OctetGraphError.badAttribute(node: node.label, attribute: "pads",
                                                   reason: "expected four values in 0...\(WindowAttributes.maxExtent), got \(p)")
            }
            pads = [p[0], p[1], p[2], p[3]]
            if pooling, let i = (0..<4).first(where: { pads[$0] >= kernel[$0 % 2] }) {
                throw OctetGraphError.badAttribute(node: node.label, attribute: "pads",
                                                   reason: "pad \(pads[i]) is not smaller than the kernel's \(kernel[i % 2]) (pads \(p), kernel_shape \(kernel))")
            }
        case "VALID":
            pads = [0, 0, 0, 0]
        case "SAME_UPPER", "SAME_LOWER":
            var p = [0, 0, 0, 0]
            for i in 0..<2 {
                let out = (spatial[i] + strides[i] - 1) / strides[i]
                let total = max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i])
                let small = total / 2, big = total - small
                p[i] = autoPad == "SAME_UPPER" ? small : big
                p[i + 2] = autoPad == "SAME_UPPER" ? big : small
            }
            pads = p
        default:
            throw OctetGraphError.badAttribute(node: node.label, attribute: "auto_pad", reason: "unknown value '\(autoPad)' (accepted: NOTSET, VALID, SAME_UPPER, SAME_LOWER)")
        }
    }

    /// Output size along axis `i` (0 = H, 1 = W) for a sliding window.
    func outputSize(_ input: Int, axis i: Int) -> Int {
        let span = input + pads[i] + pads[i + 2] - dilations[i] * (kernel[i] - 1) - 1
        if !ceilMode { return span / strides[i] + 1 }
        var out = (span + strides[i] - 1) / strides[i] + 1
        // The last window must start inside the input or the left padding.
        if (out - 1) * strides[i] >= input + pads[i] { out -= 1 }
        return out
    }

    func geometry(batch: Int, channels: Int, spatial: [Int], outChannels: Int, groups: Int) -> ConvGeometry {
        ConvGeometry(batch: batch, inChannels: channels, inH: spatial[0], inW: spatial[1], outChannels: outChannels,
                     kernelH: kernel[0], kernelW: kernel[1], strideH: strides[0], strideW: strides[1],
                     padTop: pads[0], padLeft: pads[1], padBottom: pads[2], padRight: pads[3],
                     dilationH: dilations[0], dilationW: dilations[1], groups: groups,
                     outH: outputSize(spatial[0], axis: 0), outW: outputSize(spatial[1], axis: 1))
    }
}

extension Node {
    /// A float NCHW input of rank 4.
    func requireNCHW(_ t: Tensor, _ what: String = "input") throws {
        guard t.rank == 4 else { throw fail("\(what) must be 4-D NCHW, got shape \(t.shape)") }
    }
}
