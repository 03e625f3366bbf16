// @tensorflow/tfjs-core in the script-tag build: the global `tf` of tf.min.js.
'use strict';

const tf = globalThis.tf;
if (tf == null || typeof tf.registerKernel !== 'function') {
  throw new Error('ddspgl-tfjs.js: load TF.js (tf.min.js) before this script');
}
module.exports = tf;
