// Debug hook for memory profiles: fn({event, label}) after every pass of a ddspgl kernel
// (event 'run', label the GLSL body) and every disposal of one of its intermediates
// ('free'), or null for none. Exported as ddspgl._onPass.

let passHook = null;

// Sets the hook; returns the previous one, to restore it with.
export function onPass(fn) {
  if (fn !== null && typeof fn !== 'function') {
    throw new Error(`_onPass: fn must be a function or null, got ${String(fn)}`);
  }
  const before = passHook;
  passHook = fn;
  return before;
}

export function notePass(event, label) {
  if (passHook !== null) passHook({event, label});
}
