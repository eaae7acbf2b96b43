/// Element types a `Tensor` can hold. Names follow ONNX `TensorProto.DataType`.
public enum DType: String, Sendable, CaseIterable, CustomStringConvertible {
    case float32, int8, uint8, int32, int64

    /// Size of one element in bytes.
    public var byteSize: Int {
        switch self {
        case .float32, .int32: return 4
        case .int8, .uint8: return 1
        case .int64: return 8
        }
    }

    public var description: String { rawValue }
}
