// Program construction for TF.js's webgpu backend: a WGSL body from the generated module
// as the program object `backend.runWebGPUProgram` takes.

import {WGSL} from './generated/wgsl.js';

// The most workgroups in one dimension of a dispatch (WebGPU's default limit).
const MAX_PER_DIMENSION = 65535;

// The dispatch for `groups` workgroups numbered linearly (y * numWorkgroups.x + x): bodies
// give the few past `groups` nothing to do.
function dispatchOf(groups) {
  if (groups <= MAX_PER_DIMENSION) return [groups, 1, 1];
  return [MAX_PER_DIMENSION, Math.ceil(groups / MAX_PER_DIMENSION), 1];
}

// The program running WGSL body `body` (a key of the generated WGSL table) on inputs
// `variableNames` in `groups` workgroups of `workgroupSize` invocations. `constants`
// (name -> WGSL literal) are declared before the body, `extra` (WGSL: accessors the body
// names) after them; `uniforms` is the body's uniform fields (WGSL struct members), after
// TF.js's own (shapes and strides of every input and of the output); `variableComponents`
// (one per input, 1 or 4) declares an input as array<vec4<f32>> where 4.
export function makeWGSLProgram(body, variableNames, outputShape,
                                {constants, groups, workgroupSize, uniforms, extra = '',
                                 variableComponents = null}) {
  if (!(body in WGSL)) throw new Error(`ddspgl: no WGSL program ${body}`);
  const declarations = Object.entries(constants).map(([k, v]) => `const ${k} = ${v};`);
  const code = [...declarations, extra, WGSL[body]].join('\n');
  const program = {
    variableNames,
    outputShape,
    shaderKey: `ddspgl_${body}_${declarations.join('')}${extra}`,
    dispatchLayout: {x: outputShape.map((_, i) => i)},  // flat: main(index) is called
    dispatch: dispatchOf(groups),
    workgroupSize: [workgroupSize, 1, 1],
    uniforms,
    getUserCode: () => code,
  };
  if (variableComponents !== null) program.variableComponents = variableComponents;
  Object.defineProperty(program, 'ddspglBody', {value: body});  // for _onPass
  return program;
}
