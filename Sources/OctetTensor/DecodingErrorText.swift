import Foundation

/// One-line reasons for JSON decoding failures of Octet's own files (saved parameters, dump
/// manifests), instead of `DecodingError`'s debug description.
public enum DecodingErrorText {
    /// "not valid JSON", "missing key 'a.b'", "wrong type at 'a.0'", "invalid value at 'a'".
    public static func summary(_ error: Error) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [CodingKey]) -> String { keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch e {
        case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not valid JSON" : "invalid value at '\(path(c.codingPath))'"
        case .keyNotFound(let k, let c): return "missing key '\(path(c.codingPath + [k]))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "wrong type at '\(path(c.codingPath))'"
        @unknown default: return "\(error)"
        }
    }
}
