import OctetTensor

/// Errors from ONNX import, graph passes and execution. Messages name the file,
/// node or tensor involved.
public enum OctetGraphError: Error, CustomStringConvertible {
    case fileNotFound(String)
    case notONNX(path: String, reason: String)
    case unsupportedOp(node: String, opType: String, domain: String, opset: Int)
    case badAttribute(node: String, attribute: String, reason: String)
    case badModel(String)
    case missingInput(node: String, tensor: String)
    case inputMismatch(String)
    case symbolicDim(input: String, dim: String)
    case execution(node: String, reason: String)
    /// An error found while loading the model file `path`.
    indirect case inModel(path: String, OctetGraphError)

    /// This error naming the model file `path`, unless its message already does.
    func naming(_ path: String) -> OctetGraphError {
        description.contains(path) ? self : .inModel(path: path, self)
    }

    public var description: String {
        switch self {
        case .fileNotFound(let p): return "\(p): no such file"
        case .notONNX(let p, let r): return "\(p): not a valid ONNX model: \(r)"
        case .unsupportedOp(let n, let op, let d, let o):
            return "node \(n): unsupported operator \(d.isEmpty ? "" : d + "::")\(op) (opset \(o))"
        case .badAttribute(let n, let a, let r): return "node \(n): attribute '\(a)': \(r)"
        case .badModel(let m): return "invalid model: \(m)"
        case .missingInput(let n, let t): return "node \(n): input tensor '\(t)' is not produced by any node, input or initializer"
        case .inputMismatch(let m): return m
        case .symbolicDim(let i, let d):
            return "input '\(i)': dimension '\(d)' is symbolic; models run at fixed sizes, and only the batch axis is set at load: fix this one in the model"
        case .execution(let n, let r): return "node \(n): \(r)"
        case .inModel(let p, let e): return "\(p): \(e)"
        }
    }
}
