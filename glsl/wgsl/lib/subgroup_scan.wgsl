// contributors: ddspgl
// description: |
//     workgroup_scan.wgsl's residue scan with subgroup operations, for a device with the
//     `subgroups` feature: one barrier where that takes three, and no invocation adding
//     up the workgroup's values alone. Residues are exact, so the result is the same bit
//     for bit in any order of additions. Every invocation of the workgroup must call these
//     (they hold a barrier and subgroup operations), in uniform control flow.
//
//     Which invocations share a subgroup, its size (4 to 128; the workgroup need not be a
//     multiple of it) and how subgroup_invocation_id relates to local_invocation_index
//     are the implementation's, and builtins reach only the entry point, which TF.js
//     writes: so nothing here reads them. sg_place gives each invocation a slot in
//     [0, WG) instead, a subgroup's slots consecutive in its lanes' order (the subgroup's
//     first slot from a workgroup atomic), and the caller gives slot k the values the
//     fallback gives invocation k.
//
//     A residue r < 2^44 is two 22-bit limbs (r = hi 2^22 + lo); the subgroup adds limbs
//     as u32 (subgroupExclusiveAdd, subgroupAdd), exact for up to 512 terms, and
//     res_from_limb_sums reduces the sum modulo p: the residue of the exact sum.
// ddspgl: enable subgroups
//     (the line above is the marker js/src/webgpu_subgroups.js finds to put
//     `enable subgroups;` first in the module: TF.js writes the module's first lines)

#include "residue.wgsl"

const_assert WG <= 512u;  // limb sums of up to WG terms of 2^22 stay below 2^31

var<workgroup> sg_next_slot: atomic<u32>;
var<workgroup> sg_totals: array<vec2<u32>, WG>;  // a subgroup's total at its first slot
var<workgroup> sg_floats: array<f32, WG>;

// An invocation's place: its subgroup's first slot, its rank among the subgroup's
// invocations (its slot is first + rank) and how many invocations the subgroup has.
struct SubgroupPlace {
  first: u32,
  rank: u32,
  count: u32,
}

fn sg_place() -> SubgroupPlace {
  var at: SubgroupPlace;
  at.rank = subgroupExclusiveAdd(1u);
  at.count = subgroupAdd(1u);
  var first = 0u;
  if (at.rank == 0u) {
    first = atomicAdd(&sg_next_slot, at.count);
  }
  at.first = subgroupAdd(first);  // rank 0's, the others add 0
  return at;
}

fn sg_slot(at: SubgroupPlace) -> u32 {
  return at.first + at.rank;
}

// The limbs (lo, hi) of a residue below 2^44.
fn res_limbs(r: vec2<u32>) -> vec2<u32> {
  return vec2<u32>(r.x & 0x3fffffu, (r.x >> 22u) | (r.y << 10u));
}

// The residue modulo p of lo + hi 2^22 (s = (lo, hi)), a sum of limbs of at most `terms`
// residues, so below terms * p <= 2^k p for the first 2^k >= terms (res_reduce_below).
fn res_from_limb_sums(s: vec2<u32>, p: vec2<u32>, terms: u32) -> vec2<u32> {
  let hi = vec2<u32>(s.y << 22u, s.y >> 10u);
  let lo = hi.x + s.x;
  let v = vec2<u32>(lo, hi.y + select(0u, 1u, lo < s.x));
  var k = 0u;
  while ((1u << k) < terms) {
    k++;
  }
  return res_reduce_below(v, p, k);
}

// The sum of the residues `value` of the slots before this invocation's, modulo p; `f`,
// the slot's float32 value, is kept for sg_sum_floats. One barrier.
fn sg_scan_residues_and_sum(at: SubgroupPlace, value: vec2<u32>, f: f32,
                            p: vec2<u32>) -> vec2<u32> {
  let limbs = res_limbs(value);
  let before = subgroupExclusiveAdd(limbs);
  let total = subgroupAdd(limbs);
  if (at.rank == 0u) {
    sg_totals[at.first] = res_from_limb_sums(total, p, at.count);
  }
  sg_floats[sg_slot(at)] = f;
  workgroupBarrier();
  // The subgroups before this one: their totals at slots below `first`, zero between
  // (workgroup memory starts zeroed), read a subgroup's width at a time.
  var earlier = vec2<u32>(0u, 0u);
  for (var i = at.rank; i < at.first; i += at.count) {
    earlier += res_limbs(sg_totals[i]);
  }
  // At most first + rank < WG residues in all.
  return res_from_limb_sums(subgroupAdd(earlier) + before, p, WG);
}

// After sg_scan_residues_and_sum: the float32 sum of the slots' values `f`, added in slot
// order from 0.0, as wg_scan_residues_and_sum's invocation 0 adds them (the same
// roundings, so the same bits).
fn sg_sum_floats() -> f32 {
  var sum = 0.0;
  for (var i = 0u; i < WG; i++) {
    sum += sg_floats[i];
  }
  return sum;
}
