import Dispatch
import Foundation

/// Runs independent per-index work (image decoding) on all cores.
enum ParallelMap {
    private final class Slots<T>: @unchecked Sendable {
        let lock = NSLock()
        var results: [Result<T, Error>?]
        init(_ n: Int) { results = Array(repeating: nil, count: n) }
    }

    /// `body(i)` for `i` in `0..<count`, results in index order.
    /// - Throws: the error of the lowest failing index.
    static func run<T>(_ count: Int, _ body: (Int) throws -> T) throws -> [T] {
        let slots = Slots<T>(count)
        withoutActuallyEscaping(body) { body in
            let work = { (i: Int) in
                let r = Result { try body(i) }
                slots.lock.lock(); slots.results[i] = r; slots.lock.unlock()
            }
            if count <= 1 { (0..<count).forEach(work) } else { DispatchQueue.concurrentPerform(iterations: count, execute: work) }
        }
        return try slots.results.map { try $0!.get() }
    }
}
