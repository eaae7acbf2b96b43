import OctetTensor
import Foundation

/// Resize (opsets 10–19) and Upsample (opsets 7–9), following the ONNX operator specs.
///
/// Output size per axis is `floor(in · scale)`, or `sizes[k]` with `scale = sizes[k] / in`.
/// Each output coordinate maps back to the input with `coordinate_transformation_mode`
/// (default `half_pixel`; Upsample and Resize-10 use `asymmetric`). `nearest` picks an index
/// with `nearest_mode` (Upsample and Resize-10: truncate when upsampling, ceil when
/// downsampling, as onnxruntime); `linear` is bilinear over the last two axes (NCHW),
/// clamping the source coordinate to `[0, in - 1]`.
enum ResizeOps {
    static let kernels: [String: OpKernel] = [
        "Resize": { n, i, o in [try resize(n, i, o)] },
        "Upsample": { n, i, o in [try upsample(n, i, o)] },
    ]

    /// How one output axis samples its input axis.
    struct AxisPlan {
        var inSize: Int
        var outSize: Int
        var scale: Float
    }

    static func resize(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> Tensor {
        let x = try node.required(inputs, 0)
        if try node.int("antialias", default: 0) != 0 { throw node.fail("antialias=1 is not supported") }
        if try node.ints("axes") != nil { throw node.fail("the axes attribute is not supported") }
        if try node.string("keep_aspect_ratio_policy", default: "stretch") != "stretch" {
            throw node.fail("keep_aspect_ratio_policy other than 'stretch' is not supported")
        }
        let scalesInput = opset < 11 ? node.optional(inputs, 1) : node.optional(inputs, 2)
        let sizesInput = opset < 11 ? nil : node.optional(inputs, 3)
        let plans = try axisPlans(node, x, scales: scalesInput.flatMap { $0.count > 0 ? $0.asFloatArray() : nil },
                                  sizes: sizesInput.flatMap { $0.count > 0 ? ShapeOps.intList($0) : nil })
        let legacy = opset < 11
        let coordMode = legacy ? "asymmetric" : try node.string("coordinate_transformation_mode", default: "half_pixel")
        let nearestMode = legacy ? "legacy" : try node.string("nearest_mode", default: "round_prefer_floor")
        return try sample(node, x, plans, mode: try node.string("mode", default: "nearest"),
                          coordMode: coordMode, nearestMode: nearestMode)
    }

    /// `Upsample`: scales from the attribute (opset 7) or input #1 (opset 9); asymmetric mapping.
    static func upsample(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> Tensor {
        let x = try node.required(inputs, 0)
        let scales: [Float]
        if let s = node.optional(inputs, 1) { scales = s.asFloatArray() } else if let s = try node.floats("scales") {
            scales = s
        } else { throw node.fail("missing scales") }
        let plans = try axisPlans(node, x, scales: scales, sizes: nil)
        return try sample(node, x, plans, mode: try node.string("mode", default: "nearest"),
                          coordMode: "asymmetric", nearestMode: "legacy")
    }

    static func axisPlans(_ node: Node, _ x: Tensor, scales: [Float]?, sizes: [Int]?) throws -> [AxisPlan] {
        if let sizes {
            guard sizes.count == x.rank, sizes.allSatisfy({ $0 >= 0 }) else {
                throw node.fail("sizes \(sizes) must have one non-negative value per input axis (rank \(x.rank))")
            }
            try node.requireOutputSize(sizes)
            return x.shape.indices.map { k in
                AxisPlan(inSize: x.shape[k], outSize: sizes[k], scale: Float(sizes[k]) / Float(x.shape[k]))
            }
        }
        guard let scales else { throw node.fail("either scales or sizes must be given") }
        guard scales.count == x.rank, scales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw node.fail("scales \(scales) must have one positive value per input axis (rank \(x.rank))")
        }
        let outSizes = x.shape.indices.map { k in Double(x.shape[k]) * Double(scales[k]) }
        guard outSizes.allSatisfy({ $0 < Double(Node.maxOutputElements) }) else {
            throw node.fail("scales \(scales) make an output larger than \(Node.maxOutputElements) elements")
        }
        let plans = x.shape.indices.map { k in
            AxisPlan(inSize: x.shape[k], outSize: Int(Float(x.shape[k]) * scales[k]), scale: scales[k])
        }
        try node.requireOutputSize(plans.map(\.outSize))
        return plans
    }

    /// Source coordinate of output coordinate `i` (ONNX `coordinate_transformation_mode`).
    static func sourceCoordinate(_ i: Int, _ p: AxisPlan, mode: String) -> Float {
        let x = Float(i)
        switch mode {
        case "pytorch_half_pixel": return p.outSize > 1 ? (x + 0.5) / p.scale - 0.5 : 0
        case "align_corners": return p.outSize > 1 ? x * Float(p.inSize - 1) / Float(p.outSize - 1) : 0
        case "asymmetric": return x / p.scale
        case "tf_half_pixel_for_nn", "tf_half_pixel_for_nearest": return (x + 0.5) / p.scale
        default: return (x + 0.5) / p.scale - 0.5   // half_pixel
        }
    }

    /// Rounds a source coordinate to an index with ONNX `nearest_mode`.
    static func nearestIndex(_ x: Float, _ p: AxisPlan, mode: String) -> Int {
        let r: Float
        switch mode {
        case "round_prefer_ceil": r = (x + 0.5).rounded(.down)
        case "floor": r = x.rounded(.down)
        case "ceil": r = x.rounded(.up)
        case "legacy": r = p.scale < 1 ? x.rounded(.up) : x.rounded(.towardZero)
        default: r = x == x.rounded(.down) + 0.5 ? x.rounded(.down) : x.rounded()   // round_prefer_floor
        }
        return Swift.min(Swift.max(Int(r), 0), p.inSize - 1)
    }

    static func sample(_ node: Node, _ x: Tensor, _ plans: [AxisPlan], mode: String, coordMode: String,
                       nearestMode: String) throws -> Tensor {
        let coordModes = ["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
                          "tf_half_pixel_for_nearest"]
        guard coordModes.contains(coordMode) else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "coordinate_transformation_mode",
                                               reason: "unsupported mode '\(coordMode)'")
        }
        guard ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil", "legacy"].contains(nearestMode) else {
            throw OctetGraphError.badAttribute(node: node.label, attribute: "nearest_mode", reason: "unknown mode '\(nearestMode)'")
        }
        if plans.contains(where: { $0.inSize == 0 && $0.outSize > 0 }) { throw node.fail("cannot resize an empty axis") }
        switch mode {
        case "nearest":
            let strides = Shape.strides(x.shape)
            let tables = plans.indices.map { nearestTable(plans[$0], stride: strides[$0], coordMode, nearestMode) }
            return AxisGather(tables: tables).apply(x)
        case "linear", "bilinear":
            return try bilinear(node, x, plans, coordMode: coordMode)
        default:
            throw OctetGraphError.badAttribute(node: node.label, attribute: "mode", reason: "unsupported mode '\(mode)'")
        }
    }

    /// Offset table of one axis for `nearest` mode. An unscaled axis is copied as is
    /// (as onnxruntime does), even where the coordinate mode would shift it by half a pixel.
    static func nearestTable(_ p: AxisPlan, stride: Int, _ coordMode: String, _ nearestMode: String) -> [Int] {
        if p.outSize == p.inSize && p.scale == 1 { return AxisGather.linear(count: p.inSize, stride: stride) }
        return (0..<p.outSize).map { nearestIndex(sourceCoordinate($0, p, mode: coordMode), p, mode: nearestMode) * stride }
    }
}
