#ifndef OCTET_CKERNELS_H
#define OCTET_CKERNELS_H
#include <stdint.h>
/* SIMD intrinsics kernels that Swift cannot express; each has a Swift reference twin
   (OctetTensor/Kernels/Int8*.swift, Requantize.swift). All pointers may be unaligned. */
int octet_ckernels_version(void);

/* ---- INT8 GEMM (int16 operands, exact int32 accumulation via pmaddwd) ---- */

/* Packs rows 0..<k of an int8 matrix (row r starts at src + r*ld, ncols valid columns) into
   ceil(ncols/16) panels. Panel p holds ceil(k/2) k-pairs; pair j is 32 int16:
   for column c in 0..<16: [b(2j, 16p+c), b(2j+1, 16p+c)]. Missing rows/columns are 0.
   dst must hold ceil(ncols/16) * ceil(k/2) * 32 int16. */
void octet_i8_pack_b(const int8_t *src, long ld, long k, long ncols, int16_t *dst);

/* c[m][n] (+)= sum_k a[m][k] * b[k][n] for m < mrows, n < ncols.
   a: int16 rows of length lda (>= kpad, kpad = 2*ceil(k/2), entries k..<kpad are 0).
   bpack: panels from octet_i8_pack_b with the same k. c: int32 rows of stride ldc.
   accumulate = 0 overwrites c, 1 adds to it. Exact while |sum| < 2^31. */
void octet_i8_gemm_packed(const int16_t *a, long lda, long mrows, long kpad,
                          const int16_t *bpack, long ncols, int32_t *c, long ldc, int accumulate);

/* ---- INT8 GEMM, AVX-512 VNNI (vpdpbusd on u8 = x XOR 0x80 times s8 weights, exact) ---- */

/* 1 when the CPU and OS support AVX512-VNNI with AVX512VL/BW. */
int octet_i8_vnni_supported(void);
/* Packed A: m int8 rows of ceil(k/4)*4 bytes (zero-padded), then m int32 corrections 128*sum(w). */
long octet_i8_vnni_pack_a_size(long m, long k);
void octet_i8_vnni_pack_a(const int8_t *a, long lda, long m, long k, void *dst);
/* Packed B: ceil(ncols/16) panels of ceil(k/4) k-quads; quad j is 64 bytes: for column c in
   0..<16 the bytes b(4j..4j+3, 16p+c) XOR 0x80. */
long octet_i8_vnni_pack_b_size(long k, long ncols);
void octet_i8_vnni_pack_b(const int8_t *src, long ld, long k, long ncols, void *dst);
/* c[r][n] = sum_k a[row0+r][k] * b[k][n] for r < mrows, n < ncols (overwrites c); apack packs
   m_total rows. Call only when octet_i8_vnni_supported(). */
void octet_i8_vnni_gemm(const void *apack, long m_total, long row0, long mrows, long k,
                        const void *bpack, long ncols, int32_t *c, long ldc);

/* ---- depthwise row ---- */

/* out[x] = sum_t taps[t][x] * w[t] for x < ow (written up to roundup16(ow));
   taps[t] must be readable for roundup16(ow) bytes. wpairs[p] = (uint16)w[2p] | w[2p+1] << 16
   for p < ceil(ntaps/2) (a missing odd tap has weight 0). */
void octet_i8_dw_row(const int8_t *const *taps, const int32_t *wpairs, long ntaps, int32_t *out, long ow);

/* ---- depthwise plane ---- */
typedef struct {
    long in_h, in_w, out_h, out_w, kernel_h, kernel_w;
    long stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left, pad_bottom, pad_right;
    /* phase-plane row length: >= roundup16(out_w) + (kernel_w-1)*dilation_w/stride_w + 16 */
    long plane_width;
} octet_dw_geometry;

/* acc[oy*R + ox] = sum_{ky,kx} x[oy*sH + ky*dH - padTop][ox*sW + kx*dW - padLeft] * w[ky*kw + kx]
   (0 outside the input) for ox < out_w; returns the row stride R (out_w, or the padded input
   width for stride 1, whose extra columns hold values to discard). Scratch: planes
   [max(stride_w * in_h * plane_width, octet_i8_dw_flat_plane_size)], zero [plane_width] of zeros,
   taps [kh*kw], wpairs [ceil(kh*kw/2)], acc [out_h * max(out_w, padded width) + 16]. */
long octet_i8_dw_flat_plane_size(const octet_dw_geometry *g);
long octet_i8_dw_plane(const int8_t *x, const int8_t *w, const octet_dw_geometry *g,
                       int8_t *planes, const int8_t *zero, const int8_t **taps, int32_t *wpairs, int32_t *acc);

/* ---- float im2col ---- */

/* cols[(c*kh + ky)*kw + kx][oy*out_w + ox] = x[c][oy*sH + ky*dH - padTop][ox*sW + kx*dW - padLeft]
   (0 outside the input) for c < channels: the [C*KH*KW, out_h*out_w] GEMM operand of a
   convolution over [C, in_h, in_w] (any window geometry; pad_bottom/right are implied by out_h/out_w). */
void octet_f32_im2col(const float *x, long channels, const octet_dw_geometry *g, float *cols);

/* ---- float depthwise plane ---- */

/* Floats the scratch of octet_f32_dw_plane needs (plane_width is not used). */
long octet_f32_dw_scratch(const octet_dw_geometry *g);
/* Zeroes a scratch for `g`, once before the first octet_f32_dw_plane of that geometry. */
void octet_f32_dw_scratch_init(const octet_dw_geometry *g, float *scratch);
/* y[oy*out_w + ox] = clamp(bias + sum_{ky,kx} w[ky*kw+kx] * x[oy*sH + ky*dH - padTop][ox*sW + kx*dW - padLeft], lo, hi)
   (0 outside the input; taps accumulated in order with FMA). offsets: from octet_f32_dw_offsets;
   scratch: zeroed by octet_f32_dw_scratch_init for the same geometry (planes only overwrite
   positions inside the input, so it can be reused for every plane of the layer). */
void octet_f32_dw_plane(const float *x, const float *w, float bias, float lo, float hi,
                        const octet_dw_geometry *g, float *scratch, const long *offsets, float *y);
/* y[i] = clamp(y[i] + bias, lo, hi) for i < n (a conv output plane after its GEMM; NaN stays NaN). */
void octet_f32_bias_clamp(float *y, long n, float bias, float lo, float hi);
/* The kh*kw tap offsets into the phase buffer, computed once per geometry. */
void octet_f32_dw_offsets(const octet_dw_geometry *g, long *offsets);
/* Weight gradient of one depthwise plane: dw[ky*kw + kx] += sum_{oy,ox} dy[oy*out_w + ox] *
   x[oy*sH + ky*dH - padTop][ox*sW + kx*dW - padLeft] (terms outside the input are 0), over the
   stride-phase rows of x (scratch and offsets as for octet_f32_dw_plane); per tap, eight float
   lanes over about 512 outputs each, their sums added in double. */
void octet_f32_dw_weight_grad(const float *x, const float *dy, const octet_dw_geometry *g, float *scratch,
                              const long *offsets, float *dw);

/* ---- float direct convolution (few input channels) ---- */

/* Longest reduction (channels * kh * kw) octet_f32_conv_direct takes. */
#define OCTET_F32_DIRECT_MAX_TAPS 64
/* Floats the scratch of octet_f32_conv_direct needs: one phase buffer per input channel. */
long octet_f32_conv_direct_scratch(const octet_dw_geometry *g, long channels);
/* Zeroes a scratch for `g` and `channels`, once before the first octet_f32_conv_direct of that geometry. */
void octet_f32_conv_direct_scratch_init(const octet_dw_geometry *g, long channels, float *scratch);
/* y[oc][oy*out_w + ox] = clamp(bias[oc] + sum_{c,ky,kx} w[((oc*channels + c)*kh + ky)*kw + kx] *
   x[c][oy*sH + ky*dH - padTop][ox*sW + kx*dW - padLeft], lo, hi) for oc0 <= oc < oc1 (0 outside the
   input; taps accumulated in (c, ky, kx) order with FMA). One sample: x [channels, in_h, in_w],
   w [OC, channels, kh, kw], bias [OC] or NULL, y [OC, out_h, out_w]. channels*kh*kw <=
   OCTET_F32_DIRECT_MAX_TAPS (else nothing is written); scratch from octet_f32_conv_direct_scratch_init. */
void octet_f32_conv_direct(const float *x, long channels, const float *w, const float *bias, long oc0, long oc1,
                           float lo, float hi, const octet_dw_geometry *g, float *scratch, float *y);

/* ---- calibration statistics ---- */

/* Finite min and max of x[0..<n] (+inf / -inf when none) and the count of NaN / +-inf. */
void octet_f32_range(const float *x, long n, float *mn, float *mx, long *nonfinite);
/* sse[k] += sum_i (x[i] - clamp(R(clamp(x[i]*2^fp_k, lo-1, hi+1)), lo, hi) * 2^-fp_k)^2 for k < count
   (fp_k = fixpos[k]), in blocks of 4096 summed in float then added in double. R: mode 0 half up,
   1 half away from zero, 2 half to even, 3 floor, 4 ceil, 5 half down (ties toward zero). */
void octet_f32_fixpos_sse(const float *x, long n, const int *fixpos, int count, float lo, float hi,
                          int mode, double *sse);

/* x[i] = clamp(R(clamp(x[i]*2^fixpos, lo-1, hi+1)), lo, hi) * 2^-fixpos in place (NaN -> lo);
   R as in octet_f32_fixpos_sse. */
void octet_f32_fake_quantize(float *x, long n, int fixpos, float lo, float hi, int mode);

/* ---- layer reconstruction (AdaQuant / AdaRound) ---- */

/* out = act(pre[i]) with act 0 identity, 1 clamp(lo, hi), 2 LeakyRelu (alpha below 0),
   3 HardSwish x * clamp(x/6 + 1/2, 0, 1), 4 HardSigmoid clamp(alpha * x + lo, 0, 1) (lo is beta);
   e = out - target[i]; returns sum e^2 (blocks of 4096 summed in float, then in double) and,
   when dy is not NULL, dy[i] = grad_scale * e * act'(pre[i]) (clamp: 0 below lo or above hi,
   1 at the bounds). dy may be pre. */
double octet_f32_recon_loss(const float *pre, const float *target, float *dy, long n, int act,
                            float lo, float hi, float alpha, float grad_scale);

/* AdaRound (Nagel et al. 2020 §3.2): h(v) = clamp(sigmoid(v)*1.2 - 0.1, 0, 1);
   soft[i] = scale * clamp(floor_w[i] + h(v[i]), qmin, qmax); sg[i] = sigmoid(v[i]), which the step reads. */
void octet_adaround_soft(const float *v, const float *floor_w, float *soft, float *sg, long n,
                         float scale, float qmin, float qmax);
typedef struct {
    float scale, qmin, qmax;
    float lambda, beta;                     /* regularizer lambda * sum(1 - |2h - 1|^beta); beta <= 0: off */
    float lr, beta1, beta2, eps, c1, c2;    /* Adam; c1 = 1 - beta1^t, c2 = 1 - beta2^t */
} octet_adaround_params;
/* One Adam step (Kingma & Ba 2015, Alg. 1) on the rounding variables v, given dw = dLoss/dsoft:
   g = dw*scale*h'(v) where floor_w + raw h stays in [qmin, qmax], plus the regularizer's
   derivative; g = 0 where h saturates. sg, when not NULL, holds sigmoid(v) on entry (from
   octet_adaround_soft or the last step); NULL recomputes it (less memory traffic on large layers).
   Then soft (and sg) = octet_adaround_soft(new v). exp and log are polynomials (relative error
   < 1e-6); the result does not depend on sg being given. */
void octet_adaround_step(float *v, float *m, float *m2, float *sg, const float *floor_w, const float *dw, float *soft,
                         long n, const octet_adaround_params *p);

/* ---- code-to-code table ---- */

/* y[i] = table[(uint8_t)x[i]] for i < n (table: 256 entries indexed by the code's bit pattern;
   x and y may be the same buffer). AVX-512 VBMI when available. */
void octet_i8_lut(const int8_t *x, int8_t *y, long n, const int8_t *table);

/* ---- requantization (int32 domain; the caller checks that no step overflows int32) ---- */
typedef struct {
    int32_t bias_term;   /* bias_int << max(shift_bias, 0) */
    int32_t up_shift;    /* k = max(-shift_bias, 0): v = (acc << k) + bias_term */
    int32_t shift;       /* S = shift_cut + k */
    int32_t activation;  /* 0 none, 1 relu, 2 relu6, 3 leaky relu 26/256 */
    int32_t relu6_floor; /* relu6: v > relu6_floor -> relu6_out */
    int32_t relu6_out;
} octet_requant_i32;

/* out[i] = saturate_int8(DPU_ROUND(act(v_i) / 2^S)), see Requantize.swift. */
void octet_i8_requant_row(const int32_t *acc, int8_t *out, long n, const octet_requant_i32 *p);
#endif
