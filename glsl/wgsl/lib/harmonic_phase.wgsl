// contributors: ddspgl
// description: |
//     The harmonic synthesizer's phase arithmetic in WGSL (kernels/harmonic_webgpu.py):
//     residues modulo one cycle p = sample_rate * hop * 2^shift in [2^43, 2^44), held in
//     a vec2<u32> (residue.wgsl). The phase of a linearly interpolated f0 inside a frame
//     (glsl/lib/harmonic/harmonicInFrame.glsl), a residue as a centred float
//     (resToCentered.glsl), the exact Nyquist test (harmonicAboveNyquist.glsl), and the
//     two conversions the webgl kernel does on the host: float32 radians to the nearest
//     residue and a residue to float32 radians, here in exact integer arithmetic.

#include "residue.wgsl"

// (r * m) mod p for a residue r and an unsigned m, by binary double-and-add: exact, at
// most 2 * 32 res_add calls (the loop stops at m's highest set bit).
fn res_mul_u32(r_in: vec2<u32>, m_in: u32, p: vec2<u32>) -> vec2<u32> {
  var acc = vec2<u32>(0u, 0u);
  var r = r_in;
  var m = m_in;
  for (var i = 0; i < 32 && m != 0u; i++) {
    if ((m & 1u) != 0u) {
      acc = res_add(acc, r, p);
    }
    r = res_add(r, r, p);
    m = m >> 1u;
  }
  return acc;
}

// The phase sample r of a frame accumulates, inclusive: a * ca(r) + b * cb(r) units with
// the integers cb = r(r+1)/2, ca = hop(r+1) - cb (< 2^32 for hop <= 65536), a and b the
// residues of the frame's and the next frame's f0 * 2^shift. r = hop - 1 gives the
// frame's whole increment.
fn harmonic_in_frame(ra: vec2<u32>, rb: vec2<u32>, r: i32, hop: i32, p: vec2<u32>) -> vec2<u32> {
  let c = harmonic_in_frame_counts(r, hop);
  return res_add(res_mul_u32(ra, c.x, p), res_mul_u32(rb, c.y, p), p);
}

// (ca, cb) of harmonic_in_frame.
fn harmonic_in_frame_counts(r: i32, hop: i32) -> vec2<u32> {
  let u = u32(r);
  let cb = (u * (u + 1u)) >> 1u;
  return vec2<u32>(u32(hop) * (u + 1u) - cb, cb);
}

// (word, carry) + v: a column of a multi-word sum.
fn column_add(acc: vec2<u32>, v: u32) -> vec2<u32> {
  let s = acc.x + v;
  return vec2<u32>(s, acc.y + select(0u, 1u, s < v));
}

// A residue r in [0, p) as a 96-bit binary fraction of a cycle (words least significant
// first): floor(r * M / 2^44) with M = floor(2^140 / p) <= 2^97 (the uniform fracScale,
// four words: js/src/kernels/harmonic_synth_webgpu.js), the product exact from 16-bit
// halves. M is below 2^140 / p by less than 1, so r * M / 2^44 is below r * 2^96 / p by
// less than r / 2^44 < 1, and the floor drops less than 1 more: within 2 units of 2^-96
// cycles below the exact fraction; its top two words (.yz) are within 2 units of 2^-64.
// Fractions add modulo 1 as residues add modulo p.
fn res_to_fraction(r: vec2<u32>, m: vec4<u32>) -> vec3<u32> {
  let a = mul_u32_wide(r.x, m.x);
  let b = mul_u32_wide(r.x, m.y);
  let c = mul_u32_wide(r.x, m.z);
  let d = mul_u32_wide(r.x, m.w);                // m.w <= 2
  let e = mul_u32_wide(r.y, m.x);                // r.y < 2^12
  let f = mul_u32_wide(r.y, m.y);
  let g = mul_u32_wide(r.y, m.z);
  let h = r.y * m.w;                              // < 2^14
  // Words 1-4 of the product, each with its carry into the next (word 0, a.x, has none).
  let w1 = column_add(column_add(vec2<u32>(a.y, 0u), b.x), e.x);
  let w2 = column_add(column_add(column_add(column_add(vec2<u32>(w1.y, 0u), b.y), e.y), c.x),
                      f.x);
  let w3 = column_add(column_add(column_add(column_add(vec2<u32>(w2.y, 0u), c.y), f.y), d.x),
                      g.x);
  let w4 = w3.y + d.y + g.y + h;                  // the product is below 2^141: no carry out
  return vec3<u32>((w1.x >> 12u) | (w2.x << 20u), (w2.x >> 12u) | (w3.x << 20u),
                   (w3.x >> 12u) | (w4 << 20u));
}

// floor(a * m / 2^32) modulo 2^64 for a 96-bit fraction a and an unsigned m: the fraction
// a * m as 64 bits, under 1 unit of 2^-64 cycles below the exact product.
fn frac_mul_u32(a: vec3<u32>, m: u32) -> vec2<u32> {
  let low = mul_u32_wide(a.x, m).y;
  let mid = mul_u32_wide(a.y, m);
  let lo = low + mid.x;
  return vec2<u32>(lo, mid.y + a.z * m + select(0u, 1u, lo < low));
}

// The in-frame phase of harmonic_in_frame, as a 64-bit fraction of a cycle from the
// 96-bit fractions fa, fb of the residues a, b: fa ca + fb cb with the same counts. Each
// product is within 2 c units of 2^-96 (c < 2^32 for hop <= 65536: 2^-63 cycles) and its
// floor under 2^-64 more: within 2^-61 cycles of the exact residue's fraction.
fn harmonic_in_frame_fraction(fa: vec3<u32>, fb: vec3<u32>, r: i32, hop: i32) -> vec2<u32> {
  let c = harmonic_in_frame_counts(r, hop);
  return frac_add(frac_mul_u32(fa, c.x), frac_mul_u32(fb, c.y));
}

// a + b modulo 2^64 for fractions (low word, high word).
fn frac_add(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// Fractions as centred float32 periods in [-0.5, 0.5]: the high words read as signed
// count of 2^-32 cycles. Dropping the low word loses under 2^-32 cycles, the conversion
// to float32 under one ulp of a value below 2^31 units (2^7 units, 2^-25 cycles): within
// 2^-25 + 2^-32 < 2^-23 periods of the fraction.
fn frac_to_centered4(hi: vec4<u32>) -> vec4<f32> {
  return vec4<f32>(bitcast<vec4<i32>>(hi)) * 2.3283064365386963e-10f;  // 2^-32
}

// Whether k * f0 >= nyquist, decided exactly for a float32 f0, an integer k < 2^12 and a
// float32 nyquist: f0 = hi + lo with hi its top 12 significant bits, so k * hi and k * lo
// are exact; when k * hi < nyquist either nyquist - k * hi is exact (Sterbenz) or
// k * f0 < nyquist / 2 * (1 + 2^-11): no rounding decides the answer.
fn harmonic_above_nyquist(f0: f32, k: i32, nyquist: f32) -> bool {
  let hi = bitcast<f32>(bitcast<u32>(f0) & 0xfffff000u);
  let lo = f0 - hi;
  let kf = f32(k);
  let khi = kf * hi;
  if (khi >= nyquist) {
    return true;
  }
  return kf * lo >= nyquist - khi;
}

// The exact 64-bit product a * b as (low word, high word), from 16-bit halves.
fn mul_u32_wide(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let low = a0 * b0;
  let mid1 = a0 * b1;
  let mid2 = a1 * b0;
  var high = a1 * b1;
  let mid = mid1 + mid2;                          // may wrap: its carry is worth 2^48
  high += select(0u, 0x10000u, mid < mid1);
  let lo = low + (mid << 16u);
  high += (mid >> 16u) + select(0u, 1u, lo < low);
  return vec2<u32>(lo, high);
}

// Word w of 1/(2 pi) in binary: bits 32 w + 1 ... 32 w + 32 after the point, most
// significant first, for w in [0, 7) (224 bits). The host computes them
// (kernels/harmonic_webgpu.py) and passes them as the uniforms invTwoPiA (words 0-3) and
// invTwoPiB (words 4-6).
fn harmonic_inv_two_pi(w: i32) -> u32 {
  if (w < 4) {
    return uniforms.invTwoPiA[w];
  }
  return uniforms.invTwoPiB[w - 4];
}

// 32 bits of 1/(2 pi) from bit `start` on (bit j is worth 2^-j; bits j <= 0 are zeros),
// start <= 193.
fn harmonic_inv_two_pi_bits(start: i32) -> u32 {
  let t = start - 1;                              // offset of bit `start` in the words
  if (t <= -32) {
    return 0u;
  }
  if (t < 0) {
    return harmonic_inv_two_pi(0) >> u32(-t);
  }
  let w = t >> 5;
  let o = u32(t & 31);
  let first = harmonic_inv_two_pi(w);
  if (o == 0u) {
    return first;
  }
  return (first << o) | (harmonic_inv_two_pi(w + 1) >> (32u - o));
}

// The residue nearest to x / (2 pi) cycles, for a finite float32 x in radians: x * p /
// (2 pi) mod p, rounded to nearest. With x = m * 2^e (m the 24-bit significand), the
// cycles modulo 1 are frac(m * G) with G = frac(2^e / (2 pi)) taken to 96 bits from the
// table (bits of 1/(2 pi) at 2^-(e+1) ... 2^-(e+96): higher bits times m give integers);
// m * G mod 1 is exact integer arithmetic, its top 64 bits times p are rounded once.
// Errors: G's truncation, m 2^-96 < 2^-72 cycles, the dropped low word 2^-64 cycles: the
// result is within 1/2 + 2^-20 units of the exact residue (kernels/harmonic_webgpu.py).
fn harmonic_radians_to_residue(x: f32, p: vec2<u32>) -> vec2<u32> {
  let bits = bitcast<u32>(x);
  let biased = i32((bits >> 23u) & 0xffu);
  let m = (bits & 0x7fffffu) | select(0u, 0x800000u, biased != 0);
  let e = max(biased, 1) - 150;
  let g0 = harmonic_inv_two_pi_bits(e + 1);
  let g1 = harmonic_inv_two_pi_bits(e + 33);
  let g2 = harmonic_inv_two_pi_bits(e + 65);
  // c = m * (g0, g1, g2) mod 2^96, its top two words (c0 most significant).
  let t2 = mul_u32_wide(m, g2);
  let t1 = mul_u32_wide(m, g1);
  let t0 = mul_u32_wide(m, g0);
  let c1 = t1.x + t2.y;
  let c0 = t0.x + t1.y + select(0u, 1u, c1 < t1.x);
  // c * p = (c0 2^32 + c1)(p.y 2^32 + p.x) / 2^64: words w1 (2^32), w2, w3 of the sum.
  let a = mul_u32_wide(c1, p.x);
  let b = mul_u32_wide(c0, p.x);
  let c = mul_u32_wide(c1, p.y);
  let d = mul_u32_wide(c0, p.y);
  var w1 = a.y + b.x;
  var carry = select(0u, 1u, w1 < a.y);
  let w1b = w1 + c.x;
  carry += select(0u, 1u, w1b < w1);
  w1 = w1b;
  var w2 = b.y + carry;
  var carry2 = select(0u, 1u, w2 < b.y);
  let w2b = w2 + c.y;
  carry2 += select(0u, 1u, w2b < w2);
  let w2c = w2b + d.x;
  carry2 += select(0u, 1u, w2c < w2b);
  w2 = w2c;
  let w3 = d.y + carry2;
  // Round: add 1 where the fraction (w1, w0) is at least one half.
  var r = vec2<u32>(w2, w3);
  if ((w1 & 0x80000000u) != 0u) {
    r = vec2<u32>(r.x + 1u, r.y + select(0u, 1u, r.x == 0xffffffffu));
  }
  if (res_ge(r, p)) {                              // c p < p: rounding may reach p
    r = res_sub64(r, p);
  }
  if ((bits & 0x80000000u) != 0u && (r.x | r.y) != 0u) {
    r = res_sub64(p, r);
  }
  return r;
}

// A residue r in [0, p) as float32 radians 2 pi r / p in [0, 2 pi]: q = floor(r 2^32 / p)
// by exact long division (32 doublings modulo p), then 2 pi q 2^-32 from its halves,
// q = qh 2^16 + ql: qh * twoPiHi is exact (twoPiHi = 2 pi 2^-16 to 8 significant bits,
// qh < 2^16) and the small terms qh * twoPiLo + ql * twoPi32 (2 pi 2^-16 - twoPiHi and
// 2 pi 2^-32 in float32, two_pi.xyz) carry under 2^-29 rad of error, q's truncation
// under 2 pi 2^-32 = 2^-29.3 rad: after one final rounding the result is within half an
// ulp + 2^-28 rad of 2 pi r / p.
fn harmonic_residue_to_radians(r_in: vec2<u32>, p: vec2<u32>, two_pi: vec4<f32>) -> f32 {
  var rem = r_in;
  var q = 0u;
  for (var i = 0; i < 32; i++) {
    let t = vec2<u32>(rem.x << 1u, (rem.y << 1u) | (rem.x >> 31u));  // 2 rem < 2^45
    let bit = res_ge(t, p);
    rem = select(t, res_sub64(t, p), bit);
    q = (q << 1u) | select(0u, 1u, bit);
  }
  let qh = f32(q >> 16u);
  let ql = f32(q & 0xffffu);
  return qh * two_pi.x + (qh * two_pi.y + ql * two_pi.z);
}
