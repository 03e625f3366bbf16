// Any length through a model exported for a fixed number of frames: the controls cut into
// overlapping chunks of the model's length, the chunks' audio joined by crossfades.
//
// A ddsp export renders `frames` frames into `frames * hop` samples. Chunks overlap by
// `overlap` frames, which also hides the decoder's edges (a convolution reads zeros beyond
// a chunk). Where the model's harmonic synthesizer takes its initial phases (the graph
// input `ddspgl convert` adds), each chunk starts from the phase the previous one reached
// at that sample (nextPhase, initialPhases): the two chunks' harmonics are then the same
// oscillators where they overlap, so they cross over at equal gain (the fades sum to 1).
// Where the noise synthesizer takes a sample offset (the other input `ddspgl convert`
// adds), each chunk draws the noise of its own samples from one stream, so the noise too
// is the same signal in both and crosses over at equal gain; without it every chunk draws
// the same noise from its start, unrelated to its neighbour's there, and it crosses over at
// equal power (the fades' squares sum to 1). A model without the phase input starts every
// chunk at phase 0: its harmonics are unrelated too and cross over at equal power.
// Controls past the end of the input repeat its last f0 at the silent loudness, and the
// audio is cut to the input's length.

/** Frames of overlap for chunks of `frames`: 64 (0.256 s at 250 frames/s), at most a quarter. */
export function overlapFrames(frames) {
  return Math.min(64, Math.floor(frames / 4));
}

/**
 * The chunks covering `total` frames with chunks of `frames`: {starts, step, overlap}.
 * Chunk k covers frames [starts[k], starts[k] + frames); starts[k] = k * step.
 */
export function plan(total, frames) {
  if (!Number.isInteger(total) || total < 1) {
    throw new RangeError(`frames: must be a positive integer, got ${total}`);
  }
  if (!Number.isInteger(frames) || frames < 4) {
    throw new RangeError(`chunk frames: must be an integer >= 4, got ${frames}`);
  }
  const overlap = overlapFrames(frames);
  const step = frames - overlap;
  const count = Math.max(1, Math.ceil((total - overlap) / step));
  const starts = Array.from({length: count}, (_, k) => k * step);
  return {starts, step, overlap};
}

/**
 * One chunk's controls as float32: frames [start, start + frames) of f0Hz and loudnessDb,
 * past the end f0 held at its last value and loudness at `silentDb`.
 */
export function chunkControls(f0Hz, loudnessDb, start, frames, silentDb) {
  const f0 = new Float32Array(frames);
  const loud = new Float32Array(frames);
  const last = f0Hz.length - 1;
  for (let i = 0; i < frames; i++) {
    const j = start + i;
    f0[i] = f0Hz[Math.min(j, last)];
    loud[i] = j <= last ? loudnessDb[j] : silentDb;
  }
  return {f0, loud};
}

/**
 * The fundamental's phase (cycles, in [0, 1)) where the next chunk starts: `cycles`, this
 * chunk's, advanced over its first `step` frames as the harmonic synthesizer advances it
 * (kernels/harmonic.py: f0 upsampled 'linear', phase the running sum of f0 / sampleRate),
 * frame j adding (f0[j] (hop + 1) + f0[j + 1] (hop - 1)) / (2 sampleRate). Float64, kept in
 * [0, 1) at every frame: each frame's term, at most hop max(f0) / sampleRate cycles, takes
 * 4 roundings and the sum 2 more: within (4 hop max(f0) / sampleRate + 2) 2^-53 cycles per
 * frame of the exact sum (2^-47.9 at hop 64, f0 <= 2000 Hz, 16 kHz).
 * @param f0 this chunk's f0 per frame (Hz, float32 as the model reads it), > step values
 */
export function nextPhase(cycles, f0, step, hop, sampleRate) {
  if (!(Number.isInteger(step) && step >= 0 && step < f0.length)) {
    throw new RangeError(`step: must be an integer in [0, ${f0.length}), got ${step}`);
  }
  let c = cycles;
  for (let j = 0; j < step; j++) {
    c += (f0[j] * (hop + 1) + f0[j + 1] * (hop - 1)) / (2 * sampleRate);
    c -= Math.floor(c);
  }
  return c;
}

/** Harmonics 1 ... `harmonics` at the fundamental's phase `cycles`: float32 radians. */
export function initialPhases(cycles, harmonics) {
  const out = new Float32Array(harmonics);
  for (let k = 1; k <= harmonics; k++) {
    const x = k * cycles;
    out[k - 1] = 2 * Math.PI * (x - Math.floor(x));
  }
  return out;
}

const FADES = {
  // equal power: for audio unrelated between the chunks (sin^2 + cos^2 = 1)
  power: (t) => [Math.sin(0.5 * Math.PI * t), Math.cos(0.5 * Math.PI * t)],
  // equal gain: for the same oscillators in both chunks (sin^2 + cos^2 = 1 as gains)
  gain: (t) => [Math.sin(0.5 * Math.PI * t) ** 2, Math.cos(0.5 * Math.PI * t) ** 2],
};

/**
 * out[offset ...] gets chunk, faded in over its first `fade` samples while what `out` holds
 * there (the previous chunk's tail) fades out.
 * @param shape 'power' (equal power) or 'gain' (equal gain)
 */
export function addChunk(out, chunk, offset, fade, first, shape = 'power') {
  const fades = FADES[shape];
  if (!fades) throw new RangeError(`shape: must be 'power' or 'gain', got ${shape}`);
  const n = Math.min(chunk.length, out.length - offset);
  for (let i = 0; i < n; i++) {
    let v = chunk[i];
    if (!first && i < fade) {
      const [fadeIn, fadeOut] = fades((i + 0.5) / fade);
      v *= fadeIn;
      out[offset + i] *= fadeOut;  // the previous chunk's tail
    }
    out[offset + i] += v;
  }
}
