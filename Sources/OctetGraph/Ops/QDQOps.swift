import Foundation
import OctetTensor

/// QuantizeLinear and DequantizeLinear as float-executor kernels (ONNX operator spec, opset 13).
///
/// - QuantizeLinear(x: float, y_scale, y_zero_point?) → int8 / uint8 (the zero point's type,
///   uint8 when absent): `y = saturate(round_half_to_even(x / y_scale) + y_zero_point)`.
/// - DequantizeLinear(x: int8 / uint8 / int32, x_scale, x_zero_point?) → float:
///   `y = (x − x_zero_point) · x_scale`.
///
/// Scale and zero point are scalars (per tensor) or 1-D of length `x.shape[axis]` (per axis;
/// attribute `axis`, default 1, negative counts from the end).
enum QDQOps {
    static let kernels: [String: OpKernel] = [
        "QuantizeLinear": quantizeLinear,
        "DequantizeLinear": dequantizeLinear,
    ]

    /// Per-element scale / zero-point index: scalar, or channel along `axis`.
    struct AxisPlan {
        let channels: Int
        let inner: Int
        @inline(__always) func channel(_ i: Int) -> Int { channels == 1 ? 0 : (i / inner) % channels }
    }

    static func plan(_ node: Node, x: [Int], scale: Tensor, zeroPoint: Tensor?) throws -> AxisPlan {
        if let zp = zeroPoint, zp.shape != scale.shape {
            throw node.fail("zero point shape \(zp.shape) differs from scale shape \(scale.shape)")
        }
        let axisGiven = try node.int("axis") != nil
        if scale.rank == 0 || (scale.rank == 1 && scale.count == 1 && !axisGiven) {
            return AxisPlan(channels: 1, inner: 1)
        }
        guard scale.rank == 1 else { throw node.fail("scale must be a scalar or 1-D, got shape \(scale.shape)") }
        var axis = try node.int("axis", default: 1)
        if axis < 0 { axis += x.count }
        guard axis >= 0, axis < x.count else { throw node.fail("axis \(axis) out of range for input rank \(x.count)") }
        guard x[axis] == scale.count else {
            throw node.fail("per-axis scale has \(scale.count) values, input axis \(axis) has \(x[axis])")
        }
        return AxisPlan(channels: scale.count, inner: x[(axis + 1)...].reduce(1, *))
    }

    static func quantizeLinear(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        let x = try node.requiredFloat(inputs, 0), scale = try node.requiredFloat(inputs, 1)
        let zpT = node.optional(inputs, 2)
        let p = try plan(node, x: x.shape, scale: scale, zeroPoint: zpT)
        let scales = scale.floats
        guard scales.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw node.fail("y_scale must be positive and finite, got \(scales)") }
        let zps = zpT?.asInt64Array().map(Float.init) ?? Array(repeating: 0, count: scales.count)
        let signed = zpT?.dtype == .int8
        if let z = zpT, z.dtype != .int8, z.dtype != .uint8 {
            throw node.fail("y_zero_point must be int8 or uint8, got \(z.dtype)")
        }
        let (lo, hi): (Float, Float) = signed ? (-128, 127) : (0, 255)
        var q = [Float](repeating: 0, count: x.count)
        x.withFloats { src in q.withUnsafeMutableBufferPointer { dst in
            for i in 0..<src.count {
                let c = p.channel(i)
                let v = (src[i] / scales[c]).rounded(.toNearestOrEven) + zps[c]
                dst[i] = v.isNaN ? zps[c] : min(max(v, lo), hi)
            }
        } }
        if signed { return [Tensor(shape: x.shape, int8s: q.map { Int8($0) })] }
        return [Tensor(shape: x.shape, uint8s: q.map { UInt8($0) })]
    }

    static func dequantizeLinear(_ node: Node, _ inputs: [Tensor?], _ opset: Int) throws -> [Tensor] {
        let x = try node.required(inputs, 0), scale = try node.requiredFloat(inputs, 1)
        let zpT = node.optional(inputs, 2)
        guard [.int8, .uint8, .int32].contains(x.dtype) else { throw node.fail("x must be int8, uint8 or int32, got \(x.dtype)") }
        if let z = zpT, z.dtype != x.dtype { throw node.fail("x_zero_point type \(z.dtype) differs from x type \(x.dtype)") }
        let p = try plan(node, x: x.shape, scale: scale, zeroPoint: zpT)
        let scales = scale.floats
        let zps = zpT?.asInt64Array().map(Float.init) ?? Array(repeating: 0, count: scales.count)
        let codes = x.asFloatArray()
        var y = [Float](repeating: 0, count: x.count)
        codes.withUnsafeBufferPointer { src in y.withUnsafeMutableBufferPointer { dst in
            for i in 0..<src.count {
                let c = p.channel(i)
                dst[i] = (src[i] - zps[c]) * scales[c]
            }
        } }
        return [Tensor(shape: x.shape, floats: y)]
    }
}
