import Foundation
import OctetDPU
import OctetGraph
import OctetTensor

/// DPU deployment: `targets()`, `target_limits(name)`, `inspect`, `deploy`, `load_program`,
/// `dump`, `compare_dumps`.
enum DPUBindings {
    static let target = ParameterSpec("target", .string(DPUTarget.default.name))

    static func dpuTarget(_ a: Arguments) throws -> DPUTarget {
        let name = try a.string("target")
        guard let t = DPUTarget.all.first(where: { $0.name.lowercased() == name.lowercased() }) else {
            throw BindingError.named("target", "unknown target '\(name)'; accepted: " + DPUTarget.all.map(\.name).joined(separator: ", "))
        }
        return t
    }

    static let table = BindingTable(domain: "dpu", [
        Builtin("targets", [String](), doc: "Table of the built-in DPU targets (the default first): parallelism, peak ops per cycle, channel limits.") { _, _ in
            let rows = DPUTarget.all.map { t in
                RecordObject([("name", .string(t.name)), ("isa", .int(t.isaVersion)), ("peak_ops_per_cycle", .int(t.peakOpsPerCycle)),
                              ("pixel_parallel", .int(t.conv.pixelParallel)), ("icp", .int(t.conv.inputChannelParallel)),
                              ("ocp", .int(t.conv.outputChannelParallel)), ("max_conv_channels", .int(t.maxConvChannels))])
            }
            return .object(TableValue(records: rows, title: "DPU targets"))
        },
        Builtin("target_limits", ["name"], doc: "The target's engine limits as text (banks, kernel/stride/pad ranges, nonlinear functions).") { a, _ in
            let name = try a.string(0)
            guard let t = DPUTarget.all.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                throw a.fail(0, "unknown target '\(name)'; accepted: " + DPUTarget.all.map(\.name).joined(separator: ", "))
            }
            return .string(t.limitsText)
        },
        Builtin("inspect", ["model"], named: [target],
                doc: "Where each node runs on `target` and why (DPU or CPU, the rule it breaks), fused patterns and the DPU/CPU partition. Takes a float Model or a QuantizedModel.") { a, _ in
            let t = try dpuTarget(a)
            switch a[0] {
            case .object(let m as ModelValue): return .object(InspectionValue(try Inspector.inspect(m.model.graph, target: t)))
            case .object(let q as QuantizedModelValue): return .object(InspectionValue(try Inspector.inspect(q.q.quantizedGraph, target: t)))
            default: throw a.typeError(0, "a Model or QuantizedModel")
            }
        },
        Builtin("deploy", ["q"], named: [target],
                doc: "Compiles a DPU-deployable QuantizedModel into a Program for `target` (int8 weights, shifts checked against the hardware); p.run(x) emulates it bit-exactly.") { a, _ in
            let q = try QuantizedModelValue.receiver(a, 0)
            let off = q.q.config.nonDPUOptions
            guard off.isEmpty else {
                throw BindingError.message("not deployable on the DPU: quantized with \(off.joined(separator: ", ")); "
                    + "the DPU runs 8-bit signed per-tensor power-of-two with every node quantized")
            }
            let program = try Compiler.compile(q.q.quantizedGraph, target: try dpuTarget(a))
            return .object(ProgramValue(program, source: q.float.displayPath))
        },
        Builtin("load_program", ["path"], doc: "Reads a program saved by p.save(path) (checksummed .octprog file).") { a, interp in
            let path = try a.string(0)
            return .object(ProgramValue(try ProgramFile.load(path: try DataInput.existingPath(path, a, 0, interp)), source: path))
        },
        Builtin("dump", ["program", "x", "dir"],
                doc: "Golden dump: runs the program on `x` and writes every instruction's int8 output (.bin + .npy), int8 parameters, float outputs and manifest.json to `dir`.") { a, interp in
            let p = try ProgramValue.receiver(a, 0)
            let data = try DataInput.from(a, 1, interp), x = try data.all()
            if let bad = x.firstNonFinite() { interp.warn("\(data.name) has NaN/Inf values (first in sample \(bad.sample))") }
            let dir = try a.string(2)
            guard !dir.isEmpty else { throw a.fail(2, "the path is empty") }
            // GoldenDump creates missing folders itself and removes them again when the run fails.
            let folder = interp.resolvePath(dir)
            if let read = interp.readFile(within: folder) {
                throw a.fail(2, "\(dir) holds \(read), which this script read, and a dump replaces the folder; choose another folder")
            }
            try GoldenDump.write(p.program, feeds: [try p.inputName(): x], to: folder)
            interp.noteWritten(folder)
            return .null
        },
        Builtin("compare_dumps", ["a", "b"],
                doc: "Compares two golden dump folders node by node, then parameter by parameter (int8 values, shapes, fix_pos); reports the first diverging node.") { a, interp in
            let x = try DataInput.existingPath(try a.string(0), a, 0, interp)
            let y = try DataInput.existingPath(try a.string(1), a, 1, interp)
            return .object(DumpComparisonValue(try GoldenDump.compare(x, y), a: try a.string(0), b: try a.string(1)))
        },
    ])
}
