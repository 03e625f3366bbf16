import * as tf from '@tensorflow/tfjs-core';

const GENERATED = /* @GENERATED */;

/* @CORE */

export const version = GENERATED.VERSION;
export const kernels = GENERATED.KERNELS;
export {wrappedCumsum, harmonicSynth, patchCumsum, unpatchCumsum, registerGraphOps, stats,
        setEarlyDisposal};
export {onPass as _onPass};
