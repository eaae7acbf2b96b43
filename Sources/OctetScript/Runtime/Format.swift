import Foundation

/// Text forms of values: `display` (what `print` shows; strings raw) and `repr`
/// (strings quoted, as inside lists and records).
public enum Format {
    public static func display(_ v: Value) -> String {
        if case .string(let s) = v { return s }
        return repr(v)
    }

    /// A list or record that contains itself shows the inner occurrence as `[...]` or
    /// `{...}` (like Python), so cyclic values print instead of recursing forever.
    public static func repr(_ v: Value) -> String {
        var open: Set<ObjectIdentifier> = []
        return repr(v, open: &open)
    }

    /// `repr` with the containers currently being printed (the path from the root).
    private static func repr(_ v: Value, open: inout Set<ObjectIdentifier>) -> String {
        switch v {
        case .list(let l):
            guard open.insert(ObjectIdentifier(l)).inserted else { return "[...]" }
            defer { open.remove(ObjectIdentifier(l)) }
            var parts: [String] = []
            for item in l.items { parts.append(repr(item, open: &open)) }
            return "[" + parts.joined(separator: ", ") + "]"
        case .record(let r):
            guard open.insert(ObjectIdentifier(r)).inserted else { return "{...}" }
            defer { open.remove(ObjectIdentifier(r)) }
            var parts: [String] = []
            for (k, item) in r.pairs { parts.append("\(key(k)): \(repr(item, open: &open))") }
            return "{" + parts.joined(separator: ", ") + "}"
        default:
            return scalarRepr(v)
        }
    }

    /// `repr` of a value that holds no other values.
    private static func scalarRepr(_ v: Value) -> String {
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

    /// A real rounded to `digits` decimals for tables and reports.
    public static func fixed(_ r: Double, _ digits: Int) -> String {
        if !r.isFinite { return real(r) }
        var s = String(format: "%.\(digits)f", r)
        if s == "-0" || s.hasPrefix("-0.") && Double(s) == 0 { s.removeFirst() }
        return s
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for ch in s {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            default: out.append(ch)
            }
        }
        return out + "\""
    }

    static func key(_ k: String) -> String {
        guard let f = k.first, f.isLetter || f == "_", k.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            return quote(k)
        }
        return k
    }
}
