import Synchronization

/// A cancellation flag shared between the REPL's Ctrl-C handler and running work.
///
/// Loops in scripts check it every iteration; domain code (calibration, finetuning)
/// receives it through the interpreter and calls `check()` at convenient points.
public final class Cancellation: @unchecked Sendable {
    private let flag = Atomic<Bool>(false)

    /// The process-wide token the SIGINT handler sets.
    public static let global = Cancellation()

    public init() {}

    public func cancel() { flag.store(true, ordering: .relaxed) }
    public func reset() { flag.store(false, ordering: .relaxed) }
    public var isCancelled: Bool { flag.load(ordering: .relaxed) }

    /// - Throws: `CancellationError` when cancelled.
    public func check() throws {
        if isCancelled { throw CancellationError() }
    }
}

/// Thrown by `Cancellation.check()`; the interpreter reports it as "interrupted".
public struct CancellationError: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "interrupted" }
}
