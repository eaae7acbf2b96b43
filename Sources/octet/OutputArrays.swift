import ArgumentParser
import Foundation
import OctetTensor

/// Where a command's output arrays go (`infer --output`, `export --eval-output`): one output →
/// `path` itself as .npy, unless `path` is an existing folder or ends in "/"; several → one .npy
/// per output name in the folder `path`, created when missing. A name is kept as it is when it
/// holds only letters, digits, `_` and `-`; other characters become `_`, and a name that then
/// coincides with one taken (an unchanged name first, then in output order) gets `_2`, `_3`, …
/// (at most 100 bytes before the suffixes). `renamed` lists the outputs whose file is renamed.
enum OutputArrays {
    /// The file each output name is written to.
    static func files(_ names: [String], at path: String) -> [String: String] {
        var isDir: ObjCBool = false
        let folder = path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue)
        if names.count == 1 && !folder { return [names[0]: path] }
        let base = path.hasSuffix("/") ? String(path.dropLast()) : path
        var taken: Set<String> = [], files: [String: String] = [:]
        // At most 100 bytes, as dump's file names: a long output name must not fail after writing others.
        func stem(_ name: String) -> String {
            var s = String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" ? $0 : "_" })
            while s.utf8.count > 100 { s.removeLast() }
            return s
        }
        let unchanged = names.filter { stem($0) == $0 }
        for name in unchanged + names.filter({ stem($0) != $0 }) where files[name] == nil {  // an output listed twice is one file
            var file = stem(name), k = 1
            while !taken.insert(file.lowercased()).inserted { k += 1; file = "\(stem(name))_\(k)" }
            files[name] = "\(base)/\(file).npy"
        }
        return files
    }

    /// "output 'a/b' → DIR/a_b_2.npy, …" for the outputs whose file is not named after them (nil when
    /// every one is).
    static func renamed(_ names: [String], at path: String) -> String? {
        let files = files(names, at: path)
        let moved = names.filter { name in files[name].map { ($0 as NSString).lastPathComponent != name + ".npy" } ?? false }
        guard names.count > 1, !moved.isEmpty else { return nil }
        return moved.map { "output '\($0)' → \(files[$0]!)" }.joined(separator: ", ")
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

    /// Writes `outs` as `files(names, at: path)` says, all files or none (`AtomicFile.writeAll`).
    static func write(_ outs: [String: Tensor], names: [String], to path: String) throws {
        try AtomicFile.writeAll(encoded(outs, names: names, to: path), creatingFolder: folder(names, at: path))
    }

    /// The folder the outputs go into (created by the write when missing), nil for one .npy file.
    static func folder(_ names: [String], at path: String) -> String? {
        names.count > 1 || files(names, at: path)[names[0]] != path ? path : nil
    }

    /// The .npy bytes of `outs` and the file each goes to.
    static func encoded(_ outs: [String: Tensor], names: [String], to path: String) -> [(data: Data, path: String)] {
        let files = files(names, at: path)
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }.map { (NPY.encode(outs[$0]!), files[$0]!) }
    }
}
