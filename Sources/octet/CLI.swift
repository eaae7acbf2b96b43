import ArgumentParser
import Foundation
import OctetTensor

/// Shared CLI plumbing: domain errors become one `error:` line on stderr and exit code 1.
enum CLI {
    /// Upper bound of `--threads` (kernel threads; OpenBLAS is built for at most 64 of its own).
    static let maxThreads = 256

    /// - Throws: `ValidationError` unless 1 ≤ threads ≤ `maxThreads`.
    static func checkThreads(_ threads: Int) throws {
        guard (1...maxThreads).contains(threads) else {
            throw ValidationError("--threads \(threads): must be between 1 and \(maxThreads)")
        }
    }

    static func guarded<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let e as ExitCode { throw e } catch let e as CleanExit { throw e } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// Warns on stderr when float inputs hold NaN or ±∞ (they run, but quantize to a clamp
    /// value and rarely mean what was intended), naming the input and the first bad sample.
    static func warnNonFinite(_ feeds: [String: Tensor], source: String) {
        for (name, t) in feeds.sorted(by: { $0.key < $1.key }) where t.dtype == .float32 && t.count > 0 {
            let bad = t.withFloats { p in p.firstIndex { !$0.isFinite } }
            guard let i = bad else { continue }
            let per = max(1, t.count / max(1, t.shape.first ?? 1))
            FileHandle.standardError.write(Data("warning: \(source): input '\(name)' has NaN/Inf values (first in sample \(i / per))\n".utf8))
        }
    }
}
