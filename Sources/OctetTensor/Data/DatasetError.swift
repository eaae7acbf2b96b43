/// Errors raised while loading, checking, decoding or preprocessing dataset samples.
/// Each names the file (or in-memory source) and, where one is at fault, the sample.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
    /// The source holds no samples.
    case empty(source: String)
    /// A float sample holds NaN or ±Inf; `sample` is the first bad sample index.
    case nonFinite(source: String, sample: Int, value: Float)
    /// The label count differs from the sample count.
    case labelCount(source: String, samples: Int, labels: Int)
    /// Labels that are not integers (e.g. 1.5 in a float32 label array).
    case badLabel(source: String, sample: Int, reason: String)
    /// A file that is not a supported dataset or image file (by extension or content kind).
    case unsupportedFile(path: String, reason: String)
    /// An image file that cannot be decoded (bad signature, truncated, corrupt data).
    case corruptImage(path: String, reason: String)
    /// Images of different sizes without a resize option to bring them to one size.
    case inconsistentSize(path: String, size: [Int], expected: [Int], firstPath: String)
    /// An array of the wrong rank, dtype or layout, or a missing key in a `.npz` archive.
    case badArray(source: String, reason: String)
    /// A preprocessing option that cannot apply (zero std, crop larger than the image, ...).
    case badPreprocessing(source: String, reason: String)
    /// An invalid argument to a dataset operation (batch size 0, split fraction outside (0, 1)).
    case badArgument(String)

    public var description: String {
        switch self {
        case .empty(let s): return "\(s): dataset is empty (no samples)"
        case .nonFinite(let s, let i, let v): return "\(s): sample \(i) contains \(v) (first non-finite sample)"
        case .labelCount(let s, let n, let l): return "\(s): \(l) labels for \(n) samples"
        case .badLabel(let s, let i, let r): return "\(s): label of sample \(i): \(r)"
        case .unsupportedFile(let p, let r): return "\(p): unsupported file: \(r)"
        case .corruptImage(let p, let r): return "\(p): corrupt image: \(r)"
        case .inconsistentSize(let p, let s, let e, let f):
            return "\(p): image size \(Self.hw(s)) differs from \(Self.hw(e)) of \(f); images of different sizes need a resize to one size (the resize option)"
        case .badArray(let s, let r): return "\(s): \(r)"
        case .badPreprocessing(let s, let r): return "\(s): \(r)"
        case .badArgument(let m): return "invalid argument: \(m)"
        }
    }

    private static func hw(_ s: [Int]) -> String { s.map(String.init).joined(separator: "×") }
}
