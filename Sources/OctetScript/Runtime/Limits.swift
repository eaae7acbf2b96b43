/// Size limits that stop runaway scripts (`list(range(10**12))`, `s = s + s` in a loop)
/// with a runtime error before they exhaust memory and abort the process. Tensors have
/// their own limits (`Arguments.shape`, `arange`).
public enum Limits {
    /// Most items a list may hold (also ranges and strings turned into lists).
    public static let maxListItems = 1 << 26
    /// Most bytes (UTF-8) a string may hold.
    public static let maxStringBytes = 1 << 27
    /// Most elements a tensor the language makes may hold (zero-size axes count as 1, so
    /// [3000000000, 0] is refused too: iterating it would make 3·10⁹ rows).
    public static let maxTensorElements = 1 << 31

    /// Throws `BindingError.message` when `shape` would pass `maxTensorElements`.
    public static func checkTensor(_ shape: [Int]) throws {
        var n = 1
        for d in shape {
            let (p, o) = n.multipliedReportingOverflow(by: max(d, 1))
            guard !o, p <= maxTensorElements else { throw BindingError.message("shape \(shape) is too large") }
            n = p
        }
    }

    /// Throws `BindingError.message` when a list of `count` items would exceed `maxListItems`.
    public static func checkList(_ count: Int) throws {
        guard count <= maxListItems else {
            throw BindingError.message("list would have \(count) items, more than the limit of \(maxListItems)")
        }
    }

    /// Throws `BindingError.message` when a string of `bytes` UTF-8 bytes would exceed
    /// `maxStringBytes`.
    /// `s` as a string value, or the limit error for a result whose size is known only once built
    /// (case mapping, quoting: a bounded multiple of its argument).
    static func checkedString(_ s: String) throws -> Value {
        try checkString(s.utf8.count)
        return .string(s)
    }

    public static func checkString(_ bytes: Int) throws {
        guard bytes <= maxStringBytes else {
            throw BindingError.message("string would have \(bytes) bytes, more than the limit of \(maxStringBytes)")
        }
    }

    /// The error for a string found to pass `maxStringBytes` before its final size is known.
    static func stringTooLong() -> BindingError {
        BindingError.message("string would have more bytes than the limit of \(maxStringBytes)")
    }
}
