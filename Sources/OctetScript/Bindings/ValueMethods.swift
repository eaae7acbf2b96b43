import Foundation

/// Methods of the built-in value types (`xs.append(1)`, `s.upper()`, `r.keys()`).
/// Each builtin takes the receiver as its first positional argument.
enum ValueMethods {
    static func table(for value: Value) -> BindingTable? {
        switch value {
        case .list: return list
        case .string: return string
        case .record: return record
        default: return nil
        }
    }

    static func items(_ a: Arguments) -> ListObject {
        if case .list(let l) = a[0] { return l }
        preconditionFailure("list method called on \(a[0].typeName)")
    }

    static let list = BindingTable(domain: "list", owner: "list", [
        Builtin("append", ["self", "item"], doc: "Appends `item` to the end of the list; returns nil.") { a, _ in
            let l = items(a)
            try Limits.checkList(l.items.count + 1)
            l.items.append(a[1]); return .null
        },
        Builtin("pop", ["self"], doc: "Removes and returns the last item.") { a, _ in
            let l = items(a)
            guard !l.items.isEmpty else { throw BindingError.message("pop from an empty list") }
            return l.items.removeLast()
        },
        Builtin("insert", ["self", "index", "item"], doc: "Inserts `item` before position `index`.") { a, _ in
            let l = items(a), i = try a.int(1)
            guard i >= 0 && i <= l.items.count else { throw a.fail(1, "index \(i) out of range for insert into length \(l.items.count)") }
            try Limits.checkList(l.items.count + 1)
            l.items.insert(a[2], at: i); return .null
        },
        Builtin("contains", ["self", "item"], doc: "True when an item equals `item`.") { a, _ in
            .bool(items(a).items.contains { Interpreter.equal($0, a[1]) })
        },
        Builtin("index_of", ["self", "item"], doc: "Position of the first item equal to `item`, or -1.") { a, _ in
            .int(items(a).items.firstIndex { Interpreter.equal($0, a[1]) } ?? -1)
        },
        Builtin("map", ["self", "fn"], doc: "A new list of `fn(item)` for every item.") { a, interp in
            let f = try a.callable(1)
            return .list(ListObject(try items(a).items.map { try interp.call(f, [$0]) }))
        },
        Builtin("filter", ["self", "fn"], doc: "A new list of the items for which `fn(item)` is true.") { a, interp in
            let f = try a.callable(1)
            return .list(ListObject(try items(a).items.filter {
                guard case .bool(let keep) = try interp.call(f, [$0]) else { throw BindingError.message("filter function must return a bool") }
                return keep
            }))
        },
        Builtin("reduce", ["self", "fn", "initial"], doc: "Folds the list: `acc = fn(acc, item)` starting from `initial`.") { a, interp in
            let f = try a.callable(1)
            return try items(a).items.reduce(a[2]) { try interp.call(f, [$0, $1]) }
        },
        Builtin("sorted", ["self"], named: [ParameterSpec("reverse", .bool(false))],
                doc: "A sorted copy (numbers or strings; numbers by exact value, NaN last).") { a, _ in
            var xs = items(a).items
            try xs.sort { try ValueMethods.less($0, $1) }
            if try a.bool("reverse") { xs.reverse() }
            return .list(ListObject(xs))
        },
        Builtin("reversed", ["self"], doc: "A reversed copy.") { a, _ in .list(ListObject(items(a).items.reversed())) },
        Builtin("join", [ParameterSpec("self"), ParameterSpec("separator", .string(""))],
                doc: "Concatenates the items' text with `separator` between them.") { a, _ in
            let separator = try a.string(1)
            var out = "", first = true
            for item in items(a).items {
                if !first { try Limits.checkString(out.utf8.count + separator.utf8.count); out += separator }
                first = false
                out += try Format.display(item, after: out.utf8.count)
            }
            return .string(out)
        },
        Builtin("take", ["self", "n"], doc: "The first `n` items (all when shorter).") { a, _ in
            .list(ListObject(Array(items(a).items.prefix(max(0, try a.int(1))))))
        },
    ])

    /// Sort order: strings by text; numbers by exact value (`Interpreter.compareNumbers`) with NaN
    /// last (a strict weak order, so a list holding NaN still sorts).
    static func less(_ x: Value, _ y: Value) throws -> Bool {
        if case .string(let p) = x, case .string(let q) = y { return p < q }
        guard let p = x.number, y.number != nil else {
            throw BindingError.message("cannot compare \(x.typeName) with \(y.typeName)")
        }
        if let order = Interpreter.compareNumbers(x, y) { return order == .orderedAscending }
        return !p.isNaN  // y is NaN
    }

    static func text(_ a: Arguments) -> String {
        if case .string(let s) = a[0] { return s }
        preconditionFailure("string method called on \(a[0].typeName)")
    }

    static let string = BindingTable(domain: "string", owner: "string", [
        Builtin("upper", ["self"], doc: "Upper-cased copy.") { a, _ in try Limits.checkedString(text(a).uppercased()) },
        Builtin("lower", ["self"], doc: "Lower-cased copy.") { a, _ in try Limits.checkedString(text(a).lowercased()) },
        Builtin("strip", ["self"], doc: "Copy without leading and trailing whitespace.") { a, _ in
            .string(text(a).trimmingCharacters(in: .whitespacesAndNewlines))
        },
        Builtin("split", [ParameterSpec("self"), ParameterSpec("separator", .null)],
                doc: "Pieces between `separator` (default: runs of whitespace).") { a, _ in
            let s = text(a)
            if case .null = a[1] { return .list(ListObject(s.split(whereSeparator: { $0.isWhitespace }).map { .string(String($0)) })) }
            let sep = try a.string(1)
            guard !sep.isEmpty else { throw a.fail(1, "separator must not be empty") }
            // Matched as `contains` and `replace` match (by scalars: "\n" splits "\r\n" too).
            var parts: [Value] = [], at = s.startIndex
            while let r = s.range(of: sep, range: at..<s.endIndex) {
                parts.append(.string(String(s[at..<r.lowerBound])))
                at = r.upperBound
            }
            parts.append(.string(String(s[at...])))
            return .list(ListObject(parts))
        },
        Builtin("contains", ["self", "text"], doc: "True when `text` occurs in the string.") { a, _ in
            .bool(text(a).contains(try a.string(1)))
        },
        Builtin("starts_with", ["self", "prefix"], doc: "True when the string starts with `prefix`.") { a, _ in
            .bool(text(a).hasPrefix(try a.string(1)))
        },
        Builtin("ends_with", ["self", "suffix"], doc: "True when the string ends with `suffix`.") { a, _ in
            .bool(text(a).hasSuffix(try a.string(1)))
        },
        Builtin("replace", ["self", "old", "new"], doc: "Copy with every `old` replaced by `new`.") { a, _ in
            let old = try a.string(1)
            guard !old.isEmpty else { throw a.fail(1, "text to replace must not be empty") }
            let s = text(a), new = try a.string(2)
            var count = 0, at = s.startIndex
            while let r = s.range(of: old, range: at..<s.endIndex) { count += 1; at = r.upperBound }
            let (grow, o1) = count.multipliedReportingOverflow(by: new.utf8.count - old.utf8.count)
            try Limits.checkString(o1 ? Int.max : s.utf8.count + grow)
            return .string(s.replacingOccurrences(of: old, with: new))
        },
        Builtin("pad", ["self", "width"], named: [ParameterSpec("left", .bool(false))],
                doc: "Pads with spaces to `width` characters (on the right, or the left with `left: true`); a string already that wide is returned as is.") { a, _ in
            let s = text(a), w = try a.int(1)
            let n = w > s.count ? w - s.count : 0
            try Limits.checkString(n > Limits.maxStringBytes ? n : s.utf8.count + n)
            let fill = String(repeating: " ", count: n)
            return .string(try a.bool("left") ? fill + s : s + fill)
        },
    ])

    static func rec(_ a: Arguments) -> RecordObject {
        if case .record(let r) = a[0] { return r }
        preconditionFailure("record method called on \(a[0].typeName)")
    }

    static let record = BindingTable(domain: "record", owner: "record", [
        Builtin("keys", ["self"], doc: "The keys in insertion order.") { a, _ in .list(ListObject(rec(a).keys.map { .string($0) })) },
        Builtin("values", ["self"], doc: "The values in key order.") { a, _ in .list(ListObject(rec(a).pairs.map { $0.1 })) },
        Builtin("has", ["self", "key"], doc: "True when the record has `key`.") { a, _ in .bool(rec(a)[try a.string(1)] != nil) },
        Builtin("get", [ParameterSpec("self"), ParameterSpec("key"), ParameterSpec("default", .null)],
                doc: "The value at `key`, or `default` when absent.") { a, _ in rec(a)[try a.string(1)] ?? a[2] },
        Builtin("remove", ["self", "key"], doc: "Removes `key`; returns its value or nil.") { a, _ in
            let r = rec(a), k = try a.string(1)
            let v = r[k]
            r[k] = nil
            return v ?? .null
        },
    ])
}
