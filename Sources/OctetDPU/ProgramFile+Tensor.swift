import Foundation
import OctetTensor

/// Tensors as raw little-endian bytes in `TensorProto`.
extension ProgramProtoCoding {
    static func dtype(_ d: DType) -> Octet_Dpu_TensorProto.DataType {
        switch d {
        case .float32: return .float32
        case .int8: return .int8
        case .uint8: return .uint8
        case .int32: return .int32
        case .int64: return .int64
        }
    }

    static func dtype(_ d: Octet_Dpu_TensorProto.DataType) throws -> DType {
        switch d {
        case .float32: return .float32
        case .int8: return .int8
        case .uint8: return .uint8
        case .int32: return .int32
        case .int64: return .int64
        case .UNRECOGNIZED(let v): throw OctetDPUError.inputMismatch("unknown tensor data type \(v)")
        }
    }

    static func tensor(_ t: Tensor) -> Octet_Dpu_TensorProto {
        var o = Octet_Dpu_TensorProto()
        o.dtype = dtype(t.dtype)
        o.shape = t.shape.map { Int64($0) }
        switch t.storage {
        case .float32(let a): o.raw = a.withUnsafeBytes { Data($0) }
        case .int8(let a): o.raw = a.withUnsafeBytes { Data($0) }
        case .uint8(let a): o.raw = Data(a)
        case .int32(let a): o.raw = a.withUnsafeBytes { Data($0) }
        case .int64(let a): o.raw = a.withUnsafeBytes { Data($0) }
        }
        return o
    }

    static func tensor(_ o: Octet_Dpu_TensorProto) throws -> Tensor {
        let d = try dtype(o.dtype), shape = o.shape.map { Int($0) }
        guard Tensor.checkedByteCount(shape, bytesPerElement: d.byteSize) != nil else {
            throw OctetDPUError.inputMismatch("tensor shape \(shape) is negative or too large")
        }
        let count = Tensor.elementCount(shape)
        guard o.raw.count == count * d.byteSize else {
            throw OctetDPUError.inputMismatch("tensor of shape \(shape) \(d) holds \(o.raw.count) bytes, expected \(count * d.byteSize)")
        }
        func array<T: FixedWidthInteger>(_: T.Type) -> [T] {
            [T](unsafeUninitializedCapacity: count) { buf, n in
                o.raw.withUnsafeBytes { raw in UnsafeMutableRawBufferPointer(buf).copyMemory(from: raw) }
                n = count
            }
        }
        func floats() -> [Float] { array(UInt32.self).map { Float(bitPattern: $0) } }
        switch d {
        case .float32: return Tensor(shape: shape, floats: floats())
        case .int8: return Tensor(shape: shape, int8s: array(Int8.self))
        case .uint8: return Tensor(shape: shape, uint8s: [UInt8](o.raw))
        case .int32: return Tensor(shape: shape, int32s: array(Int32.self))
        case .int64: return Tensor(shape: shape, int64s: array(Int64.self))
        }
    }
}
