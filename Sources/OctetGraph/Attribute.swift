import OctetTensor

/// An ONNX node attribute value (ONNX `AttributeProto`).
public enum Attribute: Sendable, Equatable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(Tensor)
    case graph(Graph)
}
