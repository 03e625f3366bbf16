// contributors: ddspgl
// description: |
//     Whether a float's bits say finite (its exponent not all ones): a bit test, which no
//     compiler may fold away as it may a comparison that assumes finite values.

fn float_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}
