// Each JS backend's own way of making a float32 output tensor from values.

export const OUTPUT = {
  cpu: (backend, shape, values) => backend.makeTensorInfo(shape, 'float32', values),
  wasm: (backend, shape, values) => backend.makeOutput(shape, 'float32', undefined, values),
};
