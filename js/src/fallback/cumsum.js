// WrappedCumsum on the cpu and wasm backends: float64 accumulation, one float32 rounding.

import {KERNEL_NAMES} from '../generated/constants.js';
import {checkTensor, cumsumAttrs} from '../checks.js';
import {checkCumsumValues} from '../value_checks.js';
import {OUTPUT} from './output.js';

const KERNEL = KERNEL_NAMES.cumsum;

function cumsumRows(values, shape, {period, exclusive, reverse}) {
  const n = shape[shape.length - 1];
  const out = new Float32Array(values.length);
  for (let base = 0; base < values.length; base += n) {
    let acc = 0;
    for (let j = 0; j < n; ++j) {
      const i = base + (reverse ? n - 1 - j : j);
      if (exclusive) out[i] = acc;
      acc += values[i];
      if (period !== null) {
        acc -= period * Math.floor(acc / period);
        if (acc >= period) acc -= period;
      }
      if (!exclusive) out[i] = acc;
    }
  }
  return out;
}

// The kernel function for backendName ('cpu' or 'wasm'): the host holds every value, so
// every value is checked (float32 storage).
export function wrappedCumsumJS(backendName) {
  return ({inputs, backend, attrs}) => {
    const {x} = inputs;
    checkTensor(KERNEL, x);
    const a = cumsumAttrs(KERNEL, attrs, {periodRequired: false, storage: 'float32'});
    const xs = backend.readSync(x.dataId);
    checkCumsumValues(KERNEL, xs, x.shape, a, 'float32');
    const values = cumsumRows(xs, x.shape, a);
    return OUTPUT[backendName](backend, x.shape, values);
  };
}
