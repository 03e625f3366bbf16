// The instrument models the page serves: models/index.json lists them ({"instruments":
// [names]}; `ddspgl serve` makes it from the folders present), and models/<name>/ holds
// model.json with its shards (`ddspgl convert` of a ddsp export) and stats.json (the
// instrument's pitch and loudness statistics, see features.js).
//
// A ddsp export renders a fixed number of frames: its signature output `audio_synth` is
// [1, samples], and the page runs 16 kHz models at 250 frames/s (hop 64), ddsp's defaults,
// so frames = samples / 64. The fused HarmonicSynth node, where the graph has one, must
// say 16000 Hz.

import {parseStats} from './features.js';

export const SAMPLE_RATE = 16000;
export const FRAME_RATE = 250;
export const HOP = SAMPLE_RATE / FRAME_RATE;
export const OUTPUT = 'audio_synth';
export const INPUTS = ['f0_hz', 'loudness_db'];
// The fused harmonic synthesizer's initial phases [1, K] (a graph input `ddspgl convert`
// adds), and the harmonic part of OUTPUT: where a model has both, chunks carry the phase.
export const PHASE_INPUT = 'initial_phase';
export const HARMONIC_OUTPUT = 'harmonic_signal';
// The fused noise synthesizer's sample offset (int32, a graph input `ddspgl convert` adds):
// where a model has it, each chunk draws the noise of its own samples from one stream.
export const NOISE_INPUT = 'noise_offset';

async function fetchJson(url, what) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${what}: ${url} answered ${res.status} ${res.statusText}`);
  try {
    return await res.json();
  } catch (e) {
    throw new Error(`${what}: ${url} is not JSON (${e.message})`);
  }
}

/** The instrument names models/index.json lists (base: the models folder's URL). */
export async function listInstruments(base) {
  const index = await fetchJson(`${base}index.json`, 'models/index.json');
  const names = index && index.instruments;
  if (!Array.isArray(names) || !names.every((n) => typeof n === 'string' && n.length)) {
    throw new Error('models/index.json: must be {"instruments": [names of model folders]}');
  }
  return names;
}

// The samples per call from the signature's audio_synth output, and the frames that make.
function chunkShape(name, artifacts) {
  const outputs = (artifacts.signature && artifacts.signature.outputs) || {};
  const info = outputs[OUTPUT];
  const dims = info && info.tensorShape && info.tensorShape.dim;
  const samples = dims ? Number(dims[dims.length - 1].size) : NaN;
  if (!(Number.isInteger(samples) && samples > 0 && samples % HOP === 0)) {
    throw new Error(
        `${name}: model.json has no signature output ${OUTPUT} of a fixed length in whole ` +
        `frames of ${HOP} samples (a ddsp export converted by \`ddspgl convert\`)`);
  }
  for (const node of artifacts.modelTopology.node || []) {
    if (node.op !== 'HarmonicSynth' || !node.attr || !node.attr.sample_rate) continue;
    const rate = node.attr.sample_rate.f;
    if (rate !== SAMPLE_RATE) {
      throw new Error(`${name}: the model renders ${rate} Hz; the page runs ${SAMPLE_RATE} Hz`);
    }
  }
  const inputs = (artifacts.signature && artifacts.signature.inputs) || {};
  return {samples, frames: samples / HOP, harmonics: phaseHarmonics(artifacts.signature),
          noiseOffset: `${NOISE_INPUT}:0` in inputs};
}

// K of the signature's PHASE_INPUT [1, K] where it has that input and HARMONIC_OUTPUT,
// else 0 (a model whose chunks all start at phase 0).
function phaseHarmonics(signature) {
  const input = signature && signature.inputs && signature.inputs[`${PHASE_INPUT}:0`];
  const dims = input && input.tensorShape && input.tensorShape.dim;
  if (!dims || dims.length !== 2 || !signature.outputs[HARMONIC_OUTPUT]) return 0;
  const k = Number(dims[1].size);
  return Number.isInteger(k) && k > 0 ? k : 0;
}

/**
 * An instrument: {name, model (a tf.GraphModel), stats, frames, samples, harmonics (K of
 * its initial phases, 0 where it takes none), noiseOffset (whether it takes one)}.
 * @param base the models folder's URL (ending in '/')
 */
export async function loadInstrument(tf, base, name) {
  const folder = `${base}${encodeURIComponent(name)}/`;
  const stats = parseStats(await fetchJson(`${folder}stats.json`, `${name}/stats.json`));
  const artifacts = await tf.io.http(`${folder}model.json`).load();
  const shape = chunkShape(name, artifacts);
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  return {name, model, stats, ...shape, dynamic: false};
}

// model.execute where the graph allows it (no control flow: TF.js warns on every
// executeAsync of such a graph), else executeAsync (a ddsp GRU decoder's while loop).
async function execute(instrument, inputs, outputs) {
  if (!instrument.dynamic) {
    try {
      return instrument.model.execute(inputs, outputs);
    } catch (e) {
      if (!/executeAsync/.test(e.message)) throw e;
      instrument.dynamic = true;
    }
  }
  return instrument.model.executeAsync(inputs, outputs);
}

/**
 * One chunk through the model: {audio, harmonic} (float32, `samples` values each;
 * harmonic: the harmonic synthesizer's part of audio, null where the model takes no
 * initial phases).
 * @param phases float32 [K] radians, each harmonic's phase before the chunk's first sample
 *     (chunks.js initialPhases); ignored where instrument.harmonics is 0
 * @param offset the chunk's first sample's index in the whole rendering (the noise
 *     stream's); ignored where the model takes no noise offset
 */
export async function render(tf, instrument, f0, loud, phases, offset) {
  const inputs = {f0_hz: tf.tensor1d(f0), loudness_db: tf.tensor1d(loud)};
  const outputs = [OUTPUT];
  if (instrument.harmonics) {
    inputs[PHASE_INPUT] = tf.tensor2d(phases, [1, instrument.harmonics]);
    outputs.push(HARMONIC_OUTPUT);
  }
  if (instrument.noiseOffset) inputs[NOISE_INPUT] = tf.scalar(offset, 'int32');
  let out = null;
  try {
    out = await execute(instrument, inputs, outputs);
    const [audio, harmonic] = await Promise.all(
        (Array.isArray(out) ? out : [out]).map((t) => t.data()));
    for (const [name, values] of [[OUTPUT, audio], [HARMONIC_OUTPUT, harmonic]]) {
      if (values && values.length !== instrument.samples) {
        throw new Error(
            `${instrument.name}: the model gave ${values.length} samples of ${name}, its ` +
            `signature says ${instrument.samples}`);
      }
    }
    return {audio, harmonic: harmonic || null};
  } finally {
    tf.dispose(Object.values(inputs));
    if (out) tf.dispose(out);
  }
}
