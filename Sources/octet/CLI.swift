import ArgumentParser
import Foundation
import OctetDPU
import OctetGraph
import OctetQuant
import OctetTensor

/// Shared CLI plumbing: errors become one `error:` line on stderr (exit 64 for usage errors, 1 otherwise).
enum CLI {
    /// Upper bound of `--threads` (kernel threads; OpenBLAS is built for at most 64 of its own).
    static let maxThreads = 256

    /// Default of `--threads`: the cores this process may use (results do not depend on it).
    static let defaultThreads = min(maxThreads, max(1, ProcessInfo.processInfo.activeProcessorCount))

    /// - Throws: `ValidationError` unless 1 ≤ threads ≤ `maxThreads`.
    static func checkThreads(_ threads: Int) throws {
        guard (1...maxThreads).contains(threads) else {
            throw ValidationError("--threads \(threads): must be between 1 and \(maxThreads)")
        }
    }

    /// Checked before any work (a usage error, exit 64): an `--output` named with the other kind's
    /// extension, a program (.octprog) where ONNX is written or the reverse, is refused.
    static func checkOutputExtension(_ path: String, writesProgram: Bool) throws {
        let lower = path.lowercased()
        if writesProgram, lower.hasSuffix(".onnx") {
            throw ValidationError("--output \(path): deploy writes a DPU program (.octprog); `octet export` writes an ONNX QDQ model")
        }
        if !writesProgram, lower.hasSuffix(".octprog") {
            throw ValidationError("--output \(path): export writes an ONNX QDQ model (.onnx); `octet deploy` writes a DPU program")
        }
    }

    /// Checked before any work (usage errors, exit 64): the folder an output file goes into exists.
    /// - Throws: `ValidationError` naming the option and the folder.
    static func checkOutputFolder(_ path: String, option: String) throws {
        do { try AtomicFile.checkTarget(path) } catch { throw ValidationError("\(option): \(error)") }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw ValidationError("\(option) \(path): \(dir) is not an existing folder")
        }
    }

    /// Checked before anything is written (in `validate`, a usage error, exit 64): an output path
    /// names none of the command's input files (links and hard links included, `AtomicFile.sameFile`).
    /// - Throws: `ValidationError` naming the option, the output and the input it would replace.
    static func checkNotInput(_ output: String, option: String, inputs: [(what: String, path: String)]) throws {
        for (what, path) in inputs where AtomicFile.sameFile(output, path) {
            throw ValidationError("\(option) \(output) is the \(what) \(path); choose another path")
        }
    }

    /// The files a loaded model's initializers were read from (ONNX external data), as inputs
    /// that no output may replace.
    static func externalData(_ m: Model) -> [(what: String, path: String)] {
        m.graph.externalDataFiles.map { (what: "model's external data", path: $0) }
    }

    /// Checked before any work (usage errors, exit 64): a folder output that replaces its folder
    /// whole holds none of the command's input files.
    static func checkNoInputWithin(_ folder: String, option: String, inputs: [(what: String, path: String)]) throws {
        for (what, path) in inputs where AtomicFile.isWithin(path, folder: folder) {
            throw ValidationError("\(option) \(folder) holds the \(what) \(path), and a dump replaces the folder; choose another folder")
        }
    }

    /// After loading (a usage error, exit 64): the options' excluded nodes and op types exist in `m`.
    static func checkOptions(_ options: [String], for m: Model) throws {
        do { try ExportCommand.config(options).checkExclusions(in: m.graph) } catch let e as ValidationError { throw e } catch {
            throw ValidationError("--option \(error)")
        }
    }

    /// Checked before loading (a usage error, exit 64): `name` is a known DPU target.
    /// The `--ties` value of a QDQ output. - Throws: `ValidationError` listing the accepted ones.
    static func ties(_ name: String) throws -> QDQExport.Ties {
        guard let t = QDQExport.Ties(rawValue: name) else {
            throw ValidationError("--ties '\(name)': accepted: " + QDQExport.Ties.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return t
    }

    static func checkTarget(_ name: String) throws {
        do { _ = try DPUTarget.named(name) } catch { throw ValidationError("--target \(error)") }
    }

    /// Checked before loading (a usage error, exit 64): a `--batch` the loader accepts.
    static func checkBatch(_ batch: Int?) throws {
        guard let batch else { return }
        guard (1...Model.maxBatchSize).contains(batch) else {
            throw ValidationError("--batch \(batch): must be between 1 and \(Model.maxBatchSize)")
        }
    }

    /// A given `--batch` that the loaded model does not take: its inputs fix another batch size.
    static func checkBatch(_ batch: Int?, for m: Model) throws {
        guard let batch, !m.symbolicBatch else { return }
        let fixed = m.inputs.map { "'\($0.name)' \($0.dims)" }.joined(separator: ", ")
        throw ValidationError("--batch \(batch): the model fixes its batch size at \(m.batchSize) (input \(fixed)); --batch sets a symbolic one")
    }

    /// Checked before any work: a QDQ output of this configuration can be written.
    /// - Throws: `ValidationError` (exit 64).
    static func checkQDQExportable(_ options: [String]) throws {
        do { try QDQExport.checkExportable(try ExportCommand.config(options)) } catch let e as ValidationError { throw e } catch {
            throw ValidationError("--output: \(error)")
        }
    }

    /// Checked once the model is loaded, before calibrating: the model can be written as QDQ.
    /// - Throws: `DataError` (exit 1) naming the model file.
    static func checkQDQExportable(model path: String, opset: Int) throws {
        do { try QDQExport.checkExportable(QConfig(), opset: opset) } catch { throw DataError("\(path): \(error)") }
    }

    /// Checked before any work: the `--option name=value` list parses into a configuration.
    static func checkOptions(_ options: [String]) throws {
        do { _ = try ExportCommand.config(options) } catch let e as ValidationError { throw e } catch {
            throw ValidationError("--option: \(error)")
        }
    }

    /// Prints a status line ("wrote …") on stdout, or on stderr when one of `outputs` is the
    /// process's stdout (`/dev/stdout`, `/dev/fd/1`), so the line does not end up in that output.
    static func status(_ line: String, outputs: [String?]) {
        if outputs.contains(where: { $0.flatMap(AtomicFile.descriptor) == 1 }) {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        } else {
            print(line)
        }
    }

    /// Runs a command's body: an error is printed as `error: …` and exits 64 (EX_USAGE) for a usage
    /// error found after loading (`ValidationError`: an option that does not fit the model), 1 for
    /// anything else (`DataError`, model, quantization and I/O errors).
    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ExitCode { throw e } catch let e as CleanExit { throw e } catch {
            // A write that failed because a signal's cleanup removed its temporary is not reported:
            // the process is about to end with that signal.
            while endingOnSignal != 0 { pause() }
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw error is ValidationError ? ExitCode(64) : ExitCode(1)
        }
    }

    /// SIGINT, SIGTERM and SIGHUP end the process as they would, after removing the temporary
    /// files and folders being written (`AtomicFile.removeTemporaries`). The handler only writes
    /// the signal's number to a pipe; a thread reading it does the removal, outside any signal
    /// handler, then ends the process with the signal. A signal ignored at start stays ignored.
    /// Every command but the REPL takes it for the three; `run` for SIGTERM and SIGHUP, its Ctrl-C
    /// cancelling the script instead (a second one calls `endWithSignal`).
    static func removeTemporariesOnSignals(_ signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        signalPipe = fds[1]
        for s in signals {
            let previous = signal(s, SIG_IGN)
            if unsafeBitCast(previous, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            signal(s) { received in endWithSignal(received) }
        }
        let readEnd = fds[0]
        Thread.detachNewThread {
            var byte: UInt8 = 0
            guard read(readEnd, &byte, 1) == 1 else { return }
            endingOnSignal = 1
            AtomicFile.removeTemporaries()
            signal(Int32(byte), SIG_DFL)
            raise(Int32(byte))
        }
    }

    /// Prints the quantizer's warnings (a semantics change such as LeakyRelu's alpha replaced by
    /// the DPU's 26/256) to stderr, one `warning:` line each.
    static func warnQuantization(_ q: QuantizedModel) {
        for w in q.annotations.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
    }

    /// Each batch's per-sample shape against the model's input of its name (`Model.checkShape`),
    /// and at least one sample. - Throws: `DataError` naming `source`, the input and the shapes.
    static func checkShapes(_ feeds: [String: Tensor], for m: Model, source: String) throws {
        for input in m.inputs {
            guard let t = feeds[input.name] else { continue }
            do { try m.checkShape(t, for: input) } catch { throw DataError("\(source): \(error)") }
            if t.shape[0] == 0 { throw DataError("\(source): input '\(input.name)' is an empty batch") }
        }
    }

    /// Warns on stderr when float inputs hold NaN or ±∞ (they run, but quantize to a clamp
    /// value and rarely mean what was intended), naming the input and the first bad sample.
    static func warnNonFinite(_ feeds: [String: Tensor], source: String) {
        for (name, t) in feeds.sorted(by: { $0.key < $1.key }) {
            guard let bad = t.firstNonFinite() else { continue }
            FileHandle.standardError.write(Data("warning: \(source): input '\(name)' has NaN/Inf values (first in sample \(bad.sample))\n".utf8))
        }
    }
}

/// An input file whose contents do not fit (empty batch, wrong dtype or shape, non-finite values):
/// exit 1, where a `ValidationError` is a usage error (exit 64).
struct DataError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }

    /// A model without inputs (it computes constants), named by its path when the caller has it.
    static func noInputs(model: String?) -> DataError {
        DataError((model.map { "\($0): " } ?? "") + "the model has no inputs (it computes constants); nothing to feed")
    }
}

/// `--u8 offset,scale`: uint8 samples become x = (u8 − offset) / scale (how the shared data's
/// images are preprocessed), for `deploy`, `export`, `recover`, `bench`, `dump`, `eval` and `infer`.
struct U8Transform {
    var offset: Float
    var scale: Float
    static let help: ArgumentHelp = "uint8 inputs: x = (u8 − offset) / scale, as 'offset,scale'."

    /// nil without the option. - Throws: `ValidationError` for a malformed or degenerate value.
    static func parse(_ text: String?) throws -> U8Transform? {
        guard let text else { return nil }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let p = parts.compactMap { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, p.count == 2 else {
            throw ValidationError("--u8 expects two numbers 'offset,scale' (e.g. 127,128), got '\(text)'")
        }
        guard p[0].isFinite, p[1].isFinite, p[1] != 0, ((255 + abs(p[0])) / abs(p[1])).isFinite else {
            throw ValidationError("--u8 '\(text)': the offset must be finite and the scale finite, non-zero and large enough that (u8 − offset) / scale stays finite")
        }
        return U8Transform(offset: p[0], scale: p[1])
    }

    /// - Throws: `DataError` when `t` (read from `path`) is not uint8.
    func apply(_ t: Tensor, path: String) throws -> Tensor {
        guard t.dtype == .uint8 else { throw DataError("--u8: \(path) holds \(t.dtype) values, not uint8") }
        return Tensor(shape: t.shape, floats: t.uint8s.map { (Float($0) - offset) / scale })
    }
}

/// The write end of the pipe `CLI.removeTemporariesOnSignals`'s handler writes to.
private var signalPipe: Int32 = -1
/// Set once a signal's cleanup has begun.
private var endingOnSignal: Int32 = 0

/// Ends the process with `signal` (async-signal-safe): through the thread that removes the
/// temporaries first when `CLI.removeTemporariesOnSignals` set one up, else at once.
func endWithSignal(_ signal: Int32) {
    guard signalPipe >= 0 else { _exit(128 + signal) }
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(signalPipe, &byte, 1)
}
