// The YIN pitch tracker's geometry (kernels/yin.Config), shared by its webgl and webgpu
// kernels.

function gcd(p, q) {
  return q === 0 ? p : gcd(q, p % q);
}

// The geometry of kernels/yin.Config for checked arguments `a`.
export function yinPlan(a) {
  const lags = a.lagMax + 1;
  const lags4 = Math.ceil(lags / 4);
  const block = gcd(a.window, a.hop);
  const blocks = (a.frames - 1) * (a.hop / block) + a.window / block;
  const pad = Math.floor((a.window + 4 * lags4) / 2) + 2;
  const padded = pad + Math.max(blocks * block, a.n) + 4 * lags4 + 2;
  return {lags, lags4, block, blocks, pad, padded};
}
