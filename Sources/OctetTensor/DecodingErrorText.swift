import Foundation

/// One-line reasons for JSON decoding failures of Octet's own files (saved parameters, dump
/// manifests), instead of `DecodingError`'s debug description.
public enum DecodingErrorText {
    /// "not valid JSON", "missing key 'a.b'", "wrong type at 'a.0'", "invalid value at 'a'";
    /// given the decoded `data`, valid JSON whose number does not fit its field (Foundation reports
    /// 5.7 or 1e30 for an Int without a path) reads "a number does not fit its field".
    public static func summary(_ error: Error, data: Data? = nil) -> String {
        guard let e = error as? DecodingError else { return "\(error)" }
        func path(_ keys: [CodingKey]) -> String { keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch e {
        case .dataCorrupted(let c):
            if !c.codingPath.isEmpty { return "invalid value at '\(path(c.codingPath))'" }
            if let data, (try? JSONSerialization.jsonObject(with: data)) != nil {
                return "a number does not fit its field (an integer is expected, e.g. for fix_pos or a shape)"
            }
            return "not valid JSON"
        case .keyNotFound(let k, let c): return "missing key '\(path(c.codingPath + [k]))'"
        case .typeMismatch(_, let c), .valueNotFound(_, let c): return "wrong type at '\(path(c.codingPath))'"
        @unknown default: return "\(error)"
        }
    }
}
