// The scan's levels above the first (kernels/cumsum.scan_graph), shared by WrappedCumsum
// (whose first level is the leaf pass over x) and HarmonicSynth (whose first level
// reduces the digit residues it scans): block sums up, exclusive prefixes down.

import {makeProgram} from '../program.js';

// makeProgram options of a pass that reads and writes packed textures; every input but a
// raw `x` holds vec4 digit elements.
export function packedOpts(names) {
  return {packedInputs: true, packedOutput: true,
          digitInputs: names.filter(name => name !== 'x')};
}

// Up-sweep: block sums of every level, as digits: sums[0] is `first` (level 1), sums[i]
// level i + 1 of the plan pl.
export function upSweep(passes, first, pl, rows, values) {
  const sums = [first];
  for (let level = 1; level < pl.blocks.length; ++level) {
    const shape = [rows, pl.lengths[level + 1], 2, 2];
    const source = {CUMSUM_SOURCE_LEN: pl.lengths[level]};
    const program = pl.blocks[level] === 4 ?
        makeProgram('cumsum_reduce4', ['partial'], shape, source, packedOpts(['partial'])) :
        makeProgram('cumsum_reduce', ['partial'], shape,
                    {...source, CUMSUM_BLOCK: pl.blocks[level]}, packedOpts(['partial']));
    sums.push(passes.run(program, [sums[level - 1]], values));
  }
  return sums;
}

// Down-sweep: the exclusive prefixes P(0) ... P(length) of each level (the last one its
// row total), the top scanned whole; frees every level of `sums`. Returns level 1's
// prefixes [rows, lengths[1] + 1], from which the final pass reads its blocks' starts.
export function downSweep(passes, sums, pl, rows, values) {
  const levels = pl.blocks.length;
  let upper = null;
  for (let level = levels; level > 0; --level) {
    const length = pl.lengths[level];
    const levelSums = sums[level - 1];
    const names = upper ? ['partial', 'upper'] : ['partial'];
    const inputs = upper ? [levelSums, upper] : [levelSums];
    const shape = [rows, length + 1, 2, 2];
    const program = level < levels && pl.blocks[level] === 4 ?
        makeProgram('cumsum_scan4', names, shape, {CUMSUM_SOURCE_LEN: length},
                    packedOpts(names)) :
        makeProgram('cumsum_scan', names, shape,
                    {CUMSUM_BLOCK: level < levels ? pl.blocks[level] : length + 1,
                     CUMSUM_SOURCE_LEN: length, CUMSUM_HAS_UPPER: upper ? 1 : 0},
                    packedOpts(names));
    const prefix = passes.run(program, inputs, values);
    passes.free(levelSums);
    if (upper) passes.free(upper);
    upper = prefix;
  }
  return upper;
}
