// distance_kernels: SIMD versions of Faiss's three per-vector distance kernels, linked in place of
// the archive's own.
//
// Why: Debian's libfaiss.a is built for baseline x86-64 (no SSE3), so faiss::fvec_inner_product and
// faiss::fvec_L2sqr are its scalar "_ref" loops: one dependent add per dimension. Every single-query
// IVF search runs them (the coarse quantizer for a query batch under 20, and every code of every
// probed list), and a profile of the serving benchmark put 20 % of the whole process's CPU in
// fvec_inner_product_ref. The build (MIC.Streaming.Faiss.csproj) copies libfaiss.a with these three
// symbols made weak (objcopy -W), so the strong definitions below win at link time; everything else
// in Faiss is untouched. The AVX2 + FMA path is chosen on first use when the CPU has both; otherwise
// a portable loop with independent accumulators. Sums are reassociated, so results can differ from
// the reference loop in the last bits (the tests compare against exact search with a tolerance).
#include <faiss/utils/distances.h>

#include <atomic>
#include <cstddef>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

float ip_portable(const float* x, const float* y, size_t d) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= d; i += 4) {
        s0 += x[i] * y[i];
        s1 += x[i + 1] * y[i + 1];
        s2 += x[i + 2] * y[i + 2];
        s3 += x[i + 3] * y[i + 3];
    }
    for (; i < d; i++) s0 += x[i] * y[i];
    return (s0 + s1) + (s2 + s3);
}

float l2_portable(const float* x, const float* y, size_t d) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= d; i += 4) {
        const float a = x[i] - y[i], b = x[i + 1] - y[i + 1], c = x[i + 2] - y[i + 2], e = x[i + 3] - y[i + 3];
        s0 += a * a;
        s1 += b * b;
        s2 += c * c;
        s3 += e * e;
    }
    for (; i < d; i++) {
        const float a = x[i] - y[i];
        s0 += a * a;
    }
    return (s0 + s1) + (s2 + s3);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) inline float hsum(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 h = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)));
}

// Two 8-wide accumulators hide the FMA latency; a 128-d vector is 8 iterations.
__attribute__((target("avx2,fma"))) float ip_avx2(const float* x, const float* y, size_t d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8), a1);
    }
    if (i + 8 <= d) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i), a0);
        i += 8;
    }
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < d; i++) s += x[i] * y[i];
    return s;
}

__attribute__((target("avx2,fma"))) float l2_avx2(const float* x, const float* y, size_t d) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= d; i += 16) {
        const __m256 u = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
        const __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(y + i + 8));
        a0 = _mm256_fmadd_ps(u, u, a0);
        a1 = _mm256_fmadd_ps(v, v, a1);
    }
    if (i + 8 <= d) {
        const __m256 u = _mm256_sub_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i));
        a0 = _mm256_fmadd_ps(u, u, a0);
        i += 8;
    }
    float s = hsum(_mm256_add_ps(a0, a1));
    for (; i < d; i++) {
        const float a = x[i] - y[i];
        s += a * a;
    }
    return s;
}

bool cpu_has_avx2_fma() {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

using Kernel = float (*)(const float*, const float*, size_t);

// Resolved on first use rather than in a static initialiser, so no initialisation order between
// translation units matters: each pointer starts at its resolver (constant-initialised), which
// stores the chosen kernel and calls it. Relaxed atomics: every thread may resolve, all agree.
float ip_resolve(const float* x, const float* y, size_t d);
float l2_resolve(const float* x, const float* y, size_t d);
std::atomic<Kernel> ip_kernel{ip_resolve};
std::atomic<Kernel> l2_kernel{l2_resolve};

bool resolve() {
#if defined(__x86_64__)
    if (cpu_has_avx2_fma()) {
        ip_kernel.store(ip_avx2, std::memory_order_relaxed);
        l2_kernel.store(l2_avx2, std::memory_order_relaxed);
        return true;
    }
#endif
    ip_kernel.store(ip_portable, std::memory_order_relaxed);
    l2_kernel.store(l2_portable, std::memory_order_relaxed);
    return false;
}

float ip_resolve(const float* x, const float* y, size_t d) {
    resolve();
    return ip_kernel.load(std::memory_order_relaxed)(x, y, d);
}

float l2_resolve(const float* x, const float* y, size_t d) {
    resolve();
    return l2_kernel.load(std::memory_order_relaxed)(x, y, d);
}

}  // namespace

extern "C" __attribute__((visibility("default"))) int mic_faiss_simd_kernels() {
    return resolve() ? 1 : 0;
}

namespace faiss {

float fvec_inner_product(const float* x, const float* y, size_t d) {
    return ip_kernel.load(std::memory_order_relaxed)(x, y, d);
}

float fvec_L2sqr(const float* x, const float* y, size_t d) { return l2_kernel.load(std::memory_order_relaxed)(x, y, d); }

float fvec_norm_L2sqr(const float* x, size_t d) { return ip_kernel.load(std::memory_order_relaxed)(x, x, d); }

}  // namespace faiss
