import Foundation

/// Progress of long work (calibration, finetuning, loops over data), handed to domain
/// code as a callback so domain modules never touch the terminal.
public protocol ProgressReporter: AnyObject {
    /// Starts a task of `total` steps named `label`.
    func begin(_ label: String, total: Int)
    /// Marks `completed` of `total` steps done.
    func update(completed: Int)
    /// Ends the task (clears the bar).
    func finish()
}

/// Reports nothing: used when output is not a terminal (pipes, notebooks, tests).
public final class SilentProgress: ProgressReporter {
    public init() {}
    public func begin(_ label: String, total: Int) {}
    public func update(completed: Int) {}
    public func finish() {}
}

/// Draws `label [#####.....]  50%  12/24  ETA 3s` on one terminal line, redrawn in place
/// at most every 0.1 s; the ETA extrapolates the mean time per step so far.
public final class TerminalProgress: ProgressReporter {
    private let write: (String) -> Void
    private let clock: () -> Double
    private var label = "", total = 0, start = 0.0, lastDraw = -1.0
    public let width: Int

    public init(width: Int = 30, clock: @escaping () -> Double = { Date().timeIntervalSinceReferenceDate },
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.width = width
        self.clock = clock
        self.write = write
    }

    /// A terminal reporter when `fd` is a terminal, else a silent one.
    public static func forTerminal(fd: Int32 = STDERR_FILENO) -> ProgressReporter {
        isatty(fd) != 0 ? TerminalProgress() : SilentProgress()
    }

    public func begin(_ label: String, total: Int) {
        self.label = label
        self.total = max(total, 0)
        start = clock()
        lastDraw = -1
        update(completed: 0)
    }

    public func update(completed: Int) {
        let now = clock()
        if completed < total && lastDraw >= 0 && now - lastDraw < 0.1 { return }
        lastDraw = now
        write("\r" + line(completed: completed, elapsed: now - start) + "\u{1B}[K")
    }

    public func finish() { write("\r\u{1B}[K") }

    /// The bar text for `completed` steps after `elapsed` seconds.
    public func line(completed: Int, elapsed: Double) -> String {
        let done = min(max(completed, 0), total)
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        var s = "\(label) [\(bar)] \(String(format: "%3d", Int(fraction * 100)))%  \(done)/\(total)"
        if done > 0 && done < total {
            s += "  ETA " + TerminalProgress.duration(elapsed / Double(done) * Double(total - done))
        }
        return s
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(String(format: "%02d", s % 60))s" }
        return "\(s / 3600)h\(String(format: "%02d", s % 3600 / 60))m"
    }
}
