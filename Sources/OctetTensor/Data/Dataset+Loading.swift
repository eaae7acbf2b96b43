import Foundation

extension Dataset {
    /// Sample keys tried in a `.npz` archive, in this order.
    public static let npzSampleKeys = ["images", "x", "input", "data"]
    /// Label keys tried in a `.npz` archive, in this order.
    public static let npzLabelKeys = ["labels", "y", "targets"]

    /// Loads a folder of JPEG/PNG images, a `.npy` or a `.npz` file, chosen by what `path` is.
    /// `labelsPath` (a `.npy` of N integers) applies to `.npy` samples only; `preprocessing`
    /// applies to images and uint8 arrays (float32 arrays are used as stored).
    /// - Throws: `DatasetError.unsupportedFile` for other file kinds, and the errors of
    ///   `npy(path:labelsPath:preprocessing:)`, `npz(path:preprocessing:)`, `imageFolder(path:preprocessing:)`.
    public static func load(path: String, labelsPath: String? = nil, preprocessing: ImagePreprocessing? = nil) throws -> Dataset {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw OctetTensorError.fileNotFound(path) }
        if isDir.boolValue {
            if labelsPath != nil { throw DatasetError.badArgument("labelsPath does not apply to image folder \(path); labels come from class sub-folders") }
            return try imageFolder(path: path, preprocessing: preprocessing ?? ImagePreprocessing())
        }
        switch (path as NSString).pathExtension.lowercased() {
        case "npy": return try npy(path: path, labelsPath: labelsPath, preprocessing: preprocessing)
        case "npz":
            if labelsPath != nil { throw DatasetError.badArgument("a separate labels file does not apply to \(path); store the labels in the archive under one of \(npzLabelKeys)") }
            return try npz(path: path, preprocessing: preprocessing)
        default:
            throw DatasetError.unsupportedFile(path: path, reason: "datasets load from .npy, .npz or a folder of .jpg/.png images")
        }
    }

    /// Samples from a `.npy` array `[N, ...]` (float32, or uint8 images normalized by
    /// `preprocessing`), labels optionally from a second `.npy` of N integers.
    /// - Throws: `NPY.read` errors; the checks of `init(samples:labels:preprocessing:name:)`.
    public static func npy(path: String, labelsPath: String? = nil, preprocessing: ImagePreprocessing? = nil) throws -> Dataset {
        let samples = try NPY.read(path: path)
        let labels = try labelsPath.map { try labelArray(NPY.read(path: $0), source: $0) }
        return try Dataset(samples: samples, labels: labels, preprocessing: preprocessing, name: path)
    }

    /// Samples from a `.npz` archive: the first of keys `images`, `x`, `input`, `data`; labels
    /// from the first of `labels`, `y`, `targets` when present.
    /// - Throws: `DatasetError.badArray` when no sample key exists (listing the keys found);
    ///   the checks of `init(samples:labels:preprocessing:name:)`.
    public static func npz(path: String, preprocessing: ImagePreprocessing? = nil) throws -> Dataset {
        let arrays = try NPY.readArchive(path: path)
        guard let key = npzSampleKeys.first(where: { arrays[$0] != nil }) else {
            throw DatasetError.badArray(source: path, reason: "no sample array; expected one of keys \(npzSampleKeys), found \(arrays.keys.sorted())")
        }
        let labelKey = npzLabelKeys.first { arrays[$0] != nil }
        let labels = try labelKey.map { try labelArray(arrays[$0]!, source: "\(path):\($0)") }
        return try Dataset(samples: arrays[key]!, labels: labels, preprocessing: preprocessing, name: "\(path):\(key)")
    }

    /// A folder of JPEG/PNG images (see `ImageFolder` rules: flat and sorted by path, or one
    /// sub-folder per class giving labels in sorted order), decoded per batch.
    /// Every header is read here, so unsupported, unreadable and inconsistently sized files fail
    /// at load; damage past the header fails when its batch is decoded.
    /// - Throws: `DatasetError.empty`, `.unsupportedFile`, `.corruptImage`, `.inconsistentSize`,
    ///   `.badPreprocessing`, each naming the file.
    public static func imageFolder(path: String, preprocessing: ImagePreprocessing = ImagePreprocessing()) throws -> Dataset {
        try preprocessing.validate(source: path)
        let folder = try ImageFolder.list(path)
        let shape = try folder.probe(preprocessing)
        let source = DatasetSource(storage: .images(folder, preprocessing, preprocessing.plan(channels: preprocessing.channels)),
                                   name: path, sampleShape: shape, labels: folder.labels)
        return Dataset(source: source, order: Array(0..<folder.paths.count))
    }

    /// Integer labels from an array of N values (any integer dtype, or float32 holding integers).
    /// - Throws: `DatasetError.badArray` for another shape, `.badLabel` for a non-integer value.
    public static func labelArray(_ t: Tensor, source: String) throws -> [Int] {
        guard t.rank == 1 || (t.rank == 2 && t.shape[1] == 1) else {
            throw DatasetError.badArray(source: source, reason: "labels must have shape [N], got \(t.shape)")
        }
        switch t.dtype {
        case .float32:
            let f = t.floats
            if let i = f.firstIndex(where: { !$0.isFinite || $0.rounded() != $0 || abs($0) > 16_777_216 }) {
                throw DatasetError.badLabel(source: source, sample: i, reason: "\(f[i]) is not an integer")
            }
            return f.map { Int($0) }
        default:
            return t.asInt64Array().map { Int($0) }
        }
    }
}

extension Dataset {
    /// A dataset over an in-memory tensor `[N, ...]`.
    ///
    /// float32 samples are used as stored (`preprocessing` must be nil) and must be finite.
    /// uint8 samples are images `[N, C, H, W]` with C 1 or 3, or one-channel `[N, ...]`, normalized
    /// per batch with `preprocessing` (default: values 0…255 as float); `color` may turn 3
    /// channels into BGR or one luma channel; `resize` must be `.none`.
    /// - Throws: `DatasetError.empty` (N = 0), `.nonFinite` (first bad sample), `.labelCount`,
    ///   `.badArray` (dtype, rank, NHWC-looking layout), `.badPreprocessing`, each naming `name`.
    public init(samples: Tensor, labels: [Int]? = nil, preprocessing: ImagePreprocessing? = nil, name: String = "samples") throws {
        guard samples.rank >= 1 else { throw DatasetError.badArray(source: name, reason: "samples must have a batch axis, got a scalar") }
        let n = samples.shape[0]
        guard n > 0, samples.count > 0 else { throw DatasetError.empty(source: name) }
        if let labels, labels.count != n { throw DatasetError.labelCount(source: name, samples: n, labels: labels.count) }
        let storage: DatasetSource.Storage
        var shape = Array(samples.shape.dropFirst())
        switch samples.dtype {
        case .float32:
            if preprocessing != nil {
                throw DatasetError.badPreprocessing(source: name, reason: "float32 samples are used as stored; preprocessing applies to uint8 images")
            }
            if let bad = samples.firstNonFinite() { throw DatasetError.nonFinite(source: name, sample: bad.sample, value: bad.value) }
            storage = .floats(samples)
        case .uint8:
            let p = preprocessing ?? ImagePreprocessing()
            let (inC, outC) = try Self.byteChannels(samples.shape, p, name: name)
            try p.validate(source: name, channels: outC)
            if samples.rank == 4 { shape[0] = outC }
            storage = .bytes(samples, channels: inC, p, p.plan(channels: outC))
        default:
            throw DatasetError.badArray(source: name, reason: "samples must be float32 or uint8, got \(samples.dtype)")
        }
        let source = DatasetSource(storage: storage, name: name, sampleShape: shape, labels: labels)
        self.init(source: source, order: Array(0..<n))
    }

    /// Input and output channel counts of uint8 samples under `p`.
    private static func byteChannels(_ shape: [Int], _ p: ImagePreprocessing, name: String) throws -> (Int, Int) {
        func fail(_ r: String) -> DatasetError { .badPreprocessing(source: name, reason: r) }
        guard p.resize == .none else { throw fail("resize and crop apply to image files; uint8 arrays must already have the model's size") }
        let c = shape.count == 4 ? shape[1] : 1
        if shape.count == 4, c != 1, c != 3 {
            let hint = [1, 3].contains(shape[3]) ? " (looks like NHWC; transpose to NCHW)" : ""
            throw DatasetError.badArray(source: name, reason: "uint8 images \(shape) must be NCHW with 1 or 3 channels\(hint)")
        }
        if c == 1, p.color == .bgr { throw fail("BGR order needs 3 channels; the images have 1") }
        return (c, c == 3 ? p.channels : 1)
    }
}
