import Foundation

extension Interpreter {
    /// Shows a value: through `display` when set (notebooks, REPL), else its text.
    public func show(_ value: Value) throws {
        if let display { try display(value) } else { output(Format.display(value) + "\n") }
    }

    /// A user path made absolute against the current directory.
    public func resolvePath(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        if (expanded as NSString).isAbsolutePath { return expanded }
        return (FileManager.default.currentDirectoryPath as NSString).appendingPathComponent(expanded)
    }

    /// Parses and runs a whole file. Returns syntax diagnostics (and runs nothing) when
    /// there are any; runtime errors are thrown as `RuntimeError`.
    public func runFile(_ path: String, displayName: String? = nil) throws -> [Diagnostic] {
        let text = try ScriptFile.read(path)
        let (program, diagnostics) = parse(text, file: displayName ?? path)
        if !diagnostics.isEmpty { return diagnostics }
        importing.append(importKey(path))  // the file importing itself is circular
        defer { importing.removeLast() }
        try run(program)
        return []
    }

    /// The key `importFile` knows a file by: its absolute, standardized path.
    func importKey(_ path: String) -> String { (resolvePath(path) as NSString).standardizingPath }

    /// Renders a diagnostic with its source line and caret.
    public func render(_ diagnostic: Diagnostic) -> String { diagnostic.rendered(with: sources) }

    /// Runs `work` reporting `total` steps through `progress`, checking cancellation
    /// before each step. Domain code uses this shape for calibration loops.
    public func withProgress<T>(_ label: String, total: Int, _ work: (_ step: () throws -> Void) throws -> T) throws -> T {
        progress.begin(label, total: total)
        defer { progress.finish() }
        var done = 0
        return try work {
            try cancellation.check()
            done += 1
            progress.update(completed: done)
        }
    }

    /// ` --seed N` as shown in notebook headers.
    public var seedDescription: String { " --seed \(initialSeed)" }

    /// Runs `body` on a thread with a 512 MiB stack so deep script recursion reports
    /// "stack overflow" instead of crashing the process.
    public static func onLargeStack<T>(_ body: @escaping () -> T) -> T {
        let box = LargeStackBox(body)
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = box.body()
            done.signal()
        }
        thread.stackSize = 512 << 20
        thread.start()
        done.wait()
        return box.value!
    }
}

/// Carries a body and its result across the large-stack thread.
final class LargeStackBox<T>: @unchecked Sendable {
    var value: T?
    let body: () -> T
    init(_ body: @escaping () -> T) { self.body = body }
}
