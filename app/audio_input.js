// Audio into the page: channels mixed down, any sample rate resampled to the model's
// 16 kHz (an OfflineAudioContext: the browser's own resampler), files decoded
// (decodeAudioData: WAV, MP3, OGG, FLAC, whatever this browser reads), the microphone
// recorded (getUserMedia and an AudioWorklet that hands over raw float32 blocks).

import {wavInfo} from './wav.js';

// What an OfflineAudioContext's buffers accept (the Web Audio spec's range, Chromium's).
export const MIN_SAMPLE_RATE = 3000;
export const MAX_SAMPLE_RATE = 768000;
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

/**
 * The channels of `samples`, checked: a Float32Array, Float64Array or Array of numbers is
 * one channel; an Array of such arrays (equal lengths) or an AudioBuffer is several.
 */
export function channelsOf(samples) {
  let channels;
  if (samples != null && typeof samples.getChannelData === 'function') {
    channels = Array.from({length: samples.numberOfChannels}, (_, c) => samples.getChannelData(c));
  } else if (Array.isArray(samples) && samples.length > 0 && typeof samples[0] !== 'number') {
    channels = samples;
  } else {
    channels = [samples];
  }
  for (const [c, x] of channels.entries()) {
    if (!(x instanceof Float32Array || x instanceof Float64Array || Array.isArray(x))) {
      throw new TypeError(
          'samples: must be a Float32Array, a Float64Array, an Array of numbers, an Array of ' +
          `channels of those, or an AudioBuffer; got ${x == null ? x : x.constructor.name}` +
          (channels.length > 1 ? ` as channel ${c}` : ''));
    }
    if (x.length !== channels[0].length) {
      throw new RangeError(
          `samples: channels must have equal lengths, got ${channels[0].length} and ` +
          `${x.length} (channel ${c})`);
    }
  }
  return channels;
}

/** The channels' mean, one Float32Array; every sample checked finite. */
export function mixDown(channels) {
  const n = channels[0].length;
  const mono = new Float32Array(n);
  for (const [c, x] of channels.entries()) {
    for (let i = 0; i < n; i++) {
      const v = x[i];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new RangeError(
            `samples: every sample must be a finite number, got ${v} at sample ${i}` +
            (channels.length > 1 ? ` of channel ${c}` : ''));
      }
      mono[i] += v / channels.length;
    }
  }
  return mono;
}

/** mono (Float32Array) at `rate` Hz resampled to `target` Hz by the browser. */
export async function resample(mono, rate, target) {
  if (rate === target) return mono;
  const length = Math.max(1, Math.round(mono.length * target / rate));
  const ctx = new OfflineAudioContext(1, length, target);
  const buffer = ctx.createBuffer(1, mono.length, rate);
  buffer.copyToChannel(mono, 0);
  const source = ctx.createBufferSource();
  source.buffer = buffer;
  source.connect(ctx.destination);
  source.start();
  const out = await ctx.startRendering();
  return out.getChannelData(0);
}

/**
 * A File decoded: {buffer: AudioBuffer at `rate` Hz, info: the WAV header or null}; errors
 * name the file.
 */
export async function decodeFile(file, rate) {
  if (file.size > MAX_FILE_BYTES) {
    throw new RangeError(
        `${file.name}: ${(file.size / 2 ** 20).toFixed(0)} MiB is too large: at most ` +
        `${MAX_FILE_BYTES / 2 ** 20} MiB`);
  }
  const bytes = await file.arrayBuffer();
  const info = wavInfo(bytes);
  const ctx = new OfflineAudioContext(1, 1, rate);
  try {
    return {buffer: await ctx.decodeAudioData(bytes), info};
  } catch (e) {
    throw new Error(
        `${file.name}: not audio this browser can decode (WAV, MP3, OGG, FLAC): ` +
        `${e.message || e.name}`);
  }
}

const WORKLET = new URL('./recorder_worklet.js', import.meta.url);

/**
 * Records the microphone until stop() (or `maxSeconds`): {stop(): Promise<{samples,
 * sampleRate}>, sampleRate, done: Promise} after access is granted.
 */
export async function record(maxSeconds) {
  if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
    throw new Error('microphone: this browser offers no getUserMedia (a page on http://127.0.0.1 ' +
                    'or https is needed)');
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia(
        {audio: {echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
  } catch (e) {
    throw new Error(`microphone: ${e.name === 'NotAllowedError' ? 'access refused' : e.message}`);
  }
  const ctx = new AudioContext();
  const blocks = [];
  let length = 0;
  let finish;
  const done = new Promise((resolve) => { finish = resolve; });
  try {
    await ctx.audioWorklet.addModule(WORKLET);
    const source = ctx.createMediaStreamSource(stream);
    const node = new AudioWorkletNode(ctx, 'recorder', {numberOfOutputs: 0});
    node.port.onmessage = (e) => {
      blocks.push(e.data);
      length += e.data.length;
      if (length >= maxSeconds * ctx.sampleRate) finish();
    };
    source.connect(node);
    await ctx.resume();
  } catch (e) {
    stream.getTracks().forEach((t) => t.stop());
    await ctx.close();
    throw e;
  }
  let stopped = null;
  async function finishRecording() {
    stream.getTracks().forEach((t) => t.stop());
    const sampleRate = ctx.sampleRate;
    await ctx.close();
    const samples = new Float32Array(Math.min(length, Math.floor(maxSeconds * sampleRate)));
    let offset = 0;
    for (const b of blocks) {
      if (offset >= samples.length) break;
      samples.set(b.subarray(0, samples.length - offset), offset);
      offset += b.length;
    }
    finish();
    return {samples, sampleRate};
  }
  const stop = () => stopped || (stopped = finishRecording());  // once, however often asked
  return {stop, done, sampleRate: ctx.sampleRate};
}
