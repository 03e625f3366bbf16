/*
contributors: ddspgl
description: |
    Frame-rate pass of the harmonic synthesizer: output [batch, FRAMES] holds
    each frame's phase increment (the sum of the linearly interpolated f0 over
    its HOP samples) as an exact residue modulo p, stored as four base-2^11
    digits (exact in RGBA16F). An exclusive wrapped scan of these digits gives
    each frame's starting phase.
options:
    - HOP: samples per frame; FRAMES: frames per row of `f0` (the last frame is held
      for its hop; without DDSP's add_endpoint the host ignores that last increment)
*/
#include "../lib/harmonic/harmonicInFrame.glsl"
#include "../lib/residue/resModulus.glsl"

void main() {
    ivec2 c = getOutputCoords();                     // (batch, frame)
    uvec2 p = resModulus();
    float a = getF0(c.x, c.y);
    float b = c.y + 1 < FRAMES ? getF0(c.x, c.y + 1) : a;
    uvec2 ra = resFromFloat(a, p, shift);
    uvec2 rb = resFromFloat(b, p, shift);
    setOutput(resToDigits(harmonicInFrame(ra, rb, HOP - 1, p)));
}
