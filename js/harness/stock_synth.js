// DDSP's harmonic synthesizer from stock TF.js ops, as a converted DDSP graph runs it
// (magenta/ddsp core.harmonic_synthesis with the Harmonic synth's normalisation): frame
// controls -> harmonic frequencies and amplitudes [batch, frames, K] -> upsampled to
// [batch, nSamples, K] (resizeBilinear, DDSP's 'linear') -> remove_above_nyquist ->
// cumsum of the angular frequencies along time -> sin * amplitude -> sum over K. Each
// step is one op; every intermediate is disposed right after its last use, as a graph
// model's executor does (a comparison's bool tensor and a number's scalar too, by
// tf.tidy). `step(label, fn)` runs an op and samples memory. The browser memory profile
// (harness.memoryRun) runs it beside ddspgl.harmonicSynth.
export function stockSynth(t, {sampleRate = 16000, nSamples = 64000}, step) {
  const [batch, frames, k] = t.dist.shape;
  const nyquist = sampleRate / 2;
  const live = new Set();
  const keep = x => (live.add(x), x);
  const done = (...xs) => xs.forEach(x => (x.dispose(), live.delete(x)));
  try {
    const harmonics = keep(step('harmonic numbers', () => tf.range(1, k + 1)));
    const f0 = keep(step('f0 [b, frames, 1]', () => tf.expandDims(t.f0, 2)));
    const freqs = keep(step('harmonic frequencies', () => tf.mul(f0, harmonics)));
    done(f0, harmonics);
    const below = keep(step('below Nyquist (frames)', () => tf.tidy(
        () => tf.cast(tf.less(freqs, nyquist), 'float32'))));
    const masked = keep(step('masked distribution', () => tf.mul(t.dist, below)));
    done(below);
    const total = keep(step('distribution sum', () => tf.sum(masked, 2, true)));
    const norm = keep(step('normalised distribution', () => tf.divNoNan(masked, total)));
    done(masked, total);
    const amp = keep(step('amplitude [b, frames, 1]', () => tf.expandDims(t.amplitude, 2)));
    const amps = keep(step('harmonic amplitudes', () => tf.mul(amp, norm)));
    done(amp, norm);
    const upsample = (x, label) => {
      const x4 = keep(step(`${label} [b, frames, 1, K]`,
                           () => tf.reshape(x, [batch, frames, 1, k])));
      const up = keep(step(`upsample ${label}`,
                           () => tf.image.resizeBilinear(x4, [nSamples, 1], true)));
      done(x4);
      const out = keep(step(`${label} [b, n, K]`, () => tf.reshape(up, [batch, nSamples, k])));
      done(up);
      return out;
    };
    const freqUp = upsample(freqs, 'frequencies');
    done(freqs);
    const ampUp = upsample(amps, 'amplitudes');
    done(amps);
    const audible = keep(step('below Nyquist (samples)', () => tf.tidy(
        () => tf.cast(tf.less(freqUp, nyquist), 'float32'))));
    const ampAudible = keep(step('remove above Nyquist', () => tf.mul(ampUp, audible)));
    done(ampUp, audible);
    const omegas = keep(step('angular frequencies', () => tf.tidy(
        () => tf.mul(freqUp, 2 * Math.PI / sampleRate))));
    done(freqUp);
    const phases = keep(step('phase cumsum', () => tf.cumsum(omegas, 1)));
    done(omegas);
    const waves = keep(step('sin', () => tf.sin(phases)));
    done(phases);
    const weighted = keep(step('sin * amplitude', () => tf.mul(ampAudible, waves)));
    done(ampAudible, waves);
    const audio = step('sum over harmonics', () => tf.sum(weighted, 2));
    done(weighted);
    return audio;
  } finally {
    tf.dispose([...live]);
  }
}
