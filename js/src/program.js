// Program construction: a GLSL body from the generated module as a TF.js WebGL program.

import {GLSL} from './generated/glsl.js';

// The cumsum's uniforms: the modulus (two 32-bit halves), its shift and scaleOf(shift).
export const CUMSUM_UNIFORMS = [
  {name: 'modulus', type: 'ivec2'},
  {name: 'shift', type: 'int'},
  {name: 'scale', type: 'vec2'},
];

function defineLines(defines) {
  return Object.entries(defines).map(([k, v]) => `#define ${k} ${v}`).join('\n');
}

// Adapts a body written against (row, col) accessors to TF.js's shader compiler. Digit
// levels (and other vec4 elements) are tensors [rows, m, 2, 2]: packed, one texel holds
// one element's 4 components; unpacked, they are 4 consecutive floats. A raw input `x`
// [rows, n] read packed gives the body vec4 getXTexel(row, col), TF.js's texel holding
// (row, col), (row, col + 1), (row + 1, col), (row + 1, col + 1) for even row and col,
// and float getX(row, col), the value.
function shims({packedInputs, packedOutput, digitInputs, rawX}) {
  const lines = [];
  if (rawX && packedInputs) {
    lines.push('vec4 getXTexel(int row, int col) { return getX(row, col); }');
    lines.push('float ddspglGetX(int row, int col) { ' +
               'return getXTexel(row, col)[2 * (row & 1) + (col & 1)]; }');
    lines.push('#define getX ddspglGetX');
  }
  for (const name of digitInputs) {
    const get = 'get' + name[0].toUpperCase() + name.slice(1);
    lines.push(packedInputs ?
        `vec4 ${get}(int row, int col) { return ${get}(row, col, 0, 0); }` :
        `vec4 ${get}(int row, int col) { return vec4(${get}(row, col, 0, 0), ` +
            `${get}(row, col, 0, 1), ${get}(row, col, 1, 0), ${get}(row, col, 1, 1)); }`);
  }
  if (packedOutput) {
    lines.push('ivec2 ddspglOutputCoords() { return getOutputCoords().xy; }');
    lines.push('#define getOutputCoords ddspglOutputCoords');
  }
  return lines.join('\n');
}

// The program running GLSL body `body` (a key of the generated GLSL table) on inputs
// `variableNames`, with `defines` as #defines. opts: packedInputs, packedOutput,
// digitInputs (inputs read as vec4 elements), uniforms (CUMSUM_UNIFORMS by default; false
// for none), extra (GLSL between the accessors and the body).
export function makeProgram(body, variableNames, outputShape, defines, opts) {
  const {packedInputs = false, packedOutput = false, digitInputs = [],
         uniforms = CUMSUM_UNIFORMS, extra = ''} = opts;
  const program = {
    variableNames,
    outputShape,
    packedInputs,
    packedOutput,
    userCode: [defineLines(defines),
               shims({packedInputs, packedOutput, digitInputs, rawX: variableNames.includes('x')}),
               extra,
               '#line 1', GLSL[body]].join('\n'),
  };
  if (uniforms) program.customUniforms = uniforms;
  Object.defineProperty(program, 'ddspglBody', {value: body});  // for _onPass
  return program;
}
