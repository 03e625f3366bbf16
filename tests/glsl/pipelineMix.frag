// Test kernel for pipelines: out = (BIAS + sum of W_i * input_i at the output's
// coordinates wrapped to the input's shape) mod 61, in integers. A vec4 input adds its
// four components, a vec4 output writes (s, s + 1, s + 2, s + 3) mod 61. Every stored
// value is an integer below 61, exact in float16.
int term(float v) { return int(round(v)); }
int term(vec4 v) { return int(round(v.x)) + int(round(v.y)) + int(round(v.z)) + int(round(v.w)); }

void main() {
    ivec2 c = getOutputCoords();
    int s = MIX_BIAS;
#if MIX_INPUTS > 0
    s += MIX_W0 * term(getIn0(c.x % IN0_ROWS, c.y % IN0_COLS));
#endif
#if MIX_INPUTS > 1
    s += MIX_W1 * term(getIn1(c.x % IN1_ROWS, c.y % IN1_COLS));
#endif
#if MIX_INPUTS > 2
    s += MIX_W2 * term(getIn2(c.x % IN2_ROWS, c.y % IN2_COLS));
#endif
#if MIX_VEC4
    setOutput(vec4(float(s % 61), float((s + 1) % 61), float((s + 2) % 61), float((s + 3) % 61)));
#else
    setOutput(float(s % 61));
#endif
}
