import Dispatch
import Foundation

/// Lists an image folder, torchvision `ImageFolder` style.
///
/// - A folder holding only sub-folders is a classification set: class `k` is the k-th sub-folder
///   name in sorted order, and its images are every file below it (recursively), sorted by path.
/// - A folder holding only files is an unlabelled set of those files, sorted by path.
/// Hidden entries (names starting with ".") are skipped. Accepted files: `.jpg`, `.jpeg`, `.png`
/// (any case); content is recognised by signature when decoded.
struct ImageFolder: Sendable {
    let root: String
    let paths: [String]
    let labels: [Int]?
    let classes: [String]?

    /// - Throws: `OctetTensorError.fileNotFound`; `DatasetError.empty` for a folder (or class folder)
    ///   without images; `DatasetError.unsupportedFile` for a non-image file or a folder that mixes
    ///   files and sub-folders.
    static func list(_ root: String) throws -> ImageFolder {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else { throw OctetTensorError.fileNotFound(root) }
        let entries = try visible(root)
        guard !entries.isEmpty else { throw DatasetError.empty(source: root) }
        let dirs = entries.filter { isDirectory($0) }
        if dirs.isEmpty {
            return ImageFolder(root: root, paths: try checkedImages(entries), labels: nil, classes: nil)
        }
        guard dirs.count == entries.count else {
            let file = entries.first { !isDirectory($0) }!
            throw DatasetError.unsupportedFile(path: file, reason: "\(root) mixes files and sub-folders; use a flat folder of images or one sub-folder per class")
        }
        var paths: [String] = [], labels: [Int] = []
        for (k, dir) in dirs.enumerated() {
            let files = try checkedImages(try recursiveFiles(dir))
            guard !files.isEmpty else { throw DatasetError.empty(source: dir) }
            paths += files
            labels += Array(repeating: k, count: files.count)
        }
        return ImageFolder(root: root, paths: paths, labels: labels,
                           classes: dirs.map { URL(fileURLWithPath: $0).lastPathComponent })
    }

    private static func visible(_ dir: String) throws -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: dir) } catch {
            throw DatasetError.unsupportedFile(path: dir, reason: "cannot list folder: \(error.localizedDescription)")
        }
        return names.filter { !$0.hasPrefix(".") }.map { (dir as NSString).appendingPathComponent($0) }.sorted()
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }

    private static func recursiveFiles(_ dir: String) throws -> [String] {
        var out: [String] = []
        for entry in try visible(dir) {
            if isDirectory(entry) { out += try recursiveFiles(entry) } else { out.append(entry) }
        }
        return out.sorted()
    }

    private static func checkedImages(_ files: [String]) throws -> [String] {
        for f in files where !ImageDecoder.extensions.contains((f as NSString).pathExtension.lowercased()) {
            throw DatasetError.unsupportedFile(path: f, reason: "not an image file; image folders accept .jpg, .jpeg and .png")
        }
        return files
    }

    /// Reads every header (in parallel) and checks that `preprocessing` yields one output size.
    /// - Returns: the sample shape `[C, H, W]`.
    /// - Throws: the first (lowest-index) decode error naming its file;
    ///   `DatasetError.inconsistentSize` when sizes differ and `resize` is `.none`;
    ///   `DatasetError.badPreprocessing` when a crop does not fit an image.
    func probe(_ preprocessing: ImagePreprocessing) throws -> [Int] {
        let sizes = try ParallelMap.run(paths.count) { i -> (Int, Int) in
            let s = try ImageDecoder.size(path: paths[i])
            let g = try ImageGeometry.make(preprocessing.resize, sourceHeight: s.height, sourceWidth: s.width, name: paths[i])
            return (g.height, g.width)
        }
        let first = sizes[0]
        if let bad = sizes.firstIndex(where: { $0 != first }) {
            throw DatasetError.inconsistentSize(path: paths[bad], size: [sizes[bad].0, sizes[bad].1],
                                                expected: [first.0, first.1], firstPath: paths[0])
        }
        return [preprocessing.channels, first.0, first.1]
    }
}
