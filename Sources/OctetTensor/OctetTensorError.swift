/// Errors raised by tensor construction, kernels and tensor file I/O.
public enum OctetTensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(String)
    case dtypeMismatch(expected: DType, got: DType, context: String)
    case fileNotFound(String)
    case badFile(path: String, reason: String)
    case unsupported(String)
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .shapeMismatch(let m): return "shape mismatch: \(m)"
        case .dtypeMismatch(let e, let g, let c): return "\(c): expected \(e), got \(g)"
        case .fileNotFound(let p): return "\(p): no such file"
        case .badFile(let p, let r): return "\(p): \(r)"
        case .unsupported(let m): return "unsupported: \(m)"
        case .writeFailed(let p, let r): return p.isEmpty ? "cannot write: \(r)" : "\(p): cannot write: \(r)"
        }
    }
}
