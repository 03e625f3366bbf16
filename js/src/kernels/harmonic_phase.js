// HarmonicSynth's phases on the host: initial phases in, final phases out, as residues
// modulo p (one cycle in phase units, checks.js phaseModulus), exact.

function roundHalfEven(x) {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// Initial phases (float32 radians) as the nearest residues modulo p (Numbers < 2^44).
export function phaseUnits(radians, p) {
  return Array.from(radians, x => {
    const cycles = x / (2 * Math.PI);
    return roundHalfEven((cycles - Math.floor(cycles)) * p) % p;
  });
}

// Element i of a digits tensor's values (4 digits of 11 bits, least significant first).
// A NaN digit (from a NaN f0 that only the GPU held, whose phases come out NaN anyway:
// gpu_checks.js) counts as 0.
export function fromDigits(d, i) {
  const o = 4 * i;
  let u = 0n;
  for (let j = 3; j >= 0; --j) {
    u = (u << 11n) + BigInt(Number.isFinite(d[o + j]) ? Math.round(d[o + j]) : 0);
  }
  return u;
}

// [batch, K] float32 radians: k * total + initial phase (both residues), wrapped.
export function finalPhases(totals, units, a) {
  const p = BigInt(a.modulus.p);
  const out = new Float32Array(a.batch * a.k);
  for (let b = 0; b < a.batch; ++b) {
    for (let k = 1; k <= a.k; ++k) {
      const u = units ? BigInt(units[b * a.k + k - 1]) : 0n;
      const res = (totals[b] * BigInt(k) + u) % p;
      out[b * a.k + k - 1] = Number(res) / a.modulus.p * (2 * Math.PI);
    }
  }
  return out;
}
