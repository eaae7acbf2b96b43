import CBLAS
import Dispatch

/// Process-wide thread count for float and INT8 kernels (OpenBLAS and Octet's own loops).
public enum KernelConfig {
    nonisolated(unsafe) private static var _threads = 1

    /// Threads used by kernels; 1 runs everything on the calling thread.
    public static var threads: Int {
        get { _threads }
        set {
            _threads = max(1, newValue)
            openblas_set_num_threads(Int32(_threads))
        }
    }

    /// Runs `body` with `threads` kernel threads and restores the previous count afterwards (for
    /// callers that parallelize above the kernels and want each kernel call single-threaded).
    public static func withThreads<T>(_ threads: Int, _ body: () throws -> T) rethrows -> T {
        let saved = _threads
        if saved != threads { self.threads = threads }
        defer { if saved != threads { self.threads = saved } }
        return try body()
    }

    /// `body(worker, k)` for k in 0..<count on `workers` threads (worker w takes k = w, w + workers, …),
    /// each with single-threaded kernels; results in k order. One worker (or one item) runs on the
    /// calling thread with the current kernel threads. Callers that parallelize over independent
    /// items (calibration chunks) get results that do not depend on the thread count whenever
    /// there are several items, since every kernel then runs single-threaded.
    /// - Throws: the first error in k order.
    public static func mapItems<T>(_ count: Int, workers: Int, _ body: (_ worker: Int, _ k: Int) throws -> T) throws -> [T] {
        let n = min(workers, count)
        if n <= 1 { return try (0..<count).map { try body(0, $0) } }
        var results = [Result<T, Error>?](repeating: nil, count: count)
        withThreads(1) {
            results.withUnsafeMutableBufferPointer { r in
                DispatchQueue.concurrentPerform(iterations: n) { w in
                    for k in stride(from: w, to: count, by: n) { r[k] = Result { try body(w, k) } }
                }
            }
        }
        return try results.map { try $0!.get() }
    }

    /// Runs `body(i)` for i in 0..<count on up to `threads` threads.
    @inlinable
    public static func parallelFor(_ count: Int, threads: Int = KernelConfig.threads, _ body: (Int) -> Void) {
        if threads <= 1 || count <= 1 {
            for i in 0..<count { body(i) }
        } else {
            let chunks = min(threads, count)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks, hi = count * (c + 1) / chunks
                for i in lo..<hi { body(i) }
            }
        }
    }
}
