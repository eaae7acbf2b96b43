import Foundation

/// Text forms of values: `display` (what `print` shows; strings raw) and `repr`
/// (strings quoted, as inside lists and records).
public enum Format {
    public static func display(_ v: Value) -> String {
        if case .string(let s) = v { return s }
        return repr(v)
    }

    /// `display` for a value that becomes part of a string (`str`, `join`, interpolation) that
    /// already has `used` UTF-8 bytes: the whole stays within `Limits.maxStringBytes`.
    /// - Throws: `BindingError.message` as soon as the text passes the limit, before it is all built.
    public static func display(_ v: Value, after used: Int) throws -> String {
        if case .string(let s) = v {
            try Limits.checkString(used + s.utf8.count)
            return s
        }
        var w = ReprWriter(limit: Limits.maxStringBytes - used)
        guard let s = w.write(v) else { throw Limits.stringTooLong() }
        return s
    }

    /// A list or record that contains itself shows the inner occurrence as `[...]` or
    /// `{...}` (like Python), so cyclic values print instead of recursing forever.
    public static func repr(_ v: Value) -> String {
        var w = ReprWriter(limit: .max)
        return w.write(v)!
    }

    /// Writes `repr` into one buffer with an explicit stack: a list nested millions deep prints in
    /// linear time and without deep recursion. `open` holds the containers on the path from the
    /// root, so a container met again inside itself prints as `[...]` / `{...}`.
    private struct ReprWriter {
        enum Frame {
            case list(ListObject, next: Int)
            case record(RecordObject, pairs: [(String, Value)], next: Int)
        }
        let limit: Int
        var out = ""
        var open: Set<ObjectIdentifier> = []
        var stack: [Frame] = []

        init(limit: Int) { self.limit = limit }

        /// The text, or nil once it passes `limit` bytes.
        mutating func write(_ root: Value) -> String? {
            enter(root)
            while let top = stack.last {
                guard out.utf8.count <= limit else { return nil }
                switch top {
                case .list(let l, let i) where i < l.items.count:
                    stack[stack.count - 1] = .list(l, next: i + 1)
                    if i > 0 { out += ", " }
                    enter(l.items[i])
                case .list(let l, _):
                    out += "]"
                    open.remove(ObjectIdentifier(l))
                    stack.removeLast()
                case .record(let r, let pairs, let i) where i < pairs.count:
                    stack[stack.count - 1] = .record(r, pairs: pairs, next: i + 1)
                    out += (i > 0 ? ", " : "") + Format.key(pairs[i].0) + ": "
                    enter(pairs[i].1)
                case .record(let r, _, _):
                    out += "}"
                    open.remove(ObjectIdentifier(r))
                    stack.removeLast()
                }
            }
            return out.utf8.count <= limit ? out : nil
        }

        /// Writes a scalar, or opens a container (pushing its frame).
        mutating func enter(_ v: Value) {
            switch v {
            case .list(let l):
                guard open.insert(ObjectIdentifier(l)).inserted else { out += "[...]"; return }
                out += "["
                stack.append(.list(l, next: 0))
            case .record(let r):
                guard open.insert(ObjectIdentifier(r)).inserted else { out += "{...}"; return }
                out += "{"
                stack.append(.record(r, pairs: r.pairs, next: 0))
            default:
                out += Format.scalarRepr(v)
            }
        }
    }

    /// `repr` of a value that holds no other values.
    fileprivate static func scalarRepr(_ v: Value) -> String {
        switch v {
        case .null: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .real(let r): return real(r)
        case .string(let s): return quote(s)
        case .list, .record: return repr(v)
        case .range(let r):
            if r.step != 1 { return "range(\(r.lower), \(r.upper), \(r.step))" }
            return r.wasClosed ? "\(r.lower)...\(r.upper - 1)" : "\(r.lower)..<\(r.upper)"
        case .closure(let c): return "<fn \(c.decl.displayName)>"
        case .builtin(let b): return "<builtin \(b.displayName)>"
        case .method(let m): return "<method \(m.builtin.displayName)>"
        case .object(let o): return o.summary
        }
    }

    /// Shortest round-trip decimal; integral values keep a `.0` (`3.0`), as do exponents.
    public static func real(_ r: Double) -> String {
        if r.isNaN { return "nan" }
        if r.isInfinite { return r < 0 ? "-inf" : "inf" }
        return r.description
    }

    /// A real with exactly `digits` decimals (0…15), for `fixed`, tables and reports: the number's
    /// exact binary value rounded half away from zero, as `round` rounds (0.125 → "0.13"; 2.675,
    /// stored as 2.67499…, → "2.67"). No "-" when every digit is 0.
    public static func fixed(_ r: Double, _ digits: Int) -> String {
        if !r.isFinite { return real(r) }
        // printf writes exact digits; a double is at least 1e-47 away (relative) from a tie at
        // decimal 16 or before, so 80 more decimals cannot round into the first dropped one.
        var chars = Array(String(format: "%.\(digits + 80)f", Swift.abs(r)).utf8)
        let dot = chars.firstIndex(of: UInt8(ascii: "."))!
        let roundUp = chars[dot + digits + 1] >= UInt8(ascii: "5")
        chars.removeSubrange((digits == 0 ? dot : dot + digits + 1)...)
        var i = chars.count - 1
        while roundUp, i >= 0 {
            if chars[i] == UInt8(ascii: ".") { i -= 1; continue }
            if chars[i] < UInt8(ascii: "9") { chars[i] += 1; break }
            chars[i] = UInt8(ascii: "0")
            if i == 0 { chars.insert(UInt8(ascii: "1"), at: 0) }
            i -= 1
        }
        let text = String(decoding: chars, as: UTF8.self)
        return r < 0 && chars.contains(where: { $0 > UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) ? "-" + text : text
    }

    /// `s` as a string literal the lexer reads back: quotes, backslashes and the escapable control
    /// characters (\n, \t, \r, \0) escaped, scalar by scalar (so "\r\n" is two escapes).
    static func quote(_ s: String) -> String {
        let body = Escaping.escaped(s.unicodeScalars) { u in
            switch u {
            case "\"": return "\\\""
            case "\\": return "\\\\"
            case "\n": return "\\n"
            case "\t": return "\\t"
            case "\r": return "\\r"
            case "\0": return "\\0"
            default: return nil
            }
        }
        return "\"" + body + "\""
    }

    static func key(_ k: String) -> String {
        guard let f = k.first, f.isLetter || f == "_", k.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            return quote(k)
        }
        return k
    }
}
