(function (global) {
  'use strict';
  const tf = global.tf;
  if (tf == null || typeof tf.registerKernel !== 'function') {
    throw new Error('ddspgl-tfjs.js: load TF.js (tf.min.js) before this script');
  }
  const GENERATED = /* @GENERATED */;

/* @CORE */

  if (typeof tf.registerOp === 'function') registerGraphOps(tf.registerOp);
  global.ddspgl = Object.freeze({
    version: GENERATED.VERSION,
    kernels: GENERATED.KERNELS,
    wrappedCumsum,
    harmonicSynth,
    patchCumsum,
    unpatchCumsum,
    registerGraphOps,
    stats,
    setEarlyDisposal,
    _onPass: onPass,
  });
})(typeof globalThis !== 'undefined' ? globalThis : self);
