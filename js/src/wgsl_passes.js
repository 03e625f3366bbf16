// The dispatch runner of ddspgl's webgpu kernels: the intermediates of one kernel call,
// each held until freed, freed as soon as no later dispatch reads it, and freed on the
// way out if a dispatch throws (passes.js does the same for webgl passes).

import {notePass} from './pass_hook.js';
import {stats} from './passes.js';

// The values of tensor `info` if the webgpu backend still holds them on the CPU (not yet
// uploaded), else null (they are only in a GPU buffer, and reading them back would wait
// for the GPU).
export function webgpuHostValues(backend, info) {
  if (info == null) return null;
  const data = backend.tensorMap.get(info.dataId);
  return data != null && data.values != null ? data.values : null;
}

export class WGSLPasses {
  constructor(backend) {
    this.backend = backend;
    this.held = new Map();  // output -> the WGSL body that wrote it
  }

  // Runs a program from makeWGSLProgram; its output (of `dtype`) is held.
  run(program, inputs, dtype, values) {
    const out = this.backend.runWebGPUProgram(program, inputs, dtype, values);
    stats.passes += 1;
    this.held.set(out, program.ddspglBody);
    notePass('run', program.ddspglBody);
    return out;
  }

  // Disposes an intermediate this runner holds (anything else is left alone).
  free(info) {
    if (!this.held.has(info)) return;
    const label = this.held.get(info);
    this.held.delete(info);
    this.backend.disposeData(info.dataId);
    notePass('free', label);
  }

  // Hands a held output to the caller: freeAll no longer disposes it.
  keep(info) {
    this.held.delete(info);
    return info;
  }

  freeAll() {
    for (const info of [...this.held.keys()]) this.free(info);
  }
}
