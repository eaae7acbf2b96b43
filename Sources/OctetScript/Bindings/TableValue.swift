/// Rows of named columns: prints as an aligned text table, renders as a Markdown table in
/// notebooks. Built by `table(rows)` from a list of records (columns in first-seen key order)
/// and returned by domain reports (`q.sensitivity(data)`, stdlib `sweep`).
public final class TableValue: DomainObject, IterableObject, IndexableObject, LengthObject {
    public let columns: [String]
    /// Each row as a record (shared with scripts that index the table).
    public let rows: [RecordObject]
    public let title: String

    public init(columns: [String], rows: [RecordObject], title: String = "") {
        self.columns = columns
        self.rows = rows
        self.title = title
    }

    /// A table of records; columns are the union of keys in first-seen order.
    public convenience init(records: [RecordObject], title: String = "") {
        var cols: [String] = []
        for r in records { for k in r.keys where !cols.contains(k) { cols.append(k) } }
        self.init(columns: cols, rows: records, title: title)
    }

    public var typeName: String { "Table" }
    public var length: Int? { rows.count }

    /// Cell text: reals of magnitude 1 to 1e15 with 2 decimals; smaller ones exactly when short
    /// (a scale 0.015625), else with 4 decimals, or 3 significant digits with an exponent below
    /// 1e-4 and from 1e15 on; everything else as `print` shows it.
    static func cell(_ v: Value?) -> String {
        guard let v else { return "" }
        guard case .real(let r) = v, r.isFinite else { return Format.display(v) }
        if r != 0 && (abs(r) >= 1e15 || abs(r) < 1e-4) { return String(format: "%.3g", r) }
        if abs(r) >= 1 || r == 0 { return Format.fixed(r, 2) }
        let exact = Format.real(r)
        return exact.count <= 9 && !exact.contains("e") ? exact : Format.fixed(r, 4)
    }

    var cells: [[String]] { rows.map { r in columns.map { TableValue.cell(r[$0]) } } }

    /// Text-table cell: line breaks and tabs shown as `\n`, `\r`, `\t`, so a row stays one line.
    static func oneLine(_ s: String) -> String {
        guard s.contains(where: { $0.isNewline || $0 == "\t" }) else { return s }
        return Escaping.escaped(s.unicodeScalars) { u in
            switch u {
            case "\n": return "\\n"
            case "\r": return "\\r"
            case "\t": return "\\t"
            default: return nil
            }
        }
    }

    public var summary: String {
        let body = cells.map { $0.map(TableValue.oneLine) }
        let columns = columns.map(TableValue.oneLine)
        let widths = columns.indices.map { c in ([columns[c]] + body.map { $0[c] }).map(\.count).max() ?? 0 }
        func line(_ r: [String]) -> String {
            var s = ""
            for (c, text) in r.enumerated() {
                let numeric = Double(text) != nil || text == "inf" || text == "nan"
                let fill = String(repeating: " ", count: widths[c] - text.count)
                s += (c == 0 ? "" : "  ") + (numeric ? fill + text : text + (c == r.count - 1 ? "" : fill))
            }
            return s
        }
        var out = title.isEmpty ? [] : [title]
        out.append(line(columns))
        out.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
        out += body.prefix(60).map(line)
        if body.count > 60 { out.append("… \(body.count - 60) more rows") }
        return out.joined(separator: "\n")
    }

    public var propertyNames: [String] { ["columns", "rows"] }

    public func property(_ name: String) throws -> Value? {
        switch name {
        case "columns": return .list(columns.map { .string($0) })
        case "rows": return .list(rows.map { .record($0) })
        default: return nil
        }
    }

    public func elements() throws -> [Value] { rows.map { .record($0) } }

    public func index(_ indices: [Value]) throws -> Value {
        guard indices.count == 1, case .int(let i) = indices[0] else {
            throw BindingError.message("a table is indexed by one row number")
        }
        let k = i < 0 ? rows.count + i : i  // negative counts from the end, as for lists
        guard k >= 0 && k < rows.count else { throw BindingError.message("row \(i) out of range for \(rows.count) rows") }
        return .record(rows[k])
    }

    public func render(in notebook: RenderContext) throws -> RichRendering? {
        let head = title.isEmpty ? "" : "**\(MarkdownTable.inline(title))**\n\n"
        guard !columns.isEmpty else { return .markdown(head + "*(empty table)*\n") }
        return .markdown(head + MarkdownTable.render(columns, cells))
    }
}

/// Markdown pipe tables; `|`, `&`, `<` and `>` in cells are escaped.
enum MarkdownTable {
    /// Text for one line of emphasis (a table title): line breaks become spaces and Markdown's
    /// emphasis and escape characters are escaped.
    static func inline(_ s: String) -> String {
        Escaping.escaped(s.unicodeScalars) { u in
            switch u {
            case "*", "_", "\\", "`": return "\\" + String(u)
            case _ where u.properties.generalCategory == .control: return " "
            default: return nil
            }
        }
    }

    static func render(_ header: [String], _ rows: [[String]]) -> String {
        func line(_ r: [String]) -> String {
            "| " + r.map(cell).joined(separator: " | ") + " |"
        }
        // A line break inside a cell would end the row: it becomes <br>, as GitHub Markdown renders it.
        // HTML in a cell is shown as text, not rendered.
        func cell(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
                .replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\r\n", with: "<br>")
                .replacingOccurrences(of: "\n", with: "<br>").replacingOccurrences(of: "\r", with: "<br>")
        }
        let rule = "|" + header.map { _ in "---|" }.joined()
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// The `table` builtin.
enum TableBindings {
    static let table = BindingTable(domain: "table", [
        Builtin("table", ["rows"], named: [ParameterSpec("title", .string(""))],
                doc: "A Table from a list of records (columns: keys in first-seen order); prints aligned, renders as Markdown in notebooks.") { a, _ in
            let records = try a.list(0).map { v -> RecordObject in
                guard case .record(let r) = v else { throw a.fail(0, "table rows must be records, found \(v.typeName)") }
                return r
            }
            return .object(TableValue(records: records, title: try a.string("title")))
        },
    ])
}
