// Entry of the script-tag build (ddspgl-tfjs.js, after tf.min.js): @tensorflow/tfjs-core
// is the page's global `tf` (tf_global.cjs); the API becomes the global `ddspgl`, and the
// graph-model ops are registered when tf.min.js has the converter's tf.registerOp.

import * as tf from '@tensorflow/tfjs-core';

import * as api from './api.js';

if (typeof tf.registerOp === 'function') api.registerGraphOps(tf.registerOp);
globalThis.ddspgl = Object.freeze({...api});
