"""Instrument data: sung and played phrases with their exact f0, for pitch tracking and
training. Needs the ``instruments`` extra (mido, scipy); rendering soundfont phrases needs
FluidSynth and the FluidR3 General MIDI soundfont (Debian: fluidsynth, fluid-soundfont-gm).
"""
