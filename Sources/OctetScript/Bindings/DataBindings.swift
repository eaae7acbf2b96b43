import Foundation
import OctetTensor

/// Datasets: `dataset(path, ...preprocessing)`, `d.take(n)`, `d.batch(n)`, `d.split(0.8, seed:)`,
/// `d.shuffle(seed:)`, `d.mirrored()`, `d.labels`, `d.images`.
enum DataBindings {
    static let preprocessing = [
        ParameterSpec("labels", .null), ParameterSpec("preset", .null), ParameterSpec("resize", .null),
        ParameterSpec("crop", .null), ParameterSpec("color", .string("rgb")), ParameterSpec("mean", .null),
        ParameterSpec("std", .null), ParameterSpec("range", .string("unit")), ParameterSpec("offset", .null),
        ParameterSpec("scale", .null),
    ]

    static let table = BindingTable(domain: "data", [
        Builtin("dataset", ["source"], named: preprocessing,
                doc: """
                Samples with optional labels from a .npy (labels: a second .npy), a .npz (keys images/x/input/data and labels/y/targets), \
                a folder of .jpg/.png images (class sub-folders give labels), or a Tensor (labels: list or tensor). \
                Images and uint8 arrays are preprocessed: preset "imagenet"; resize [h, w] or a shorter side n; crop [h, w]; \
                color "rgb" | "bgr" | "gray"; mean/std (per channel, on range "unit" = u8/255 or "byte"); or offset/scale: (u8 − offset) / scale.
                """) { a, interp in
            try make(a, interp)
        },
    ])

    static func make(_ a: Arguments, _ interp: Interpreter) throws -> Value {
        let pre = try ImagePreprocessingArguments.parse(a)
        if case .string(let path) = a[0] {
            var labels: String?
            if case .string(let l) = a["labels"] { labels = l } else if !Evaluation.isNull(a["labels"]) {
                throw BindingError.named("labels", "labels of a file dataset must be a .npy path")
            }
            let d = try DataInput.loadDataset(path, a, 0, interp, preprocessing: pre, labels: labels)
            return .object(DatasetValue(d, displayName: path))
        }
        guard let t = try TensorValue.coerce(a[0]) else { throw a.typeError(0, "a path or a Tensor") }
        var labels: [Int]?
        if !Evaluation.isNull(a["labels"]) {
            do {
                guard let l = try ClassLabels.parse(a["labels"]) else {
                    throw BindingError.named("labels", "labels must be a list or tensor of class indices")
                }
                labels = l
            } catch BindingError.message(let m) { throw BindingError.named("labels", m) }
        }
        return .object(DatasetValue(try Dataset(samples: t, labels: labels, preprocessing: pre, name: "tensor"), displayName: "tensor \(t.shape)"))
    }

    static let methods = BindingTable(domain: "data", owner: "Dataset", [
        Builtin("take", ["self", "n"], doc: "The first n samples (a view; no copy); n must not be negative.") { a, _ in
            let d = try receiver(a), n = try count(a, 1)
            return d.derived(d.dataset.take(n), "take(\(n))")
        },
        Builtin("skip", ["self", "n"], doc: "All samples but the first n; n must not be negative.") { a, _ in
            let d = try receiver(a), n = try count(a, 1)
            return d.derived(d.dataset.skip(n), "skip(\(n))")
        },
        Builtin("shuffle", ["self"], named: [ParameterSpec("seed", .int(0))],
                doc: "The samples in a seeded random order (SplitMix64 permutation; same seed, same order on every machine).") { a, _ in
            let d = try receiver(a), seed = try a.int("seed")
            return d.derived(d.dataset.shuffled(seed: UInt64(bitPattern: Int64(seed))), "shuffle(seed: \(seed))")
        },
        Builtin("mirrored", ["self"],
                doc: "The samples followed by their left-right mirrors (labels repeated): twice the calibration images for AdaRound (docs/accuracy-recovery.md). Needs image samples [C, H, W].") { a, _ in
            let d = try receiver(a)
            guard d.dataset.count <= Limits.maxListItems / 2 else {
                throw a.fail(0, "mirrored() would make \(2 * d.dataset.count) samples, more than the limit of \(Limits.maxListItems)")
            }
            do { return d.derived(try d.dataset.mirrored(), "mirrored()") } catch let e as DatasetError { throw a.fail(0, e.description) }
        },
        Builtin("split", ["self", "fraction"], named: [ParameterSpec("seed", .int(0))],
                doc: "Shuffles with `seed`, then cuts after round(fraction × count): a list [first, rest].") { a, _ in
            let d = try receiver(a), f = try a.double(1), seed = try a.int("seed")
            guard f > 0 && f < 1 else { throw a.fail(1, "split fraction \(Format.real(f)) must lie strictly between 0 and 1") }
            let (x, y) = try d.dataset.split(fraction: f, seed: UInt64(bitPattern: Int64(seed)))
            guard x.count > 0, y.count > 0 else {
                throw a.fail(1, "split fraction \(Format.real(f)) of \(d.dataset.count) samples leaves \(x.count) and \(y.count): both parts need samples")
            }
            return .list([d.derived(x, "split[0]"), d.derived(y, "split[1]")])
        },
        Builtin("batch", ["self", "size"], doc: "A list of consecutive batches (Datasets of `size` samples; the last may be smaller).") { a, _ in
            let d = try receiver(a), size = try a.int(1)
            guard size >= 1 else { throw a.fail(1, "batch size \(size) must be at least 1") }
            return .list(stride(from: 0, to: d.dataset.count, by: size).map { lo in
                d.derived(d.dataset.skip(lo).take(size), "batch \(lo / size)")
            })
        },
    ])

    static func receiver(_ a: Arguments) throws -> DatasetValue {
        guard case .object(let d as DatasetValue) = a[0] else { throw a.typeError(0, "a Dataset") }
        return d
    }

    /// A sample count argument (`take`, `skip`); throws when it is negative.
    static func count(_ a: Arguments, _ i: Int) throws -> Int {
        let n = try a.int(i)
        guard n >= 0 else { throw a.fail(i, "sample count \(n) must not be negative") }
        return n
    }
}

/// A dataset view as a script value.
final class DatasetValue: DomainObject, LengthObject {
    let dataset: Dataset
    let displayName: String

    init(_ dataset: Dataset, displayName: String) {
        self.dataset = dataset
        self.displayName = displayName
    }

    func derived(_ d: Dataset, _ how: String) -> Value { .object(DatasetValue(d, displayName: "\(displayName).\(how)")) }

    var typeName: String { "Dataset" }
    var length: Int? { dataset.count }

    var summary: String {
        var s = "Dataset \(displayName): \(dataset.count) samples of \(dataset.sampleShape)"
        if let labels = dataset.labels {
            let classes = Set(labels).count
            s += ", labels (\(classes) class\(classes == 1 ? "" : "es"))"
        } else {
            s += ", no labels"
        }
        return s
    }

    var propertyNames: [String] { ["labels", "images", "count", "shape", "name", "classes"] }

    func property(_ name: String) throws -> Value? {
        switch name {
        case "labels":
            guard let l = dataset.labels else { return .null }
            return .object(TensorValue(Tensor(shape: [l.count], int64s: l.map { Int64($0) })))
        case "images":
            guard dataset.count > 0 else { return .null }
            try DataInput.checkBatchSize(dataset, dataset.count)
            return .object(TensorValue(try dataset.allSamples()))
        case "count": return .int(dataset.count)
        case "shape": return .list(dataset.sampleShape.map { .int($0) })
        case "name": return .string(displayName)
        case "classes": return dataset.classNames.map { .list($0.map { .string($0) }) } ?? .null
        default: return nil
        }
    }

    var methods: BindingTable { DataBindings.methods }
}

/// Named arguments of `dataset` → `ImagePreprocessing` (nil when none was given).
enum ImagePreprocessingArguments {
    static func parse(_ a: Arguments) throws -> ImagePreprocessing? {
        let given = ["preset", "resize", "crop", "mean", "std", "offset", "scale"].filter { !Evaluation.isNull(a[$0]) }
        let colorGiven = (try? a.string("color")) != "rgb"
        if given.isEmpty && !colorGiven { return nil }
        var p = ImagePreprocessing()
        if case .string(let preset) = a["preset"] {
            guard preset.lowercased() == "imagenet" else { throw BindingError.named("preset", "unknown preset '\(preset)'; accepted: imagenet") }
            p = .imageNet
        }
        p.color = try color(a)
        if let r = try resize(a) { p.resize = r }
        if let n = try normalization(a) { p.normalization = n }
        return p
    }

    static func color(_ a: Arguments) throws -> ImagePreprocessing.Color {
        switch try a.string("color").lowercased() {
        case "rgb": return .rgb
        case "bgr": return .bgr
        case "gray", "grey", "grayscale": return .grayscale
        case let c: throw BindingError.named("color", "unknown color '\(c)'; accepted: rgb, bgr, gray")
        }
    }

    static func ints(_ a: Arguments, _ name: String) throws -> [Int]? {
        switch a[name] {
        case .null: return nil
        case .int(let n): return [n]
        case .list(let l):
            return try l.items.map { v in
                guard case .int(let n) = v else { throw BindingError.named(name, "\(name) must hold integers") }
                return n
            }
        default: throw BindingError.named(name, "\(name) must be an integer or a list [height, width]")
        }
    }

    static func resize(_ a: Arguments) throws -> ImagePreprocessing.Resize? {
        let r = try ints(a, "resize"), c = try ints(a, "crop")
        if let c, c.count != 2 { throw BindingError.named("crop", "crop must be [height, width]") }
        // One image's planes (3 channels at most) must fit a tensor.
        for (name, v) in [("resize", r), ("crop", c)] {
            guard let v else { continue }
            guard v.allSatisfy({ $0 >= 1 }) else { throw BindingError.named(name, "\(name) sizes must be at least 1, got \(v)") }
            do { try Limits.checkTensor([3] + (v.count == 1 ? [v[0], v[0]] : v)) } catch {
                throw BindingError.named(name, "\(name) \(v) is too large for an image")
            }
        }
        switch (r, c) {
        case (nil, nil): return nil
        case (nil, let c?): return .centerCrop(height: c[0], width: c[1])
        case (let r?, nil) where r.count == 2: return .direct(height: r[0], width: r[1])
        case (let r?, let c?) where r.count == 1: return .shorterSide(r[0], cropHeight: c[0], cropWidth: c[1])
        case (let r?, nil) where r.count == 1: return .shorterSide(r[0], cropHeight: r[0], cropWidth: r[0])
        default: throw BindingError.named("resize", "resize is [height, width], or a shorter side n with crop: [height, width]")
        }
    }

    static func floats(_ a: Arguments, _ name: String) throws -> [Float]? {
        if Evaluation.isNull(a[name]) { return nil }
        guard let t = try TensorValue.coerce(a[name]) else { throw BindingError.named(name, "\(name) must be a number or a list of numbers") }
        return t.asFloatArray()
    }

    static func normalization(_ a: Arguments) throws -> ImagePreprocessing.Normalization? {
        let mean = try floats(a, "mean"), std = try floats(a, "std")
        let offset = try floats(a, "offset"), scale = try floats(a, "scale")
        if offset != nil || scale != nil {
            guard mean == nil && std == nil else { throw BindingError.named("offset", "give either mean/std or offset/scale") }
            return .offsetScale(offset: offset?.first ?? 0, scale: scale?.first ?? 1)
        }
        guard mean != nil || std != nil else { return nil }
        let range: ImagePreprocessing.PixelRange
        switch try a.string("range") {
        case "unit": range = .unit
        case "byte": range = .byte
        case let r: throw BindingError.named("range", "unknown range '\(r)'; accepted: unit, byte")
        }
        return .meanStd(mean: mean ?? [0], std: std ?? [1], range: range)
    }
}
