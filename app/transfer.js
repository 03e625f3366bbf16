// Timbre transfer: audio in, the instrument's rendition out, every step on this device.
//
//   1. the input checked (what is accepted, below), channels mixed down, resampled to 16 kHz;
//   2. pitch: ddspgl.yin (the YIN kernel on the GPU) at 250 frames/s (hop 64), 50-2000 Hz,
//      a frame voiced where its confidence is at least 0.9 (YIN's threshold 0.1);
//   3. loudness: ddsp's compute_loudness (loudness.js), the same frames;
//   4. controls: features.js (whole-octave shift towards the instrument, loudness mapped
//      onto its statistics, unvoiced frames silent);
//   5. the model per chunk of its fixed length, chunks joined by crossfades, the harmonic
//      synthesizer's phase carried from chunk to chunk (chunks.js).
//
// Accepted: mono or several channels (mixed down to their mean, with a note), any sample
// rate from 3000 to 768000 Hz (resampled to 16 kHz, with a note; below 16 kHz the input has
// nothing above half its rate), 0.5 s to 5 minutes, finite samples. Refused, each with a
// message naming what is wrong and the limit: shorter or longer input, other sample rates,
// a silent input (no sample above -60 dBFS), an input without a melody (fewer than 10 % of
// its frames voiced: noise, or a sound without a clear pitch), an unknown instrument.

import {channelsOf, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, mixDown, resample} from './audio_input.js';
import {addChunk, chunkControls, initialPhases, nextPhase, plan} from './chunks.js';
import {controls, DB_RANGE, THRESHOLD} from './features.js';
import {loudnessDb} from './loudness.js';
import {FRAME_RATE, HOP, render, SAMPLE_RATE} from './models.js';

export const MIN_SECONDS = 0.5;
export const MAX_SECONDS = 300;
export const SILENCE_DBFS = -60;
export const MIN_VOICED = 0.1;
export const YIN = {sampleRate: SAMPLE_RATE, hop: HOP, fmin: 50, fmax: 2000, threshold: 0.1};

/** Input this page cannot transfer: the message says what is wrong and what is accepted. */
export class InputError extends Error {
  constructor(message) {
    super(message);
    this.name = 'InputError';
  }
}

function seconds(s) {
  return s >= 10 ? `${s.toFixed(1)} s` : `${s.toFixed(2)} s`;
}

/** The input checked and brought to one channel at 16 kHz: {x, notes}. */
export async function prepare(samples, sampleRate) {
  if (typeof sampleRate !== 'number' || !Number.isFinite(sampleRate)) {
    throw new InputError(`sampleRate: must be a number (Hz), got ${sampleRate}`);
  }
  if (sampleRate < MIN_SAMPLE_RATE || sampleRate > MAX_SAMPLE_RATE) {
    throw new InputError(
        `sampleRate: ${sampleRate} Hz is outside what the page resamples: ` +
        `${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE} Hz`);
  }
  let channels;
  try {
    channels = channelsOf(samples);
  } catch (e) {
    throw new InputError(e.message);
  }
  const duration = channels[0].length / sampleRate;
  if (duration < MIN_SECONDS) {
    throw new InputError(
        `audio: ${seconds(duration)} is too short: at least ${MIN_SECONDS} s is needed`);
  }
  if (duration > MAX_SECONDS) {
    throw new InputError(
        `audio: ${seconds(duration)} is too long: at most ${MAX_SECONDS} s ` +
        `(${MAX_SECONDS / 60} minutes) per transfer`);
  }
  const notes = [];
  let mono;
  try {
    mono = mixDown(channels);
  } catch (e) {
    throw new InputError(e.message);
  }
  if (channels.length > 1) notes.push(`${channels.length} channels mixed down to one`);
  const x = await resample(mono, sampleRate, SAMPLE_RATE);
  if (sampleRate !== SAMPLE_RATE) {
    notes.push(`resampled from ${sampleRate} Hz to ${SAMPLE_RATE} Hz` +
               (sampleRate < SAMPLE_RATE ? ` (nothing above ${sampleRate / 2} Hz in it)` : ''));
  }
  let peak = 0;
  for (const v of x) peak = Math.max(peak, Math.abs(v));
  const peakDb = 20 * Math.log10(peak);
  if (!(peakDb >= SILENCE_DBFS)) {
    throw new InputError(
        `audio: silent: its loudest sample is at ${peak ? peakDb.toFixed(1) : '-inf'} dBFS; ` +
        `a melody louder than ${SILENCE_DBFS} dBFS is needed`);
  }
  return {x, notes};
}

/** f0 (Hz) and confidence per frame of x (16 kHz) from ddspgl.yin: Float32Arrays. */
export async function pitch(tf, ddspgl, x) {
  const input = tf.tensor1d(x);
  let out = null;
  try {
    out = ddspgl.yin(input, YIN);
    return {f0Hz: await out.f0Hz.data(), confidence: await out.confidence.data()};
  } finally {
    input.dispose();
    if (out) tf.dispose([out.f0Hz, out.confidence]);
  }
}

const nextTask = () => new Promise((resolve) => setTimeout(resolve, 0));

/**
 * The instrument's audio for controls at 250 frames/s (f0Hz, loudnessDb: what the model is
 * given, one value per frame; past their end f0 is held at the silent loudness, as
 * chunks.js chunkControls does), `samples` long at 16 kHz: the model per chunk of its fixed
 * length, chunks joined by crossfades, the harmonic synthesizer's phase carried from chunk
 * to chunk where the model takes initial phases (chunks.js). The same path as transfer's
 * (its step 5), for callers that bring their own controls (`ddspgl quality`).
 * @param hooks {progress(stage, fraction in [0, 1)), chunk(audio so far)}
 */
export async function synthesize(tf, instrument, f0Hz, loudnessDb, samples, hooks = {}) {
  if (!(f0Hz.length >= 1 && loudnessDb.length === f0Hz.length)) {
    throw new RangeError(
        `controls: f0Hz and loudnessDb must hold the same number of frames, at least 1; ` +
        `got ${f0Hz.length} and ${loudnessDb.length}`);
  }
  const total = Math.ceil(samples / HOP);  // past the controls' end: chunkControls holds
  const chunks = plan(total, instrument.frames);
  // The harmonic part (where the model takes initial phases) and the rest, joined apart.
  const harmonic = new Float32Array(samples);
  const rest = new Float32Array(samples);
  const fade = chunks.overlap * HOP;
  let cycles = 0;  // the fundamental's phase before the chunk's first sample
  let audio = rest;
  // the rest (the noise) is the same signal in both chunks where they draw one stream
  const restFade = instrument.noiseOffset ? 'gain' : 'power';
  for (const [k, start] of chunks.starts.entries()) {
    if (hooks.progress) {
      hooks.progress(`rendering ${instrument.name}: chunk ${k + 1} of ${chunks.starts.length}`,
                     k / chunks.starts.length);
    }
    await nextTask();
    const c = chunkControls(f0Hz, loudnessDb, start, instrument.frames, -DB_RANGE);
    const out = await render(tf, instrument, c.f0, c.loud,
                             initialPhases(cycles, instrument.harmonics), start * HOP);
    if (out.harmonic) {
      addChunk(harmonic, out.harmonic, start * HOP, fade, k === 0, 'gain');
      addChunk(rest, out.audio.map((v, i) => v - out.harmonic[i]), start * HOP, fade, k === 0,
               restFade);
      cycles = nextPhase(cycles, c.f0, chunks.step, HOP, SAMPLE_RATE);
      audio = harmonic.map((v, i) => v + rest[i]);
    } else {
      addChunk(rest, out.audio, start * HOP, fade, k === 0);  // harmonics unrelated
    }
    if (hooks.chunk) hooks.chunk(audio);
  }
  const bad = audio.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new Error(`${instrument.name}: the model's output is not finite (${audio[bad]} at ` +
                    `sample ${bad})`);
  }
  return audio;
}

/**
 * The transfer of `samples` at `sampleRate` onto `instrument` (models.js loadInstrument):
 * {audio: Float32Array at 16 kHz (the input's duration), sampleRate, f0Hz, confidence,
 * loudnessDb (the input's, 250 frames/s), controls (what the model was given: f0Hz,
 * loudnessDb, voiced, octaves), input (the 16 kHz mono input), notes, timings (ms)}.
 * @param hooks {progress(stage, fraction), features(partial result)}: called as it goes
 */
export async function transfer(tf, ddspgl, instrument, samples, sampleRate, hooks = {}) {
  const progress = hooks.progress || (() => {});
  const show = hooks.features || (() => {});
  const timings = {};
  let t = performance.now();
  const lap = (name) => {
    const now = performance.now();
    timings[name] = now - t;
    t = now;
  };
  progress('reading the input', 0);
  const {x, notes} = await prepare(samples, sampleRate);
  lap('prepare');
  show({input: x, notes});
  progress('tracking the pitch (YIN)', 0.05);
  await nextTask();
  const {f0Hz, confidence} = await pitch(tf, ddspgl, x);
  lap('pitch');
  show({input: x, f0Hz, confidence});
  progress('measuring the loudness', 0.15);
  await nextTask();
  const loud = loudnessDb(x, SAMPLE_RATE, FRAME_RATE).subarray(0, f0Hz.length);
  lap('loudness');
  let voiced = 0;
  for (const c of confidence) if (c >= THRESHOLD) voiced++;
  if (voiced < MIN_VOICED * f0Hz.length) {
    throw new InputError(
        `audio: no melody found: ${(100 * voiced / f0Hz.length).toFixed(1)} % of its frames ` +
        `have a clear pitch, at least ${100 * MIN_VOICED} % are needed (noise, or a sound ` +
        'without a clear pitch?)');
  }
  const ctl = controls(f0Hz, confidence, loud, instrument.stats);
  show({input: x, f0Hz, confidence, loudnessDb: loud, controls: ctl});
  const audio = await synthesize(tf, instrument, ctl.f0Hz, ctl.loudnessDb, x.length, {
    progress: (stage, fraction) => progress(stage, 0.2 + 0.8 * fraction),
    chunk: (partial) => show({input: x, f0Hz, confidence, loudnessDb: loud, controls: ctl,
                              audio: partial}),
  });
  lap('model');
  progress('done', 1);
  return {audio, sampleRate: SAMPLE_RATE, f0Hz, confidence, loudnessDb: Float32Array.from(loud),
          controls: ctl, input: x, notes, timings};
}
