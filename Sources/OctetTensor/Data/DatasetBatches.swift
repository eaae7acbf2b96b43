/// A lazy sequence of `DatasetBatch` descriptors; no sample is decoded until
/// `DatasetBatch.samples()` is called.
public struct DatasetBatches: Sequence, Sendable {
    public let dataset: Dataset
    public let size: Int

    /// Number of batches: `ceil(count / size)`.
    public var count: Int { (dataset.count + size - 1) / size }

    public func makeIterator() -> Iterator { Iterator(batches: self, position: 0) }

    public struct Iterator: IteratorProtocol {
        let batches: DatasetBatches
        var position: Int

        public mutating func next() -> DatasetBatch? {
            let n = batches.dataset.count
            guard position < n else { return nil }
            let range = position..<Swift.min(position + batches.size, n)
            position = range.upperBound
            return DatasetBatch(dataset: batches.dataset, range: range)
        }
    }
}

/// Samples `range` (positions in `dataset`) of one batch.
public struct DatasetBatch: Sendable {
    public let dataset: Dataset
    public let range: Range<Int>

    /// Number of samples in the batch.
    public var count: Int { range.count }

    /// Labels of the batch, or nil when the dataset has none.
    public var labels: [Int]? {
        guard let all = dataset.source.labels else { return nil }
        return dataset.order[range].map { all[$0] }
    }

    /// Decodes and preprocesses the batch: float32 `[count] + sampleShape`.
    /// - Throws: decode errors naming the image file.
    public func samples() throws -> Tensor { try dataset.samples(range) }
}
