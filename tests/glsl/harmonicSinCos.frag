// Test kernel: sin and cos of every input (|x| <= pi), as the harmonic synth uses them.
void main() {
    ivec2 c = getOutputCoords();
    float x = getX(c.x, c.y);
    setOutput(vec4(sin(x), cos(x), 0.0, 0.0));
}
