// contributors: ddspgl
// description: |
//     A periodic cumsum's scan dispatch, one workgroup per row, what every invocation does
//     outside the workgroup scan (cumsum_run_scan, cumsum_run_scan_subgroups): a chunk of
//     ceil(runs / WG) consecutive runs per slot of the workgroup (slots 0 .. WG - 1), the
//     chunk's residue sum and float32 sum of |x| (its runs' sums, added in order from 0.0),
//     then each run's exclusive prefix. Input `sums` is cumsum_run_sums' output, output
//     int32 [rows, 2 * runs + 1] (cumsum_run_scan.wgsl says what it holds).
// options: WG, PER, REVERSE (the host's constants)

#include "cumsum_runs.wgsl"

// This workgroup's row (row 0 where `live` is false: a dispatch rounded up to whole rows
// of workgroups has a few past the rows, and they still reach every barrier).
struct CumsumScanRow {
  row: i32,
  live: bool,
}

fn cumsum_scan_row() -> CumsumScanRow {
  let id = i32(workgroupId.y * numWorkgroups.x + workgroupId.x);
  var r: CumsumScanRow;
  r.live = id < uniforms.rows;
  r.row = select(0, id, r.live);
  return r;
}

// Slot `slot`'s runs: [first, stop), empty past the row's last run.
struct CumsumChunk {
  first: i32,
  stop: i32,
}

fn cumsum_scan_chunk(slot: u32) -> CumsumChunk {
  let chunk = (uniforms.runs + i32(WG) - 1) / i32(WG);
  var c: CumsumChunk;
  c.first = min(i32(slot) * chunk, uniforms.runs);
  c.stop = min(c.first + chunk, uniforms.runs);
  return c;
}

fn cumsum_run_sum(row: i32, t: i32) -> vec2<u32> {
  let o = 3 * (row * uniforms.runs + t);
  return vec2<u32>(bitcast<u32>(sums[o]), bitcast<u32>(sums[o + 1]));
}

// A chunk's residue sum and its float32 sum of |x|.
struct CumsumChunkSum {
  residue: vec2<u32>,
  magnitude: f32,
}

fn cumsum_chunk_sum(row: i32, c: CumsumChunk, p: vec2<u32>) -> CumsumChunkSum {
  var s: CumsumChunkSum;
  s.residue = vec2<u32>(0u, 0u);
  s.magnitude = 0.0;
  for (var t = c.first; t < c.stop; t++) {
    s.residue = res_add(s.residue, cumsum_run_sum(row, t), p);
    s.magnitude += bitcast<f32>(sums[3 * (row * uniforms.runs + t) + 2]);
  }
  return s;
}

// Writes each run's exclusive prefix of the chunk, from the chunk's own (`exclusive`).
fn cumsum_write_prefixes(row: i32, c: CumsumChunk, exclusive: vec2<u32>, p: vec2<u32>) {
  let base = row * (2 * uniforms.runs + 1);
  var acc = exclusive;
  for (var t = c.first; t < c.stop; t++) {
    result[base + 2 * t] = bitcast<i32>(acc.x);
    result[base + 2 * t + 1] = bitcast<i32>(acc.y);
    acc = res_add(acc, cumsum_run_sum(row, t), p);
  }
}

// Writes the row's last word: 1 where its float32 sum of |x| is finite.
fn cumsum_write_finite(row: i32, magnitude: f32) {
  let word = row * (2 * uniforms.runs + 1) + 2 * uniforms.runs;
  result[word] = select(0, 1, float_finite(magnitude));
}
