/// How 8-bit images (decoded files or uint8 arrays) become float32 model inputs.
///
/// Pipeline per image: geometry (`resize`) on the RGB pixels → channel order or grayscale
/// (`color`) → per-channel `normalization` → NCHW float32 `[C, H, W]`.
/// Resampling is bilinear with half-pixel centres and no antialiasing — ONNX `Resize`
/// (mode `linear`, `coordinate_transformation_mode` `half_pixel`), as OpenCV `INTER_LINEAR`.
/// Geometry applies to image files only; uint8 arrays must already have the model's size.
public struct ImagePreprocessing: Sendable, Equatable {
    public enum Resize: Sendable, Equatable {
        /// Keep the decoded size; every image of a folder must then have the same size.
        case none
        /// Bilinear resize straight to `height`×`width` (aspect ratio not kept).
        case direct(height: Int, width: Int)
        /// Resize so the shorter side is `shorterSide` (the longer becomes
        /// `Int(shorterSide × long / short)`, truncated, as torchvision `Resize(int)`), then crop the
        /// centre `cropHeight`×`cropWidth` (offset `round((H − h) / 2)`, ties to even, as
        /// torchvision `CenterCrop`). The classic ImageNet pipeline is `(256, 224, 224)`.
        case shorterSide(Int, cropHeight: Int, cropWidth: Int)
        /// Crop the centre `height`×`width` without resizing.
        case centerCrop(height: Int, width: Int)
    }

    public enum Color: Sendable, Equatable {
        /// Three channels R, G, B.
        case rgb
        /// Three channels B, G, R (Caffe / OpenCV models).
        case bgr
        /// One channel, luma `Y = 0.299 R + 0.587 G + 0.114 B` (ITU-R BT.601, as PIL `convert("L")`
        /// before rounding).
        case grayscale
    }

    /// Scale of the pixel value `v` that `mean` and `std` refer to.
    public enum PixelRange: Sendable, Equatable {
        /// `v = u8` in [0, 255].
        case byte
        /// `v = u8 / 255` in [0, 1] (torchvision `ToTensor`).
        case unit
    }

    public enum Normalization: Sendable, Equatable {
        /// `x = u8` as float, in [0, 255].
        case none
        /// `x = (v − mean[c]) / std[c]` with `v` on `range`; `mean`/`std` hold one value per output
        /// channel, in output order (after `color`), or one value for all channels.
        case meanStd(mean: [Float], std: [Float], range: PixelRange)
        /// `x = (u8 − offset) / scale` (e.g. offset 127, scale 128 for EfficientNet-Lite).
        case offsetScale(offset: Float, scale: Float)
    }

    public var resize: Resize
    public var color: Color
    public var normalization: Normalization

    public init(resize: Resize = .none, color: Color = .rgb, normalization: Normalization = .none) {
        self.resize = resize
        self.color = color
        self.normalization = normalization
    }

    /// torchvision's ImageNet evaluation transform: shorter side 256, centre crop 224×224, RGB,
    /// mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225) on [0, 1].
    public static let imageNet = ImagePreprocessing(
        resize: .shorterSide(256, cropHeight: 224, cropWidth: 224), color: .rgb,
        normalization: .meanStd(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], range: .unit))

    /// Output channels: 1 for grayscale, else 3.
    public var channels: Int { color == .grayscale ? 1 : 3 }

    /// Output height and width when fixed by `resize`, else nil.
    public var fixedSize: (height: Int, width: Int)? {
        switch resize {
        case .none: return nil
        case .direct(let h, let w), .shorterSide(_, let h, let w), .centerCrop(let h, let w): return (h, w)
        }
    }

    /// Largest output side (and shorter side), as for decoded images (`OCTET_IMG_MAX_SIDE`).
    public static let maxSide = 16_384

    /// Checks sizes and normalization constants; `source` names the data in errors.
    /// - Throws: `DatasetError.badPreprocessing` for sizes outside 1...`maxSide`, a mean/std count that is
    ///   neither 1 nor the channel count, a zero or non-finite std/scale, a non-finite mean/offset.
    public func validate(source: String, channels outChannels: Int? = nil) throws {
        let c = outChannels ?? channels
        func fail(_ r: String) -> DatasetError { .badPreprocessing(source: source, reason: r) }
        let side = ImagePreprocessing.maxSide
        if let s = fixedSize, !(1...side).contains(s.height) || !(1...side).contains(s.width) {
            throw fail("resize/crop size \(s.height)×\(s.width) must be in 1...\(side)")
        }
        if case .shorterSide(let short, _, _) = resize, !(1...side).contains(short) { throw fail("shorter side \(short) must be in 1...\(side)") }
        switch normalization {
        case .none: break
        case .meanStd(let mean, let std, _):
            for (name, v) in [("mean", mean), ("std", std)] where v.count != 1 && v.count != c {
                throw fail("\(name) has \(v.count) values for \(c) channel(s); give 1 or \(c)")
            }
            if mean.contains(where: { !$0.isFinite }) { throw fail("mean \(mean) is not finite") }
            if std.contains(where: { !$0.isFinite || $0 == 0 }) { throw fail("std \(std) must be finite and non-zero") }
        case .offsetScale(let offset, let scale):
            if !offset.isFinite || !scale.isFinite || scale == 0 {
                throw fail("offset \(offset) / scale \(scale) must be finite with a non-zero scale")
            }
        }
    }

    /// Per-channel constants of `x = (u / divisor − mean) / std`, `u` on the [0, 255] scale. Every
    /// normalization above is this formula exactly: `.none` has divisor 1, mean 0, std 1;
    /// `.offsetScale` has divisor 1, mean offset, std scale; `.unit` range has divisor 255.
    struct Plan: Sendable {
        let divisor: Float
        let mean: [Float]
        let std: [Float]
    }

    /// The normalization plan for `c` output channels (after `validate`).
    func plan(channels c: Int) -> Plan {
        switch normalization {
        case .none: return Plan(divisor: 1, mean: Array(repeating: 0, count: c), std: Array(repeating: 1, count: c))
        case .offsetScale(let o, let s): return Plan(divisor: 1, mean: Array(repeating: o, count: c), std: Array(repeating: s, count: c))
        case .meanStd(let m, let s, let range):
            return Plan(divisor: range == .unit ? 255 : 1,
                        mean: m.count == 1 ? Array(repeating: m[0], count: c) : m,
                        std: s.count == 1 ? Array(repeating: s[0], count: c) : s)
        }
    }
}
