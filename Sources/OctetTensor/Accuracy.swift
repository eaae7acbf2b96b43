/// Classification metrics on logits [N, classes].
public enum Accuracy {
    /// Fraction of samples whose label is among the k largest logits, ties going to the lower
    /// class index (as arg-max takes the first maximum): the label's rank is the number of
    /// logits above it, or equal to it at a lower index. A row whose target logit is NaN counts
    /// as wrong, and NaN logits rank above every number.
    /// - Throws: `OctetTensorError.shapeMismatch` when logits are not [N, C] with N labels,
    ///   or a label is not a class index in 0..<C.
    public static func topK(logits: Tensor, labels: [Int], k: Int = 1) throws -> Double {
        guard logits.rank == 2, logits.shape[0] == labels.count, logits.shape[0] > 0 else {
            throw OctetTensorError.shapeMismatch("accuracy needs logits [N, classes] and N labels; got \(logits.shape) and \(labels.count) labels")
        }
        let c = logits.shape[1]
        guard k <= c else { throw OctetTensorError.shapeMismatch("top-\(k) accuracy needs at least \(k) classes, the logits have \(c)") }
        let f = logits.asFloatArray()
        var hits = 0
        for i in 0..<labels.count {
            guard labels[i] >= 0 && labels[i] < c else {
                throw OctetTensorError.shapeMismatch("label \(labels[i]) of sample \(i) is not a class index in 0..<\(c)")
            }
            let base = i * c, target = f[base + labels[i]]
            guard !target.isNaN else { continue }
            var rank = 0
            for j in 0..<c {
                let v = f[base + j]
                if v > target || v.isNaN || (v == target && j < labels[i]) { rank += 1 }
            }
            if rank < k { hits += 1 }
        }
        return Double(hits) / Double(labels.count)
    }

    /// Fraction of samples whose arg-max agrees between two logit batches [N, classes] of equal
    /// shape. A wider output (a segmentation map, a detection head) has no one class per sample.
    /// - Throws: `OctetTensorError.shapeMismatch` for other shapes.
    public static func top1Agreement(_ a: Tensor, _ b: Tensor) throws -> Double {
        guard a.shape == b.shape, a.rank == 2, a.shape[0] > 0 else {
            throw OctetTensorError.shapeMismatch("agreement needs logits [N, classes] of equal shapes; got \(a.shape) and \(b.shape)")
        }
        let n = a.shape[0], per = a.count / n
        let fa = a.asFloatArray(), fb = b.asFloatArray()
        var same = 0
        for i in 0..<n {
            let ra = fa[(i * per)..<((i + 1) * per)], rb = fb[(i * per)..<((i + 1) * per)]
            if ra.firstIndex(of: ra.max()!)! - ra.startIndex == rb.firstIndex(of: rb.max()!)! - rb.startIndex { same += 1 }
        }
        return Double(same) / Double(n)
    }
}
