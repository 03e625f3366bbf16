// Early texture disposal: ddspgl.setEarlyDisposal.

import * as tf from '@tensorflow/tfjs-core';

const DELETE_THRESHOLD = 'WEBGL_DELETE_TEXTURE_THRESHOLD';
const EARLY_DISPOSAL_DEFAULT = 0;

/**
 * Opt-in early texture disposal: sets TF.js's WEBGL_DELETE_TEXTURE_THRESHOLD. TF.js
 * pools every texture a disposed tensor releases, for reuse by a later tensor of the same
 * shape, and never frees the pool by default (-1); with a threshold of T bytes it
 * deletes a released texture instead of pooling it whenever the bytes it has allocated
 * (in use and pooled) exceed T. ddspgl's kernels already free each intermediate as soon
 * as no later pass reads it; this makes those frees (and every other op's) give the
 * memory back.
 *
 * The default, 0, deletes every released texture: tf.memory().numBytesInGPUAllocated
 * is then the bytes of live tensors, at the cost of allocating a texture for every pass
 * output (cheap next to the passes here; a graph of many large ops that wants a pool
 * can pass a budget in bytes, e.g. 64 * 2 ** 20). Applies to textures released after
 * the call; the flag is global to TF.js.
 * @param threshold bytes: a whole number >= 0, or -1 for TF.js's default (never delete)
 * @returns the previous threshold, to restore it with
 */
export function setEarlyDisposal(threshold = EARLY_DISPOSAL_DEFAULT) {
  const op = 'setEarlyDisposal';
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) ||
      (threshold < 0 && threshold !== -1)) {
    throw new Error(
        `${op}: threshold must be a whole number of bytes >= 0 (or -1 for TF.js's ` +
        `default, never delete), got ${String(threshold)}`);
  }
  const env = tf.env();
  if (env.flagRegistry == null || env.flagRegistry[DELETE_THRESHOLD] == null) {
    throw new Error(`${op}: TF.js's webgl backend is not loaded (${DELETE_THRESHOLD} is ` +
                    'one of its flags)');
  }
  const before = env.getNumber(DELETE_THRESHOLD);
  env.set(DELETE_THRESHOLD, threshold);
  return before;
}
