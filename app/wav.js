// WAV files: the page's download (encode) and what a WAV file's header says (info), read
// before decoding so that the page can say which sample rate and channels it was given.
//
// encodeWav writes RIFF/WAVE with one 'fmt ' chunk of format 3 (IEEE float, 32 bits) and
// one 'data' chunk, little-endian: the samples exactly as the page computed them (no
// clipping, no dither). Every audio program and browser reads it.

const FLOAT_FORMAT = 3;
const PCM_FORMAT = 1;
const EXTENSIBLE_FORMAT = 0xfffe;

function ascii(view, offset, text) {
  for (let i = 0; i < text.length; i++) view.setUint8(offset + i, text.charCodeAt(i));
}

/**
 * Mono float32 samples as the bytes of a WAV file (a Uint8Array).
 * @param samples Float32Array (or an Array of numbers), finite
 * @param sampleRate Hz, a positive integer
 */
export function encodeWav(samples, sampleRate) {
  if (!(samples instanceof Float32Array || Array.isArray(samples))) {
    throw new TypeError('samples: must be a Float32Array or an Array of numbers');
  }
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sampleRate: must be a positive integer, got ${sampleRate}`);
  }
  const dataBytes = samples.length * 4;
  const bytes = new Uint8Array(44 + dataBytes);
  const view = new DataView(bytes.buffer);
  ascii(view, 0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(view, 8, 'WAVE');
  ascii(view, 12, 'fmt ');
  view.setUint32(16, 16, true);  // chunk size
  view.setUint16(20, FLOAT_FORMAT, true);
  view.setUint16(22, 1, true);  // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 4, true);  // bytes per second
  view.setUint16(32, 4, true);  // block align
  view.setUint16(34, 32, true);  // bits per sample
  ascii(view, 36, 'data');
  view.setUint32(40, dataBytes, true);
  for (let i = 0; i < samples.length; i++) view.setFloat32(44 + 4 * i, samples[i], true);
  return bytes;
}

/**
 * What a WAV file's 'fmt ' chunk says: {format: 'pcm' | 'float' | 'other', channels,
 * sampleRate, bitsPerSample}, or null when the bytes are not a RIFF/WAVE file.
 * @param buffer ArrayBuffer of the file (its first chunks are enough)
 */
export function wavInfo(buffer) {
  const view = new DataView(buffer);
  const tag = (offset) => String.fromCharCode(...new Uint8Array(buffer, offset, 4));
  if (buffer.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  let offset = 12;
  while (offset + 8 <= buffer.byteLength) {
    const size = view.getUint32(offset + 4, true);
    if (tag(offset) === 'fmt ' && offset + 24 <= buffer.byteLength) {
      const code = view.getUint16(offset + 8, true);
      const format = code === PCM_FORMAT ? 'pcm' :
        code === FLOAT_FORMAT ? 'float' : code === EXTENSIBLE_FORMAT ? 'extensible' : 'other';
      return {
        format,
        channels: view.getUint16(offset + 10, true),
        sampleRate: view.getUint32(offset + 12, true),
        bitsPerSample: view.getUint16(offset + 22, true),
      };
    }
    offset += 8 + size + (size % 2);  // chunks are padded to even sizes
  }
  return null;
}
