import * as tf from '@tensorflow/tfjs-core';

const GENERATED = /* @GENERATED */;

/* @CORE */

export const version = GENERATED.VERSION;
export const kernels = GENERATED.KERNELS;
export {wrappedCumsum, patchCumsum, unpatchCumsum, registerGraphOps, stats};
