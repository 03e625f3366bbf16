// Entry of the ES module build (ddspgl-tfjs.mjs): @tensorflow/tfjs-core and
// @tensorflow/tfjs-backend-webgl stay imports, the user's own copies (peer dependencies).
// Graph-model ops are registered by the caller: registerGraphOps(tf.registerOp).

import '@tensorflow/tfjs-backend-webgl';

export * from './api.js';
