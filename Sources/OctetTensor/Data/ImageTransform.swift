/// Where an image's output pixels come from: the resized grid `resizedHeight`×`resizedWidth`
/// of the source, cropped at (`top`, `left`) to `height`×`width`.
struct ImageGeometry: Equatable {
    let resizedHeight: Int, resizedWidth: Int
    let top: Int, left: Int
    let height: Int, width: Int

    /// Geometry of `resize` for a `sourceHeight`×`sourceWidth` image; `name` is used in errors.
    /// - Throws: `DatasetError.badPreprocessing` when the crop is larger than the (resized) image.
    static func make(_ resize: ImagePreprocessing.Resize, sourceHeight h: Int, sourceWidth w: Int, name: String) throws -> ImageGeometry {
        switch resize {
        case .none:
            return ImageGeometry(resizedHeight: h, resizedWidth: w, top: 0, left: 0, height: h, width: w)
        case .direct(let oh, let ow):
            return ImageGeometry(resizedHeight: oh, resizedWidth: ow, top: 0, left: 0, height: oh, width: ow)
        case .shorterSide(let side, let ch, let cw):
            // torchvision: new_long = int(size * long / short), computed in double precision.
            let long = Int(Double(side) * Double(max(h, w)) / Double(min(h, w)))
            let (rh, rw) = w <= h ? (long, side) : (side, long)
            return try crop(rh, rw, ch, cw, name: name)
        case .centerCrop(let ch, let cw):
            return try crop(h, w, ch, cw, name: name)
        }
    }

    private static func crop(_ rh: Int, _ rw: Int, _ ch: Int, _ cw: Int, name: String) throws -> ImageGeometry {
        guard ch <= rh, cw <= rw else {
            throw DatasetError.badPreprocessing(source: name, reason: "centre crop \(ch)×\(cw) is larger than the image (\(rh)×\(rw) after resize)")
        }
        let top = Int((Double(rh - ch) / 2).rounded(.toNearestOrEven))
        let left = Int((Double(rw - cw) / 2).rounded(.toNearestOrEven))
        return ImageGeometry(resizedHeight: rh, resizedWidth: rw, top: top, left: left, height: ch, width: cw)
    }
}

/// The image preprocessing kernels: bilinear resample + crop, channel order or luma, and
/// normalization, writing planar float32 `[C, H, W]`.
enum ImageTransform {
    /// Source index pair and weight of output coordinate `o` in the resized grid: ONNX `Resize`
    /// half_pixel, `x = (o + 0.5) · in / out − 0.5`, clamped to `[0, in − 1]`.
    struct Tap { let i0: Int, i1: Int, w: Float }

    static func taps(count: Int, offset: Int, resized: Int, source: Int) -> [Tap] {
        let ratio = Double(source) / Double(resized)
        return (0..<count).map { o in
            let x = min(max((Double(o + offset) + 0.5) * ratio - 0.5, 0), Double(source - 1))
            let i0 = Int(x)
            return Tap(i0: i0, i1: min(i0 + 1, source - 1), w: Float(x - Double(i0)))
        }
    }

    /// Preprocesses `image` into `out` (`channels · g.height · g.width` floats, NCHW plane order).
    static func apply(_ image: RGBImage, geometry g: ImageGeometry, preprocessing p: ImagePreprocessing,
                      plan: ImagePreprocessing.Plan, into out: UnsafeMutablePointer<Float>) {
        let xs = taps(count: g.width, offset: g.left, resized: g.resizedWidth, source: image.width)
        let ys = taps(count: g.height, offset: g.top, resized: g.resizedHeight, source: image.height)
        let plane = g.height * g.width
        let stride = image.width * 3
        image.pixels.withUnsafeBufferPointer { px in
            let src = px.baseAddress!
            for (oy, ty) in ys.enumerated() {
                let r0 = src + ty.i0 * stride, r1 = src + ty.i1 * stride
                for (ox, tx) in xs.enumerated() {
                    var rgb: (Float, Float, Float) = (0, 0, 0)
                    for c in 0..<3 {
                        let a = Float(r0[tx.i0 * 3 + c]), b = Float(r0[tx.i1 * 3 + c])
                        let d = Float(r1[tx.i0 * 3 + c]), e = Float(r1[tx.i1 * 3 + c])
                        let top = a * (1 - tx.w) + b * tx.w, bottom = d * (1 - tx.w) + e * tx.w
                        let v = top * (1 - ty.w) + bottom * ty.w
                        if c == 0 { rgb.0 = v } else if c == 1 { rgb.1 = v } else { rgb.2 = v }
                    }
                    store(rgb, color: p.color, plan: plan, out: out, index: oy * g.width + ox, plane: plane)
                }
            }
        }
    }

    /// Writes one pixel's channels (after colour mapping and normalization) into the planes.
    @inline(__always)
    static func store(_ rgb: (Float, Float, Float), color: ImagePreprocessing.Color, plan: ImagePreprocessing.Plan,
                      out: UnsafeMutablePointer<Float>, index: Int, plane: Int) {
        func norm(_ u: Float, _ c: Int) -> Float { (u / plan.divisor - plan.mean[c]) / plan.std[c] }
        switch color {
        case .rgb:
            out[index] = norm(rgb.0, 0); out[plane + index] = norm(rgb.1, 1); out[2 * plane + index] = norm(rgb.2, 2)
        case .bgr:
            out[index] = norm(rgb.2, 0); out[plane + index] = norm(rgb.1, 1); out[2 * plane + index] = norm(rgb.0, 2)
        case .grayscale:
            out[index] = norm(luma(rgb.0, rgb.1, rgb.2), 0)
        }
    }

    /// ITU-R BT.601 luma.
    @inline(__always)
    static func luma(_ r: Float, _ g: Float, _ b: Float) -> Float { 0.299 * r + 0.587 * g + 0.114 * b }

    /// Colour mapping and normalization of one uint8 NCHW sample `[channels, plane]` (no geometry).
    /// `channels` is 1 or 3; grayscale of one channel is the identity.
    static func apply(u8 src: UnsafePointer<UInt8>, channels: Int, plane: Int, preprocessing p: ImagePreprocessing,
                      plan: ImagePreprocessing.Plan, into out: UnsafeMutablePointer<Float>) {
        if channels == 1 {
            for i in 0..<plane { out[i] = (Float(src[i]) / plan.divisor - plan.mean[0]) / plan.std[0] }
            return
        }
        for i in 0..<plane {
            let rgb = (Float(src[i]), Float(src[plane + i]), Float(src[2 * plane + i]))
            store(rgb, color: p.color, plan: plan, out: out, index: i, plane: plane)
        }
    }
}
