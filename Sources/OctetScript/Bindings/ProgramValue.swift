import Foundation
import OctetDPU
import OctetGraph
import OctetTensor

/// OctetDPU's compiled program (OctetScript's `Program` is a parsed script).
typealias DPUProgram = OctetDPU.Program

/// A compiled DPU program as a script value: `p.run(x)` (bit-exact emulator), `p.save(path)`.
final class ProgramValue: RunnableModel {
    let program: DPUProgram
    let source: String
    private var emulatorCache: Emulator?

    init(_ program: DPUProgram, source: String) {
        self.program = program
        self.source = source
    }

    static func receiver(_ a: Arguments, _ i: Int = 0) throws -> ProgramValue {
        guard case .object(let p as ProgramValue) = a[i] else { throw a.typeError(i, "a Program (from deploy or load_program)") }
        return p
    }

    var typeName: String { "Program" }
    var runLabel: String { "DPU emulator" }

    func emulator() throws -> Emulator {
        if let e = emulatorCache { return e }
        let e = try Emulator(program: program)
        emulatorCache = e
        return e
    }

    func forward(_ x: Tensor, outputs names: [String]) throws -> [String: Tensor] { try emulator().run([try inputName(): x], outputs: names).outputs }
    var graph: Graph { program.graph }

    func inputName() throws -> String {
        guard let i = program.graph.inputs.first(where: { program.graph.initializers[$0.name] == nil }) else {
            throw BindingError.message("program has no input")
        }
        return i.name
    }

    var cpuNodes: [Instruction] { program.instructions.filter { $0.device == .cpu && $0.kind != .fused } }

    var summary: String {
        var lines = ["Program \(source) for \(program.target): \(program.instructions.count) instructions, "
                     + "\(program.dpuSubgraphCount) DPU / \(program.cpuSubgraphCount) CPU subgraphs, batch \(program.batchSize)"]
        if let macs = try? program.macsPerSample() { lines.append("  MACs per sample \(macs)") }
        for ins in cpuNodes.prefix(8) { lines.append("  CPU: \(ins.node) (\(ins.opType))" + (ins.reason.map { ": \($0)" } ?? "")) }
        return lines.joined(separator: "\n")
    }

    var propertyNames: [String] { ["target", "instructions", "dpu_subgraphs", "cpu_subgraphs", "fix_pos", "cpu_nodes"] }

    func property(_ name: String) throws -> Value? {
        switch name {
        case "target": return .string(program.target)
        case "instructions": return .object(instructionTable)
        case "dpu_subgraphs": return .int(program.dpuSubgraphCount)
        case "cpu_subgraphs": return .int(program.cpuSubgraphCount)
        case "fix_pos": return .record(RecordObject(program.fixPos.sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }))
        case "cpu_nodes": return .list(cpuNodes.map { .string($0.node) })
        default: return nil
        }
    }

    var instructionTable: TableValue {
        let rows = program.instructions.map { ins in
            RecordObject([("node", .string(ins.node)), ("op", .string(ins.opType)), ("kind", .string(ins.kind.rawValue)),
                          ("device", .string(ins.device.rawValue.uppercased())),
                          ("shift_cut", ins.shiftCut.map { .int($0) } ?? .string("-")),
                          ("shift_bias", ins.shiftBias.map { .int($0) } ?? .string("-"))])
        }
        return TableValue(columns: ["node", "op", "kind", "device", "shift_cut", "shift_bias"], rows: rows, title: "Instructions (\(program.target))")
    }

    var methods: BindingTable { ProgramValue.methodTable }

    static let methodTable = BindingTable(domain: "dpu", owner: "Program", [
        Builtin("run", ["self", "x"], named: [ParameterSpec("output", .null)],
                doc: "Runs a batch on the bit-exact DPU emulator; returns the output named `output` (default: the first) as real values (code · 2^−fix_pos).") { a, interp in
            let p = try receiver(a)
            return .object(TensorValue(try p.outputs(try DataInput.from(a, 1, interp), interp, output: try RunnableFeeds.outputName(a))))
        },
        Builtin("save", ["self", "path"], doc: "Writes the program file (atomic; format checked on load).") { a, interp in
            let p = try receiver(a)
            try ProgramFile.save(p.program, to: try DataInput.outputPath(a, 1, interp))
            return .null
        },
    ])

    func render(in notebook: RenderContext) throws -> RichRendering? {
        let t = instructionTable
        return .markdown("**Program** `\(source)` for \(program.target): \(program.dpuSubgraphCount) DPU / \(program.cpuSubgraphCount) CPU subgraphs\n\n"
            + MarkdownTable.render(t.columns, t.cells))
    }
}

/// `inspect(...)`: device per node, reasons, fused patterns, partition.
final class InspectionValue: DomainObject {
    let inspection: Inspection
    init(_ inspection: Inspection) { self.inspection = inspection }

    var typeName: String { "InspectReport" }
    var summary: String { inspection.table }

    var nodeTable: TableValue {
        let rows = inspection.nodes.map { n in
            RecordObject([("node", .string(n.node)), ("op", .string(n.opType)), ("kind", .string(n.kind.rawValue)),
                          ("device", .string(n.device.rawValue.uppercased())), ("subgraph", n.subgraph.map { .int($0) } ?? .string("-")),
                          ("reason", .string(n.reason ?? ""))])
        }
        return TableValue(columns: ["node", "op", "kind", "device", "subgraph", "reason"], rows: rows)
    }

    var propertyNames: [String] { ["nodes", "cpu", "dpu_subgraphs", "cpu_subgraphs", "partition", "patterns", "target"] }

    func property(_ name: String) throws -> Value? {
        switch name {
        case "nodes": return .object(nodeTable)
        case "cpu": return .list(inspection.cpuMessages.map { .string($0) })
        case "dpu_subgraphs": return .int(inspection.dpuSubgraphCount)
        case "cpu_subgraphs": return .int(inspection.cpuSubgraphCount)
        case "target": return .string(inspection.target)
        case "partition":
            return .list(inspection.subgraphs.map { s in
                .record(RecordObject([("index", .int(s.index)), ("device", .string(s.device.rawValue.uppercased())),
                                      ("nodes", .list(s.nodes.map { .string($0) }))]))
            })
        case "patterns": return .list(inspection.patterns.map { .string("\($0.name): " + $0.nodes.joined(separator: " → ")) })
        default: return nil
        }
    }

    func render(in notebook: RenderContext) throws -> RichRendering? {
        let t = nodeTable
        var md = "**Inspection** for \(inspection.target)\n\n" + MarkdownTable.render(t.columns, t.cells)
        md += "\nFused patterns: " + (inspection.patterns.isEmpty ? "none" : inspection.patterns.map { "`\($0.name)` (\($0.nodes.joined(separator: " → ")))" }.joined(separator: ", ")) + "\n"
        md += "\nPartition: " + inspection.subgraphs.map { "#\($0.index) \($0.device.rawValue.uppercased()) (\($0.nodes.count) nodes)" }.joined(separator: ", ") + "\n"
        return .markdown(md)
    }
}

/// `compare_dumps(a, b)`: per-node and per-parameter int8 mismatches and the first diverging node.
final class DumpComparisonValue: DomainObject {
    let comparison: DumpComparison
    let a: String, b: String
    init(_ c: DumpComparison, a: String, b: String) { comparison = c; self.a = a; self.b = b }

    var typeName: String { "DumpComparison" }
    var summary: String { "DumpComparison \(a) vs \(b): " + comparison.summary }

    var propertyNames: [String] { ["identical", "first_divergence", "mismatches", "nodes"] }

    func property(_ name: String) throws -> Value? {
        switch name {
        case "identical": return .bool(comparison.firstDivergence == nil)
        case "first_divergence": return comparison.firstDivergence.map { .string($0) } ?? .null
        case "mismatches": return .int(comparison.totalMismatches)
        case "nodes": return .object(nodeTable)
        default: return nil
        }
    }

    var nodeTable: TableValue {
        TableValue(columns: ["node", "tensor", "parameter", "mismatches", "count", "note"], rows: comparison.nodes.map { n in
            RecordObject([("node", .string(n.node)), ("tensor", .string(n.tensor)), ("parameter", .bool(n.parameter)),
                          ("mismatches", .int(n.mismatches)), ("count", .int(n.count)), ("note", .string(n.note ?? ""))])
        })
    }

    func render(in notebook: RenderContext) throws -> RichRendering? {
        let t = nodeTable
        let head = comparison.firstDiverging.map { "first diverging \($0.parameter ? "parameter" : "node"): **\($0.node)**" }
            ?? "all nodes and parameters identical"
        return .markdown("**Dump comparison** `\(a)` vs `\(b)`: \(comparison.totalMismatches) mismatching int8 values; \(head)\n\n"
            + MarkdownTable.render(t.columns, t.cells))
    }
}
