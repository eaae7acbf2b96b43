import OctetTensor

/// The graph a quantizer works on: cleaned and BN-folded, with every tensor's shape and dtype.
public struct PreparedGraph: Sendable {
    public var graph: Graph
    public var info: TensorInfo
}

/// Preparation passes before quantization, in vai_q_pytorch's order (reference-quantizer §5):
/// Dropout/Identity removal, shared-weight copies, constant bias Adds into Conv/Gemm, MatMul → Gemm,
/// Gemm normalisation, BN folding (standalone BN → depthwise 1×1 Conv), decomposed hard-swish
/// → HardSwish. Float outputs are preserved up to float rounding (tested ≤ 1e-5 relative).
public enum QuantPreparation {
    /// - Throws: `OctetGraphError` from the dry runs (naming the node) or a malformed BatchNormalization.
    public static func prepare(_ graph: Graph) throws -> PreparedGraph {
        var g = GraphCleanup.removeIdentities(graph)
        g = GraphCleanup.decoupleSharedWeights(g)
        let info0 = try TensorInfo(graph: g)
        g = GraphCleanup.matMulToGemm(g, shapes: info0.shapes)
        g = try GraphCleanup.normalizeGemm(g)
        g = try BatchNormFolding.run(g, shapes: info0.shapes)
        g = GraphCleanup.foldBiasAdd(g)
        g = try BatchNormFolding.run(g, shapes: info0.shapes)
        g = HardSwishFusion.run(g)
        g = ShapeFolding.removeUnusedInitializers(g)
        return PreparedGraph(graph: g, info: try TensorInfo(graph: g))
    }
}
