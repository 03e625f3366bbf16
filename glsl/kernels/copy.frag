/*
contributors: ddspgl
description: |
    Reads every element once and writes it once: the memory-traffic floor of any
    scan over the same input, timed beside the kernels by the benchmarks.
*/

void main() {
    ivec2 coords = getOutputCoords();
    setOutput(getX(coords.x, coords.y));
}
