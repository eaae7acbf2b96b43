import Foundation

/// The samples behind a `Dataset`: in-memory float32 rows, in-memory uint8 rows normalized per
/// batch, or image files decoded per batch. Immutable and shared by every view of a dataset.
struct DatasetSource: Sendable {
    enum Storage: Sendable {
        /// float32 `[N, ...]`, already checked finite.
        case floats(Tensor)
        /// uint8 `[N, ...]` (`[N, C, H, W]` with C 1 or 3, or 1-channel `[N, ...]`).
        case bytes(Tensor, channels: Int, ImagePreprocessing, ImagePreprocessing.Plan)
        /// One file per sample.
        case images(ImageFolder, ImagePreprocessing, ImagePreprocessing.Plan)
    }

    let storage: Storage
    let name: String
    /// Per-sample output shape (without the batch axis).
    let sampleShape: [Int]
    let labels: [Int]?

    var count: Int {
        switch storage {
        case .floats(let t), .bytes(let t, _, _, _): return t.shape[0]
        case .images(let folder, _, _): return folder.paths.count
        }
    }

    var sampleSize: Int { Tensor.elementCount(sampleShape) }

    /// float32 `[indices.count] + sampleShape` of the samples at source `indices`.
    /// - Throws: decode errors naming the file (image sources only).
    func gather(_ indices: ArraySlice<Int>) throws -> Tensor {
        let per = sampleSize, n = indices.count
        switch storage {
        case .floats(let t):
            let floats = t.withFloats { src in
                [Float](unsafeUninitializedCapacity: n * per) { dst, done in
                    for (k, i) in indices.enumerated() {
                        (dst.baseAddress! + k * per).update(from: src.baseAddress! + i * per, count: per)
                    }
                    done = n * per
                }
            }
            return Tensor(shape: [n] + sampleShape, floats: floats)
        case .bytes(let t, let channels, let p, let plan):
            return gatherBytes(t, indices, channels: channels, p, plan)
        case .images(let folder, let p, let plan):
            return try gatherImages(folder, indices, p, plan)
        }
    }

    private func gatherBytes(_ t: Tensor, _ indices: ArraySlice<Int>, channels: Int,
                             _ p: ImagePreprocessing, _ plan: ImagePreprocessing.Plan) -> Tensor {
        let inPer = t.count / t.shape[0], outPer = sampleSize, n = indices.count
        let plane = inPer / channels
        let bytes = t.uint8s
        let floats = bytes.withUnsafeBufferPointer { src in
            [Float](unsafeUninitializedCapacity: n * outPer) { dst, done in
                for (k, i) in indices.enumerated() {
                    ImageTransform.apply(u8: src.baseAddress! + i * inPer, channels: channels, plane: plane,
                                         preprocessing: p, plan: plan, into: dst.baseAddress! + k * outPer)
                }
                done = n * outPer
            }
        }
        return Tensor(shape: [n] + sampleShape, floats: floats)
    }

    private func gatherImages(_ folder: ImageFolder, _ indices: ArraySlice<Int>,
                              _ p: ImagePreprocessing, _ plan: ImagePreprocessing.Plan) throws -> Tensor {
        let per = sampleSize, items = Array(indices)
        var failure: Error?
        let floats = [Float](unsafeUninitializedCapacity: items.count * per) { dst, done in
            let base = OutputBase(pointer: dst.baseAddress!)
            do {
                // Each image writes its own slice of the batch buffer.
                _ = try ParallelMap.run(items.count) { k in
                    let path = folder.paths[items[k]]
                    let image = try ImageDecoder.decode(path: path)
                    let g = try ImageGeometry.make(p.resize, sourceHeight: image.height, sourceWidth: image.width, name: path)
                    guard [p.channels, g.height, g.width] == sampleShape else {
                        throw DatasetError.inconsistentSize(path: path, size: [image.height, image.width],
                                                            expected: Array(sampleShape.dropFirst()), firstPath: folder.paths[0])
                    }
                    ImageTransform.apply(image, geometry: g, preprocessing: p, plan: plan, into: base.pointer + k * per)
                }
                done = items.count * per
            } catch {
                dst.baseAddress!.initialize(repeating: 0, count: items.count * per)
                done = items.count * per
                failure = error
            }
        }
        if let failure { throw failure }
        return Tensor(shape: [items.count] + sampleShape, floats: floats)
    }
}

/// The batch buffer shared by the decoding workers; each writes a disjoint slice.
private struct OutputBase: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
}
