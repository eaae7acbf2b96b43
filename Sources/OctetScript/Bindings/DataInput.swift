import Foundation
import OctetTensor

/// Samples handed to a builtin that takes data: a Tensor batch (first axis = samples), a
/// Dataset, or a path to a `.npy`, `.npz` or image folder (loaded as `dataset(path)` would).
///
/// Work over the samples runs in chunks of `chunk` so long loops report progress and stop at
/// the next chunk on Ctrl-C.
struct DataInput {
    enum Source {
        case tensor(Tensor, labels: [Int]?)
        case dataset(Dataset)
    }

    let source: Source
    /// What the data is, for messages (`dataset digits_test.npz:images`, `Tensor [3, 28, 28]`).
    let name: String

    var count: Int {
        switch source {
        case .tensor(let t, _): return t.rank == 0 ? 0 : t.shape[0]
        case .dataset(let d): return d.count
        }
    }

    var labels: [Int]? {
        switch source {
        case .tensor(_, let l): return l
        case .dataset(let d): return d.labels
        }
    }

    /// Samples `range` as one batch: float32, or a Tensor's own dtype when that is `dtype` (an
    /// int64 batch for a model with an int64 input).
    func samples(_ range: Range<Int>, as dtype: DType = .float32) throws -> Tensor {
        switch source {
        case .tensor(let t, _):
            let x = range == 0..<count ? t : TensorBatch.slice(t, start: range.lowerBound, count: range.count, padTo: range.count)
            return x.dtype == dtype || x.dtype == .float32 ? x : x.converted(to: .float32)
        case .dataset(let d):
            try Self.checkBatchSize(d, range.count)
            return try d.samples(range)
        }
    }

    func all() throws -> Tensor { try samples(0..<count) }

    /// `n` samples of `d` fit one tensor (each image does; all of them, decoded, may not).
    static func checkBatchSize(_ d: Dataset, _ n: Int) throws {
        do { try Limits.checkTensor([n] + d.sampleShape) } catch {
            throw BindingError.message("\(d.name): \(n) samples of \(d.sampleShape) are too large for one tensor; take fewer or resize smaller")
        }
    }

    /// Converts argument `i`. - Throws: `BindingError` naming the argument for other values,
    /// a missing file, rank-0 tensors or empty data.
    static func from(_ a: Arguments, _ i: Int, _ interp: Interpreter) throws -> DataInput {
        let input: DataInput
        switch a[i] {
        case .object(let d as DatasetValue): input = DataInput(source: .dataset(d.dataset), name: "dataset \(d.dataset.name)")
        case .string(let path): input = DataInput(source: .dataset(try loadDataset(path, a, i, interp)), name: path)
        default:
            guard let t = try? TensorValue.coerce(a[i]) else {
                throw a.typeError(i, "data (a Tensor batch, a Dataset or a file path)")
            }
            guard t.rank >= 1 else { throw a.fail(i, "data must have a sample axis, got a rank-0 tensor") }
            input = DataInput(source: .tensor(t, labels: nil), name: "Tensor \(t.shape)")
        }
        guard input.count > 0 else { throw a.fail(i, "\(input.name) holds no samples") }
        return input
    }

    /// Loads a dataset from a user path (checked first so the message names the path as typed).
    static func loadDataset(_ path: String, _ a: Arguments, _ i: Int, _ interp: Interpreter,
                            preprocessing: ImagePreprocessing? = nil, labels: String? = nil) throws -> Dataset {
        let full = try existingPath(path, a, i, interp)
        return try Dataset.load(path: full, labelsPath: try labels.map { try existingPath($0, a, i, interp) },
                                preprocessing: preprocessing)
    }

    /// `path` resolved against the working directory, else against the folder of the script
    /// making the call, else against the interpreter's base directory.
    /// - Throws: `BindingError` "no such file 'path'" pointing at argument `i`.
    /// The file an input argument names (`find`), recorded as read (`Interpreter.readFiles`).
    static func existingPath(_ path: String, _ a: Arguments, _ i: Int, _ interp: Interpreter) throws -> String {
        if let p = find(path, script: a.callLocation.file, interp) { interp.noteRead(p); return p }
        throw a.fail(i, "no such file '\(path)'")
    }

    static func find(_ path: String, script: String, _ interp: Interpreter) -> String? {
        let fm = FileManager.default
        let here = interp.resolvePath(path)
        if fm.fileExists(atPath: here) { return here }
        let expanded = (path as NSString).expandingTildeInPath
        guard !(expanded as NSString).isAbsolutePath else { return nil }
        var scriptDir = (script as NSString).deletingLastPathComponent
        if !(scriptDir as NSString).isAbsolutePath { scriptDir = (interp.baseDirectory as NSString).appendingPathComponent(scriptDir) }
        for dir in [scriptDir, interp.baseDirectory] {
            let there = (dir as NSString).appendingPathComponent(expanded)
            if fm.fileExists(atPath: there) { return there }
        }
        return nil
    }

    /// A path to write, from argument `i`: resolved against the working directory, parent
    /// folders created. Errors point at that argument.
    /// - Throws: when it is empty, names a file the script read (a model, data, an import: no
    ///   output replaces an input), a folder or a path whose folders cannot be made.
    static func outputPath(_ a: Arguments, _ i: Int, _ interp: Interpreter) throws -> String {
        let path = try a.string(i)
        guard !path.isEmpty else { throw a.fail(i, OctetTensorError.writeFailed(path: "", reason: "the path is empty").description) }
        let full = interp.resolvePath(path)
        if let source = interp.readFile(at: full) {
            let what = AtomicFile.sameFile(source, full) ? "this script read that file" : "it is inside \(source), which this script read"
            throw a.fail(i, OctetTensorError.writeFailed(path: path, reason: "\(what); give another path").description)
        }
        do {
            try AtomicFile.checkTarget(full)  // before a folder is made for it
        } catch let e as OctetTensorError {
            throw a.fail(i, e.description)
        }
        interp.noteWritten(full)
        let dir = (full as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw a.fail(i, OctetTensorError.writeFailed(path: full, reason: "cannot create directory \(dir)").description)
        }
        return full
    }
}
