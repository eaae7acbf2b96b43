import OctetQuant

/// A quantization report (`q.report()`): per-tensor fix_pos, range, clipping and SQNR; per-layer
/// sensitivity ranked worst first; warnings. `r.plot()` charts per-tensor SQNR.
final class ReportValue: DomainObject {
    let report: QuantReport
    let model: String
    let method: String

    init(_ report: QuantReport, model: String, method: String) {
        self.report = report
        self.model = model
        self.method = method
    }

    var typeName: String { "Report" }

    var summary: String {
        let lines = report.table.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let head = "Report \(model) (\(method)): \(report.tensors.count) tensors, \(report.sensitivity.count) layers"
        return ([head] + lines.prefix(50) + (lines.count > 50 ? ["… \(lines.count - 50) more lines"] : [])).joined(separator: "\n")
    }

    static func number(_ x: Double) -> Value { .real(x) }

    var tensorRecords: [RecordObject] {
        report.tensors.map { t in
            RecordObject([("tensor", .string(t.tensor)), ("fix_pos", t.fixPos.map { .int($0) } ?? .null),
                          ("scale", .real(Double(t.params.scale))), ("min", .real(Double(t.min))), ("max", .real(Double(t.max))),
                          ("clipped_pct", .real(100 * t.clipped)), ("sqnr_db", .real(t.sqnr))])
        }
    }

    /// Layers ranked worst first (lowest network-output SQNR with only that layer quantized).
    var sensitivityTable: TableValue {
        let rows = report.sensitivity.enumerated().map { i, s in
            RecordObject([("rank", .int(i + 1)), ("layer", .string(s.node)), ("op", .string(s.opType)), ("sqnr_db", .real(s.sqnr))])
        }
        return TableValue(columns: ["rank", "layer", "op", "sqnr_db"], rows: rows, title: "Sensitivity (only this layer quantized)")
    }

    var propertyNames: [String] { ["tensors", "sensitivity", "warnings", "worst"] }

    func property(_ name: String) throws -> Value? {
        switch name {
        case "tensors": return .object(TableValue(records: tensorRecords, title: "Quantized tensors"))
        case "sensitivity": return .object(sensitivityTable)
        case "warnings": return .list(report.warnings.map { .string($0) })
        case "worst": return report.sensitivity.first.map { .string($0.node) } ?? .null
        default: return nil
        }
    }

    var methods: BindingTable { ReportValue.methodTable }

    static let methodTable = BindingTable(domain: "quant", owner: "Report", [
        Builtin("plot", ["self"], doc: "Bar chart of each quantized tensor's SQNR (dB) against the float model.") { a, _ in
            guard case .object(let r as ReportValue) = a[0] else { throw a.typeError(0, "a Report") }
            let finite = r.report.tensors.filter { $0.sqnr.isFinite }
            return .object(Plot(.bar(labels: finite.map(\.tensor), values: finite.map(\.sqnr)),
                                title: "Per-tensor SQNR, \(r.method)", xLabel: "tensor", yLabel: "SQNR dB"))
        },
    ])

    func render(in notebook: RenderContext) throws -> RichRendering? {
        let t = TableValue(records: tensorRecords)
        var md = "**Quantization report** `\(model)` (\(method))\n\n" + MarkdownTable.render(t.columns, t.cells)
        if !report.sensitivity.isEmpty {
            let s = sensitivityTable
            md += "\n**\(s.title)**\n\n" + MarkdownTable.render(s.columns, s.cells)
        }
        for w in report.warnings { md += "\n> warning: \(w)\n" }
        return .markdown(md)
    }
}
