import XCTest
@testable import OctetTensor

/// `KernelConfig.mapItems`: results in item order, every item once, kernels single-threaded inside
/// the parallel path, the first error in item order, and the thread count restored.
final class KernelConfigTests: XCTestCase {
    struct Failure: Error, Equatable { let k: Int }

    func testMapItemsKeepsOrderAndRunsKernelsSingleThreaded() throws {
        let saved = KernelConfig.threads
        defer { KernelConfig.threads = saved }
        KernelConfig.threads = 2
        let lock = NSLock()
        var seen: [Int] = [], innerThreads = Set<Int>(), workers = Set<Int>()
        let out = try KernelConfig.mapItems(37, workers: 2) { w, k -> Int in
            lock.lock(); seen.append(k); innerThreads.insert(KernelConfig.threads); workers.insert(w); lock.unlock()
            return k * k
        }
        XCTAssertEqual(out, (0..<37).map { $0 * $0 })
        XCTAssertEqual(seen.sorted(), Array(0..<37))
        XCTAssertEqual(innerThreads, [1])
        XCTAssertTrue(workers.isSubset(of: [0, 1]))
        XCTAssertEqual(KernelConfig.threads, 2)
        // One worker: the calling thread, with the current kernel threads.
        let single = try KernelConfig.mapItems(3, workers: 1) { w, k in (w, k, KernelConfig.threads) }
        XCTAssertEqual(single.map { $0.0 }, [0, 0, 0]); XCTAssertEqual(single.map { $0.2 }, [2, 2, 2])
    }

    func testMapItemsThrowsTheFirstErrorInItemOrder() {
        let saved = KernelConfig.threads
        defer { KernelConfig.threads = saved }
        KernelConfig.threads = 2
        XCTAssertThrowsError(try KernelConfig.mapItems(10, workers: 2) { _, k -> Int in
            if k == 7 || k == 4 { throw Failure(k: k) }
            return k
        }) { XCTAssertEqual($0 as? Failure, Failure(k: 4)) }
        XCTAssertEqual(KernelConfig.threads, 2)
    }
}
