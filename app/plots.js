// The page's plots, drawn on canvases: waveforms (the min and max of each pixel column's
// samples) and frame tracks (pitch in MIDI notes, loudness in dB), with a label and the
// value range at the left.

const GRID = '#d8d8d8';
const TEXT = '#444';

function prepare(canvas) {
  const ctx = canvas.getContext('2d');
  const {width, height} = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  ctx.strokeStyle = GRID;
  ctx.strokeRect(0.5, 0.5, width - 1, height - 1);
  return {ctx, width, height};
}

function label(ctx, text, y) {
  ctx.fillStyle = TEXT;
  ctx.font = '11px sans-serif';
  ctx.fillText(text, 4, y);
}

/**
 * Waveforms in one canvas, each in its own lane: lanes [{samples, color, name}], the time
 * axis `length` samples wide (a lane's samples may be shorter: rendered so far).
 */
export function drawWaves(canvas, lanes, length) {
  const {ctx, width, height} = prepare(canvas);
  const lane = height / Math.max(lanes.length, 1);
  for (const [k, {samples, color, name}] of lanes.entries()) {
    const mid = lane * (k + 0.5);
    let peak = 0;
    for (const v of samples) peak = Math.max(peak, Math.abs(v));
    const scale = (lane / 2 - 2) / (peak || 1);
    ctx.fillStyle = color;
    const per = length / width;
    for (let px = 0; px < width; px++) {
      const a = Math.floor(px * per);
      const b = Math.min(samples.length, Math.floor((px + 1) * per));
      if (a >= b) break;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = a; i < b; i++) {
        lo = Math.min(lo, samples[i]);
        hi = Math.max(hi, samples[i]);
      }
      ctx.fillRect(px, mid - hi * scale, 1, Math.max(1, (hi - lo) * scale));
    }
    label(ctx, `${name} (peak ${peak.toFixed(3)})`, lane * k + 12);
  }
}

/**
 * Frame tracks in one canvas: tracks [{values, color, name, mask?}] (mask: draw only
 * where it is nonzero), over `frames` frames, y from `min` to `max` in `unit`.
 */
export function drawTracks(canvas, tracks, frames, {min, max, unit}) {
  const {ctx, width, height} = prepare(canvas);
  const y = (v) => height - 2 - (v - min) / (max - min) * (height - 4);
  ctx.lineWidth = 1.5;
  for (const {values, color, mask} of tracks) {
    ctx.strokeStyle = color;
    ctx.beginPath();
    let pen = false;
    for (let i = 0; i < values.length; i++) {
      const on = (!mask || mask[i]) && Number.isFinite(values[i]);
      if (!on) {
        pen = false;
        continue;
      }
      const px = i / frames * width;
      const py = Math.min(height, Math.max(0, y(values[i])));
      if (pen) ctx.lineTo(px, py);
      else ctx.moveTo(px, py);
      pen = true;
    }
    ctx.stroke();
  }
  label(ctx, `${max} ${unit}`, 12);
  label(ctx, `${min} ${unit}`, height - 4);
  let x = 80;
  for (const {color, name} of tracks) {
    ctx.fillStyle = color;
    ctx.fillRect(x, 4, 10, 10);
    ctx.fillStyle = TEXT;
    ctx.fillText(name, x + 14, 13);
    x += 24 + ctx.measureText(name).width;
  }
}
