import ArgumentParser
import Foundation
import OctetTensor

/// Where a command's output arrays go (`infer --output`, `export --eval-output`): one output →
/// `path` itself as .npy, unless `path` is an existing folder or ends in "/"; several → one .npy
/// per output name (characters other than letters, digits, `_`, `-` become `_`; names that
/// then coincide get `_2`, `_3`, … in output order; at most 100 bytes before the suffixes) in the
/// folder `path`, created when missing.
enum OutputArrays {
    /// The file each output name is written to.
    static func files(_ names: [String], at path: String) -> [String: String] {
        var isDir: ObjCBool = false
        let folder = path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue)
        if names.count == 1 && !folder { return [names[0]: path] }
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        var taken: Set<String> = [], files: [String: String] = [:]
        for name in names where files[name] == nil {  // an output listed twice is one file
            // At most 100 bytes, as dump's file names: a long output name must not fail after writing others.
            var stem = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
            while stem.utf8.count > 100 { stem.removeLast() }
            var file = stem, k = 1
            while !taken.insert(file.lowercased()).inserted { k += 1; file = "\(stem)_\(k)" }
            files[name] = "\(base)/\(file).npy"
        }
        return files
    }

    /// Checked before any work: `path` can take the outputs `names` and replaces none of `inputs`.
    /// - Throws: `ValidationError` naming `option`: a .npy or existing file for several outputs, a
    ///   missing parent folder for one, or an output file that is one of the inputs.
    static func check(_ path: String, option: String, names: [String], inputs: [(what: String, path: String)]) throws {
        var isDir: ObjCBool = false  // "file/" does not exist as a path: look at "file"
        let exists = FileManager.default.fileExists(atPath: path.hasSuffix("/") ? String(path.dropLast()) : path, isDirectory: &isDir)
        if names.count > 1 && (path.lowercased().hasSuffix(".npy") || (exists && !isDir.boolValue)) {
            throw ValidationError("\(option) \(path): the model has \(names.count) outputs (\(names.joined(separator: ", "))); give a folder, which gets one .npy per output")
        }
        if path.hasSuffix("/") && exists && !isDir.boolValue {
            throw ValidationError("\(option) \(path): \(path.dropLast()) is a file, not a folder")
        }
        if names.count == 1 && !path.hasSuffix("/") && !(exists && isDir.boolValue) {
            try CLI.checkOutputFolder(path, option: option)
        }
        for file in files(names, at: path).values.sorted() {
            try CLI.checkNotInput(file, option: option, inputs: inputs)
            do { try AtomicFile.checkTarget(file) } catch { throw ValidationError("\(option): \(error)") }
        }
    }

    /// Writes `outs` as `files(names, at: path)` says (each file atomically).
    static func write(_ outs: [String: Tensor], names: [String], to path: String) throws {
        let files = files(names, at: path)
        if names.count > 1 || files[names[0]] != path {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        }
        for name in names { try NPY.write(outs[name]!, path: files[name]!) }
    }
}
