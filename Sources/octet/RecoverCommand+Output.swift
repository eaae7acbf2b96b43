import ArgumentParser
import Foundation
import OctetDPU
import OctetQuant
import OctetTensor

/// `octet recover --output`: the recovered model written as `octet deploy` or `octet export` writes it.
extension RecoverCommand {
    /// The kinds `--output` writes, by extension.
    enum OutputKind { case program, qdq }

    var outputKind: OutputKind? {
        guard let output else { return nil }
        let lower = output.lowercased()
        return lower.hasSuffix(".octprog") ? .program : lower.hasSuffix(".onnx") ? .qdq : nil
    }

    /// `--output`, `--target` and `--ties`, checked before any work.
    func validateOutput() throws {
        guard let output else {
            if target != nil || ties != nil { throw ValidationError("--\(target != nil ? "target" : "ties") applies to --output") }
            return
        }
        guard let kind = outputKind else {
            throw ValidationError("--output \(output): a DPU program (.octprog) or an ONNX QDQ model (.onnx)")
        }
        if target != nil && kind != .program { throw ValidationError("--target applies to an .octprog --output") }
        if ties != nil && kind != .qdq { throw ValidationError("--ties applies to an .onnx --output") }
        if let target { try CLI.checkTarget(target) }
        if let ties { _ = try CLI.ties(ties) }
        if AtomicFile.descriptor(output) == 1 || AtomicFile.sameFile(output, "/dev/stdout") { throw ValidationError("--output \(output): stdout holds recover's JSON line; write the model to a file") }
        try CLI.checkOutputFolder(output, option: "--output")
        try CLI.checkNotInput(output, option: "--output", inputs: inputFiles)
        if kind == .qdq { try CLI.checkQDQExportable(option) }
        if kind == .program, case let config = try ExportCommand.config(option), !config.isDPUDeployable {
            throw ValidationError("--option \(config.nonDPUOptions.joined(separator: ", ")): not DPU-deployable, so no .octprog --output; write an .onnx one")
        }
    }

    /// The files the command reads (an output may replace none of them).
    var inputFiles: [(what: String, path: String)] {
        [(what: "model", path: model), (what: "calibration data", path: calib), (what: "evaluation data", path: eval)]
            + (labels.map { [(what: "labels", path: $0)] } ?? [])
            + reference.compactMap { spec in spec.split(separator: "=", maxSplits: 1).last.map { (what: "reference", path: String($0)) } }
    }

    /// Writes `q` to `--output` as its extension says; the status line goes to stderr (stdout
    /// holds the JSON line). - Returns: what was written, for the JSON line.
    func write(_ q: QuantizedModel) throws -> String? {
        guard let output, let kind = outputKind else { return nil }
        let line: String
        switch kind {
        case .program:
            let t = try DPUTarget.named(target ?? DPUTarget.default.name)
            let program = try Compiler.compile(q.quantizedGraph, target: t)
            try ProgramFile.save(program, to: output)
            line = "wrote \(output): \(program.instructions.count) instructions for \(t.name)"
        case .qdq:
            try QDQExport.write(q, to: output, ties: try CLI.ties(ties ?? QDQExport.Ties.halfEven.rawValue))
            line = "wrote \(output): ONNX QDQ model (\(ties ?? QDQExport.Ties.halfEven.rawValue) ties)"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
        return output
    }
}
