// Any length through a model exported for a fixed number of frames: the controls cut into
// overlapping chunks of the model's length, the chunks' audio joined by crossfades.
//
// A ddsp export renders `frames` frames into `frames * hop` samples, starting from phase 0:
// the phase its oscillators reach cannot be carried into the next call. So chunks overlap
// by `overlap` frames and the audio crosses over there with an equal-power fade (sin and
// cos of a quarter period: the two chunks' oscillators are unrelated in phase, so their
// powers add). The overlap also hides the decoder's edges (a convolution reads zeros
// beyond a chunk). Controls past the end of the input repeat its last f0 at the silent
// loudness, and the audio is cut to the input's length.

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

/** out[offset ...] gets chunk, faded in over its first `fade` samples (equal power). */
export function addChunk(out, chunk, offset, fade, first) {
  const n = Math.min(chunk.length, out.length - offset);
  for (let i = 0; i < n; i++) {
    let v = chunk[i];
    if (!first && i < fade) {
      const t = (i + 0.5) / fade;
      v *= Math.sin(0.5 * Math.PI * t);
      out[offset + i] *= Math.cos(0.5 * Math.PI * t);  // the previous chunk's tail
    }
    out[offset + i] += v;
  }
}
