import OctetTensor

/// Errors raised by observers, calibration and fix_pos rules.
public enum OctetQuantError: Error, CustomStringConvertible, Equatable {
    /// The observed tensor holds NaN or ±∞ values.
    case nonFiniteValues(observer: String, tensor: String, count: Int)
    /// The observed tensor has no elements.
    case emptyTensor(observer: String, tensor: String)
    /// Observers accept float32 tensors only.
    case notFloat(observer: String, tensor: String, dtype: DType)
    /// `quantParams()` was called before any `observe`.
    case noObservations(observer: String, tensor: String)
    /// An observer name the user typed is not known.
    case unknownObserver(name: String, accepted: [String])
    /// A parameter is out of its valid range.
    case invalidParameter(String)

    public var description: String {
        switch self {
        case .nonFiniteValues(let o, let t, let n):
            return "\(o) observer\(Self.on(t)): \(n) NaN/Inf value\(n == 1 ? "" : "s") in observed data"
        case .emptyTensor(let o, let t):
            return "\(o) observer\(Self.on(t)): observed tensor is empty"
        case .notFloat(let o, let t, let d):
            return "\(o) observer\(Self.on(t)): expected a float32 tensor, got \(d)"
        case .noObservations(let o, let t):
            return "\(o) observer\(Self.on(t)): no data observed yet (run calibration first)"
        case .unknownObserver(let n, let accepted):
            return "unknown observer '\(n)'; accepted: \(accepted.joined(separator: ", "))"
        case .invalidParameter(let m):
            return "invalid parameter: \(m)"
        }
    }

    private static func on(_ tensor: String) -> String { tensor.isEmpty ? "" : " on '\(tensor)'" }
}
