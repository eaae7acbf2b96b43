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
        let n = g.height * g.width, stride = image.width * 3, width = g.width
        let planes = UnsafeMutablePointer<Float>.allocate(capacity: 3 * n)
        defer { planes.deallocate() }
        image.pixels.withUnsafeBufferPointer { px in
            xs.withUnsafeBufferPointer { xt in
                for (oy, ty) in ys.enumerated() {
                    let r0 = px.baseAddress! + ty.i0 * stride, r1 = px.baseAddress! + ty.i1 * stride
                    let wy = ty.w, wy1 = 1 - ty.w
                    let row = planes + oy * width
                    for ox in 0..<width {
                        let t = xt[ox], a = t.i0 * 3, b = t.i1 * 3, wx = t.w, wx1 = 1 - t.w
                        for c in 0..<3 {
                            let top = Float(r0[a + c]) * wx1 + Float(r0[b + c]) * wx
                            let bottom = Float(r1[a + c]) * wx1 + Float(r1[b + c]) * wx
                            row[c * n + ox] = top * wy1 + bottom * wy
                        }
                    }
                }
            }
        }
        finish(planes, count: n, color: p.color, plan: plan, into: out)
    }

    /// Colour mapping and normalization of planar R, G, B values (`3 · count` floats on [0, 255])
    /// into `out`: `x = (u / divisor − mean[c]) / std[c]`.
    static func finish(_ rgb: UnsafePointer<Float>, count n: Int, color: ImagePreprocessing.Color,
                       plan: ImagePreprocessing.Plan, into out: UnsafeMutablePointer<Float>) {
        let d = plan.divisor
        func normalize(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ c: Int) {
            let m = plan.mean[c], s = plan.std[c]
            for i in 0..<n { dst[i] = (src[i] / d - m) / s }
        }
        switch color {
        case .rgb:
            for c in 0..<3 { normalize(rgb + c * n, out + c * n, c) }
        case .bgr:
            for c in 0..<3 { normalize(rgb + (2 - c) * n, out + c * n, c) }
        case .grayscale:
            let r = rgb, g = rgb + n, b = rgb + 2 * n
            for i in 0..<n { out[i] = luma(r[i], g[i], b[i]) }
            normalize(UnsafePointer(out), out, 0)
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
            let d = plan.divisor, m = plan.mean[0], s = plan.std[0]
            for i in 0..<plane { out[i] = (Float(src[i]) / d - m) / s }
            return
        }
        let planes = UnsafeMutablePointer<Float>.allocate(capacity: 3 * plane)
        defer { planes.deallocate() }
        for i in 0..<(3 * plane) { planes[i] = Float(src[i]) }
        finish(planes, count: plane, color: p.color, plan: plan, into: out)
    }
}
