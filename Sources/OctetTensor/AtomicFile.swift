import Foundation

/// Reads a whole input file, with errors that say what is wrong with the path.
public enum InputFile {
    /// - Throws: `OctetTensorError.fileNotFound`; `.badFile` for a folder or an unreadable file.
    public static func read(_ path: String) throws -> Data {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw OctetTensorError.fileNotFound(path) }
        if isDir.boolValue { throw OctetTensorError.badFile(path: path, reason: "is a folder, not a file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw OctetTensorError.badFile(path: path, reason: "cannot read file (permissions or an I/O error)")
        }
        return data
    }
}

/// Writes files so that a reader never sees a half-written one: the bytes go to a
/// temporary file in the same directory, which is then renamed over the target.
public enum AtomicFile {
    /// The temporaries being written now, for `removeTemporaries()`.
    private static let pending = PendingWrites()

    /// Removes the temporary files and folders being written now, and puts back a previous output
    /// folder moved aside for its replacement. For a handler that ends the process on a signal;
    /// safe to call from any thread.
    public static func removeTemporaries() { pending.removeAll() }

    /// Refuses a path that cannot name a file to replace, before anything is written: one ending
    /// in "/" (it names a folder; the system would write the file without the slash) or an
    /// existing folder. Writers of several files check them all first, so none is half done.
    /// - Throws: `OctetTensorError.writeFailed` naming the path.
    public static func checkTarget(_ path: String) throws {
        guard !path.isEmpty else { throw OctetTensorError.writeFailed(path: path, reason: "the path is empty") }
        let last = (path as NSString).lastPathComponent
        if path.hasSuffix("/") || last == "." || last == ".." {
            throw OctetTensorError.writeFailed(path: path, reason: "it ends with '/', '/.' or '/..', so it names a folder; give a file name")
        }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw OctetTensorError.writeFailed(path: path, reason: "it is a folder")
        }
    }

    /// A symbolic link is followed (its target is replaced, the link stays); an existing device or
    /// FIFO (e.g. /dev/null) is written to directly, as no rename can replace it.
    /// - Throws: `OctetTensorError.writeFailed` naming the path and the cause (a folder at `path`,
    ///   a missing parent folder, a failed write or rename).
    public static func write(_ data: Data, to path: String) throws {
        try writeAll([(data, path)])
    }

    /// Writes several files as `write` writes one, all or none: every temporary is written first
    /// (when one fails, all are removed and no target is touched), then the devices, FIFOs and open
    /// descriptors among the paths are written through (when one fails, the temporaries are removed
    /// and no file is replaced), then each temporary is renamed over its target.
    /// `folder`, when given, is created first if missing (its missing parents too), and removed
    /// again with them when the write fails or a signal ends it (`removeTemporaries`).
    /// - Throws: `OctetTensorError.writeFailed` naming the path, as `write`.
    public static func writeAll(_ files: [(data: Data, path: String)], creatingFolder folder: String? = nil) throws {
        let created = try folder.map(makeFolder) ?? []
        defer { pending.forget(folders: created) }
        do { try writeFiles(files) } catch {
            for dir in created { rmdir(dir) }  // innermost first; only empty ones go
            throw error
        }
    }

    /// Runs `write` with the folder `folder` (and its missing parents) created first for what it
    /// writes later, as `writeAll` does: the folders it created are removed again (when empty) if
    /// `write` throws or a signal ends the process meanwhile (`removeTemporaries`).
    /// - Throws: `OctetTensorError.writeFailed` when the folder cannot be made; what `write` throws.
    public static func withFolder<T>(_ folder: String, _ write: () throws -> T) throws -> T {
        let created = try makeFolder(folder)
        defer { pending.forget(folders: created) }
        do { return try write() } catch {
            for dir in created { rmdir(dir) }
            throw error
        }
    }

    /// The folders missing on the way to `path`, created (innermost first in the result) and
    /// recorded for `removeTemporaries`.
    private static func makeFolder(_ path: String) throws -> [String] {
        var missing: [String] = []
        var folder = path  // as given: "a/../b" creates a too
        while folder.count > 1, folder.hasSuffix("/") { folder.removeLast() }
        while !folder.isEmpty, folder != "/", !FileManager.default.fileExists(atPath: folder) {
            missing.append(folder)
            folder = (folder as NSString).deletingLastPathComponent
        }
        pending.add(folders: missing)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            for dir in missing { rmdir(dir) }
            pending.forget(folders: missing)
            throw OctetTensorError.writeFailed(path: path, reason: error.localizedDescription)
        }
        return missing
    }

    private static func writeFiles(_ files: [(data: Data, path: String)]) throws {
        var pending: [(tmp: URL, target: URL, path: String)] = []
        defer { for p in pending { Self.pending.remove(p.tmp.path) } }
        var through: [(data: Data, path: String)] = []
        do {
            for (data, path) in files {
                if let p = try temporary(data, for: path) { pending.append(p) } else { through.append((data, path)) }
            }
        } catch {
            for p in pending { try? FileManager.default.removeItem(at: p.tmp) }
            throw error
        }
        do {
            for (data, path) in through { try writeWithoutReplacing(data, at: path) }
        } catch {
            for p in pending { try? FileManager.default.removeItem(at: p.tmp) }
            throw error
        }
        for (i, p) in pending.enumerated() where rename(p.tmp.path, p.target.path) != 0 {
            let reason = String(cString: strerror(errno))
            for q in pending[i...] { try? FileManager.default.removeItem(at: q.tmp) }
            throw OctetTensorError.writeFailed(path: p.path, reason: reason)
        }
    }

    /// Writes `data` into a temporary beside `path` and returns it with the target to rename it
    /// over; nil when `path` is an open descriptor, device or FIFO (written through instead).
    private static func temporary(_ data: Data, for path: String) throws -> (tmp: URL, target: URL, path: String)? {
        try checkTarget(path)
        if descriptor(path) != nil { return nil }
        let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        var info = stat()
        if stat(url.path, &info) == 0, info.st_mode & S_IFMT != S_IFREG, info.st_mode & S_IFMT != S_IFDIR {
            return nil  // a folder is refused by checkTarget
        }
        let dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw OctetTensorError.writeFailed(path: path, reason: "\(dir.path) is not an existing directory")
        }
        sweepLeftovers(of: url)
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        pending.add(tmp.path)
        do {
            try data.write(to: tmp)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            pending.remove(tmp.path)
            throw OctetTensorError.writeFailed(path: path, reason: "\(error.localizedDescription)")
        }
        return (tmp, url, path)
    }

    /// Writes `data` through the open descriptor `path` names, or into the device or FIFO there.
    private static func writeWithoutReplacing(_ data: Data, at path: String) throws {
        do {
            if let fd = descriptor(path) {  // /dev/stdout redirected to a file is written, not replaced
                try FileHandle(fileDescriptor: fd, closeOnDealloc: false).write(contentsOf: data)
            } else {
                try writeThrough(data, to: URL(fileURLWithPath: path).resolvingSymlinksInPath().path)
            }
        } catch {
            throw OctetTensorError.writeFailed(path: path, reason: "\(error.localizedDescription)")
        }
    }

    /// Whether `path` names an open descriptor (`descriptor`) or (links followed) an existing device
    /// or FIFO, which `write` writes through instead of replacing (e.g. /dev/stdout, /dev/null).
    public static func isStream(_ path: String) -> Bool {
        if descriptor(path) != nil { return true }
        var info = stat()
        guard stat(URL(fileURLWithPath: path).resolvingSymlinksInPath().path, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind != S_IFREG && kind != S_IFDIR
    }

    /// Whether two paths name the same file: the same device and inode when both exist (links,
    /// hard links and other spellings included), else the same path with links resolved.
    public static func sameFile(_ a: String, _ b: String) -> Bool {
        let ua = URL(fileURLWithPath: a).resolvingSymlinksInPath().standardized
        let ub = URL(fileURLWithPath: b).resolvingSymlinksInPath().standardized
        var sa = stat(), sb = stat()
        if stat(ua.path, &sa) == 0, stat(ub.path, &sb) == 0 { return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino }
        return ua.path == ub.path
    }

    /// Whether `path` is `folder` or lies inside it (links resolved), e.g. an input inside a
    /// folder that `writeDirectory` would replace.
    public static func isWithin(_ path: String, folder: String) -> Bool {
        let p = URL(fileURLWithPath: path).resolvingSymlinksInPath().standardized.path
        let f = URL(fileURLWithPath: folder).resolvingSymlinksInPath().standardized.path
        return p == f || p.hasPrefix(f.hasSuffix("/") ? f : f + "/") || sameFile(path, folder)
    }

    /// The open file descriptor of this process that `path` names: /dev/stdin, /dev/stdout,
    /// /dev/stderr, /dev/fd/N or /proc/self/fd/N, when N is open. Such a path may resolve to a
    /// regular file (a redirection), which must be written through the descriptor, not replaced.
    public static func descriptor(_ path: String) -> Int32? {
        let p = URL(fileURLWithPath: path).standardized.path
        let named = ["/dev/stdin": Int32(0), "/dev/stdout": 1, "/dev/stderr": 2]
        var fd = named[p]
        for prefix in ["/dev/fd/", "/proc/self/fd/"] where fd == nil && p.hasPrefix(prefix) {
            fd = Int32(p.dropFirst(prefix.count))
        }
        guard let fd, fcntl(fd, F_GETFD) != -1 else { return nil }
        return fd
    }

    /// Tidies what an interrupted writer of `url` (killed, or stopped by Ctrl-C) left beside it, when
    /// that process no longer runs: its temporaries `.<name>.tmp-<pid>-<n>` are removed; a previous
    /// folder `.<name>.old-<pid>-<n>` (kept while `writeDirectory` swaps folders) is removed when
    /// `url` exists and renamed back to `url` when the writer stopped between the two renames.
    static func sweepLeftovers(of url: URL) {
        let fm = FileManager.default, dir = url.deletingLastPathComponent(), name = url.lastPathComponent
        guard let entries = try? fm.contentsOfDirectory(atPath: dir.path) else { return }
        for entry in entries.sorted() {
            for kind in ["tmp", "old"] {
                let prefix = ".\(name).\(kind)-"
                guard entry.hasPrefix(prefix) else { continue }
                let tag = entry.dropFirst(prefix.count).split(separator: "-", omittingEmptySubsequences: false)
                guard tag.count == 2, let pid = Int32(tag[0]), pid > 0, UInt32(tag[1]) != nil,
                      kill(pid, 0) == -1 && errno == ESRCH else { continue }
                let path = dir.appendingPathComponent(entry).path
                if kind == "old" && !fm.fileExists(atPath: url.path) { _ = rename(path, url.path) } else { try? fm.removeItem(atPath: path) }
            }
        }
    }

    /// Writes `data` into an existing non-regular file (device, FIFO) without replacing it.
    private static func writeThrough(_ data: Data, to path: String) throws {
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw OctetTensorError.writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
        defer { try? h.close() }
        try h.write(contentsOf: data)
    }

    /// `path` as the system resolves it: symbolic links followed before `..` is applied
    /// (`realpath` of the longest existing prefix; the missing rest, which holds no links, appended).
    static func physicalPath(_ path: String) -> String {
        let absolute = (path as NSString).isAbsolutePath ? path : FileManager.default.currentDirectoryPath + "/" + path
        var head = absolute, rest: [String] = []
        while true {
            if let r = realpath(head, nil) {
                defer { free(r) }
                return (rest.isEmpty ? URL(fileURLWithPath: String(cString: r))
                        : URL(fileURLWithPath: String(cString: r)).appendingPathComponent(rest.joined(separator: "/"))).standardizedFileURL.path
            }
            let parent = (head as NSString).deletingLastPathComponent
            if parent == head || parent.isEmpty { return URL(fileURLWithPath: absolute).standardizedFileURL.path }
            rest.insert((head as NSString).lastPathComponent, at: 0)
            head = parent
        }
    }

    /// What `writeDirectory` checks before it writes, for callers that refuse a bad target before
    /// any work: `path` is missing, an empty folder, or a previous output. A previous output holds
    /// `marker`, for whose bytes `previousFiles` returns the other paths that output wrote
    /// (relative; a folder as `name/`, allowed when listed or holding a listed path), and nothing
    /// else, at any depth. `previousFiles` returns nil for a marker this writer does not make.
    /// A symbolic link to a folder is checked as that folder.
    /// - Throws: `OctetTensorError.writeFailed` naming the path and the reason.
    public static func checkDirectoryTarget(_ path: String, marker: String,
                                            previousFiles: (Data) -> Set<String>? = { _ in [] }) throws {
        let fm = FileManager.default
        guard !path.isEmpty else { throw OctetTensorError.writeFailed(path: path, reason: "the path is empty") }
        let url = URL(fileURLWithPath: physicalPath(path))
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: url.path, isDirectory: &isDir) else {
            if (try? fm.destinationOfSymbolicLink(atPath: url.path)) != nil {
                throw OctetTensorError.writeFailed(path: path, reason: "it is a symbolic link to nothing")
            }
            return
        }
        guard isDir.boolValue else { throw OctetTensorError.writeFailed(path: path, reason: "it exists and is not a folder") }
        let folder = url.resolvingSymlinksInPath()  // a link's folder is the one replaced, so the one checked
        let cwd = URL(fileURLWithPath: fm.currentDirectoryPath).resolvingSymlinksInPath().path
        if cwd == folder.path || cwd.hasPrefix(folder.path.hasSuffix("/") ? folder.path : folder.path + "/") {
            throw OctetTensorError.writeFailed(path: path, reason: "it is the current folder or holds it; refusing to replace it — choose a new or empty folder")
        }
        let entries = (try? fm.subpathsOfDirectory(atPath: folder.path)) ?? []
        guard !entries.isEmpty else { return }
        guard entries.contains(marker) else {
            throw OctetTensorError.writeFailed(path: path, reason: "the folder holds other files (no \(marker)); refusing to replace it — choose a new or empty folder")
        }
        guard let data = fm.contents(atPath: folder.appendingPathComponent(marker).path), let owned = previousFiles(data) else {
            throw OctetTensorError.writeFailed(path: path, reason: "its \(marker) is not one this writes; refusing to replace the folder — choose a new or empty folder")
        }
        for entry in entries.sorted() where entry != marker {
            let type = (try? fm.attributesOfItem(atPath: folder.appendingPathComponent(entry).path))?[.type] as? FileAttributeType
            let ours = type == .typeDirectory ? owned.contains { $0.hasPrefix(entry + "/") }
                : type == .typeRegular && owned.contains(entry)
            if !ours {
                throw OctetTensorError.writeFailed(path: path, reason: "the folder holds \(entry) besides a previous output; refusing to replace it — choose a new or empty folder")
            }
        }
    }

    /// Fills a new folder at `path` through `fill`, which writes into a temporary sibling folder;
    /// on success that folder replaces `path` (a previous folder there is removed), on failure it
    /// is removed and no output is left behind. Missing parent folders are created, and removed
    /// again when nothing was written.
    /// An existing folder is replaced only when it is empty or is a previous output of the same
    /// kind, holding only what that output wrote (`checkDirectoryTarget`; by default the marker
    /// alone). So a folder of other files is never removed. A symbolic link to a folder stays: the
    /// folder it names is replaced.
    /// - Throws: `OctetTensorError.writeFailed` when `path` exists and is not a folder or is not
    ///   such a previous output, or the folders cannot be created or renamed; errors of `fill`
    ///   unchanged.
    public static func writeDirectory(at path: String, marker: String, previousFiles: (Data) -> Set<String>? = { _ in [] },
                                      _ fill: (String) throws -> Void) throws {
        let fm = FileManager.default
        let url = URL(fileURLWithPath: physicalPath(path))  // a link to a previous output stays a link
        sweepLeftovers(of: url)  // first: a folder put back is checked as any other
        try checkDirectoryTarget(path, marker: marker, previousFiles: previousFiles)
        let created = try makeFolder(url.deletingLastPathComponent().path)  // missing parents
        defer { pending.forget(folders: created) }
        let tag = "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(tag)")
        let old = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).old-\(tag)")
        pending.add(tmp.path, restoring: (old: old.path, target: url.path))
        defer { pending.remove(tmp.path) }
        func cleanUp() {
            try? fm.removeItem(at: tmp)
            for dir in created { rmdir(dir) }  // innermost first; only empty ones go
        }
        do {
            try fm.createDirectory(at: tmp, withIntermediateDirectories: false)
        } catch {
            cleanUp()
            throw OctetTensorError.writeFailed(path: path, reason: error.localizedDescription)
        }
        do { try fill(tmp.path) } catch { cleanUp(); throw error }
        let replacing = fm.fileExists(atPath: url.path)
        if replacing, rename(url.path, old.path) != 0 {
            let reason = String(cString: strerror(errno))
            cleanUp()
            throw OctetTensorError.writeFailed(path: path, reason: reason)
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            if replacing { _ = rename(old.path, url.path) }
            cleanUp()
            throw OctetTensorError.writeFailed(path: path, reason: reason)
        }
        if replacing { try? fm.removeItem(at: old) }
    }
}

/// Temporaries being written, each with the previous output moved aside for it (if any).
private final class PendingWrites: @unchecked Sendable {
    private let lock = NSLock()
    private var writes: [String: (old: String, target: String)?] = [:]
    /// Folders made for a write, innermost first: removed when empty.
    private var folders: [String] = []

    func add(_ tmp: String, restoring: (old: String, target: String)? = nil) { lock.withLock { writes[tmp] = .some(restoring) } }
    func remove(_ tmp: String) { lock.withLock { _ = writes.removeValue(forKey: tmp) } }
    func add(folders new: [String]) { lock.withLock { folders = new + folders } }
    func forget(folders done: [String]) { lock.withLock { folders.removeAll { done.contains($0) } } }

    /// Removes every temporary (twice: a writer may still be adding to it). A previous output
    /// moved aside goes back when its target is gone, and is removed when the new one is in place.
    func removeAll() {
        lock.withLock {
            let fm = FileManager.default
            for _ in 0..<2 { for tmp in writes.keys { try? fm.removeItem(atPath: tmp) } }
            for case let (old, target)? in writes.values where fm.fileExists(atPath: old) {
                if fm.fileExists(atPath: target) { try? fm.removeItem(atPath: old) } else { _ = rename(old, target) }
            }
            writes.removeAll()
            for dir in folders { rmdir(dir) }
            folders.removeAll()
        }
    }
}
