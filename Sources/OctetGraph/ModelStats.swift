import OctetTensor

/// Per-layer multiply-accumulate counts of a prepared model (per sample at the model's
/// batch size; Conv/ConvTranspose/Gemm/MatMul only).
public struct LayerStats: Sendable, Equatable {
    public var node: String
    public var opType: String
    public var outputShape: [Int]
    public var parameters: Int
    public var macs: Int
}

extension Model {
    /// MACs and parameter counts of every compute layer, in graph order.
    public var layerStats: [LayerStats] {
        graph.nodes.compactMap { n -> LayerStats? in
            guard ["Conv", "ConvTranspose", "Gemm", "MatMul"].contains(n.opType),
                  let out = tensorShapes[n.outputs[0]] else { return nil }
            let params = n.inputs.dropFirst().compactMap { graph.initializers[$0]?.count }.reduce(0, +)
            let batch = max(out.first ?? 1, 1)
            let outCount = Tensor.elementCount(out) / batch
            var macs = 0
            switch n.opType {
            case "Conv":
                if let w = tensorShapes[n.inputs[1]] { macs = outCount * w.dropFirst().reduce(1, *) }
            case "ConvTranspose":
                if let w = tensorShapes[n.inputs[1]], let x = tensorShapes[n.inputs[0]] {
                    macs = Tensor.elementCount(x) / batch * w.dropFirst().reduce(1, *)
                }
            default:
                if let a = tensorShapes[n.inputs[0]], let b = tensorShapes[n.inputs[1]] {
                    let transA = (try? n.int("transA", default: 0)) ?? 0
                    let k = n.opType == "Gemm" && transA != 0 ? a[0] : (a.last ?? 1)
                    macs = outCount * (b.count == 1 ? 1 : k)
                }
            }
            return LayerStats(node: n.name, opType: n.opType, outputShape: out, parameters: params, macs: macs)
        }
    }
}
