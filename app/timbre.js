// The timbre-transfer page: TF.js on webgl with ddspgl's kernels, the instruments from
// models/, the buttons, and the same path for scripts:
//
//   await timbre.ready;            // {backend, storage, float32Render, renderer, instruments}
//   timbre.instruments;            // names
//   await timbre.transfer(samples, sampleRate, {instrument});
//     // -> {audio: Float32Array (16 kHz), sampleRate, f0Hz, loudnessDb (the input's, 250
//     //    frames/s), confidence, controls, notes, timings}; rejects with the message the
//     //    page shows (transfer.js says what is accepted)
//   timbre.last;                   // the latest result, whichever button or call made it
//
// ?storage=float16 forces TF.js's float16 textures (WEBGL_FORCE_F16_TEXTURES), as on phones
// without float32 render targets; the page shows which storage it got.

import {decodeFile, record} from './audio_input.js';
import {loadInstrument, listInstruments, SAMPLE_RATE} from './models.js';
import {midi} from './features.js';
import {drawTracks, drawWaves} from './plots.js';
import {MAX_SECONDS, transfer as run} from './transfer.js';
import {encodeWav} from './wav.js';

const {tf, ddspgl} = globalThis;
const MODELS = new URL('models/', location.href).href;
const $ = (id) => document.getElementById(id);
const loaded = new Map();  // name -> Promise of the instrument
const urls = {};  // player -> object URL
let queue = Promise.resolve();
const names = [];

async function init() {
  if (!tf || !ddspgl) throw new Error('TF.js or the ddspgl bundle did not load');
  const storage = new URLSearchParams(location.search).get('storage') || 'float32';
  if (!['float32', 'float16'].includes(storage)) {
    throw new Error(`?storage= must be float32 or float16, got ${storage}`);
  }
  if (storage === 'float16') tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
  if (!(await tf.setBackend('webgl'))) throw new Error('WebGL 2 is not available here');
  await tf.ready();
  ddspgl.setEarlyDisposal();
  const gl = tf.backend().gpgpu.gl;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const info = {
    backend: tf.getBackend(),
    storage: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 'float32' : 'float16',
    float32Render: tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED'),
    renderer: gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER),
    tfjs: tf.version.tfjs,
  };
  const other = info.storage === 'float16' ? 'float32' : 'float16';
  $('device').innerHTML = '';
  $('device').append(
      `TF.js ${info.tfjs} on ${info.backend}, ${info.storage} textures · ${info.renderer} · `);
  const link = document.createElement('a');
  link.href = `?storage=${other}`;
  link.textContent = `switch to ${other} textures`;
  $('device').append(link);
  names.push(...await listInstruments(MODELS));
  info.instruments = names.slice();
  const select = $('instrument');
  for (const name of names) select.add(new Option(name, name));
  if (!names.length) throw new Error('no instrument models in models/ (see `ddspgl serve`)');
  for (const id of ['instrument', 'record', 'file']) $(id).disabled = false;
  setStage('ready', 0);
  return info;
}

function instrument(name) {
  if (!names.includes(name)) {
    return Promise.reject(new Error(
        `instrument: ${JSON.stringify(name)} is not one of ${names.join(', ') || '(none)'}`));
  }
  if (!loaded.has(name)) {
    const p = loadInstrument(tf, MODELS, name);
    p.catch(() => loaded.delete(name));  // a failed load is tried again next time
    loaded.set(name, p);
  }
  return loaded.get(name);
}

function setStage(text, fraction) {
  $('stage').textContent = text;
  $('progress').value = fraction;
}

function setMessage(text) {
  $('message').textContent = text || '';
}

function player(id, samples, rate) {
  if (urls[id]) URL.revokeObjectURL(urls[id]);
  urls[id] = URL.createObjectURL(new Blob([encodeWav(samples, rate)], {type: 'audio/wav'}));
  $(id).src = urls[id];
  return urls[id];
}

function octaves(n) {
  return `${n > 0 ? '+' : ''}${n} octave${Math.abs(n) === 1 ? '' : 's'}`;
}

function draw(r, frames) {
  const lanes = [{samples: r.input, color: '#3465a4', name: 'input'}];
  if (r.audio) lanes.push({samples: r.audio, color: '#c4472b', name: 'result'});
  drawWaves($('wave'), lanes, r.input.length);
  if (!r.f0Hz) return;
  const voiced = r.controls ? r.controls.voiced : r.confidence.map((c) => c >= 0.9);
  const tracks = [{values: r.f0Hz.map(midi), color: '#3465a4', name: 'input pitch', mask: voiced}];
  if (r.controls) {
    tracks.push({values: r.controls.f0Hz.map(midi), color: '#c4472b',
                 name: `to the instrument (${octaves(r.controls.octaves)})`, mask: voiced});
  }
  drawTracks($('pitch'), tracks, frames, {min: 24, max: 108, unit: 'MIDI'});
  if (!r.loudnessDb) return;
  const loud = [{values: r.loudnessDb, color: '#3465a4', name: 'input loudness'}];
  if (r.controls) loud.push({values: r.controls.loudnessDb, color: '#c4472b', name: 'controls'});
  drawTracks($('loudness'), loud, frames, {min: -90, max: 10, unit: 'dB'});
}

// One transfer at a time: the buttons and the API queue behind each other.
function transfer(samples, sampleRate, options = {}) {
  const job = queue.then(() => transferNow(samples, sampleRate, options));
  queue = job.catch(() => {});
  return job;
}

async function transferNow(samples, sampleRate, {instrument: name = $('instrument').value,
                                                 notes = []} = {}) {
  setMessage('');
  $('notes').textContent = '';
  $('download').hidden = true;
  for (const id of ['record', 'file']) $(id).disabled = true;
  const started = performance.now();
  try {
    setStage(`loading ${name}`, 0);
    const inst = await instrument(name);
    $('instrument').value = name;
    let frames = 1;
    const result = await run(tf, ddspgl, inst, samples, sampleRate, {
      progress: setStage,
      features: (r) => {
        frames = r.f0Hz ? r.f0Hz.length : frames;
        if (r.notes) $('notes').textContent = [...notes, ...r.notes].join('; ');
        draw(r, frames);
      },
    });
    result.notes = [...notes, ...result.notes];
    result.timings.total = performance.now() - started;
    player('input-audio', result.input, SAMPLE_RATE);
    $('download').href = player('output-audio', result.audio, result.sampleRate);
    $('download').download = `${name}.wav`;
    $('download').hidden = false;
    setStage(`done in ${(result.timings.total / 1000).toFixed(1)} s`, 1);
    window.timbre.last = result;
    return result;
  } catch (e) {
    setMessage(e.message);
    setStage('stopped', 0);
    throw e;
  } finally {
    for (const id of ['record', 'file']) $(id).disabled = false;
  }
}

async function openFile(file) {
  setMessage('');
  try {
    setStage(`decoding ${file.name}`, 0);
    const {buffer, info} = await decodeFile(file, SAMPLE_RATE);
    const rate = info ? info.sampleRate : null;
    const notes = [!rate ? `${file.name}: decoded at ${SAMPLE_RATE} Hz` :
      rate === SAMPLE_RATE ? `${file.name}: ${rate} Hz` :
        `${file.name}: ${rate} Hz, resampled to ${SAMPLE_RATE} Hz` +
        (rate < SAMPLE_RATE ? ` (nothing above ${rate / 2} Hz in it)` : '')];
    await transfer(buffer, buffer.sampleRate, {notes});
  } catch (e) {
    setMessage(e.message);
    setStage('stopped', 0);
  }
}

let recording = null;

async function toggleRecord() {
  const button = $('record');
  if (recording) {
    const current = recording;
    recording = null;
    const {samples, sampleRate} = await current.stop();
    button.textContent = '● Record';
    transfer(samples, sampleRate).catch(() => {});  // the page shows the message
    return;
  }
  setMessage('');
  try {
    recording = await record(MAX_SECONDS);
  } catch (e) {
    setMessage(e.message);
    return;
  }
  button.textContent = '■ Stop';
  setStage(`recording (at most ${MAX_SECONDS / 60} minutes)`, 0);
  const current = recording;
  current.done.then(() => {
    if (recording === current) toggleRecord();
  });
}

$('record').addEventListener('click', () => toggleRecord());
$('file').addEventListener('change', (e) => {
  if (e.target.files.length) openFile(e.target.files[0]);
  e.target.value = '';
});

const ready = init().catch((e) => {
  setMessage(e.message);
  setStage('not ready', 0);
  throw e;
});
window.timbre = {ready, instruments: names, transfer, last: null};
