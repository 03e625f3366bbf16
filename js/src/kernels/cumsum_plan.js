// The cumsum's pass plan and moduli: pure functions of lengths and periods, no TF.js.
//
// `bundlePlan(nScan)` is kernels/cumsum.plan: the plan WrappedCumsum runs, and the
// harmonic synthesizer's scan of its frame increments; the float64 GL suite runs the same
// plan (tests/test_plan_parity.py holds the two builders equal). `periodicModulus` and
// `plainModulus` are kernels/cumsum.py's Modulus.periodic and Modulus.plain, `scaleOf` the
// float pair a pass rescales residues with. Node can import this module from the tree
// `ddspgl bundle` stages (it reads only the generated constants).

import {
  LEAF_BLOCK, QUAD_LEVELS, SIGNED_MODULUS_HI, TOP_MAX, UPPER_BLOCK,
} from '../generated/constants.js';

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

// The pass plan for rows of nScan scan elements, shaped for software renderers
// (SwiftShader, llvmpipe), which pay for every instruction of a shader whether a branch or
// loop takes it or not: a leaf reduction of LEAF_BLOCK (4) and QUAD_LEVELS more levels of
// blocks of 4 with straight-line bodies (cumsum_leaf4, cumsum_reduce4, cumsum_scan4; the
// final pass's output pairs are block halves), then levels of UPPER_BLOCK (cumsum_reduce,
// cumsum_scan) until at most TOP_MAX block sums remain; the top is scanned whole
// (cumsum_scan), the down-sweep turns sums into prefixes level by level, and the final pass
// writes the outputs. lengths[i] is the length of level i (lengths[0] = nScan), blocks[i]
// the block that reduces level i to level i + 1. Exact integer arithmetic makes the result
// independent of the blocking, bit for bit. Every down-sweep level also holds its row
// total P(length), so a prefix can start from the next block's prefix as well as its own.
export function bundlePlan(nScan) {
  const blocks = [LEAF_BLOCK];
  const lengths = [nScan, Math.ceil(nScan / LEAF_BLOCK)];
  while (lengths[lengths.length - 1] > TOP_MAX) {
    const block = blocks.length <= QUAD_LEVELS ? 4 : UPPER_BLOCK;
    blocks.push(block);
    lengths.push(Math.ceil(lengths[lengths.length - 1] / block));
  }
  return {blocks, lengths};
}

// The `scale` uniform: two factors whose product is 2^-shift, each within float32's range
// for shifts where 2^-shift alone is not.
export function scaleOf(shift) {
  const half = Math.floor(shift / 2);
  return [2 ** -half, 2 ** (half - shift)];
}

// Modulus.periodic: p = m24 * 2^20 for the float32 period m24 * 2^(e - 24).
export function periodicModulus(p32) {
  F32[0] = p32;
  const bits = U32[0];
  const biased = (bits >>> 23) & 0xff;  // normal: checkPeriod keeps p32 in [2^-100, 2^100]
  const m24 = (bits & 0x7fffff) | 0x800000;
  const shift = 44 - (biased - 126);  // frexp exponent = biased - 126
  return {lo: m24 << 20, hi: m24 >>> 12, shift, signed: false};
}

// Modulus.plain from an upper bound on the largest row's sum of |x|.
export function plainModulus(total, n) {
  let shift = 0;
  if (total > 0) {
    const limit = 2 ** 43 - n - 1;
    shift = Math.floor(Math.log2(limit / total));  // then exact: the largest shift that fits
    while (total * 2 ** (shift + 1) + n / 2 < limit) shift += 1;
    while (total * 2 ** shift + n / 2 >= limit) shift -= 1;
  }
  return {lo: 0, hi: SIGNED_MODULUS_HI, shift, signed: true};
}
