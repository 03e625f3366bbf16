// The pass runner: the intermediates of one kernel call, each held until freed, freed as
// soon as no later pass reads it, and freed on the way out if a pass throws.

import {notePass} from './pass_hook.js';

// Passes run by ddspgl's kernels since the bundle loaded (ddspgl.stats.passes).
export const stats = {passes: 0};

export class Passes {
  constructor(backend) {
    this.backend = backend;
    this.held = [];
    this.labels = new Map();
  }

  // Runs a program from makeProgram; its output is held, labelled with the GLSL body.
  run(program, inputs, values) {
    const packed = !!program.packedOutput;
    const out = this.backend.runWebGLProgram(program, inputs, 'float32', values, packed);
    return this.hold(out, program.ddspglBody);
  }

  // x itself if its texture is packed, else a packed copy (TF.js's own pack pass): every
  // pass that reads x packed would otherwise pack an unpacked x again, once per pass.
  packed(x) {
    const backend = this.backend;
    if (backend.texData.get(x.dataId).isPacked || typeof backend.packTensor !== 'function') {
      return x;
    }
    return this.hold(backend.packTensor(x), 'pack');
  }

  hold(out, label) {
    stats.passes += 1;
    this.held.push(out);
    this.labels.set(out, label);
    notePass('run', label);
    return out;
  }

  // Disposes an intermediate this runner holds (anything else is left alone).
  free(info) {
    const i = this.held.indexOf(info);
    if (i >= 0) {
      this.held.splice(i, 1);
      this.dispose(info);
    }
  }

  // Hands a held output to the caller: freeAll no longer disposes it.
  keep(info) {
    this.held.splice(this.held.indexOf(info), 1);
    this.labels.delete(info);
    return info;
  }

  freeAll() {
    for (const info of this.held) this.dispose(info);
    this.held = [];
  }

  dispose(info) {
    this.backend.disposeIntermediateTensorInfo(info);
    notePass('free', this.labels.get(info));
    this.labels.delete(info);
  }
}
