import Foundation

/// Files and folders the tests write, all inside one folder per test process,
/// `$TMPDIR/octet-tests-PID`, which is removed when the process exits. The folders of test
/// processes that no longer run (killed, crashed) are removed when the next one starts.
public enum Scratch {
    static let prefix = "octet-tests-"

    /// The process's scratch folder, created on first use.
    public static let root: URL = {
        let tmp = FileManager.default.temporaryDirectory
        removeFoldersOfDeadProcesses(in: tmp)
        let dir = tmp.appendingPathComponent("\(prefix)\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create the test scratch folder \(dir.path): \(error)")
        }
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return dir
    }()

    /// A path for a new file inside the scratch folder, unique to this call (nothing is created):
    /// `ROOT/UUID-name`.
    public static func path(_ name: String) -> String {
        root.appendingPathComponent("\(UUID().uuidString)-\(name)").path
    }

    /// A new, empty folder inside the scratch folder: `ROOT/tag-UUID`.
    public static func directory(_ tag: String) -> URL {
        let dir = root.appendingPathComponent("\(tag)-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        } catch {
            fatalError("cannot create the test folder \(dir.path): \(error)")
        }
        return dir
    }

    /// Removes `octet-tests-PID` folders whose process no longer runs.
    static func removeFoldersOfDeadProcesses(in tmp: URL) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name))
            }
        }
    }
}
