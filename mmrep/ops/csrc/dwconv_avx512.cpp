// The large-kernel depthwise convolution (stride 1, 'same', odd K) for CPU
// inference on channels_last maps, AVX-512: float32 or bfloat16 maps and
// weights, float32 sums, bias and optional ReLU fused.
//
// A task is a group of output rows of one 16-channel block. Each input row
// the group reads is laid out once, zero-padded, in a buffer (widened to
// float32, or as bfloat16 column pairs for vdpbf16ps), then added into
// every output row it reaches, with kernel row a = p - i + P: R outputs of
// a row stay in registers while the kernel's columns slide, one weight load
// and one input load per R multiply-adds (two taps each with pairs). Kernel
// rows and the column ranges of a block that would only read padding are
// skipped, so a map smaller than the kernel (RepLKNet-31B at 224: 27x27
// kernels on 14x14 maps) costs what it touches.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <immintrin.h>
#include <torch/library.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace {

constexpr int kLanes = 16;

inline __m512 load_lanes(const float* p) { return _mm512_loadu_ps(p); }

inline __m512 load_lanes(const at::BFloat16* p) {
  __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(v), 16));
}

inline void store_lanes(float* p, __m512 v) { _mm512_storeu_ps(p, v); }

// float32 -> bfloat16, rounded to nearest even as PyTorch does (AVX-512F
// only, no AVX512-BF16 needed); NaNs stay NaNs.
inline void store_lanes(at::BFloat16* p, __m512 v) {
  __m512i u = _mm512_castps_si512(v);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
  __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7FFF)));
  __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
  r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(u, _mm512_set1_epi32(0x400000)));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16)));
}

// One tap per multiply-add: the row widened to float32, weight (C / 16, K,
// K, 16) in the map's dtype.
template <typename T>
struct Single {
  using Lane = __m512;
  using Weight = T;
  static constexpr int kStep = 1;

  static const T* row(const T* w, int block, int a, int K) {
    return w + ((static_cast<int64_t>(block) * K + a) * K) * kLanes;
  }

  static void lay_out(const T* xrow, int W, int C, int P, __m512* xb) {
    for (int q = 0; q < W; q++) xb[q + P] = load_lanes(xrow + q * C);
  }

  // out[r] += sum over kernel columns b in [b0, b1) of xb[j0 + r + b] * w[b]
  template <int R>
  static void block(const __m512* xb, const T* w, __m512* out, int b0,
                    int b1, int j0, int /*K*/) {
    __m512 acc[R], win[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      acc[r] = out[r];
      win[r] = xb[j0 + r + b0];
    }
    for (int b = b0; b < b1; b++) {
      __m512 wv = load_lanes(w + b * kLanes);
#pragma GCC unroll 8
      for (int r = 0; r < R; r++) acc[r] = _mm512_fmadd_ps(win[r], wv, acc[r]);
#pragma GCC unroll 8
      for (int r = 0; r < R - 1; r++) win[r] = win[r + 1];
      win[R - 1] = xb[j0 + R + b];
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) out[r] = acc[r];
  }
};

#define MMREP_BF16 __attribute__((target("avx512f,avx512bw,avx512bf16")))

// Two taps per vdpbf16ps (bfloat16 maps on CPUs with AVX512-BF16): the row
// as overlapping pairs (column q, column q + 1) of each channel, the weight
// as pairs (b, b + 1) with a zero column after the last: (C / 16, K,
// (K + 1) / 2, 16, 2).
struct Pairs {
  using Lane = __m512i;
  using Weight = __m512i;
  static constexpr int kStep = 2;

  static const __m512i* row(const __m512i* w, int block, int a, int K) {
    return w + (static_cast<int64_t>(block) * K + a) * ((K + 1) / 2);
  }

  MMREP_BF16 static void lay_out(const at::BFloat16* xrow, int W, int C,
                                 int P, __m512i* xb) {
    const __m512i order = _mm512_set_epi16(
        31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
        23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    auto column = [&](int q) {  // padded column q, zeros outside the row
      return q < P || q >= W + P ? _mm256_setzero_si256()
          : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xrow + (q - P) * C));
    };
    __m256i next = column(std::max(0, P - 1));
    for (int q = std::max(0, P - 1); q < W + P; q++) {
      __m256i here = next;
      next = column(q + 1);
      xb[q] = _mm512_permutexvar_epi16(
          order, _mm512_inserti64x4(_mm512_castsi256_si512(here), next, 1));
    }
  }

  template <int R>
  MMREP_BF16 static void block(const __m512i* xb, const __m512i* w,
                               __m512* out, int b0, int b1, int j0, int K) {
    __m512 acc[R];
    __m512i win[R + 1];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
      acc[r] = out[r];
      win[r] = xb[j0 + r + b0];
    }
    // whole pairs; the last column (K - 1, even) alone below, so that its
    // zero partner never multiplies an input (inf * 0 would be NaN)
    const int pairs_end = std::min(b1, K - 1);
    int b = b0;
    for (; b < pairs_end; b += 2) {
      __m512i wv = w[b / 2];
#pragma GCC unroll 8
      for (int r = 0; r < R; r++)
        acc[r] = _mm512_dpbf16_ps(acc[r], (__m512bh)win[r], (__m512bh)wv);
      // slide by two columns: win[r] = xb[j0 + r + b + 2]
      win[R] = xb[j0 + R + b];
#pragma GCC unroll 8
      for (int r = 0; r < R - 1; r++) win[r] = win[r + 2];
      win[R - 1] = xb[j0 + R + b + 1];
    }
    if (b1 > K - 1) {  // win[r] = xb[j0 + r + K - 1]: its low halves
      const __m512i wv = w[b / 2];
#pragma GCC unroll 8
      for (int r = 0; r < R; r++)
        acc[r] = _mm512_dpbf16_ps(
            acc[r], (__m512bh)_mm512_maskz_mov_epi16(0x5555555555555555ull, win[r]),
            (__m512bh)wv);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) out[r] = acc[r];
  }
};

template <int R, class Taps, typename T>
void conv(const T* x, const typename Taps::Weight* w, const float* bias,
          T* y, bool relu, int64_t N, int H, int W, int C, int K) {
  using Lane = typename Taps::Lane;
  const int P = K / 2, blocks = C / kLanes, step = Taps::kStep;
  const int last = (K + step - 1) / step * step;  // columns incl. padding
  const int buf_len = W + 2 * P + 2 * R + 4;
  const int row_len = (W + R - 1) / R * R;
  // enough tasks for every thread, as few row groups as that allows
  const int64_t want = 4 * static_cast<int64_t>(at::get_num_threads());
  const int groups = static_cast<int>(std::min<int64_t>(
      H, std::max<int64_t>(1, (want + N * blocks - 1) / (N * blocks))));
  const int rows_per = (H + groups - 1) / groups;
  at::parallel_for(0, N * blocks * groups, 1, [&](int64_t begin, int64_t end) {
    Lane zero;
    std::memset(&zero, 0, sizeof(zero));
    std::vector<Lane> xb(buf_len, zero);
    std::vector<__m512> acc(static_cast<size_t>(row_len) * rows_per);
    for (int64_t t = begin; t < end; t++) {
      const int g = t % groups, block = (t / groups) % blocks;
      const int64_t n = t / groups / blocks;
      const int c = block * kLanes;
      const int i0 = g * rows_per, i1 = std::min(H, i0 + rows_per);
      if (i0 >= i1) continue;
      const T* xn = x + n * H * W * C + c;
      std::fill(acc.begin(), acc.end(), _mm512_loadu_ps(bias + c));
      const int p0 = std::max(0, i0 - P), p1 = std::min(H, i1 + P);
      for (int p = p0; p < p1; p++) {
        Taps::lay_out(xn + static_cast<int64_t>(p) * W * C, W, C, P, xb.data());
        for (int i = std::max(i0, p - P); i < std::min(i1, p + P + 1); i++) {
          const auto* wrow = Taps::row(w, block, p - i + P, K);
          __m512* out = acc.data() + static_cast<size_t>(i - i0) * row_len;
          for (int j0 = 0; j0 < W; j0 += R) {
            // the columns whose taps reach inside the row, whole steps
            const int b0 = std::max(0, P - j0 - R + 1) / step * step;
            const int b1 = std::min(last, (P - j0 + W + step - 1) / step * step);
            Taps::template block<R>(xb.data(), wrow, out + j0, b0, b1, j0, K);
          }
        }
      }
      for (int i = i0; i < i1; i++) {
        const __m512* out = acc.data() + static_cast<size_t>(i - i0) * row_len;
        T* yrow = y + (n * H + i) * W * C + c;
        for (int j = 0; j < W; j++) {
          // max(0, v) returns v where v is NaN, as PyTorch's ReLU does
          __m512 v = relu ? _mm512_max_ps(_mm512_setzero_ps(), out[j]) : out[j];
          store_lanes(yrow + j * C, v);
        }
      }
    }
  });
}

// the fewest blocks of at most 8 outputs, as even as they can be
template <class Taps, typename T>
void dispatch_width(const T* x, const typename Taps::Weight* w,
                    const float* bias, T* y, bool relu, int64_t N, int H,
                    int W, int C, int K) {
  const int blocks = (W + 7) / 8;
  switch ((W + blocks - 1) / blocks) {
#define MMREP_CASE(r) \
  case r: return conv<r, Taps>(x, w, bias, y, relu, N, H, W, C, K);
    MMREP_CASE(1) MMREP_CASE(2) MMREP_CASE(3) MMREP_CASE(4)
    MMREP_CASE(5) MMREP_CASE(6) MMREP_CASE(7) MMREP_CASE(8)
#undef MMREP_CASE
  }
}

bool bf16_pairs() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512bf16");
}

// x: (N, C, H, W) channels_last, float32 or bfloat16, C a multiple of 16;
// weight in x's dtype as pack_weight (native.py) lays it out: (C / 16, K,
// K, 16), or for bfloat16 on a CPU where bf16_pairs() (C / 16, K,
// (K + 1) / 2, 16, 2); bias: (C, ) float32. Returns the map in x's dtype,
// channels_last.
at::Tensor dwconv2d_avx512(const at::Tensor& x, const at::Tensor& weight,
                           const at::Tensor& bias, bool relu) {
  TORCH_CHECK(x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast),
              "dwconv2d_avx512: x must be a channels_last (N, C, H, W) map");
  const int64_t N = x.size(0);
  const int C = x.size(1), H = x.size(2), W = x.size(3), K = weight.size(1);
  const bool pairs = weight.dim() == 5;
  TORCH_CHECK(!pairs || (x.scalar_type() == at::kBFloat16 && bf16_pairs()),
              "dwconv2d_avx512: column pairs need bfloat16 and AVX512-BF16");
  TORCH_CHECK(C % kLanes == 0 && (weight.dim() == 4 || pairs) &&
                  weight.size(0) * kLanes == C &&
                  weight.size(2) == (pairs ? (K + 1) / 2 : K) &&
                  weight.size(3) == kLanes && K % 2 == 1 &&
                  (!pairs || weight.size(4) == 2),
              "dwconv2d_avx512: weight must be laid out by pack_weight");
  TORCH_CHECK(weight.scalar_type() == x.scalar_type() && weight.is_contiguous() &&
                  bias.scalar_type() == at::kFloat && bias.numel() == C &&
                  bias.is_contiguous(),
              "dwconv2d_avx512: weight must be contiguous in x's dtype, bias "
              "contiguous float32");
  auto y = at::empty(x.sizes(), x.options().memory_format(at::MemoryFormat::ChannelsLast));
  const float* b = bias.data_ptr<float>();
  if (pairs) {
    dispatch_width<Pairs>(x.data_ptr<at::BFloat16>(),
                          static_cast<const __m512i*>(weight.data_ptr()), b,
                          y.data_ptr<at::BFloat16>(), relu, N, H, W, C, K);
  } else if (x.scalar_type() == at::kBFloat16) {
    dispatch_width<Single<at::BFloat16>>(
        x.data_ptr<at::BFloat16>(), weight.data_ptr<at::BFloat16>(), b,
        y.data_ptr<at::BFloat16>(), relu, N, H, W, C, K);
  } else {
    TORCH_CHECK(x.scalar_type() == at::kFloat,
                "dwconv2d_avx512: x must be float32 or bfloat16");
    dispatch_width<Single<float>>(x.data_ptr<float>(),
                                  weight.data_ptr<float>(), b,
                                  y.data_ptr<float>(), relu, N, H, W, C, K);
  }
  return y;
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(mmrep, m) {
  m.def("dwconv2d_avx512(Tensor x, Tensor weight, Tensor bias, bool relu) -> Tensor");
  m.def("dwconv2d_avx512_bf16_pairs() -> bool", &bf16_pairs);
}

TORCH_LIBRARY_IMPL(mmrep, CPU, m) {
  m.impl("dwconv2d_avx512", &dwconv2d_avx512);
}
