/* Per-layer reconstruction kernels of AdaQuant / AdaRound: the fused loss and output gradient, and
   the AdaRound rounding-variable step. Plain loops over branch-free arithmetic that the compiler
   vectorizes (exp and log are polynomial so no libm call blocks it). */
#include "CKernels.h"
#include <math.h>
#include <string.h>

#define RECON_BLOCK 4096

static inline float as_float(int32_t i) { float f; memcpy(&f, &i, 4); return f; }
static inline int32_t as_int(float f) { int32_t i; memcpy(&i, &f, 4); return i; }

/* e^x for x in [-87, 88] (clamped): x = n ln2 + r, |r| <= ln2/2, e^r by its Taylor series to
   degree 7 (relative error < 2e-7 there), times 2^n by exponent bits. */
static inline float exp_poly(float x) {
    x = fminf(fmaxf(x, -87.0f), 88.0f);
    float n = floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * as_float(((int32_t)n + 127) << 23);
}

/* ln a for a > 0 normal (0 and subnormals give about -88): a = m 2^e with m in [√½, √2),
   ln m = 2 atanh t, t = (m - 1)/(m + 1), |t| < 0.172, series to t^11. */
static inline float log_poly(float a) {
    int32_t bits = as_int(a);
    float e = (float)(((bits >> 23) & 0xff) - 127);
    float m = as_float((bits & 0x7fffff) | 0x3f800000);
    int big = m > 1.41421356237f;
    m = big ? m * 0.5f : m;
    e = big ? e + 1.0f : e;
    float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    float s = 1.0f / 11.0f;
    s = s * t2 + 1.0f / 9.0f;
    s = s * t2 + 1.0f / 7.0f;
    s = s * t2 + 1.0f / 5.0f;
    s = s * t2 + 1.0f / 3.0f;
    s = s * t2 + 1.0f;
    return e * 0.693147180559945f + 2.0f * t * s;
}

/* e = act(x) - t and the activation's derivative at x (act as in octet_f32_recon_loss). */
static inline __attribute__((always_inline))
float recon_error(float x, float t, int act, float lo, float hi, float alpha, float *d) {
    float out = x;
    *d = 1.0f;
    if (act == 1) { out = fminf(fmaxf(x, lo), hi); *d = (x < lo || x > hi) ? 0.0f : 1.0f; }
    else if (act == 2) { out = x < 0 ? x * alpha : x; *d = x < 0 ? alpha : 1.0f; }
    else if (act == 3) {
        out = x * fminf(fmaxf(x / 6.0f + 0.5f, 0.0f), 1.0f);
        *d = x < -3.0f ? 0.0f : (x > 3.0f ? 1.0f : x / 3.0f + 0.5f);
    } else if (act == 4) {
        const float t = alpha * x + lo;
        out = fminf(fmaxf(t, 0.0f), 1.0f);
        *d = (t <= 0.0f || t >= 1.0f) ? 0.0f : alpha;
    }
    return out - t;
}

/* One block: sum of e^2 in float (lanes reassociated: 4 x 8 lanes in every variant, so the loss
   does not depend on whether dy is written), dy written when wanted. Inlined, so a dy written over
   pre is the same pointer value as pre and the loop vectorizes without an overlap check (which two
   pointers to the same floats would fail, running it scalar). */
static inline __attribute__((always_inline))
float recon_block(const float *pre, const float *target, float *dy, long n, int act,
                  float lo, float hi, float alpha, float grad_scale) {
#pragma clang fp reassociate(on)
    float acc = 0, d;
#pragma clang loop vectorize_width(8) interleave_count(4)
    for (long i = 0; i < n; i++) {
        float e = recon_error(pre[i], target[i], act, lo, hi, alpha, &d);
        acc += e * e;
        if (dy) dy[i] = grad_scale * e * d;
    }
    return acc;
}

double octet_f32_recon_loss(const float *pre, const float *target, float *dy, long n, int act,
                            float lo, float hi, float alpha, float grad_scale) {
    double total = 0;
    for (long b = 0; b < n; b += RECON_BLOCK) {
        long len = n - b < RECON_BLOCK ? n - b : RECON_BLOCK;
        if (dy == pre) total += recon_block(dy + b, target + b, dy + b, len, act, lo, hi, alpha, grad_scale);
        else if (dy) total += recon_block(pre + b, target + b, dy + b, len, act, lo, hi, alpha, grad_scale);
        else total += recon_block(pre + b, target + b, 0, len, act, lo, hi, alpha, grad_scale);
    }
    return total;
}

#define ADAROUND_ZETA 1.1f
#define ADAROUND_GAMMA (-0.1f)

static inline float adaround_sigmoid(float v) { return 1.0f / (1.0f + exp_poly(-v)); }

void octet_adaround_soft(const float *v, const float *floor_w, float *soft, float *sg, long n,
                         float scale, float qmin, float qmax) {
    for (long i = 0; i < n; i++) {
        const float s = adaround_sigmoid(v[i]);
        const float h = fminf(fmaxf(s * (ADAROUND_ZETA - ADAROUND_GAMMA) + ADAROUND_GAMMA, 0.0f), 1.0f);
        sg[i] = s;
        soft[i] = scale * fminf(fmaxf(floor_w[i] + h, qmin), qmax);
    }
}

/* The step with the regularizer on (`reg`, beta > 0) or off, so the warm-up skips its power, and
   with sigmoid(v) read from and written to sgv (`cached`) or recomputed. */
static inline __attribute__((always_inline))
void adaround_step(float *v, float *m, float *m2, float *sgv, const float *floor_w, const float *dw, float *soft,
                   long n, const octet_adaround_params *p, const int reg, const int cached) {
    const float width = ADAROUND_ZETA - ADAROUND_GAMMA;
    const float scale = p->scale, qmin = p->qmin, qmax = p->qmax, lambda = p->lambda, beta = p->beta;
    const float lr = p->lr, b1 = p->beta1, b2 = p->beta2, eps = p->eps, c1 = p->c1, c2 = p->c2;
    for (long i = 0; i < n; i++) {
        float sg = cached ? sgv[i] : adaround_sigmoid(v[i]);
        float raw = sg * width + ADAROUND_GAMMA;
        float dh = width * sg * (1.0f - sg);
        float q = floor_w[i] + raw;
        float g = (q >= qmin && q <= qmax) ? dw[i] * scale * dh : 0.0f;
        if (reg) {
            float u = 2.0f * raw - 1.0f, au = fabsf(u);
            float pw = exp_poly((beta - 1.0f) * log_poly(au));
            g += lambda * (-beta * pw * (u >= 0 ? 2.0f : -2.0f)) * dh;
        }
        g = (raw > 0.0f && raw < 1.0f) ? g : 0.0f;
        float mi = b1 * m[i] + (1.0f - b1) * g;
        float vi = b2 * m2[i] + (1.0f - b2) * g * g;
        m[i] = mi;
        m2[i] = vi;
        float nv = v[i] - lr * (mi / c1) / (sqrtf(vi / c2) + eps);
        v[i] = nv;
        float ns = adaround_sigmoid(nv);
        if (cached) sgv[i] = ns;
        float h = fminf(fmaxf(ns * width + ADAROUND_GAMMA, 0.0f), 1.0f);
        soft[i] = scale * fminf(fmaxf(floor_w[i] + h, qmin), qmax);
    }
}

void octet_adaround_step(float *v, float *m, float *m2, float *sg, const float *floor_w, const float *dw, float *soft,
                         long n, const octet_adaround_params *p) {
    if (sg) {
        if (p->beta > 0) adaround_step(v, m, m2, sg, floor_w, dw, soft, n, p, 1, 1);
        else adaround_step(v, m, m2, sg, floor_w, dw, soft, n, p, 0, 1);
    } else {
        if (p->beta > 0) adaround_step(v, m, m2, 0, floor_w, dw, soft, n, p, 1, 0);
        else adaround_step(v, m, m2, 0, floor_w, dw, soft, n, p, 0, 0);
    }
}
