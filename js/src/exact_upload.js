// Exact inputs in TF.js float16 mode: ddspgl.setExactUpload, ddspgl.exactUpload and the
// uploads ddspgl's webgl kernels make themselves.
//
// TF.js uploads a tensor's CPU values when a program first reads it by an encode pass that
// renders into a texture of the backend's float format: float16 when float32 rendering is
// off (WEBGL_RENDER_FLOAT32_ENABLED false, e.g. WEBGL_FORCE_F16_TEXTURES), so a user's f0
// is rounded to float16 before any kernel reads it. WebGL 2 samples R32F and RGBA32F
// textures on every device (only rendering into them needs EXT_color_buffer_float), so in
// that mode ddspgl's kernels upload each float32 input still held on the CPU themselves,
// with texSubImage2D into an R32F texture (RGBA32F where a pass reads the input packed),
// in TF.js's own layout and texture shape: the kernels' samplers read it unchanged. The
// texture is deleted when the call ends, never handed to TF.js's texture pool (where it
// could come back as a render target), and the tensor stays on the CPU. Inputs already
// in a texture (the output of another op: float16 already) are read as they are.

import * as tf from '@tensorflow/tfjs-core';

import {float32Render} from './textures.js';

let enabled = true;

/**
 * Turns ddspgl's own upload of CPU-resident float32 inputs in TF.js float16 mode on (the
 * default) or off (inputs then go through TF.js's float16 upload, as stock ops' do).
 * @param on true or false
 * @returns the previous setting, to restore it with
 */
export function setExactUpload(on = true) {
  if (typeof on !== 'boolean') {
    throw new Error(`setExactUpload: on must be true or false, got ${String(on)}`);
  }
  const before = enabled;
  enabled = on;
  return before;
}

// Whether the webgl backend `backend` is in the state where the kernels upload exactly.
function applies(backend) {
  return enabled && backend != null && backend.gpgpu != null &&
         tf.env().getNumber('WEBGL_VERSION') === 2 && !float32Render();
}

/**
 * Whether ddspgl's webgl kernels upload CPU-resident float32 inputs themselves now: the
 * setting is on, the active backend is webgl on WebGL 2 and renders into float16 (in
 * float32 mode TF.js's own upload is exact already).
 * @returns boolean
 */
export function exactUpload() {
  return tf.getBackend() === 'webgl' && applies(tf.backend());
}

// [batch, rows, columns] of a logical shape, as TF.js views a tensor it uploads.
function as3D(shape) {
  if (shape.length === 0) return [1, 1, 1];
  const lead = shape.slice(0, -2).reduce((p, d) => p * d, 1);
  return [lead, shape.length > 1 ? shape[shape.length - 2] : 1, shape[shape.length - 1]];
}

function squarish(size) {
  const width = Math.ceil(Math.sqrt(size));
  return [width, Math.ceil(size / width)];
}

/**
 * The texture shape [rows, columns] TF.js 4.22 gives a tensor of logical shape `shape` that
 * it uploads from the CPU (in values; packed, 2 x 2 values a texel): its 3-D view with unit
 * axes dropped (packed: rows and columns rounded up to even) as it is, or folded to two
 * axes, where both fit the texture size limit; else, or where a side of 1 (packed: 2)
 * texel row would exceed WEBGL_MAX_SIZE_FOR_NARROW_TEXTURE, near-square. Exported for tests
 * that hold it against tfjs-backend-webgl's webgl_util.
 */
export function textureShape(shape, packed) {
  const env = tf.env();
  let max = env.getNumber('WEBGL_MAX_TEXTURE_SIZE');
  let narrow = env.getNumber('WEBGL_MAX_SIZE_FOR_NARROW_TEXTURE');
  if (narrow === Infinity && env.getBool('WEBGL_AUTO_SQUARIFY_NARROW_TEXTURE_SHAPE')) {
    narrow = max / 2;
  }
  let dims = as3D(shape);
  if (packed) {
    max *= 2;
    narrow *= 2;
    dims = [dims[0], dims[1] + dims[1] % 2, dims[2] + dims[2] % 2];
  }
  dims = dims.filter(d => d !== 1);
  const size = dims.reduce((p, d) => p * d, 1);
  let tex = null;
  if (dims.length <= 1 && size <= max) {
    tex = [1, size];
  } else if (dims.length === 2 && dims[0] <= max && dims[1] <= max) {
    tex = dims;
  } else if (dims.length === 3 && dims[0] * dims[1] <= max && dims[2] <= max) {
    tex = [dims[0] * dims[1], dims[2]];
  } else if (dims.length === 3 && dims[0] <= max && dims[1] * dims[2] <= max) {
    tex = [dims[0], dims[1] * dims[2]];
  }
  const side = tex && Math.min(...tex);
  if (tex === null || (Math.max(...tex) > narrow && side <= (packed ? 2 : 1) && side > 0)) {
    // packed: `size` counts values, 4 a texel, rows and columns even
    tex = packed ? squarish(size / 4).map(d => 2 * d) : squarish(size);
  }
  return tex;
}

// The values of a float32 tensor of 3-D view [b, r, c] laid out as TF.js's packed texture
// of texture shape `tex` holds them: texel t = (i * ceil(r / 2) + row / 2) * ceil(c / 2) +
// col / 2 (row-major over texture rows ceil(tex[1] / 2) texels wide), its RGBA the values
// (row, col), (row, col + 1), (row + 1, col), (row + 1, col + 1) for even row and col.
function packedTexels(values, [b, r, c], tex) {
  const out = new Float32Array(Math.ceil(tex[0] / 2) * Math.ceil(tex[1] / 2) * 4);
  const r2 = Math.ceil(r / 2);
  const c2 = Math.ceil(c / 2);
  let i = 0;
  for (let batch = 0; batch < b; ++batch) {
    for (let row = 0; row < r; ++row) {
      const base = (batch * r2 + (row >> 1)) * c2;
      const lane = 2 * (row & 1);
      for (let col = 0; col < c; ++col) {
        out[4 * (base + (col >> 1)) + lane + (col & 1)] = values[i++];
      }
    }
  }
  return out;
}

/**
 * The exact uploads of one kernel call on the webgl backend: input() and tensor() give
 * tensors the passes read; release() deletes every texture made here and disposes the
 * tensors holding them, after the kernel has disposed every view (Reshape) it made of them.
 */
export class ExactInputs {
  constructor(backend) {
    this.backend = backend;
    this.on = applies(backend);
    this.made = [];  // [tensor info, its texture, or null for a TF.js tensor made here]
  }

  // `info` as the passes read it: where exact uploads apply and the backend holds its
  // float32 values on the CPU only, a copy in an R32F texture (`packed`: RGBA32F, for
  // passes that read it packed) with logical shape `shape` (info.shape by default; the
  // same size), else info itself. A texture beyond the size limit is left to TF.js (whose
  // error, or the kernel's, names it).
  input(info, {packed = false, shape = info.shape} = {}) {
    const data = this.backend.texData.get(info.dataId);
    const values = data != null && data.texture == null && data.slice == null ?
        data.values : null;
    if (!this.on || info.dtype !== 'float32' || !(values instanceof Float32Array) ||
        values.length === 0 || values.length !== tf.util.sizeFromShape(shape)) {
      return info;
    }
    return this.upload(shape, values, packed) || info;
  }

  // A float32 tensor [shape] of `values` that the passes read: exact where uploads apply,
  // else an ordinary TF.js tensor (uploaded by TF.js when a pass reads it).
  tensor(shape, values, {packed = false} = {}) {
    const made = this.on ? this.upload(shape, values, packed) : null;
    if (made !== null) return made;
    const info = this.backend.makeTensorInfo(shape, 'float32', values);
    this.made.push([info, null]);
    return info;
  }

  // The tensor of a new texture holding `values`, or null if it would exceed the limit.
  upload(shape, values, packed) {
    const backend = this.backend;
    const gpgpu = backend.gpgpu;
    const tex = textureShape(shape, packed);
    const [height, width] = packed ? tex.map(d => Math.ceil(d / 2)) : tex;
    if (Math.max(height, width) > gpgpu.maxTextureSize) return null;
    const texture = packed ? gpgpu.createPackedMatrixTexture(tex[0], tex[1]) :
                             gpgpu.createFloat32MatrixTexture(tex[0], tex[1]);
    const info = backend.makeTensorInfo(shape, 'float32');
    this.made.push([info, texture]);
    let texels = packed ? packedTexels(values, as3D(shape), tex) : values;
    if (!packed && values.length < height * width) {
      texels = new Float32Array(height * width);
      texels.set(values);
    }
    const gl = gpgpu.gl;
    gl.bindTexture(gl.TEXTURE_2D, texture.texture);
    gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, packed ? gl.RGBA : gl.RED,
                     gl.FLOAT, texels);
    gl.bindTexture(gl.TEXTURE_2D, null);
    Object.assign(backend.texData.get(info.dataId),
                  {texture, texShape: tex, isPacked: packed, usage: null});
    return info;
  }

  // Deletes the textures made here and disposes their tensors (TF.js never sees them).
  release() {
    const backend = this.backend;
    for (const [info, texture] of this.made) {
      const data = backend.texData.get(info.dataId);
      if (texture !== null) {
        if (data != null) Object.assign(data, {texture: null, texShape: null, isPacked: false});
        backend.gpgpu.deleteMatrixTexture(texture.texture);
      }
      backend.disposeIntermediateTensorInfo(info);
    }
    this.made = [];
  }
}
