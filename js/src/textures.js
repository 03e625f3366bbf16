// Texture layout while ddspgl's passes allocate.

import * as tf from '@tensorflow/tfjs-core';

// TF.js lays a packed [1, n] or [m, 2, 2] tensor of up to 2 * WEBGL_MAX_TEXTURE_SIZE
// elements on a texture one texel tall or wide; a software renderer splits a draw into
// bands of rows, so a texture one texel tall runs on one core (the final pass at
// n = 16000: 4x slower). While fn runs, textures longer than this and at most 2 texels
// across are laid out near-square instead (TF.js's own WEBGL_MAX_SIZE_FOR_NARROW_TEXTURE,
// restored afterwards; TF.js keeps every texture's shape with it, so this changes no
// other op).
const NARROW_TEXTURE_MAX = 64;

export function withSquareTextures(fn) {
  const env = tf.env();
  const flag = 'WEBGL_MAX_SIZE_FOR_NARROW_TEXTURE';
  const before = env.getNumber(flag);
  if (before <= NARROW_TEXTURE_MAX) return fn();
  env.set(flag, NARROW_TEXTURE_MAX);
  try {
    return fn();
  } finally {
    env.set(flag, before);
  }
}

// Whether render targets hold float32 (else float16: outputs are rounded to it).
export function float32Render() {
  return tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
}
