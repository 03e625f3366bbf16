// Features to controls, as the production timbre-transfer app did it: the page's twin of
// instruments/features.py (its docstring has the details and the stats.json shape).
//
// Per phrase, frames at the model's frame rate (f0Hz and confidence from the pitch tracker,
// loudnessDb from loudness.js, equal lengths):
//   1. voiced frames: confidence >= threshold (0.9: YIN's threshold 0.1) and f0 > 0;
//   2. register: f0 times 2^octaves, octaves = floor((f0_mean_midi - mean MIDI of the voiced
//      frames) / 12 + 1/2), whole octaves towards the instrument's mean pitch;
//   3. loudness: the voiced frames' mean m and population spread s mapped onto the
//      instrument's: L' = loudness_mean_db + (L - m) loudness_std_db / max(s, 1 dB);
//   4. silence: unvoiced frames at -rangeDb (80), every value at least -rangeDb.
// The instrument's stats (stats.json beside model.json):
//   {"f0_mean_midi": 67.2, "loudness_mean_db": -11.8, "loudness_std_db": 7.4}

export const THRESHOLD = 0.9;
export const SPREAD_FLOOR_DB = 1;
export const DB_RANGE = 80;
export const STATS_KEYS = ['f0_mean_midi', 'loudness_mean_db', 'loudness_std_db'];

function show(v) {
  if (typeof v !== 'number') return String(v);
  if (Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
  return String(v);
}

/** The instrument's stats from stats.json (a string or the parsed object), checked. */
export function parseStats(data) {
  const stats = typeof data === 'string' ? JSON.parse(data) : data;
  if (stats == null || typeof stats !== 'object' || Array.isArray(stats)) {
    throw new TypeError(`stats: must be a JSON object with ${STATS_KEYS.join(', ')}`);
  }
  const missing = STATS_KEYS.filter((k) => !(k in stats));
  if (missing.length) {
    throw new RangeError(`stats: missing ${missing.join(', ')} (needs ${STATS_KEYS.join(', ')})`);
  }
  for (const key of STATS_KEYS) {
    const v = stats[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new RangeError(`stats.${key}: must be a finite number, got ${show(v)}`);
    }
  }
  if (!(stats.f0_mean_midi >= 0 && stats.f0_mean_midi <= 127)) {
    throw new RangeError(`stats.f0_mean_midi: must lie in [0, 127], got ${stats.f0_mean_midi}`);
  }
  if (!(stats.loudness_std_db > 0)) {
    throw new RangeError(`stats.loudness_std_db: must be > 0, got ${stats.loudness_std_db}`);
  }
  return Object.fromEntries(STATS_KEYS.map((k) => [k, stats[k]]));
}

/** MIDI pitch of a positive frequency: 69 + 12 log2(f0 / 440). */
export function midi(f0Hz) {
  return 69 + 12 * Math.log2(f0Hz / 440);
}

function frames(values, name) {
  if (!(ArrayBuffer.isView(values) || Array.isArray(values))) {
    throw new TypeError(`${name}: must be an array of numbers (one per frame)`);
  }
  if (values.length === 0) throw new RangeError(`${name}: is empty`);
  for (let i = 0; i < values.length; i++) {
    if (typeof values[i] !== 'number' || !Number.isFinite(values[i])) {
      throw new RangeError(
        `${name}: every value must be finite, got ${show(values[i])} at frame ${i}`);
    }
  }
  return values;
}

/** The arguments checked (an error naming the bad one), the stats parsed. */
export function check(f0Hz, confidence, loudnessDb, stats, options = {}) {
  const {threshold = THRESHOLD, rangeDb = DB_RANGE} = options;
  frames(f0Hz, 'f0_hz');
  frames(confidence, 'confidence');
  frames(loudnessDb, 'loudness_db');
  if (!(f0Hz.length === confidence.length && f0Hz.length === loudnessDb.length)) {
    throw new RangeError(
      'f0_hz, confidence, loudness_db: must have one value per frame each, got ' +
      `${f0Hz.length}, ${confidence.length} and ${loudnessDb.length} frames`);
  }
  for (let i = 0; i < f0Hz.length; i++) {
    if (f0Hz[i] < 0) throw new RangeError(`f0_hz: must be >= 0, got ${f0Hz[i]} at frame ${i}`);
    if (confidence[i] < 0 || confidence[i] > 1) {
      throw new RangeError(`confidence: must lie in [0, 1], got ${confidence[i]} at frame ${i}`);
    }
  }
  const parsed = parseStats(stats);
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1)) {
    throw new RangeError(`threshold: must be a number in (0, 1], got ${show(threshold)}`);
  }
  if (typeof rangeDb !== 'number' || !(Number.isFinite(rangeDb) && rangeDb > 0)) {
    throw new RangeError(`range_db: must be a finite number > 0, got ${show(rangeDb)}`);
  }
  return {stats: parsed, threshold, rangeDb};
}

/**
 * The phrase's controls for an instrument with `stats`:
 * {f0Hz: Float64Array, loudnessDb: Float64Array, voiced: Uint8Array, octaves}.
 * @param options {threshold = 0.9, rangeDb = 80}
 */
export function controls(f0Hz, confidence, loudnessDb, stats, options = {}) {
  const {stats: s, threshold, rangeDb} = check(f0Hz, confidence, loudnessDb, stats, options);
  const n = f0Hz.length;
  const voiced = new Uint8Array(n);
  let count = 0;
  let pitchSum = 0;
  let loudSum = 0;
  for (let i = 0; i < n; i++) {
    if (confidence[i] >= threshold && f0Hz[i] > 0) {
      voiced[i] = 1;
      count++;
      pitchSum += midi(f0Hz[i]);
      loudSum += loudnessDb[i];
    }
  }
  const octaves = count ? Math.floor((s.f0_mean_midi - pitchSum / count) / 12 + 0.5) : 0;
  const factor = 2 ** octaves;
  const f0Out = new Float64Array(n);
  for (let i = 0; i < n; i++) f0Out[i] = f0Hz[i] * factor;
  const loudOut = new Float64Array(n).fill(-rangeDb);
  if (count) {
    const mean = loudSum / count;
    let squares = 0;
    for (let i = 0; i < n; i++) if (voiced[i]) squares += (loudnessDb[i] - mean) ** 2;
    const scale = s.loudness_std_db / Math.max(Math.sqrt(squares / count), SPREAD_FLOOR_DB);
    for (let i = 0; i < n; i++) {
      if (voiced[i]) {
        loudOut[i] = Math.max(s.loudness_mean_db + (loudnessDb[i] - mean) * scale, -rangeDb);
      }
    }
  }
  return {f0Hz: f0Out, loudnessDb: loudOut, voiced, octaves};
}
