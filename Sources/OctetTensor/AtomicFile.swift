import Foundation

/// Writes files so that a reader never sees a half-written one: the bytes go to a
/// temporary file in the same directory, which is then renamed over the target.
public enum AtomicFile {
    /// - Throws: `OctetTensorError.writeFailed` naming the path and the cause.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent()
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw OctetTensorError.writeFailed(path: path, reason: "directory \(dir.path) does not exist")
        }
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            try data.write(to: tmp)
        } catch {
            try? FileManager.default.removeItem(at: tmp)
            throw OctetTensorError.writeFailed(path: path, reason: "\(error.localizedDescription)")
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw OctetTensorError.writeFailed(path: path, reason: reason)
        }
    }
}
