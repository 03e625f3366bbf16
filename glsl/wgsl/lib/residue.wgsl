// contributors: ddspgl
// description: |
//     Residues modulo p < 2^44 in WGSL, held in a vec2<u32> (x: low 32 bits, y: high
//     bits): glsl/lib/residue/ with native unsigned arithmetic, bit for bit the same
//     results. A periodic sum uses p = period * 2^shift in [2^43, 2^44); a plain signed
//     sum uses p = 2^44 read as two's complement (kernels/cumsum.py).

// a >= b for 64-bit values.
fn res_ge(a: vec2<u32>, b: vec2<u32>) -> bool {
  return a.y > b.y || (a.y == b.y && a.x >= b.x);
}

// a - b for a >= b, 64-bit with borrow.
fn res_sub64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x));
}

// (a + b) mod p for residues a, b in [0, p), p <= 2^44: the sum is below 2^45.
fn res_add(a: vec2<u32>, b: vec2<u32>, p: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  let s = vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
  return select(s, res_sub64(s, p), res_ge(s, p));
}

// The residue of round(|x| * 2^shift) modulo p (halves away from zero), from the bits of
// x: |x| = m * 2^(e - 23) with m the 24-bit significand (subnormals exact), so
// |x| * 2^shift = m * 2^s. Below one unit (s < 0) m is rounded by an integer shift (to 0
// from s < -25 on); up to s = 19, m * 2^s < 2^43 < p is the residue itself; above, it is
// doubled modulo p, as glsl/lib/residue/resFromFloat.glsl does with floats. Branch-free
// but for that loop, which only values of at least 2^43 units enter: software renderers
// run both sides of a branch whenever their lanes disagree, and often when they do not.
fn res_from_magnitude(bits: u32, p: vec2<u32>, shift: i32) -> vec2<u32> {
  let biased = i32((bits >> 23u) & 0xffu);
  let m = (bits & 0x7fffffu) | select(0u, 0x800000u, biased != 0);
  let s = max(biased, 1) - 150 + shift;
  let d = u32(clamp(-s, 1, 31));
  let rounded = select(m, (m + (1u << (d - 1u))) >> d, s < 0);  // m + 2^(d-1) < 2^31
  let t = u32(clamp(s, 0, 19));
  var r = vec2<u32>(rounded << t, (rounded >> 1u) >> (31u - t));
  for (var i = 19; i < s; i++) {
    r = res_add(r, r, p);
  }
  return r;
}

// The residue of round(x * 2^shift) modulo p (halves away from zero): res_from_magnitude,
// and p less it for a negative x.
fn res_from_float(x: f32, p: vec2<u32>, shift: i32) -> vec2<u32> {
  let bits = bitcast<u32>(x);
  let r = res_from_magnitude(bits, p, shift);
  return select(r, res_sub64(p, r), (bits & 0x80000000u) != 0u && (r.x | r.y) != 0u);
}

// Signed 64-bit two's complement sums of residues, reduced once: acc + r or acc - r for
// r < 2^44, no modulus.
fn res_signed_add(acc: vec2<u32>, r: vec2<u32>, negative: bool) -> vec2<u32> {
  let lo = select(acc.x + r.x, acc.x - r.x, negative);
  let hi = select(acc.y + r.y + select(0u, 1u, lo < acc.x),
                  acc.y - r.y - select(0u, 1u, acc.x < r.x), negative);
  return vec2<u32>(lo, hi);
}

// a * 2^s for s in [0, 31], 64-bit (no bit is lost for the a and s used here).
fn res_shl(a: vec2<u32>, s: u32) -> vec2<u32> {
  return vec2<u32>(a.x << s, (a.y << s) | select(0u, a.x >> (32u - s), s > 0u));
}

// v modulo p for v below p 2^k: p 2^j subtracted where it fits, j = k - 1 down to 0, each
// step leaving the value below p 2^j.
fn res_reduce_below(v_in: vec2<u32>, p: vec2<u32>, k: u32) -> vec2<u32> {
  var v = v_in;
  for (var j = i32(k) - 1; j >= 0; j--) {
    let pj = res_shl(p, u32(j));
    v = select(v, res_sub64(v, pj), res_ge(v, pj));
  }
  return v;
}

// A signed 64-bit sum of at most 2^12 values of magnitude below p as its residue modulo
// p: p 2^12 added where it is negative makes it non-negative and below p 2^13.
fn res_reduce_signed(acc_in: vec2<u32>, p: vec2<u32>) -> vec2<u32> {
  var acc = acc_in;
  if ((acc.y & 0x80000000u) != 0u) {
    acc = res_signed_add(acc, res_shl(p, 12u), false);
  }
  return res_reduce_below(acc, p, 13u);
}

// 2^k as an f32 for k in [-126, 127].
fn res_pow2(k: i32) -> f32 {
  return bitcast<f32>(u32(clamp(k, -126, 127) + 127) << 23u);
}

// The value of a residue, r * 2^-shift with 2^-shift = scale.x * scale.y: r in [0, p) for a
// periodic sum, or signed 44-bit two's complement when `signed_value`. At most two
// roundings: relative error below 2^-23 (glsl/lib/residue/resToFloat.glsl).
fn res_to_float(r_in: vec2<u32>, signed_value: bool, scale: vec2<f32>) -> f32 {
  var r = r_in;
  var sign = 1.0;
  if (signed_value && r.y >= 0x800u) {
    r = res_sub64(vec2<u32>(0u, 0x1000u), r);
    sign = -1.0;
  }
  let magnitude = f32(r.y) * 4294967296.0 + f32(r.x);
  return sign * magnitude * scale.x * scale.y;
}
