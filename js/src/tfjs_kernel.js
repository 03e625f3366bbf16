// TF.js's own kernels, looked up by name (Reshape, Transpose, ddspgl's registered ones).

import * as tf from '@tensorflow/tfjs-core';

export function kernelFn(backendName, name) {
  const config = tf.getKernel(name, backendName);
  if (config == null) throw new Error(`ddspgl: TF.js has no ${name} kernel for '${backendName}'`);
  return config.kernelFunc;
}
