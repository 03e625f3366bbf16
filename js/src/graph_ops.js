// Graph-model custom ops: every kernel module's graphOps, registered with the converter's
// tf.registerOp (the script-tag bundle does it on load when tf.registerOp exists).

import {KERNEL_MODULES} from './generated/kernels.js';

export function registerGraphOps(registerOp) {
  if (typeof registerOp !== 'function') {
    throw new Error(
        `registerGraphOps: registerOp must be a function (tf.registerOp of ` +
        `@tensorflow/tfjs-converter), got ${String(registerOp)}`);
  }
  for (const module of KERNEL_MODULES) {
    for (const [name, fn] of Object.entries(module.graphOps)) registerOp(name, fn);
  }
}
