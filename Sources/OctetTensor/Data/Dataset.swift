/// Calibration or evaluation samples with optional integer class labels.
///
/// A `Dataset` is a cheap `Sendable` view: an ordered list of sample indices into an immutable
/// source. `take`, `skip`, `shuffled` and `split` only reorder indices. Samples come out as
/// float32 batches `[B] + sampleShape` (images NCHW: `[B, C, H, W]`); image folders and uint8
/// arrays are decoded and normalized per batch, so memory stays flat while iterating.
///
/// Load with `Dataset.load(path:)` (`.npy`, `.npz`, image folder) or build from a tensor with
/// `init(samples:labels:preprocessing:name:)`. `mirrored()` appends left-right mirrored copies
/// (calibration augmentation), applied when a batch is produced.
public struct Dataset: Sendable {
    let source: DatasetSource
    let order: [Int]
    /// Per position of `order`: that sample comes out mirrored left to right. Empty when none does.
    let mirror: [Bool]

    init(source: DatasetSource, order: [Int], mirror: [Bool] = []) {
        self.source = source
        self.order = order
        self.mirror = mirror
    }

    /// Number of samples in this view.
    public var count: Int { order.count }
    /// Shape of one sample, without the batch axis (e.g. `[3, 224, 224]`).
    public var sampleShape: [Int] { source.sampleShape }
    /// The file or source name used in messages.
    public var name: String { source.name }
    /// Whether the samples are uint8 arrays turned into floats per batch (by the preprocessing;
    /// by default as values 0…255).
    public var holdsBytes: Bool {
        if case .bytes = source.storage { return true }
        return false
    }
    /// Labels in this view's order, or nil when the source has none.
    public var labels: [Int]? { source.labels.map { all in order.map { all[$0] } } }
    /// Class folder names (index = label) for image folders with one sub-folder per class.
    public var classNames: [String]? {
        if case .images(let folder, _, _) = source.storage { return folder.classes }
        return nil
    }

    /// The first `n` samples (all of them when `n >= count`; none when `n <= 0`).
    public func take(_ n: Int) -> Dataset {
        Dataset(source: source, order: Array(order.prefix(max(n, 0))), mirror: Array(mirror.prefix(max(n, 0))))
    }

    /// All samples but the first `n`.
    public func skip(_ n: Int) -> Dataset {
        Dataset(source: source, order: Array(order.dropFirst(max(n, 0))), mirror: Array(mirror.dropFirst(max(n, 0))))
    }

    /// The samples in a seeded random order: `SplitMix64.permutation(count, seed:)` applied to
    /// this view. The same seed gives the same order on every machine.
    public func shuffled(seed: UInt64) -> Dataset {
        let perm = SplitMix64.permutation(order.count, seed: seed)
        return Dataset(source: source, order: perm.map { order[$0] }, mirror: mirror.isEmpty ? [] : perm.map { mirror[$0] })
    }

    /// This view followed by the same samples mirrored left to right (labels repeated): twice the
    /// samples, for calibration and AdaRound on natural images (docs/accuracy-recovery.md). A
    /// mirrored sample mirrored again is the original.
    /// - Throws: `DatasetError.badArgument` unless samples are images [C, H, W].
    public func mirrored() throws -> Dataset {
        guard sampleShape.count == 3 else {
            throw DatasetError.badArgument("mirroring needs image samples [C, H, W]; \(name) has samples of shape \(sampleShape)")
        }
        let flags = mirror.isEmpty ? [Bool](repeating: false, count: count) : mirror
        return Dataset(source: source, order: order + order, mirror: flags + flags.map { !$0 })
    }

    /// Shuffles with `seed`, then cuts after `round(fraction × count)` samples (ties away from zero).
    /// - Throws: `DatasetError.badArgument` unless `0 < fraction < 1`.
    public func split(fraction: Double, seed: UInt64) throws -> (first: Dataset, second: Dataset) {
        guard fraction > 0, fraction < 1 else {
            throw DatasetError.badArgument("split fraction \(fraction) must lie strictly between 0 and 1")
        }
        let s = shuffled(seed: seed)
        let cut = Int((fraction * Double(count)).rounded())
        return (s.take(cut), s.skip(cut))
    }

    /// Batches of `size` consecutive samples (the last one may be smaller), produced lazily.
    /// - Throws: `DatasetError.badArgument` when `size < 1`.
    public func batches(of size: Int) throws -> DatasetBatches {
        guard size >= 1 else { throw DatasetError.badArgument("batch size \(size) must be at least 1") }
        return DatasetBatches(dataset: self, size: size)
    }

    /// float32 `[range.count] + sampleShape` of the samples at positions `range` of this view.
    /// - Throws: `DatasetError.badArgument` for a range outside `0..<count`; decode errors
    ///   naming the image file.
    public func samples(_ range: Range<Int>) throws -> Tensor {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw DatasetError.badArgument("sample range \(range) outside 0..<\(count) of \(name)")
        }
        let t = try source.gather(order[range])
        guard !mirror.isEmpty, mirror[range].contains(true) else { return t }
        return try TensorBatch.mirroringWidth(t, where: Array(mirror[range]))
    }

    /// Every sample as one float32 tensor `[count] + sampleShape`.
    /// - Throws: `DatasetError.empty` for an empty view; decode errors naming the image file.
    public func allSamples() throws -> Tensor {
        guard count > 0 else { throw DatasetError.empty(source: name) }
        return try samples(0..<count)
    }
}
